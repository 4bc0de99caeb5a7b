"""An incremental table written by an earlier version of its model is rebuilt, not updated into an error;
one kept through full refreshes is left alone and named."""

import json

import psycopg
import pytest

from insight_hub.warehouse.upgrade import OutdatedTableKept, drop_outdated_incremental_tables


def _model(name, columns, *, contract=False, full_refresh=None):
    return {
        "resource_type": "model",
        "name": name,
        "schema": "intermediate",
        "alias": name,
        "columns": {c: {"name": c} for c in columns},
        "config": {
            "materialized": "incremental",
            "full_refresh": full_refresh,
            "contract": {"enforced": contract},
        },
    }


@pytest.fixture
def manifest(tmp_path):
    def write(*models):
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps({"nodes": {f"model.hub.{m['name']}": m for m in models}}))
        return path

    return write


def _tables(conn):
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = 'intermediate'"
    )
    return sorted(r[0] for r in rows)


def test_a_table_missing_a_declared_column_is_dropped_with_its_views(fresh_db, manifest):
    path = manifest(
        _model("sentiment", ["record_id", "loaded_at"]),  # loaded_at is new in this version
        _model("current", ["record_id"]),
        _model("not_built_yet", ["record_id"]),
        _model("mart", ["a", "b"], contract=True),  # its table still has a column the contract dropped
    )
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create schema intermediate")
        conn.execute("create table intermediate.sentiment (record_id text, score int)")
        conn.execute("create view intermediate.sentiment_view as select * from intermediate.sentiment")
        conn.execute("create table intermediate.current (record_id text, extra text)")
        conn.execute("create table intermediate.mart (a text, b text, c text)")

        dropped = drop_outdated_incremental_tables(conn, path)

        assert dropped == ["intermediate.sentiment", "intermediate.mart"]
        # A model without an enforced contract may hold more than it declares.
        assert _tables(conn) == ["current"]
        # Nothing is left to do the second time.
        assert drop_outdated_incremental_tables(conn, path) == []


def test_a_table_kept_through_full_refreshes_is_named_not_dropped(fresh_db, manifest):
    path = manifest(_model("guest_registry", ["guest_key", "customer_id"], full_refresh=False))
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create schema intermediate")
        conn.execute("create table intermediate.guest_registry (guest_key text)")

        with pytest.raises(
            OutdatedTableKept,
            match=r"intermediate.guest_registry predates its model \(no column customer_id\)",
        ):
            drop_outdated_incremental_tables(conn, path)

        assert _tables(conn) == ["guest_registry"]


def test_no_manifest_means_nothing_to_compare(fresh_db, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert drop_outdated_incremental_tables(conn, tmp_path / "absent.json") == []
