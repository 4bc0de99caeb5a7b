"""The pipeline benchmark's growth exponent (k in time ~ SCALE^k, fitted on log-log) and its stages' peak
memory."""

import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from pipeline import PeakSampler, exponent, stage_of  # noqa: E402


def test_linear_growth_has_exponent_one_and_flat_growth_zero():
    assert exponent([(1, 120.0), (2, 240.0), (4, 480.0)]) == 1.0
    assert exponent([(1, 25.0), (2, 25.0), (4, 25.0)]) == 0.0
    assert exponent([(1, 10.0), (2, 40.0), (4, 160.0)]) == 2.0


def test_noisy_points_give_the_least_squares_slope():
    # log2 times 0, 1.2, 1.8 against log2 scales 0, 1, 2: slope 0.9.
    assert exponent([(1, 1.0), (2, 2**1.2), (4, 2**1.8)]) == pytest.approx(0.9, abs=0.01)


def test_one_size_fits_no_exponent():
    assert exponent([(1, 100.0)]) is None
    assert exponent([(1, 100.0), (1, 110.0)]) is None


def test_tasks_fall_into_the_reported_stages():
    assert stage_of("source_crm", "stage_contact") == "extract+stage"
    assert stage_of("source_crm", "validate_contact") == "validate"
    assert stage_of("source_crm", "publish_contact") == "publish"
    assert stage_of("source_crm", "check_freshness") is None
    assert stage_of("transform", "hub.fct_contact_run") == "dbt build"
    assert stage_of("transform", "sync_actions") is None
    assert stage_of("insight", "deliver_extracts") == "extracts"


def test_a_stage_shorter_than_the_sampling_takes_the_samples_around_it():
    sampler = PeakSampler()
    mb = 1048576
    sampler.samples = [(1.0, 100 * mb), (2.0, 300 * mb), (3.0, 200 * mb), (4.0, 50 * mb)]
    assert sampler.peak_mb([(1.5, 3.5)]) == 300.0  # the samples inside
    assert sampler.peak_mb([(3.2, 3.3)]) == 200.0  # none inside: 200 MB before it, 50 MB after
    assert sampler.peak_mb([(3.2, 3.3), (1.9, 2.1)]) == 300.0
    assert sampler.peak_mb([(5.0, 5.1)]) == 50.0  # after the last sample
    assert sampler.peak_mb([]) == 0.0
