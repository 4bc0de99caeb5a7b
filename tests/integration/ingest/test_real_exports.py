"""Real exports written by others load through the mappings in examples/real/ with no code change.

Expected counts come from Python's csv module reading the same files: an independent parser.
None of these files has a row that breaks its contract, so nothing may be quarantined.
"""

import csv
import os
from pathlib import Path

import psycopg
import pytest

from insight_hub.ingest.runner import load_entity
from insight_hub.warehouse.prepare import prepare_for_dbt
from tests.conftest import ROOT, make_settings, run_dbt

pytestmark = pytest.mark.integration

# The real exports live beside the project (../shared/data/real), as they do in CI.
REAL = Path(os.environ.get("INSIGHT_HUB_REAL_EXPORTS", ROOT.parent / "shared" / "data" / "real"))
FEEDS = [
    ("contact_centre", "interaction", ["contact_centre/pwc_call_centre.csv"]),
    ("crm", "account", ["crm/ibm_telco_customers.csv", "crm/olist_customers.csv"]),
    ("crm", "contact", ["crm/olist_customers.csv"]),
    ("survey", "response", ["survey/olist_order_reviews.csv"]),
    ("sales", "order", ["sales/olist_orders.csv"]),
    ("sales", "order_line", ["sales/olist_order_items.csv"]),
    ("sales", "payment", ["sales/olist_order_payments.csv"]),
]


def _csv_rows(relpath: str) -> list[dict]:
    with (REAL / relpath).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def real_db(warehouse, settings, tmp_path_factory):
    if not REAL.is_dir():
        pytest.fail(f"the real exports are expected at {REAL} (set INSIGHT_HUB_REAL_EXPORTS to their folder)")
    from insight_hub.warehouse import embedded_server

    server = embedded_server(settings)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists real_exports with (force)")
        conn.execute("create database real_exports")
    url = server.url("real_exports")
    run_settings = make_settings(
        tmp_path_factory.mktemp("real"),
        INSIGHT_HUB_SOURCES=str(ROOT / "examples" / "real" / "sources.yaml"),
        INSIGHT_HUB_LANDING_DIR=str(REAL),
    )
    summaries = {
        entity: load_entity(url, source, entity, settings=run_settings) for source, entity, _ in FEEDS
    }
    return url, summaries


@pytest.mark.parametrize(("source", "entity", "files"), FEEDS, ids=[f[1] for f in FEEDS])
def test_every_row_read_is_loaded(real_db, source, entity, files):
    url, summaries = real_db
    summary = summaries[entity]
    expected = sum(len(_csv_rows(f)) for f in files)
    assert summary.files_found == len(files)
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (expected, expected, 0)
    with psycopg.connect(url) as conn:
        assert conn.execute(f'select count(*) from raw."{entity}"').fetchone()[0] == expected
        assert conn.execute(f'select count(*) from quarantine."{entity}"').fetchone()[0] == 0


def test_call_centre_values_arrive_exactly(real_db):
    url, _ = real_db
    first = _csv_rows("contact_centre/pwc_call_centre.csv")[0]
    assert first["Call Id"] == "ID0001"  # the BOM did not stick to the first header
    with psycopg.connect(url) as conn:
        row = conn.execute(
            """select channel, agent_id, queued_at::text, answered_at::text, talk_seconds, outcome
               from raw.interaction where interaction_id = 'ID0001'"""
        ).fetchone()
        unanswered = conn.execute(
            """select count(*) filter (where answered_at is null), count(*) filter (where talk_seconds is null)
               from raw.interaction"""
        ).fetchone()
    # 09:12:58 + 109 s wait = 09:14:47; talk 00:02:23 = 143 s.
    assert row == ("phone", "Diane", "2021-01-01 09:12:58+00", "2021-01-01 09:14:47+00", 143, "resolved")
    not_answered = sum(r["Answered (Y/N)"] == "N" for r in _csv_rows("contact_centre/pwc_call_centre.csv"))
    assert unanswered == (not_answered, not_answered)


def test_multi_line_review_comments_arrive_whole(real_db):
    url, _ = real_db
    rows = _csv_rows("survey/olist_order_reviews.csv")
    multi = [r for r in rows if "\n" in r["review_comment_message"]]
    assert len(multi) > 100
    sample = multi[len(multi) // 2]
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "select comment, score from raw.response where response_id = %s order by _record_no limit 1",
            (sample["review_id"],),
        ).fetchone()
    assert stored == (sample["review_comment_message"].strip(), int(sample["review_score"]))


def test_leading_zero_postcodes_and_ids_keep_their_text(real_db):
    url, _ = real_db
    zeros = [r for r in _csv_rows("crm/olist_customers.csv") if r["customer_zip_code_prefix"].startswith("0")]
    assert zeros
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "select postcode from raw.contact where contact_id = %s", (zeros[0]["customer_id"],)
        ).fetchone()[0]
    assert stored == zeros[0]["customer_zip_code_prefix"]


def test_olist_statuses_map_onto_the_contract(real_db):
    url, _ = real_db
    with psycopg.connect(url) as conn:
        statuses = dict(conn.execute("select status, count(*) from raw.order group by status").fetchall())
    source = [r["order_status"] for r in _csv_rows("sales/olist_orders.csv")]
    assert statuses["completed"] == source.count("delivered")
    assert statuses["cancelled"] == source.count("canceled") + source.count("unavailable")
    assert sum(statuses.values()) == len(source)


def test_themes_and_sentiment_measured_on_the_real_reviews(real_db, tmp_path):
    """The voice-of-customer models on the real Olist reviews (Portuguese). Themes against 60 reviews
    labelled by hand (tests/data/olist_review_themes.csv: a random sample of the commented reviews, each
    given every theme whose subject it speaks about, praise or complaint); the English lexicon against
    the reviews' own 1-5 scores as a proxy. The figures are the README's."""
    url, _ = real_db
    settings = make_settings(tmp_path / "home", INSIGHT_HUB_DATA_DOCS=False)
    prepare_for_dbt(url, settings)
    built = run_dbt(
        url, tmp_path / "target", "run", "--select", "+int_comment_themes", "+int_comment_sentiment"
    )
    assert built.returncode == 0, built.stdout[-3000:]

    with (ROOT / "tests" / "data" / "olist_review_themes.csv").open(newline="") as fh:
        labelled = {r["review_id"]: set(filter(None, r["themes"].split(";"))) for r in csv.DictReader(fh)}
    with psycopg.connect(url) as conn:
        found: dict[str, set[str]] = {review: set() for review in labelled}
        for review, theme in conn.execute(
            "select record_id, theme_id from intermediate.int_comment_themes "
            "where comment_source = 'survey' and record_id = any(%s)",
            (list(labelled),),
        ):
            found[review].add(theme)
        agreement, comments, lexicon_neutral = conn.execute(
            """select avg((lexicon_sentiment = score_sentiment)::int), count(*),
                      avg((lexicon_sentiment = 'neutral')::int)
               from intermediate.int_comment_sentiment where comment_source = 'survey'"""
        ).fetchone()
        scored_as_score = conn.execute(
            "select bool_and(sentiment = score_sentiment) from intermediate.int_comment_sentiment "
            "where comment_source = 'survey'"
        ).fetchone()[0]
    pairs_found = {(r, t) for r, themes in found.items() for t in themes}
    pairs_true = {(r, t) for r, themes in labelled.items() for t in themes}
    hits = len(pairs_found & pairs_true)
    precision, recall = hits / len(pairs_found), hits / len(pairs_true)
    per_theme = {
        t: (
            len({p for p in pairs_found & pairs_true if p[1] == t}),
            len({p for p in pairs_found if p[1] == t}),
            len({p for p in pairs_true if p[1] == t}),
        )
        for t in sorted({t for _, t in pairs_true | pairs_found})
    }
    print(
        f"\nreal reviews: themes precision {precision:.4f}, recall {recall:.4f} over {len(labelled)} labelled "
        f"reviews ({len(pairs_true)} true theme mentions); per theme (hits, found, true): {per_theme}"
        f"\nlexicon vs score band: {float(agreement):.4f} agreement over {comments} comments, "
        f"{float(lexicon_neutral):.4f} scored neutral by the lexicon"
    )
    # Deterministic on these files and examples/demo/themes.yaml: the README quotes these figures.
    assert (hits, len(pairs_found), len(pairs_true)) == (31, 33, 56)
    assert comments == 2560 and round(float(agreement), 4) == 0.1742
    # Every real review has a score, so the hub's sentiment is the score's, not the lexicon's.
    assert scored_as_score is True
