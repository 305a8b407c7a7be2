"""`repro estimate digits --calibrate` against 5 real `repro digits` runs measured right after it.

Each round, as a user would type them, in fresh processes: the estimate (its calibration times the
digits steps here), then `repro digits --runs 5` into an empty results folder; the estimate's point
is compared with the group's olympic mean time to target (the figure `repro` reports for a group).
Goal (issue acceptance): within ±30 %.

On a shared machine another process's burst slows a 2-thread torch step many times over (steps of
6 ms measured at 50-1,000 ms under a load average of 5-11), in the calibration or in the runs but
rarely equally in both. Each round therefore waits (up to QUIET_WAIT_S) for the one-minute load
average to fall below QUIET_LOAD, and records the load before and after it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPRO = str(Path(sys.executable).with_name("repro"))
ROUNDS = 3
QUIET_LOAD = 1.5
QUIET_WAIT_S = 1800


def wait_for_quiet() -> float:
    """The one-minute load average once it is below QUIET_LOAD, or after QUIET_WAIT_S."""
    deadline = time.monotonic() + QUIET_WAIT_S
    while os.getloadavg()[0] >= QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(10)
    return os.getloadavg()[0]


def _run(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([REPRO, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r


def one_round(root: Path) -> dict:
    root.mkdir()
    load = wait_for_quiet()
    out = _run("estimate", "digits", "--calibrate", "--json", "--runs-from", str(root / "none")).stdout
    offers = [json.loads(line) for line in out.splitlines() if json.loads(line)["type"] == "offer"]
    estimate = offers[0]
    assert {o["time_to_target_s"] for o in offers} == {estimate["time_to_target_s"]}    # one hardware: this box
    _run("digits", "--runs", "5", "--results", str(root / "results"), "--quiet")
    (group_file,) = (root / "results" / "digits").glob("group-*.json")
    group = json.loads(group_file.read_text())["time_to_target"]
    actual = group["olympic_mean_s"]
    return {"load_before": load, "load_after": os.getloadavg()[0], "estimate_s": estimate["time_to_target_s"], "low_s": estimate["low_s"],
            "high_s": estimate["high_s"], "actual_olympic_mean_s": actual, "converged": group["converged"],
            "error": (estimate["time_to_target_s"] - actual) / actual, "basis": estimate["basis_detail"]}


def test_digits_calibrated_estimate_within_30_percent_of_five_real_runs(tmp_path, benchmark):
    rounds: list[dict] = []
    benchmark.pedantic(lambda: rounds.append(one_round(tmp_path / f"round{len(rounds)}")),
                       rounds=ROUNDS, iterations=1)
    benchmark.extra_info["rounds"] = rounds
    for r in rounds:
        print(f"\nload {r['load_before']:.2f} → {r['load_after']:.2f}: estimate {r['estimate_s']:.3f} s "
              f"({r['low_s']:.3f}–{r['high_s']:.3f}), actual olympic mean of 5 {r['actual_olympic_mean_s']:.3f} s "
              f"({r['converged']}/5 converged): error {r['error']:+.1%}\n  {r['basis']}")
    assert all(r["converged"] == 5 for r in rounds)
    assert all(abs(r["error"]) <= 0.30 for r in rounds), [f"{r['error']:+.1%}" for r in rounds]
