"""How the demo exports are split into a history and the days after it (the benchmarks' and the
incremental tests' "one more day")."""

from __future__ import annotations

from pathlib import Path

from insight_hub.demo.landing import land_history_and_last_day


def write_feeds(gen: Path) -> None:
    (gen / "contact_centre").mkdir(parents=True)
    (gen / "survey").mkdir()
    (gen / "contact_centre" / "agents.csv").write_text("agent_id\nA1\n")
    for day in ("2026-06-14", "2026-06-15", "2026-06-16"):
        (gen / "contact_centre" / f"calls_{day}.csv").write_text(f"call_id\n{day}-call\n")
    # The survey feed trails the calls by two days: its responses come after their contact.
    for day in ("2026-06-14", "2026-06-15", "2026-06-16", "2026-06-17", "2026-06-18"):
        (gen / "survey" / f"responses_{day}.jsonl").write_text(f'{{"day": "{day}"}}\n')


def relative_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_last_day_is_the_newest_day_every_feed_has_reached(tmp_path):
    write_feeds(tmp_path / "gen")
    land_history_and_last_day(tmp_path / "gen", tmp_path / "history", tmp_path / "day")

    assert relative_files(tmp_path / "day") == [
        "contact_centre/calls_2026-06-16.csv",
        "survey/responses_2026-06-16.jsonl",
    ]
    # The survey files dated after that day would arrive on later days: neither history nor day has them.
    assert relative_files(tmp_path / "history") == [
        "contact_centre/agents.csv",
        "contact_centre/calls_2026-06-14.csv",
        "contact_centre/calls_2026-06-15.csv",
        "survey/responses_2026-06-14.jsonl",
        "survey/responses_2026-06-15.jsonl",
    ]


def test_several_days_and_a_merged_history(tmp_path):
    write_feeds(tmp_path / "gen")
    land_history_and_last_day(tmp_path / "gen", tmp_path / "history", tmp_path / "days", merge=True, days=2)

    assert relative_files(tmp_path / "days") == [
        "contact_centre/calls_2026-06-15.csv",
        "contact_centre/calls_2026-06-16.csv",
        "survey/responses_2026-06-15.jsonl",
        "survey/responses_2026-06-16.jsonl",
    ]
    assert relative_files(tmp_path / "history") == [
        "contact_centre/agents.csv",
        "contact_centre/calls_history.csv",
        "survey/responses_history.jsonl",
    ]
    # One header for the merged CSV.
    assert (
        tmp_path / "history" / "contact_centre" / "calls_history.csv"
    ).read_text() == "call_id\n2026-06-14-call\n"


def test_more_days_than_the_feeds_hold_lands_them_all_as_days(tmp_path):
    write_feeds(tmp_path / "gen")
    land_history_and_last_day(tmp_path / "gen", tmp_path / "history", tmp_path / "days", days=10)

    assert len(relative_files(tmp_path / "days")) == 6  # three days of calls and of responses
    assert relative_files(tmp_path / "history") == ["contact_centre/agents.csv"]
