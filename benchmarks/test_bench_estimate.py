"""`repro estimate digits --calibrate` against 5 real `repro digits` runs measured right after it.

Each round, as a user would type them, in fresh processes: the estimate (its calibration times the
digits steps here), then `repro digits --runs 5` into an empty results folder; the estimate's point
is compared with the group's olympic mean time to target (the figure `repro` reports for a group).
Goal (issue acceptance): within ±30 %.

On a shared machine another process's burst slows a 2-thread torch step many times over (steps of
6 ms measured at 50-1,000 ms under a load average of 5-11), in the calibration or in the runs but
rarely equally in both. Each round therefore waits (up to QUIET_WAIT_S) for the one-minute load
average to fall below QUIET_LOAD, and measures what other processes took while it ran: the
machine's busy CPU time (/proc/stat) less this round's own subprocesses' CPU time, per second of
the round. A round in which others took OTHERS_MAX_CORES or more was disturbed and does not count;
another is run (at most MAX_ATTEMPTS in all). Every round, counted or not, is printed and kept in
extra_info.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPRO = str(Path(sys.executable).with_name("repro"))
ROUNDS = 3
MAX_ATTEMPTS = 10
QUIET_LOAD = 1.5
OTHERS_MAX_CORES = 0.5
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


def _cpu_s() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, CPU seconds of this process's finished children)."""
    t = psutil.cpu_times()
    children = os.times()
    return t.user + t.nice + t.system + t.irq + t.softirq, children.children_user + children.children_system


def one_round(root: Path) -> dict:
    root.mkdir()
    load = wait_for_quiet()
    busy0, mine0 = _cpu_s()
    wall0 = time.monotonic()
    out = _run("estimate", "digits", "--calibrate", "--json", "--runs-from", str(root / "none")).stdout
    offers = [json.loads(line) for line in out.splitlines() if json.loads(line)["type"] == "offer"]
    estimate = offers[0]
    assert {o["time_to_target_s"] for o in offers} == {estimate["time_to_target_s"]}    # one hardware: this box
    _run("digits", "--runs", "5", "--results", str(root / "results"), "--quiet")
    (group_file,) = (root / "results" / "digits").glob("group-*.json")
    group = json.loads(group_file.read_text())["time_to_target"]
    actual = group["olympic_mean_s"]
    busy1, mine1 = _cpu_s()
    others = ((busy1 - busy0) - (mine1 - mine0)) / (time.monotonic() - wall0)
    return {"load_before": load, "others_cores": others, "estimate_s": estimate["time_to_target_s"], "low_s": estimate["low_s"],
            "high_s": estimate["high_s"], "actual_olympic_mean_s": actual, "converged": group["converged"],
            "error": (estimate["time_to_target_s"] - actual) / actual, "basis": estimate["basis_detail"]}


def test_digits_calibrated_estimate_within_30_percent_of_five_real_runs(tmp_path, benchmark):
    attempts: list[dict] = []

    def counted() -> list[dict]:
        return [r for r in attempts if r["others_cores"] < OTHERS_MAX_CORES]

    def until_enough() -> None:
        while len(counted()) < ROUNDS and len(attempts) < MAX_ATTEMPTS:
            attempts.append(one_round(tmp_path / f"round{len(attempts)}"))

    benchmark.pedantic(until_enough, rounds=1, iterations=1)
    benchmark.extra_info["rounds"] = attempts
    for r in attempts:
        kept = "counted" if r in counted() else "disturbed, not counted"
        print(f"\nload {r['load_before']:.2f}, others took {r['others_cores']:.2f} cores ({kept}): estimate {r['estimate_s']:.3f} s "
              f"({r['low_s']:.3f}–{r['high_s']:.3f}), actual olympic mean of 5 {r['actual_olympic_mean_s']:.3f} s "
              f"({r['converged']}/5 converged): error {r['error']:+.1%}\n  {r['basis']}")
    rounds = counted()
    assert len(rounds) == ROUNDS, f"only {len(rounds)} of {len(attempts)} rounds ran on a quiet machine"
    assert all(r["converged"] == 5 for r in rounds)
    assert all(abs(r["error"]) <= 0.30 for r in rounds), [f"{r['error']:+.1%}" for r in rounds]
