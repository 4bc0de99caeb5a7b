"""Each source's schedule and deadline come from the sources file: cron or an interval, checked on load."""

from datetime import timedelta

import pytest

from insight_hub.contracts import ContractError
from insight_hub.orchestration.source_dag import source_timing
from insight_hub.settings import get_settings
from insight_hub.sources.registry import Registry

FEED = "entities: {agent: {pattern: 'agents.csv', mapping: m.yaml}}"


def _registry(tmp_path, **sources: str) -> Registry:
    body = "".join(f"  {name}:\n    {line}\n    {FEED}\n" for name, line in sources.items())
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n" + body)
    return Registry(path)


def test_cron_presets_expressions_and_iso_intervals(tmp_path):
    registry = _registry(tmp_path, contact_centre="schedule: '*/30 6-20 * * 1-5'")
    assert registry.sources["contact_centre"].schedule == "*/30 6-20 * * 1-5"
    registry = _registry(tmp_path, contact_centre="schedule: PT6H")
    assert registry.sources["contact_centre"].schedule == timedelta(hours=6)
    registry = _registry(tmp_path, contact_centre="finish_within: PT45M")
    config = registry.sources["contact_centre"]
    assert (config.schedule, config.finish_within) == ("@daily", timedelta(minutes=45))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "schedule: '61 * * * *'",
            r"sources.contact_centre.schedule: Value error, '61 \* \* \* \*' is neither a cron",
        ),
        ("schedule: P6X", "sources.contact_centre.schedule: Value error, 'P6X' is neither a cron"),
        ("finish_within: PT0S", "sources.contact_centre.finish_within: .*greater than 0"),
    ],
)
def test_a_bad_schedule_names_the_file_and_the_field(tmp_path, line, message):
    with pytest.raises(ContractError, match=rf"sources\.yaml: {message}"):
        _registry(tmp_path, contact_centre=line)


def test_the_source_dags_take_the_sources_files_timing(tmp_path, monkeypatch):
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  crm:\n    schedule: PT4H\n    finish_within: PT1H\n    {FEED.replace('agent', 'owner')}\n"
    )
    monkeypatch.setenv("INSIGHT_HUB_SOURCES", str(tmp_path / "sources.yaml"))
    monkeypatch.setenv("INSIGHT_HUB_SOURCE_FINISH_WITHIN", "PT3H")
    get_settings.cache_clear()
    try:
        assert source_timing("crm") == (timedelta(hours=4), timedelta(hours=1))
        # A source the file does not list: daily, with the settings' deadline.
        assert source_timing("survey") == ("@daily", timedelta(hours=3))
    finally:
        get_settings.cache_clear()
