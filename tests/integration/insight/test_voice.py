"""Voice-of-customer themes on the demo hub: contact notes get the theme of the reason they were logged
under, every survey response is counted once whether themed or not, and a theme the business adds to
the taxonomy is used by the next build."""

import psycopg
import pytest
import yaml

from insight_hub.warehouse.prepare import prepare_for_dbt
from tests.conftest import run_dbt

pytestmark = pytest.mark.integration

# The demo writes each contact's notes from its reason's phrases (plus "customer is unhappy" on
# complaints), so the reason is the true theme of its notes.
REASON_THEME = {"billing": "billing", "delivery": "delivery", "product": "product_quality",
                "account": "account_access"}  # fmt: skip


def test_contact_notes_get_the_theme_of_their_reason(hub):
    url, _, _ = hub
    with psycopg.connect(url) as conn:
        notes = dict(
            conn.execute(
                "select interaction_id, reason from staging.stg_contact_centre__interactions "
                "where notes is not null and notes <> ''"
            ).fetchall()
        )
        themed = conn.execute(
            "select record_id, theme_id from intermediate.int_comment_themes where comment_source = 'contact'"
        ).fetchall()
    assert set(notes.values()) == set(REASON_THEME)
    right = sum(1 for record, theme in themed if REASON_THEME[notes[record]] == theme)
    found = {record for record, theme in themed if REASON_THEME[notes[record]] == theme}
    precision, recall = right / len(themed), len(found) / len(notes)
    assert len(notes) > 300
    print(f"contact-note themes: precision {precision:.4f}, recall {recall:.4f} over {len(notes)} notes")
    assert precision >= 0.99 and recall >= 0.99, (precision, recall)


def test_voice_of_customer_counts_every_response_once_or_once_per_theme(hub):
    url, _, _ = hub
    with psycopg.connect(url) as conn:
        total, with_theme, theme_rows = conn.execute(
            """select count(*),
                      count(*) filter (where exists (select 1 from intermediate.int_comment_themes t
                                                     where t.comment_source = 'survey' and t.record_id = r.response_id)),
                      (select count(*) from intermediate.int_comment_themes where comment_source = 'survey')
               from marts.fct_survey_response as r"""
        ).fetchone()
        voc = dict(
            conn.execute(
                "select theme_id = 'unthemed', sum(responses) from marts.voice_of_customer group by 1"
            ).fetchall()
        )
        by_touchpoint = dict(
            conn.execute(
                "select touchpoint, sum(detractors) from marts.voice_of_customer where theme_id <> 'unthemed' "
                "group by 1"
            ).fetchall()
        )
    assert 0 < with_theme < total
    assert voc[True] == total - with_theme and voc[False] == theme_rows
    # The demo's unhappy comments are about waiting, unresolved problems, late couriers and charges.
    assert set(by_touchpoint) == {"contact", "delivery", "billing"} and all(
        v > 0 for v in by_touchpoint.values()
    )


def test_every_comment_has_a_lexicon_sentiment_and_a_response_its_respondents(hub):
    url, _, settings = hub
    with psycopg.connect(url) as conn:
        comments, unscored, survey, agree, texts = conn.execute(
            """select count(*), count(*) filter (where lexicon_compound is null),
                      count(*) filter (where score_sentiment is not null),
                      count(*) filter (where score_sentiment = lexicon_sentiment),
                      (select count(*) from ops.text_sentiment)
               from intermediate.int_comment_sentiment"""
        ).fetchone()
        from_score = conn.execute(
            "select count(*) from intermediate.int_comment_sentiment "
            "where comment_source = 'survey' and sentiment = score_sentiment"
        ).fetchone()[0]
    # Scored once per distinct text, joined back to every comment by its hash.
    assert comments > 400 and unscored == 0 and 0 < texts < comments
    assert from_score == survey > 0
    agreement = agree / survey
    print(
        f"lexicon sentiment agrees with the respondent's score band on {agreement:.4f} of {survey} comments"
    )
    assert agreement > 1 / 3  # better than a guess among three classes
    # Nothing new to score on a second prepare.
    from insight_hub.insight.sentiment import score_new_texts

    with psycopg.connect(url, autocommit=True) as conn:
        assert score_new_texts(conn) == 0


def test_emerging_themes_judges_every_theme_every_week(hub):
    url, _, _ = hub
    with psycopg.connect(url) as conn:
        rows, themes, weeks, flagged, unmasked = conn.execute(
            """select count(*), count(distinct theme_id), count(distinct week_start),
                      count(*) filter (where is_emerging),
                      count(*) filter (where example_comments ~ '@|[0-9]{5}')
               from marts.emerging_themes"""
        ).fetchone()
        mentions = conn.execute("select sum(mentions) from marts.emerging_themes").fetchone()[0]
        themed = conn.execute("select count(*) from intermediate.int_comment_themes").fetchone()[0]
    # Weeks without a mention count as zero: one row per theme per week, and every mention counted once.
    assert themes == 6 and weeks >= 3 and rows == themes * weeks
    assert mentions == themed
    print(f"emerging theme-weeks on the demo: {flagged} of {rows}")
    assert unmasked == 0


def test_a_theme_added_to_the_taxonomy_is_used_by_the_next_build(hub, tmp_path):
    url, tmp, settings = hub
    taxonomy = yaml.safe_load(settings.themes_file.read_text())
    taxonomy["themes"].append(
        {
            "id": "praise",
            "label": "Praise for our people",
            "owner": "contact_centre",
            "touchpoint": "contact",
            "keywords": {"en": ["helpful", "great service"]},
        }  # fmt: skip
    )
    edited = tmp_path / "themes.yaml"
    edited.write_text(yaml.safe_dump(taxonomy))
    try:
        prepare_for_dbt(url, settings.model_copy(update={"themes_file": edited}))
        build = run_dbt(
            url, tmp / "target", "build", "--select", "int_comment_theme_matches", "int_comment_themes"
        )
        assert build.returncode == 0, build.stdout[-3000:]
        with psycopg.connect(url) as conn:
            praised = conn.execute(
                "select count(*) from intermediate.int_comment_themes t "
                "join staging.stg_survey__responses r on r.response_id = t.record_id "
                "where t.theme_id = 'praise' and r.comment in ('Quick and helpful, thank you', "
                "'Great service from the agent')"
            ).fetchone()[0]
            all_praise = conn.execute(
                "select count(*) from intermediate.int_comment_themes where theme_id = 'praise'"
            ).fetchone()[0]
        assert praised == all_praise > 0
    finally:
        prepare_for_dbt(url, settings)
        run_dbt(url, tmp / "target", "build", "--select", "int_comment_themes")
