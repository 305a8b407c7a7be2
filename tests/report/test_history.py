from __future__ import annotations

from repro.report.build import build_context
from repro.report.history import judge
from tests.helpers_report import GOLDEN


def version(mean, spread, converged):
    return {"olympic_mean_s": mean, "spread_s": spread, "converged": converged}


def test_rise_beyond_spread_is_a_regression():
    flagged, why = judge(version(4.5, 0.9, 3), version(6.1, 0.2, 3))
    assert flagged is True and "beyond the seed spread of 0.9 s" in why


def test_rise_within_spread_is_noise():
    flagged, why = judge(version(3.95, 0.1, 2), version(4.5, 0.9, 3))
    assert flagged is False and "within" in why


def test_single_runs_cannot_be_judged():
    flagged, why = judge(version(4.0, 0.0, 1), version(9.0, 0.0, 1))
    assert flagged is None and "no spread" in why


def test_faster_version_is_not_a_regression():
    assert judge(version(6.0, 0.5, 3), version(4.0, 0.5, 3))[0] is False


def test_golden_history_orders_versions_by_first_run_and_flags_newest_digits():
    history = build_context(GOLDEN)["history"]
    digits = [s for s in history if s["recipe"] == "digits"][0]
    assert [v["git_sha"][:4] for v in digits["versions"]] == ["0000", "a1b2", "ffff"]
    assert [v["regression"] for v in digits["versions"]] == [None, False, True]
    assert digits["regressions"] == 1
    # the interrupted run of the newest version is not an attempt
    assert digits["versions"][2]["n"] == 3
    cifar = [s for s in history if s["recipe"] == "cifar-fastai-2018"][0]
    assert cifar["versions"][0]["n"] == 5 and cifar["versions"][0]["converged"] == 4
