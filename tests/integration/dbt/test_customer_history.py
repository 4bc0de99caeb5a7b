"""dim_customer_history keeps every version of the golden record (SCD2 through a dbt snapshot)."""

import psycopg
import pytest

from insight_hub.ingest.load import load_file
from insight_hub.sources.registry import Registry
from insight_hub.warehouse.access import ensure_access
from insight_hub.warehouse.schema import ensure_all
from tests.conftest import ROOT, run_dbt

pytestmark = pytest.mark.integration

REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")
HEADER = "AccountId,AccountName,Segment,Region,OwnerId,CreatedDate\n"


def _export_and_build(url, tmp_path, name, rows):
    """Load a CRM accounts export, then build the golden record and its history."""
    path = tmp_path / name
    path.write_text(HEADER + rows)
    load_file(url, "crm", path, REGISTRY.entity("account")[1], ROOT / "expectations" / "account.json")
    build = run_dbt(
        url, tmp_path / "t", "build", "--select", "+dim_customer_history", "--indirect-selection", "cautious"
    )
    assert build.returncode == 0, build.stdout[-2000:]


def test_a_changed_segment_closes_one_version_and_opens_the_next(fresh_db, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ensure_all(conn)
        ensure_access(conn, b"k")
    _export_and_build(
        fresh_db,
        tmp_path,
        "accounts_1.csv",
        "A1,x,consumer,north,O1,2025-01-02 10:00:00\nA2,y,smb,south,O1,2025-01-02 10:00:00\n",
    )
    # The next CRM export moves A1 to the smb segment; A2 is unchanged.
    _export_and_build(
        fresh_db,
        tmp_path,
        "accounts_2.csv",
        "A1,x,smb,north,O1,2025-01-02 10:00:00\nA2,y,smb,south,O1,2025-01-02 10:00:00\n",
    )

    with psycopg.connect(fresh_db) as conn:
        versions = conn.execute(
            "select customer_id, segment, dbt_valid_to is null from marts.dim_customer_history "
            "order by customer_id, dbt_valid_from"
        ).fetchall()
    assert versions == [("A1", "consumer", False), ("A1", "smb", True), ("A2", "smb", True)]
