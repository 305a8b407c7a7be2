"""Multi-seed scoring on tables with known answers."""
import pytest

from repro.harness.stats import olympic_mean, summarize


def test_olympic_mean_drops_one_fastest_and_one_slowest():
    assert olympic_mean([10, 20, 30, 40, 100]) == pytest.approx(30.0)


def test_olympic_mean_with_ties_drops_only_one_of_each():
    assert olympic_mean([5, 5, 5, 9, 9]) == pytest.approx((5 + 5 + 9) / 3)


def test_olympic_mean_small_groups_are_plain_means():
    assert olympic_mean([4, 8]) == pytest.approx(6.0)
    assert olympic_mean([7]) == pytest.approx(7.0)
    with pytest.raises(ValueError):
        olympic_mean([])


def test_summary_counts_non_converged_runs_but_does_not_average_them():
    s = summarize([12.0, None, 10.0, 14.0, None, 11.0])
    assert (s.n, s.converged) == (6, 4)
    assert s.olympic_mean_s == pytest.approx(11.5)   # drop 10 and 14 → mean(11, 12)
    assert s.median_s == pytest.approx(11.5)
    assert s.spread_s == pytest.approx(4.0)
    assert (s.min_s, s.max_s) == (10.0, 14.0)


def test_summary_of_a_group_that_never_converged():
    s = summarize([None, None])
    assert (s.n, s.converged, s.olympic_mean_s, s.median_s) == (2, 0, None, None)


def test_summary_median_of_odd_group_and_stdev():
    s = summarize([3.0, 1.0, 2.0])
    assert s.median_s == 2.0
    assert s.olympic_mean_s == 2.0
    assert s.stdev_s == pytest.approx(1.0)
