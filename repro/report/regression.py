"""The regression gate of `repro report --fail-on-regression` (asv's `continuous`, for time to
target): per recipe and hardware, the newest group of runs against the one before it with the
same target. The newest is a regression when its olympic-mean time to target exceeds the
previous one's by more than the threshold, or when none of its runs reached the target although
the previous group's did.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict

from pathlib import Path

from repro.harness.stats import summarize
from repro.harness.store import read_json
from repro.report.comparable import counted_time
from repro.report.format import hms
from repro.report.summary import ENDED_STATUSES

DEFAULT_THRESHOLD = "10%"


def parse_threshold(text: str) -> float:
    """"10%" → 0.10 (ValueError with the accepted form otherwise)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", str(text))
    if not match or not math.isfinite(float(match.group(1))):
        raise ValueError(f"--threshold {text!r}: give a percentage such as 10% (a rise in time to "
                         "target beyond it fails the check)")
    return float(match.group(1)) / 100


def site_runs(site_dir: Path) -> list[dict]:
    """The run summaries a site was just rendered from (its index.json)."""
    return read_json(Path(site_dir) / "index.json")["runs"]


def _groups(runs: list[dict]) -> dict[tuple, list[dict]]:
    """(recipe, hardware) → its groups (run lists), oldest first by their first start."""
    groups: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if run["status"] in ENDED_STATUSES and not run["synthetic_data"]:
            groups[(run["recipe"], run["hardware"])][run["group_id"] or run["run_id"]].append(run)
    return {key: sorted(members.values(), key=lambda g: min(r["started_at"] or "" for r in g))
            for key, members in groups.items()}


def _score(group: list[dict]) -> dict:
    times = [counted_time(r) for r in group]
    summary = summarize(times)
    first = group[0]
    return {"group_id": first["group_id"] or first["run_id"], "olympic_mean_s": summary.olympic_mean_s,
            "converged": summary.converged, "n": summary.n,
            "started_at": min(r["started_at"] or "" for r in group) or None,
            "target": (first["target_metric"], first["target_value"])}


def _verdict(previous: dict, newest: dict, threshold: float) -> tuple[bool, float | None]:
    old, new = previous["olympic_mean_s"], newest["olympic_mean_s"]
    if new is None:
        return True, None
    ratio = new / old
    return ratio > 1 + threshold, ratio


def check(runs: list[dict], threshold: float) -> list[dict]:
    """One finding per recipe and hardware with two comparable groups: {"recipe", "hardware",
    "previous", "newest", "ratio" (newest / previous time, None when the newest never reached the
    target), "regression"}."""
    findings = []
    for (recipe, hardware), groups in sorted(_groups(runs).items()):
        newest = _score(groups[-1])
        earlier = [s for s in map(_score, groups[:-1])
                   if s["target"] == newest["target"] and s["olympic_mean_s"] is not None]
        if not earlier:
            continue
        previous = earlier[-1]
        regression, ratio = _verdict(previous, newest, threshold)
        findings.append({"recipe": recipe, "hardware": hardware, "previous": previous, "newest": newest,
                         "ratio": ratio, "regression": regression, "threshold": threshold})
    return findings


def describe(finding: dict) -> str:
    """One line naming both groups."""
    prev, new = finding["previous"], finding["newest"]
    where = f"{finding['recipe']} on {finding['hardware']}"
    if finding["ratio"] is None:
        return (f"{where}: group {new['group_id']} reached the target in none of its {new['n']} "
                f"run{'s' if new['n'] != 1 else ''}; group {prev['group_id']} before it took "
                f"{hms(prev['olympic_mean_s'])}")
    change = (finding["ratio"] - 1) * 100
    word = "slower" if change >= 0 else "faster"
    limit = f"beyond the {finding['threshold'] * 100:g} % allowed" if finding["regression"] else "within bounds"
    return (f"{where}: group {new['group_id']} ({hms(new['olympic_mean_s'])}, {new['converged']}/{new['n']}) "
            f"is {abs(change):.1f} % {word} than group {prev['group_id']} "
            f"({hms(prev['olympic_mean_s'])}, {prev['converged']}/{prev['n']}), {limit}")
