"""The three connector kinds against real servers on 127.0.0.1: files (Parquet, gzip), SQL, HTTP API."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from insight_hub.ingest.runner import EntityLoadFailed, load_entity
from insight_hub.warehouse import embedded_server
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def airflow_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))


def _sources(tmp_path, feed_yaml: str, mapping_yaml: str):
    (tmp_path / "m.yaml").write_text(mapping_yaml)
    (tmp_path / "sources.yaml").write_text(feed_yaml)
    return tmp_path / "sources.yaml"


AGENT_RECORDS = """
entity: agent
format: jsonl
columns:
  agent_id: id
  agent_name: name
  team: team
  cost_per_hour: hourly_cost
"""


def test_parquet_and_gzip_csv_files(fresh_db, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    table = pa.table(
        {
            "id": ["A1", "A2", "A3"],
            "name": ["x", "y", "z"],
            "team": ["t", "t", "u"],
            "hourly_cost": [20.5, 21.0, None],
        }
    )
    pq.write_table(table, landing / "agents_1.parquet")
    with gzip.open(landing / "agents_2.csv.gz", "wt") as fh:
        fh.write("id,name,team,hourly_cost\nA4,w,t,19.25\n")
    (tmp_path / "pq.yaml").write_text(AGENT_RECORDS.replace("format: jsonl", "format: parquet"))
    (tmp_path / "csv.yaml").write_text(AGENT_RECORDS.replace("format: jsonl", "format: csv"))
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  contact_centre:\n    entities:\n      agent:\n"
        "        - {pattern: 'agents_*.parquet', mapping: pq.yaml}\n"
        "        - {pattern: 'agents_*.csv.gz', mapping: csv.yaml}\n"
    )
    settings = make_settings(
        tmp_path, INSIGHT_HUB_SOURCES=str(tmp_path / "sources.yaml"), INSIGHT_HUB_LANDING_DIR=str(landing)
    )
    summary = load_entity(fresh_db, "contact_centre", "agent", settings=settings)
    assert (summary.files_found, summary.rows_read, summary.rows_loaded) == (2, 4, 4)
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("select agent_id, cost_per_hour::text from raw.agent order by 1").fetchall()
    assert rows == [("A1", "20.5"), ("A2", "21.0"), ("A3", None), ("A4", "19.25")]


@pytest.fixture
def source_db(warehouse, settings):
    server = embedded_server(settings)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists crm_source with (force)")
        conn.execute("create database crm_source")
    url = server.url("crm_source")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema app")
        conn.execute(
            "create table app.agents (id text primary key, name text, team text, hourly_cost numeric,"
            " updated_at timestamptz not null)"
        )
    yield server, url


def test_sql_feed_reads_incrementally_by_watermark(fresh_db, source_db, tmp_path, monkeypatch):
    server, src_url = source_db
    monkeypatch.setenv("AIRFLOW_CONN_CRM_DB", src_url)
    sources = _sources(
        tmp_path,
        "sources:\n  contact_centre:\n    entities:\n      agent:\n"
        "        {connector: sql, conn_id: crm_db, table: app.agents, watermark: updated_at, mapping: m.yaml}\n",
        AGENT_RECORDS,
    )
    settings = make_settings(
        tmp_path, INSIGHT_HUB_SOURCES=str(sources), INSIGHT_HUB_LANDING_DIR=str(tmp_path)
    )
    with psycopg.connect(src_url, autocommit=True) as conn:
        conn.execute(
            "insert into app.agents values ('A1','x','t',20,'2026-01-01 10:00Z'), ('A2','y','t',21,'2026-01-01 11:00Z'),"
            " ('A3','z','u',22,'2026-01-01 12:00Z')"
        )
    first = load_entity(fresh_db, "contact_centre", "agent", settings=settings)
    assert (first.rows_read, first.rows_loaded) == (3, 3)

    with psycopg.connect(src_url, autocommit=True) as conn:
        conn.execute("update app.agents set team = 'v', updated_at = '2026-01-02 09:00Z' where id = 'A1'")
        conn.execute("insert into app.agents values ('A4','w','u',23,'2026-01-02 10:00Z')")
    second = load_entity(fresh_db, "contact_centre", "agent", settings=settings)
    assert (second.rows_read, second.rows_loaded) == (2, 2)

    third = load_entity(fresh_db, "contact_centre", "agent", settings=settings)
    assert (third.files_found, third.rows_read) == (0, 0)

    with psycopg.connect(fresh_db) as conn:
        watermark = conn.execute("select value from ops.watermark").fetchone()[0]
        latest = conn.execute(
            "select distinct on (agent_id) agent_id, team from raw.agent order by agent_id, _batch_id desc"
        ).fetchall()
        batches = conn.execute("select count(*) from ops.load_batch where status = 'published'").fetchone()[0]
    assert watermark == "2026-01-02T10:00:00+00:00"
    assert latest == [("A1", "v"), ("A2", "t"), ("A3", "u"), ("A4", "u")]
    assert batches == 2


def test_sql_feed_names_a_missing_table(fresh_db, source_db, tmp_path, monkeypatch):
    _, src_url = source_db
    monkeypatch.setenv("AIRFLOW_CONN_CRM_DB", src_url)
    sources = _sources(
        tmp_path,
        "sources:\n  contact_centre:\n    entities:\n      agent:\n"
        "        {connector: sql, conn_id: crm_db, table: app.nope, watermark: updated_at, mapping: m.yaml}\n",
        AGENT_RECORDS,
    )
    settings = make_settings(
        tmp_path, INSIGHT_HUB_SOURCES=str(sources), INSIGHT_HUB_LANDING_DIR=str(tmp_path)
    )
    with pytest.raises(EntityLoadFailed, match="source crm_db has no table app.nope"):
        load_entity(fresh_db, "contact_centre", "agent", settings=settings)


class SurveyApi(BaseHTTPRequestHandler):
    """Five responses, two per page by cursor, a 429 on the first call, bearer token required."""

    items = [
        {
            "id": f"R{i}",
            "kind": "CSAT",
            "score": i % 5 + 1,
            "at": f"2026-01-0{i}T10:00:00Z",
            "updatedAt": f"2026-01-0{i}",
        }
        for i in range(1, 6)
    ]
    calls: list[str] = []
    throttled = False

    def do_GET(self):  # noqa: N802 (http.server's naming)
        SurveyApi.calls.append(self.path)
        if self.headers.get("Authorization") != "Bearer tok-123":
            return self._send(401, {"error": "unauthorised"})
        if not SurveyApi.throttled:
            SurveyApi.throttled = True
            return self._send(429, {"error": "slow down"}, {"Retry-After": "0"})
        query = parse_qs(urlsplit(self.path).query)
        since = query.get("updated_since", [""])[0]
        pool = [i for i in SurveyApi.items if i["updatedAt"] > since]
        start = int(query.get("cursor", ["0"])[0])
        page = pool[start : start + 2]
        nxt = str(start + 2) if start + 2 < len(pool) else None
        return self._send(200, {"data": page, "next_cursor": nxt})

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def survey_api():
    SurveyApi.calls, SurveyApi.throttled = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), SurveyApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_api_feed_pages_retries_and_resumes(fresh_db, survey_api, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SURVEY_API", f"http://:tok-123@127.0.0.1:{survey_api}")
    sources = _sources(
        tmp_path,
        "sources:\n  survey:\n    entities:\n      response:\n"
        "        connector: api\n        conn_id: survey_api\n        path: /v1/responses\n        mapping: m.yaml\n"
        "        pagination: {type: cursor}\n        updated_since_param: updated_since\n"
        "        watermark_field: updatedAt\n",
        "entity: response\nformat: jsonl\ncolumns:\n  response_id: id\n  survey_type: {from: kind, lower: true}\n"
        "  score: score\n  submitted_at: at\n",
    )
    settings = make_settings(
        tmp_path, INSIGHT_HUB_SOURCES=str(sources), INSIGHT_HUB_LANDING_DIR=str(tmp_path)
    )
    first = load_entity(fresh_db, "survey", "response", settings=settings)
    assert (first.rows_read, first.rows_loaded) == (5, 5)
    # One throttled call, then three pages (2 + 2 + 1).
    assert len(SurveyApi.calls) == 4
    SurveyApi.items.append(
        {"id": "R6", "kind": "NPS", "score": 9, "at": "2026-01-06T10:00:00Z", "updatedAt": "2026-01-06"}
    )
    try:
        second = load_entity(fresh_db, "survey", "response", settings=settings)
    finally:
        SurveyApi.items.pop()
    assert (second.rows_read, second.rows_loaded) == (1, 1)
    assert "updated_since=2026-01-05" in SurveyApi.calls[-1]
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from raw.response").fetchone()[0] == 6
