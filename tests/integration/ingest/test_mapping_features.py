"""Mapping features and schema drift, each proved on a small file against real PostgreSQL."""

from decimal import Decimal

import psycopg
import pytest

from insight_hub.ingest.load import BatchRejected, load_file
from insight_hub.sources.registry import load_mapping
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

SUITES = ROOT / "expectations"


def _mapping(tmp_path, text):
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    return load_mapping(path)


def test_latin1_decimal_commas_date_patterns_and_yes_no(fresh_db, tmp_path):
    mapping = _mapping(
        tmp_path,
        """
entity: order
format: csv
delimiter: ";"
encoding: latin-1
timezone: Europe/Paris
columns:
  order_id: Nº pedido
  customer_email: Correo
  ordered_at: {from: Fecha, format: "DD/MM/YYYY HH24:MI"}
  status: {from: Estado, values: {Entregado: completed, Cancelado: cancelled}}
  order_total: {from: Total, decimal_comma: true}
  currency: {value: EUR}
  promised_date: {from: Prometido, format: "DD/MM/YYYY"}
""",
    )
    path = tmp_path / "pedidos.csv"
    path.write_bytes(
        "Nº pedido;Correo;Fecha;Estado;Total;Prometido\n"
        "007;josé@ejemplo.es;31/01/2026 18:45;Entregado;1.234,50;03/02/2026\n"
        "008;zoë@ejemplo.es;30/02/2026 10:00;Cancelado;12,00;04/02/2026\n".encode("latin-1")
    )
    result = load_file(fresh_db, "sales", path, mapping, SUITES / "order.json", max_reject_share=0.6)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute(
            "select order_id, customer_email, ordered_at at time zone 'UTC', status, order_total, currency, "
            "promised_date::text from raw.order"
        ).fetchone()
        reasons = conn.execute("select reasons from quarantine.order").fetchone()[0]
    # 18:45 in Paris in winter is 17:45 UTC; the leading zeros and accents arrive as written.
    assert row[0] == "007" and row[1] == "josé@ejemplo.es"
    assert str(row[2]) == "2026-01-31 17:45:00"
    assert row[3:] == ("completed", Decimal("1234.50"), "EUR", "2026-02-03")
    assert reasons == ["ordered_at: does not match DD/MM/YYYY HH24:MI"]


def test_a_new_export_column_is_kept_and_recorded(fresh_db, tmp_path):
    mapping = load_mapping(ROOT / "examples" / "demo" / "mappings" / "agent.yaml")
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,name,team,site,cost_per_hour,languages\nA1,n,t,s,20,en;fr\nA2,m,t,s,21,\n")
    result = load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json")
    assert result.rows_loaded == 2
    assert any("languages" in w for w in result.warnings)
    with psycopg.connect(fresh_db) as conn:
        extras = conn.execute("select agent_id, _extra from raw.agent order by agent_id").fetchall()
        recorded = conn.execute("select unmapped_columns, source_columns from ops.load_batch").fetchone()
    assert extras == [("A1", {"languages": "en;fr"}), ("A2", {})]
    assert recorded == (["languages"], ["agent_id", "name", "team", "site", "cost_per_hour", "languages"])


def test_an_incompatible_column_type_rejects_the_batch_naming_it(fresh_db, tmp_path):
    mapping = load_mapping(ROOT / "examples" / "demo" / "mappings" / "agent.yaml")
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,name,team,site,cost_per_hour\nA1,n,t,s,high\nA2,m,t,s,low\nA3,o,t,s,mid\n")
    with pytest.raises(BatchRejected, match="column cost_per_hour: none of its 3 values is a valid numeric"):
        load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json", max_reject_share=1.0)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from raw.agent").fetchone()[0] == 0


def test_durations_templates_and_conditional_values(fresh_db, tmp_path):
    mapping = load_mapping(ROOT / "examples" / "real" / "mappings" / "pwc_calls.yaml")
    path = tmp_path / "calls.csv"
    path.write_text(
        "\ufeffCall Id,Agent,Date,Time,Topic,Answered (Y/N),Resolved,Speed of answer in seconds,"
        "AvgTalkDuration,Satisfaction rating\r\n"
        "ID1,Ann,2021-03-28,00:59:50,Streaming,Y,Y,15,01:02:03,5\r\n"
        "ID2,Bob,2021-03-28,01:00:00,Streaming,N,N,,,\r\n"
        "ID3,Cy,2021-03-28,01:00:00,Streaming,Y,N,20,two minutes,\r\n",
        encoding="utf-8",
    )
    result = load_file(
        fresh_db, "contact_centre", path, mapping, SUITES / "interaction.json", max_reject_share=0.5
    )
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(
            "select interaction_id, answered_at::text, talk_seconds from raw.interaction order by 1"
        ).fetchall()
        reasons = conn.execute("select reasons from quarantine.interaction").fetchone()[0]
    assert rows == [("ID1", "2021-03-28 01:00:05+00", 3723), ("ID2", None, None)]
    assert reasons == ["talk_seconds: not a duration"]


def test_exports_with_title_lines_above_the_header(fresh_db, tmp_path):
    mapping = _mapping(
        tmp_path,
        "entity: agent\nformat: csv\nheader_row: 3\ncolumns:\n  agent_id: Agent\n  cost_per_hour: Rate\n",
    )
    path = tmp_path / "agents.csv"
    path.write_text("Agent cost report\nexported 2026-01-31\nAgent,Rate\nA1,20\nA2,21,extra\nA3,22\n")
    result = load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json", max_reject_share=0.5)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    with psycopg.connect(fresh_db) as conn:
        loaded = conn.execute("select agent_id, cost_per_hour::int from raw.agent order by 1").fetchall()
        reasons = conn.execute("select reasons from quarantine.agent").fetchone()[0]
    assert loaded == [("A1", 20), ("A3", 22)]
    assert reasons == ["line 5: expected 2 fields, found 3"]


def test_every_unmapped_column_is_kept_however_many(fresh_db, tmp_path):
    mapping = load_mapping(ROOT / "examples" / "demo" / "mappings" / "agent.yaml")
    extra = [f"extra_{n:03d}" for n in range(120)]
    path = tmp_path / "agents.csv"
    path.write_text(
        ",".join(["agent_id", "name", "team", "site", "cost_per_hour", *extra])
        + "\n"
        + ",".join(["A1", "n", "t", "s", "20", *(f"v{n}" for n in range(120))])
        + "\n"
    )
    load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json")
    with psycopg.connect(fresh_db) as conn:
        kept = conn.execute("select _extra from raw.agent").fetchone()[0]
        recorded = conn.execute("select unmapped_columns from ops.load_batch").fetchone()[0]
    assert kept == {name: f"v{n}" for n, name in enumerate(extra)}
    assert recorded == extra
