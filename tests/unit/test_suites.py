"""The shipped expectation suites are well-formed and speak only of their contract's columns."""

import json

import pytest

from insight_hub.contracts import load_contract
from insight_hub.quality.gx_runner import SuiteError, expectation_name, load_suite_dict
from tests.conftest import ROOT

SUITES = sorted((ROOT / "expectations").glob("*.json"))


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_suite_names_columns_of_its_contract_and_types_every_one(path):
    suite = load_suite_dict(path)
    contract = load_contract(path.stem)
    columns = set(contract.column_names)
    typed = set()
    for exp in suite["expectations"]:
        kw = exp["kwargs"]
        named = [kw[k] for k in ("column", "column_A", "column_B") if k in kw] + kw.get("column_list", [])
        assert set(named) <= columns, (exp["type"], named)
        if exp["type"] == "expect_column_values_to_be_of_type":
            typed.add(kw["column"])
    assert typed == columns, "every contract column has its type checked"
    severities = {e["meta"]["severity"] for e in suite["expectations"]}
    assert severities == {"error", "warn"}


def test_two_expectations_with_one_name_are_refused(tmp_path):
    pair = {"column_A": "ended_at", "column_B": "queued_at"}
    suite = {
        "name": "x",
        "expectations": [
            {"type": "expect_column_pair_values_a_to_be_greater_than_b", "kwargs": pair, "meta": {"severity": "error"}},
            {"type": "expect_column_pair_values_a_to_be_greater_than_b", "kwargs": pair, "meta": {"severity": "warn"}},
        ],
    }  # fmt: skip
    path = tmp_path / "x.json"
    path.write_text(json.dumps(suite))
    with pytest.raises(SuiteError, match=r"expectations\[1\] and expectations\[0\] are both named"):
        load_suite_dict(path)


def test_default_names_carry_every_column():
    assert (
        expectation_name(
            "expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "a", "column_B": "b"}, {}
        )
        == "expect_column_pair_values_a_to_be_greater_than_b(a, b)"
    )
    assert expectation_name("expect_compound_columns_to_be_unique", {"column_list": ["k", "n"]}, {}) == (
        "expect_compound_columns_to_be_unique(k, n)"
    )
    assert expectation_name("anything", {}, {"name": "mine"}) == "mine"
