"""The charter is data: a mistake in it is named with the file and the field."""

import pytest

from insight_hub.charter import load_charter
from insight_hub.contracts import ContractError
from tests.conftest import ROOT


def test_the_demo_charter_loads():
    charter = load_charter(ROOT / "examples" / "demo" / "charter.yaml")
    assert {p.kpi for p in charter.promises} >= {"service_level_pct", "fcr_rate_pct", "csat_pct"}
    phone = next(p for p in charter.promises if p.id == "answer_calls_in_20s")
    assert (phone.scope.channel, phone.target, phone.direction) == ("phone", 80, "at_least")


@pytest.mark.parametrize(
    ("promise", "message"),
    [
        ("{id: x, promise: p, kpi: happiness, target: 1, direction: at_least}", "promises.0.kpi"),
        ("{id: x, promise: p, kpi: csat_pct, target: 1, direction: more}", "promises.0.direction"),
        ("{id: x, promise: p, kpi: on_time_rate_pct, scope: {channel: phone}, target: 1, direction: at_least}",
         "not measured per channel"),
        ("{id: X Y, promise: p, kpi: nps, target: 1, direction: at_least}", "promises.0.id"),
    ],
)  # fmt: skip
def test_a_bad_promise_is_named(tmp_path, promise, message):
    path = tmp_path / "charter.yaml"
    path.write_text(f"promises:\n  - {promise}\n")
    with pytest.raises(ContractError, match=message) as err:
        load_charter(path)
    assert str(path) in str(err.value)


def test_repeated_ids_are_refused(tmp_path):
    path = tmp_path / "charter.yaml"
    one = "{id: a, promise: p, kpi: nps, target: 1, direction: at_least}"
    path.write_text(f"promises:\n  - {one}\n  - {one}\n")
    with pytest.raises(ContractError, match="promise ids repeat: a"):
        load_charter(path)
