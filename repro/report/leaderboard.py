"""Runs → one leaderboard per task: multi-seed groups scored by the olympic mean of time to target.

A group is the runs one `--runs N` started (they share group_id); a run without one is a group of
one. Ranking uses finished runs only. Diverged and failed runs count against convergence (k/n) and
are listed as "not counted"; interrupted and running ones are listed, not counted in n.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from repro.harness.stats import summarize
from repro.pricing.money import format_usd, to_decimal
from repro.report.summary import ENDED_STATUSES, cost_key_order, not_counted_reason, signed_percent

TASKS = {
    "digits": {"title": "digits", "goal": "scikit-learn 8×8 digits, recipe's top-1 target"},
    "cifar10": {"title": "CIFAR-10 94 %", "goal": "94 % top-1 test accuracy"},
    "imagenet-top5": {"title": "ImageNet 93 % top-5", "goal": "93 % top-5 validation accuracy"},
    "imagenet-top1": {"title": "ImageNet 75.9 % top-1", "goal": "75.9 % top-1 (MLPerf ResNet-50)"},
}


def decimal_olympic_mean(values: list[Decimal]) -> Decimal:
    """The olympic mean in Decimal, so money is never a float; kept to the finest input precision."""
    ordered = sorted(values)
    kept = ordered[1:-1] if len(ordered) >= 3 else ordered
    places = min(v.as_tuple().exponent for v in kept)
    return (sum(kept) / len(kept)).quantize(Decimal(1).scaleb(places))


def _group_costs(reached_runs: list[dict]) -> dict[str, dict]:
    """Per provider × market: the olympic mean of the runs' benchmark USD and the instance(s)."""
    amounts: dict[str, list[Decimal]] = defaultdict(list)
    instances: dict[str, set] = defaultdict(set)
    for run in reached_runs:
        for row in run["costs"]:
            amount = to_decimal(row["benchmark_usd"])
            if amount is None:
                continue
            amounts[row["key"]].append(amount)
            instances[row["key"]].add(row["instance_type"] or "?")
    out = {}
    for key, values in amounts.items():
        mean = decimal_olympic_mean(values)
        instance = " / ".join(sorted(instances[key]))
        out[key] = {"usd": str(mean), "instance_type": instance, "n": len(values),
                    "label": f"{format_usd(mean)} · {key} {instance}"}
    return out


def _entry(group_runs: list[dict]) -> dict | None:
    attempts = [r for r in group_runs if r["status"] in ENDED_STATUSES and not r["synthetic_data"]]
    finished = [r for r in attempts if r["status"] == "finished"]
    if not finished:
        return None
    attempts.sort(key=lambda r: (r["seed"] is None, r["seed"] if isinstance(r["seed"], int) else 0,
                                 r["started_at"] or ""))
    times = [r["time_to_target_s"] if r["status"] == "finished" and r["reached"] else None
             for r in attempts]
    summary = dict(vars(summarize(times)))  # asdict() deep-copies: slow over many runs
    reached = [r for r, t in zip(attempts, times) if t is not None]
    finals = [r["final_metric"] for r in finished if isinstance(r["final_metric"], (int, float))]
    first = attempts[0]
    snapshot_ids = sorted({r["snapshot_id"] for r in reached if r["snapshot_id"]})
    return {
        "group_id": first["group_id"] or first["run_id"],
        "recipe": first["recipe"],
        "task": first["task"],
        "hardware": first["hardware"],
        "target_metric": first["target_metric"],
        "target_value": first["target_value"],
        **summary,
        "time_to_target_s": summary["olympic_mean_s"],
        "final_metric": sum(finals) / len(finals) if finals else None,
        "date": min((r["started_at"] or "") for r in attempts)[:10] or None,
        "priced": any(r["priced"] for r in reached),
        "unpriced_runs": sum(1 for r in reached if not r["priced"]),
        "stale_prices": any(r["stale_prices"] for r in reached),
        "snapshot_ids": snapshot_ids,
        "git_shas": sorted({r["git_sha"] for r in attempts if r["git_sha"]}),
        "data_unverified": any(r["data_verified"] is False for r in attempts),
        "costs": _group_costs(reached),
        "no_offer": {f"{u.get('provider', '?')} {u.get('market', '?')}": str(u.get("reason") or "")
                     for r in reached for u in r["unmatched"]},
        "runs": [{"run_id": r["run_id"], "seed": r["seed"], "status": r["status"],
                  "reached": r["reached"], "time_to_target_s": r["time_to_target_s"],
                  "href": r["href"]} for r in attempts],
        # the estimate the group's runs kept (repro estimate / --estimate) against its olympic mean
        "estimate": _group_estimate(attempts, summary["olympic_mean_s"]),
    }


def _group_estimate(attempts: list[dict], actual_s: float | None) -> dict | None:
    first = next((r["estimate"] for r in attempts if r.get("estimate")), None)
    if first is None:
        return None
    error = (first["time_to_target_s"] - actual_s) / actual_s if actual_s else None
    return {**first, "error": error, "error_text": signed_percent(error) if error is not None else None}


def _cost_cell(entry: dict, key: str) -> dict:
    if key in entry["costs"]:
        return {"key": key, **entry["costs"][key], "reason": None}
    empty = {"key": key, "usd": None, "instance_type": None, "n": 0}
    if not entry["priced"]:
        return {**empty, "label": "not priced",
                "reason": "no cost.json in the run directory"}
    # pricing found no offer for this hardware on this market (its reason, when it gave one)
    return {**empty, "label": "no offer", "reason": entry["no_offer"].get(key) or None}


def _rank_key(entry: dict) -> tuple:
    time_s = entry["time_to_target_s"]
    return (time_s is None, time_s if time_s is not None else 0.0, entry["recipe"], entry["group_id"])


def build_task_boards(runs: list[dict], published: dict[str, list[dict]]) -> list[dict]:
    """One board per task that has runs or published rows, known tasks first in TASKS order."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        by_task[run["task"]].append(run)
    task_names = [t for t in TASKS if t in by_task or published.get(t)]
    task_names += sorted(t for t in by_task if t not in TASKS)

    boards = []
    for task in task_names:
        task_runs = by_task.get(task, [])
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for run in task_runs:
            groups[(run["group_id"] or run["run_id"], run["recipe"], run["hardware"])].append(run)
        entries = [e for e in (_entry(g) for g in groups.values()) if e is not None]
        entries.sort(key=_rank_key)
        rank = 0
        for entry in entries:
            if entry["time_to_target_s"] is not None:
                rank += 1
                entry["rank"] = rank
            else:
                entry["rank"] = None
        columns = sorted({key for e in entries for key in (*e["costs"], *e["no_offer"])},
                         key=cost_key_order)
        for entry in entries:
            entry["cost_cells"] = [_cost_cell(entry, key) for key in columns]
        not_counted = []
        for run in sorted(task_runs, key=lambda r: r["started_at"] or ""):
            reason = not_counted_reason(run)
            if reason:
                not_counted.append({"run_id": run["run_id"], "recipe": run["recipe"],
                                    "hardware": run["hardware"], "seed": run["seed"],
                                    "status": run["status"], "reason": reason,
                                    "error": run["error"], "started_at": run["started_at"],
                                    "href": run["href"]})
        info = TASKS.get(task, {"title": task, "goal": "target stated by the recipe"})
        boards.append({"task": task, "title": info["title"], "goal": info["goal"],
                       "cost_columns": columns, "entries": entries, "not_counted": not_counted,
                       "published": published.get(task, []), "run_count": len(task_runs),
                       "pareto_svg": None, "pareto_market": None})
    return boards
