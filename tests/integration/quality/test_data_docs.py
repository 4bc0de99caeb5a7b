"""Data Docs: every validated batch is a page of the static site, and the site holds no secret or row value."""

import json
import re

import pytest

from insight_hub.ingest.runner import load_entity
from insight_hub.quality.data_docs import site_index
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


def test_each_validation_is_a_page_without_passwords_or_customer_values(fresh_db, tmp_path):
    landing = tmp_path / "landing"
    (landing / "survey").mkdir(parents=True)
    emails = [f"person{i}@example.com" for i in range(12)]
    rows = [
        {"responseId": f"R{i}", "surveyType": "CSAT", "score": 9 if i == 0 else 4, "submittedAt": "2026-11-20T10:00:00Z",
         "respondent": {"email": email}}
        for i, email in enumerate(emails)
    ]  # fmt: skip
    (landing / "survey" / "responses_1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    settings = make_settings(tmp_path / "home", INSIGHT_HUB_LANDING_DIR=str(landing))
    summary = load_entity(fresh_db, "survey", "response", settings=settings)
    assert (summary.rows_loaded, summary.rows_quarantined) == (11, 1)

    index = site_index(settings.home)
    assert index.is_file()
    pages = [p for p in index.parent.rglob("*.html") if "validations" in p.parts]
    assert len(pages) == 1, "one page per validated batch"
    page = pages[0].read_text()
    # The failing expectations are on the page with their counts...
    assert "score" in page and re.search(r"\b1\b", page)
    # ...but no value of any row, and no part of the connection string.
    password = re.search(r"://[^:]+:([^@]+)@", fresh_db).group(1)
    for html in index.parent.rglob("*"):
        if html.is_file():
            text = html.read_text(errors="replace")
            assert password not in text, html
            assert not any(email in text for email in emails), html
    for config in (settings.home / "gx").rglob("*.yml"):
        assert password not in config.read_text(), config
