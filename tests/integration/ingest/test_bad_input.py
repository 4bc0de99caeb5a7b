"""Hostile and broken input files: each gets a clear error naming what and where, or its bad records are
quarantined with the reason, and every record read is either loaded or quarantined."""

import psycopg
import pytest

from insight_hub.contracts import ContractError
from insight_hub.ingest.load import BatchRejected, load_file
from insight_hub.ingest.runner import load_entity
from insight_hub.ingest.stage import StagingError
from insight_hub.sources.files import SourceFileError
from insight_hub.sources.registry import Registry
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.integration

REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")
SUITE = ROOT / "expectations" / "agent.json"
HEADER = "agent_id,name,team,site,cost_per_hour\n"


def _load(url, path, share=0.6):
    _, mapping = REGISTRY.entity("agent")
    return load_file(url, "contact_centre", path, mapping, SUITE, max_reject_share=share)


def _batches(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select status, rows_read, rows_loaded, rows_quarantined, message from ops.load_batch order by batch_id"
        ).fetchall()


def _counts_of(url, entity):
    with psycopg.connect(url) as conn:
        return (
            conn.execute(f"select count(*) from raw.{entity}").fetchone()[0],
            conn.execute(f"select count(*) from quarantine.{entity}").fetchone()[0],
        )


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("zero-byte", b"", SourceFileError, r"agents\.csv is empty: no header row"),
        (
            "binary garbage",
            bytes(range(256)) * 40,
            SourceFileError,
            r"agents\.csv: header is not valid utf-8: invalid start byte",
        ),
        (
            "wrong delimiter",
            b"agent_id;name;team;site;cost_per_hour\nA1;n;t;s;20\n",
            StagingError,
            r"required column\(s\) missing from the export: agent_id \(from 'agent_id'\); the header reads as "
            r"one column \('agent_id;name;team;site;cost_per_hour'\): the file looks delimited by ';', "
            r"the mapping says ','",
        ),
        (
            "10,000-column header",
            (HEADER.strip() + "".join(f",c{i}" for i in range(9995)) + "\n").encode(),
            StagingError,
            r"agents\.csv: the header \(line 1\) has 10,000 columns; at most 1,597 can be staged "
            r"\(PostgreSQL's limit of 1600 columns a table\)",
        ),
    ],
)
def test_an_unreadable_file_fails_its_batch_with_the_reason(
    fresh_db, tmp_path, name, content, error, message
):
    path = tmp_path / "agents.csv"
    path.write_bytes(content)
    with pytest.raises(error, match=message):
        _load(fresh_db, path)
    [(status, read, loaded, quarantined, recorded)] = _batches(fresh_db)
    assert (status, read, loaded, quarantined) == ("failed", None, None, None)
    assert recorded.endswith(message.replace("\\", "")[-40:])
    assert _counts_of(fresh_db, "agent") == (0, 0)


def test_a_truncated_file_quarantines_its_cut_record(fresh_db, tmp_path):
    path = tmp_path / "agents.csv"
    # The transfer stopped inside the third record, in the middle of a quoted field.
    path.write_text(HEADER + 'A1,n,t,s,20\nA2,n,t,s,21\nA3,"Jo')
    result = _load(fresh_db, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    with psycopg.connect(fresh_db) as conn:
        record, reasons = conn.execute("select record->>'_raw', reasons from quarantine.agent").fetchone()
    assert (record, reasons) == ("A3,Jo", ["line 4: expected 5 fields, found 2"])


def _write_with_huge_field(path, size, extra_lines=""):
    with path.open("w") as fh:
        fh.write(HEADER + "A1,n,t,s,20\nA2,")
        block = "y" * (1 << 20)
        for _ in range(size // len(block)):
            fh.write(block)
        fh.write(",t,s,20\nA3,n,t,s,22\n" + extra_lines)


@pytest.mark.parametrize("wrong_field_count", [False, True], ids=["copy", "record by record"])
def test_a_100_mb_field_is_quarantined_not_loaded(fresh_db, tmp_path, wrong_field_count):
    # With a record of the wrong width in the file too, the file is read record by record in Python
    # rather than by COPY; the huge field must meet the same check either way.
    path = tmp_path / "agents.csv"
    _write_with_huge_field(path, 100 << 20, "A4,short\n" if wrong_field_count else "")
    result = _load(fresh_db, path)
    bad = 2 if wrong_field_count else 1
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3 + bad - 1, 2, bad)
    with psycopg.connect(fresh_db) as conn:
        loaded = [r[0] for r in conn.execute("select agent_id from raw.agent order by agent_id")]
        reasons, kept = conn.execute(
            "select reasons, octet_length(record->>'name') from quarantine.agent where record->>'agent_id' = 'A2'"
        ).fetchone()
    assert loaded == ["A1", "A3"]
    assert reasons == ["name: value is 104857600 bytes, above the mapping's max_field_bytes of 1048576"]
    assert kept == 100 << 20, "the quarantined record keeps the whole value: nothing is lost"


def test_sql_in_column_names_and_values_is_only_ever_data(fresh_db, tmp_path):
    hostile = ['"; DROP TABLE raw.agent; --', "it's", "back\\slash", "$(touch pwned)"]
    path = tmp_path / "agents.csv"
    header = HEADER.strip() + "," + ",".join('"' + h.replace('"', '""') + '"' for h in hostile)
    values = ["A1", "'; drop table ops.load_batch; --", "te\\am", 'si"te', "20"]
    path.write_text(
        header + "\n" + ",".join('"' + v.replace('"', '""') + '"' for v in values + hostile) + "\n"
    )
    result = _load(fresh_db, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (1, 1, 0)
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute("select agent_id, agent_name, team, site, _extra from raw.agent").fetchone()
        unmapped = conn.execute("select unmapped_columns from ops.load_batch").fetchone()[0]
    assert row == ("A1", "'; drop table ops.load_batch; --", "te\\am", 'si"te', {h: h for h in hostile})
    assert unmapped == hostile
    assert not (tmp_path / "pwned").exists()


def test_file_names_with_shell_metacharacters_load_and_nothing_outside_the_landing_folder_is_read(
    fresh_db, tmp_path
):
    landing = tmp_path / "landing"
    folder = landing / "contact_centre"
    folder.mkdir(parents=True)
    odd = folder / "agents $(touch pwned); rm -rf ~ `id` & | > x.csv"
    odd.write_text(HEADER + "A1,n,t,s,20\n")
    outside = tmp_path / "secret.csv"
    outside.write_text(HEADER + "S1,secret,t,s,20\n")
    (folder / "agents-link.csv").symlink_to(outside)
    sources = tmp_path / "sources.yaml"
    mapping = ROOT / "examples" / "demo" / "mappings" / "agent.yaml"
    sources.write_text(
        "sources:\n  contact_centre:\n    entities:\n"
        f"      agent: {{pattern: 'contact_centre/agents*.csv', mapping: '{mapping}'}}\n"
    )
    settings = make_settings(tmp_path, INSIGHT_HUB_LANDING_DIR=str(landing), INSIGHT_HUB_SOURCES=str(sources))
    summary = load_entity(fresh_db, "contact_centre", "agent", settings=settings)
    assert (summary.files_found, summary.rows_loaded) == (1, 1)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select agent_id from raw.agent").fetchall() == [("A1",)]
        assert conn.execute("select source_file from ops.load_batch").fetchone()[0] == str(odd)
    assert not (tmp_path / "pwned").exists() and not (folder / "pwned").exists()

    # A pattern that climbs out of the landing folder is refused when the sources file is read.
    sources.write_text(sources.read_text().replace("contact_centre/agents*.csv", "../*.csv"))
    with pytest.raises(ContractError, match=r"must be a relative pattern inside the landing folder"):
        Registry(sources)


def test_local_times_are_stored_in_utc_or_quarantined(fresh_db, tmp_path):
    # The demo call export's mapping reads times without an offset as Europe/London wall-clock time.
    _, mapping = REGISTRY.entity("interaction")
    rows = {
        "I01": ("2026-01-15 10:00:00", "30"),  # winter: GMT
        "I02": ("2026-07-15 10:00:00", "30"),  # summer: BST, an hour ahead of UTC
        "I03": ("2026-07-15T10:00:00+02:00", "30"),  # a written offset wins over the mapping's zone
        "I04": ("2026-10-25 01:30:00", "30"),  # clocks went back: the hour happened twice
        "I05": ("2026-03-29 01:30:00", "30"),  # clocks went forward: this time never happened
        "I06": ("03/04/2026 10:00", "30"),  # 3 April or 4 March?
        "I07": ("2026-02-30 10:00:00", "30"),
        "I08": ("now", "30"),
        "I09": ("2099-01-01 10:00:00", "30"),
        "I10": ("2026-01-15 11:00:00", "-5"),
    }
    path = tmp_path / "calls.csv"
    path.write_text(
        "Call ID,Media Type,Queue Name,Queue Start,Talk Time\n"
        + "".join(f"{key},Phone,billing,{at},{talk}\n" for key, (at, talk) in rows.items())
    )
    result = load_file(
        fresh_db,
        "contact_centre",
        path,
        mapping,
        ROOT / "expectations" / "interaction.json",
        max_reject_share=0.7,
    )
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (10, 4, 6)
    with psycopg.connect(fresh_db) as conn:
        conn.execute("set timezone to 'UTC'")
        loaded = dict(conn.execute("select interaction_id, queued_at::text from raw.interaction").fetchall())
        quarantined = dict(
            conn.execute("select record->>'Call ID', reasons from quarantine.interaction").fetchall()
        )
    assert loaded == {
        "I01": "2026-01-15 10:00:00+00",
        "I02": "2026-07-15 09:00:00+00",
        "I03": "2026-07-15 08:00:00+00",
        # Either reading is a real instant; the later one (GMT) is taken, as PostgreSQL does.
        "I04": "2026-10-25 01:30:00+00",
    }
    assert quarantined == {
        "I05": ["queued_at: local time does not exist in Europe/London (the clocks went forward)"],
        "I06": ["queued_at: not an ISO 8601 date (YYYY-MM-DD; declare a format in the mapping for others)"],
        "I07": ["queued_at: not a valid timestamptz"],
        "I08": ["queued_at: not an ISO 8601 date (YYYY-MM-DD; declare a format in the mapping for others)"],
        "I09": ["queued_at is in the future"],
        "I10": ["talk_seconds is negative"],
    }


def test_dates_all_written_another_way_reject_the_batch_and_say_how_to_map_them(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("interaction")
    path = tmp_path / "calls.csv"
    path.write_text(
        "Call ID,Media Type,Queue Name,Queue Start\n"
        + "".join(f"I{n},Phone,billing,1{n}/01/2026 10:00\n" for n in range(5))
    )
    with pytest.raises(
        BatchRejected,
        match=r"column queued_at: none of its 5 values is a valid timestamptz \(incompatible type; for dates "
        r"written another way than YYYY-MM-DD, give the column a format\)",
    ):
        load_file(fresh_db, "contact_centre", path, mapping, ROOT / "expectations" / "interaction.json")
    assert _counts_of(fresh_db, "interaction") == (0, 0)


def test_a_key_loaded_again_with_other_content_is_logged_and_the_later_load_wins(fresh_db, tmp_path):
    first = tmp_path / "agents.csv"
    first.write_text(HEADER + "A1,Ann,billing,leeds,20\nA2,Bob,sales,leeds,21\nA3,Cy,sales,york,22\n")
    assert _load(fresh_db, first).message == ""
    # A later export: A2 moved team and site, A3 unchanged, A4 new but sent twice with different pay.
    later = tmp_path / "agents_later.csv"
    later.write_text(
        HEADER + "A2,Bob,billing,york,21\nA3,Cy,sales,york,22\nA4,Di,sales,hull,23\nA4,Di,sales,hull,24\n"
    )
    result = _load(fresh_db, later)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 4, 0)
    # The suite's uniqueness check warns of the key sent twice in the file; publishing logs both conflicts.
    assert result.message == (
        "expect_column_values_to_be_unique(agent_id): 2 (warn); "
        "2 record(s) replace an earlier load of their key with other content (ops.key_conflict)"
    )
    with psycopg.connect(fresh_db) as conn:
        conflicts = conn.execute(
            """select record_key, record_no, earlier_batch_id = batch_id, earlier_record_no, columns_changed
               from ops.key_conflict order by record_key"""
        ).fetchall()
        latest = conn.execute(
            """select distinct on (agent_id) agent_id, team, site, cost_per_hour from raw.agent
               order by agent_id, _batch_id desc, _record_no desc"""
        ).fetchall()
    assert conflicts == [("A2", 1, False, 2, ["site", "team"]), ("A4", 4, True, 3, ["cost_per_hour"])]
    # What staging keeps (the newest batch, last in its file) is the later load.
    assert [row[:3] for row in latest] == [("A1", "billing", "leeds"), ("A2", "billing", "york"),
                                           ("A3", "sales", "york"), ("A4", "sales", "hull")]  # fmt: skip
    assert latest[3][3] == 24


def test_quarantined_records_hold_no_full_email_or_phone(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("interaction")
    columns = ["Call ID", "Media Type", "Queue Name", "Queue Start", "ANI", "Email Address", "Notes"]
    path = tmp_path / "calls_1.csv"
    path.write_text(
        ",".join(columns) + "\n"
        + "C1,Phone,billing,2026-01-05 09:00:00,07700 900111,ann@example.com,fine\n"
        + "C2,Phone,billing,yesterday,+44 7700 900222,Bob.Jones@example.org,call back on 07700900333\n"
        + "C3,Phone,billing,2026-01-05 09:05:00,07700 900444\n"
    )  # fmt: skip
    result = load_file(fresh_db, "contact_centre", path, mapping, ROOT / "expectations" / "interaction.json",
                       max_reject_share=1.0)  # fmt: skip
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    with psycopg.connect(fresh_db) as conn:
        records = {
            r["Call ID"] or "cut": r for (r,) in conn.execute("select record from quarantine.interaction")
        }
        text = conn.execute("select string_agg(record::text, ' ') from quarantine.interaction").fetchone()[0]
    assert records["C2"]["ANI"] == "+*****222" and records["C2"]["Email Address"] == "B***@example.org"
    assert records["C2"]["Notes"] == "call back on 0*****333" and records["C2"]["Queue Start"] == "yesterday"
    assert records["cut"]["_raw"] == "C3,Phone,billing,2026-01-05 09:05:00,0*****444"
    for value in ("900222", "Bob.Jones", "07700900333", "900444"):
        assert value not in text
