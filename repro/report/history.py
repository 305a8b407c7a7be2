"""Time to target per recipe + hardware across code versions (asv's view of a benchmark's history).

A version is a git SHA; versions are ordered by the first run made with them. A version is flagged
as a regression when its olympic-mean time to target exceeds the previous measured version's by more
than the seed-to-seed spread (max − min) of either: a rise inside the noise is not a regression.
With a single converged run on both sides there is no spread to judge by, and the page says so.
"""
from __future__ import annotations

from collections import defaultdict

from repro.harness.stats import summarize
from repro.report.summary import ENDED_STATUSES


def judge(previous: dict, current: dict) -> tuple[bool | None, str]:
    """(regression?, why). None when the data cannot tell."""
    prev_mean, cur_mean = previous["olympic_mean_s"], current["olympic_mean_s"]
    delta = cur_mean - prev_mean
    if max(previous["converged"], current["converged"]) < 2:
        return None, f"{delta:+.3g} s; one converged run on each side, no spread to judge by"
    tolerance = max(previous["spread_s"] or 0.0, current["spread_s"] or 0.0)
    if delta > tolerance:
        return True, f"{delta:+.3g} s, beyond the seed spread of {tolerance:.3g} s"
    return False, f"{delta:+.3g} s, within the seed spread of {tolerance:.3g} s"


def build_history(runs: list[dict]) -> list[dict]:
    """One series per (task, recipe, hardware) with at least one attempt; versions oldest first."""
    series_runs: dict[tuple, list[dict]] = defaultdict(list)
    for run in runs:
        if run["status"] in ENDED_STATUSES and not run["synthetic_data"]:
            series_runs[(run["task"], run["recipe"], run["hardware"])].append(run)

    history = []
    for (task, recipe, hardware), members in sorted(series_runs.items()):
        by_version: dict[str, list[dict]] = defaultdict(list)
        for run in members:
            by_version[run["git_sha"] or "unknown"].append(run)
        versions = []
        for sha, version_runs in by_version.items():
            times = [r["time_to_target_s"] if r["status"] == "finished" and r["reached"] else None
                     for r in version_runs]
            summary = dict(vars(summarize(times)))  # asdict() deep-copies: slow over many runs
            versions.append({
                "git_sha": sha,
                "dirty": any(r["git_dirty"] for r in version_runs),
                "first_started_at": min(r["started_at"] or "" for r in version_runs) or None,
                **summary,
                "regression": None,
                "verdict": "first measured version",
                "runs": [{"run_id": r["run_id"], "href": r["href"]} for r in version_runs],
            })
        versions.sort(key=lambda v: (v["first_started_at"] or "", v["git_sha"]))
        previous = None
        for version in versions:
            if version["olympic_mean_s"] is None:
                version["verdict"] = "no converged run"
                continue
            if previous is not None:
                version["regression"], version["verdict"] = judge(previous, version)
            previous = version
        history.append({"task": task, "recipe": recipe, "hardware": hardware,
                        "versions": versions,
                        "regressions": sum(1 for v in versions if v["regression"]),
                        "svg": None})
    return history
