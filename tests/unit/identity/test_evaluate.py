"""Pairwise precision and recall, on examples small enough to count by hand."""

from insight_hub.identity.evaluate import pair_scores

TRUTH = {("i", "1"): "A", ("i", "2"): "A", ("i", "3"): "A", ("o", "4"): "B", ("o", "5"): "B"}


def test_a_perfect_resolution_scores_one():
    predicted = {k: v.lower() for k, v in TRUTH.items()}  # the ids differ; the grouping is the same
    s = pair_scores(predicted, TRUTH)
    # True pairs: 3 within A + 1 within B.
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == (4, 4, 4)
    assert s.precision == s.recall == 1.0


def test_an_unresolved_record_costs_recall_not_precision():
    predicted = {("i", "1"): "x", ("i", "2"): "x", ("i", "3"): None, ("o", "4"): "y", ("o", "5"): "y"}
    s = pair_scores(predicted, TRUTH)
    # Predicted pairs: (1,2) and (4,5), both right; (1,3) and (2,3) are missed.
    assert (s.predicted_pairs, s.correct_pairs, s.unresolved) == (2, 2, 1)
    assert s.precision == 1.0
    assert s.recall == 2 / 4


def test_a_wrong_merge_costs_precision():
    predicted = dict.fromkeys(TRUTH, "everyone")
    s = pair_scores(predicted, TRUTH)
    # All 10 pairs predicted, 4 of them true.
    assert (s.predicted_pairs, s.correct_pairs) == (10, 4)
    assert s.precision == 0.4 and s.recall == 1.0


def test_records_unknown_to_either_side_are_left_out():
    predicted = {("i", "1"): "x", ("i", "2"): "x", ("z", "9"): "x"}
    s = pair_scores(predicted, TRUTH)
    assert s.records == 2 and s.true_pairs == 1 and s.correct_pairs == 1
