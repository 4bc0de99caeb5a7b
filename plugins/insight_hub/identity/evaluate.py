"""Pairwise precision and recall of identity resolution against a ground truth.

Two records form a "same customer" pair when they belong to one customer. Precision: of the pairs
the hub puts together, the share that truly belong together. Recall: of the true pairs, the share
the hub puts together. A record the hub could not resolve is a customer of its own (it pairs with
nothing), so leaving records unresolved costs recall, never precision.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg


@dataclass(frozen=True)
class PairScores:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    unresolved: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pair_scores(
    predicted: dict[tuple[str, str], str | None], truth: dict[tuple[str, str], str]
) -> PairScores:
    """Scores over the records both sides know; `predicted` maps a record to its customer id or None."""
    records = [r for r in truth if r in predicted]
    # An unresolved record is a cluster of its own.
    cluster = {r: predicted[r] if predicted[r] is not None else ("unresolved", r) for r in records}
    true_sizes = Counter(truth[r] for r in records)
    predicted_sizes = Counter(cluster[r] for r in records)
    both = Counter((cluster[r], truth[r]) for r in records)
    return PairScores(
        records=len(records),
        true_pairs=sum(_pairs(n) for n in true_sizes.values()),
        predicted_pairs=sum(_pairs(n) for n in predicted_sizes.values()),
        correct_pairs=sum(_pairs(n) for n in both.values()),
        unresolved=sum(1 for r in records if predicted[r] is None),
    )


def read_truth(path: Path) -> dict[tuple[str, str], str]:
    """The generator's identity.csv: record_type, record_id, customer."""
    with path.open(newline="") as fh:
        return {(r["record_type"], r["record_id"]): r["customer"] for r in csv.DictReader(fh)}


def read_resolved(url: str) -> dict[tuple[str, str], str | None]:
    with psycopg.connect(url) as conn:
        rows: Iterable = conn.execute(
            "select record_type, record_id, customer_id from intermediate.int_customer_records_resolved"
        ).fetchall()
    return {(t, i): c for t, i, c in rows}


def evaluate(url: str, truth_file: Path) -> PairScores:
    truth = {k: v for k, v in read_truth(truth_file).items() if k[0] != "account"}
    return pair_scores(read_resolved(url), truth)
