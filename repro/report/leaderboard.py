"""Runs and published results → one board per task, as DAWNBench drew them: a ranking by time to
target and one by cost per market (spot, on-demand, Paperspace).

A group is the runs one `--runs N` started (they share group_id); a run without one is a group of
one, scored by the olympic mean of its time to target. Only comparable groups are ranked
(repro.report.comparable: standard target, the recipe's scored settings, verified data); the
others are listed apart with their reasons. Diverged and failed runs count against convergence
(k/n) and are listed as "not counted"; interrupted and running ones are listed, not counted in n.
Published results stand beside the measured ones, marked, and never take a rank.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from repro.harness.stats import summarize
from repro.pricing.money import to_decimal
from repro.report.comparable import TASKS, counted_time, reasons
from repro.report.markets import LABELS, MARKETS, amount_of, cheapest, missing_reasons
from repro.report.summary import ENDED_STATUSES, not_counted_reason, signed_percent

# Columns a board omits, with a footnote, when no row has a value for them
OPTIONAL_COLUMNS = {"framework": "Framework", "version": "Code version", "reported": "Reported cost"}


def decimal_olympic_mean(values: list[Decimal]) -> Decimal:
    """The olympic mean in Decimal, so money is never a float; kept to the finest input precision."""
    ordered = sorted(values)
    kept = ordered[1:-1] if len(ordered) >= 3 else ordered
    places = min(v.as_tuple().exponent for v in kept)
    return (sum(kept) / len(kept)).quantize(Decimal(1).scaleb(places))


def group_costs(reached_runs: list[dict]) -> dict[str, dict]:
    """Per provider × market: the olympic mean of the runs' benchmark USD and the instance(s)."""
    amounts: dict[str, list[Decimal]] = defaultdict(list)
    instances: dict[str, set] = defaultdict(set)
    for run in reached_runs:
        for row in run["costs"]:
            try:
                amount = to_decimal(row["benchmark_usd"])
            except ValueError:      # NaN or text in a damaged cost.json: that cost is not shown
                continue
            if amount is None:
                continue
            amounts[row["key"]].append(amount)
            instances[row["key"]].add(row["instance_type"] or "?")
    out = {}
    for key, values in amounts.items():
        mean = decimal_olympic_mean(values)
        out[key] = {"usd": str(mean), "instance_type": " / ".join(sorted(instances[key])),
                    "n": len(values)}
    return out


def _union(lists) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        seen.update(dict.fromkeys(items))
    return list(seen)


def _versions(attempts: list[dict]) -> dict:
    shas = sorted({r["git_sha"] for r in attempts if r["git_sha"]})
    return {"git_shas": shas, "git_dirty": any(r["git_dirty"] for r in attempts),
            "version": (shas[0][:7] + (f" +{len(shas) - 1}" if len(shas) > 1 else "")) if shas else None}


def _entry(group_runs: list[dict]) -> dict | None:
    attempts = [r for r in group_runs if r["status"] in ENDED_STATUSES and not r["synthetic_data"]]
    finished = [r for r in attempts if r["status"] == "finished"]
    if not finished:
        return None
    attempts.sort(key=lambda r: (r["seed"] is None, r["seed"] if isinstance(r["seed"], int) else 0,
                                 r["started_at"] or ""))
    times = [counted_time(r) for r in attempts]
    summary = dict(vars(summarize(times)))  # asdict() deep-copies: slow over many runs
    reached = [r for r, t in zip(attempts, times) if t is not None]
    finals = [r["final_metric"] for r in finished if isinstance(r["final_metric"], (int, float))]
    first = attempts[0]
    why = _union(r["comparable_reasons"] for r in attempts)
    costs = group_costs(reached)
    market_costs = cheapest(costs)
    no_offer = {f"{u.get('provider', '?')} {u.get('market', '?')}": str(u.get("reason") or "")
                for r in reached for u in r["unmatched"]}
    return {
        "group_id": first["group_id"] or first["run_id"], "recipe": first["recipe"],
        "task": first["task"], "model": first.get("model"), "framework": first.get("framework"),
        "hardware": first["hardware"], "target_metric": first["target_metric"],
        "target_value": first["target_value"], "comparable": not why, "reasons": why,
        **summary, "time_to_target_s": summary["olympic_mean_s"],
        "final_metric": sum(finals) / len(finals) if finals else None,
        "date": min((r["started_at"] or "") for r in attempts)[:10] or None,
        "priced": any(r["priced"] for r in reached),
        "unpriced_runs": sum(1 for r in reached if not r["priced"]),
        "stale_prices": any(r["stale_prices"] for r in reached),
        "snapshot_ids": sorted({r["snapshot_id"] for r in reached if r["snapshot_id"]}),
        **_versions(attempts),
        "data_unverified": any(r["data_verified"] is False for r in attempts),
        "fixture": any(r.get("fixture") for r in attempts),
        "costs": costs, "market_costs": market_costs,
        "no_offer": missing_reasons(no_offer, market_costs),
        "instance": (market_costs.get("on-demand") or next(iter(market_costs.values()), {})).get("instance_type"),
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


def _time_key(entry: dict) -> tuple:
    time_s = entry["time_to_target_s"]
    return (time_s is None, time_s if time_s is not None else 0.0, entry.get("recipe") or "",
            entry.get("group_id") or entry.get("id") or "")


def _cost_ranking(ranked: list[dict], published: list[dict], market: str) -> list[dict]:
    """Measured entries and published rows with a cost on `market`, cheapest first; measured
    entries numbered, published ones not. `index` is the row's place in entries or published
    (a group id alone may name groups of several recipes)."""
    rows = [("measured", i, e) for i, e in enumerate(ranked) if market in e["market_costs"]]
    rows += [("published", i, p) for i, p in enumerate(published) if market in p["market_costs"]]
    rows.sort(key=lambda r: (amount_of(r[2]["market_costs"][market]["usd"]), _time_key(r[2])))
    out, rank = [], 0
    for kind, index, row in rows:
        if kind == "measured":
            rank += 1
        out.append({"kind": kind, "index": index, "rank": rank if kind == "measured" else None,
                    "ref": row["group_id"] if kind == "measured" else row["id"],
                    "usd": row["market_costs"][market]["usd"]})
    return out


def _not_counted(task_runs: list[dict]) -> list[dict]:
    out = []
    for run in sorted(task_runs, key=lambda r: r["started_at"] or ""):
        reason = not_counted_reason(run)
        if reason:
            out.append({"run_id": run["run_id"], "recipe": run["recipe"], "hardware": run["hardware"],
                        "seed": run["seed"], "status": run["status"], "reason": reason,
                        "error": run["error"], "started_at": run["started_at"], "href": run["href"]})
    return out


def _columns(ranked: list[dict], published: list[dict]) -> tuple[list[str], list[str], list[dict]]:
    """(markets with a cost anywhere, optional columns shown, omitted columns with why)."""
    rows = ranked + published
    markets = [m for m in MARKETS if any(m in r["market_costs"] for r in rows)]
    has = {"framework": any(r.get("framework") for r in rows),
           "version": any(r.get("version") for r in ranked),
           "reported": any(p.get("reported_usd") for p in published)}
    shown = [c for c in OPTIONAL_COLUMNS if has[c]]
    omitted = [{"column": LABELS[m], "why": f"no entry has a {LABELS[m]} price"}
               for m in MARKETS if m not in markets]
    omitted += [{"column": OPTIONAL_COLUMNS[c], "why": "no entry records one"}
                for c in OPTIONAL_COLUMNS if not has[c]]
    return markets, shown, omitted


def _rank(entries: list[dict]) -> None:
    entries.sort(key=_time_key)
    rank = 0
    for entry in entries:
        if entry["comparable"] and entry["time_to_target_s"] is not None:
            rank += 1
            entry["rank"] = rank
        else:
            entry["rank"] = None


def _board(task: str, task_runs: list[dict], published: list[dict]) -> dict:
    for run in task_runs:
        run["comparable_reasons"] = reasons(run)
        run["comparable"] = run["status"] == "finished" and not run["comparable_reasons"]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for run in task_runs:
        groups[(run["group_id"] or run["run_id"], run["recipe"], run["hardware"])].append(run)
    entries = [e for e in (_entry(g) for g in groups.values()) if e is not None]
    ranked = [e for e in entries if e["comparable"]]
    apart = [e for e in entries if not e["comparable"]]
    _rank(ranked)
    _rank(apart)
    markets, shown, omitted = _columns(ranked, published)
    info = TASKS.get(task, {"title": task, "goal": "no standard target", "metric": None, "value": None,
                            "source": None})
    return {"task": task, "title": info["title"], "goal": info["goal"],
            "standard": {"metric": info["metric"], "value": info["value"], "source": info["source"]},
            "markets": markets, "market_labels": [LABELS[m] for m in markets],
            "columns": shown, "omitted": omitted,
            "entries": ranked, "apart": apart, "published": published,
            "by_cost": {m: _cost_ranking(ranked, published, m) for m in markets},
            "stale_prices": any(e["stale_prices"] for e in ranked),
            "not_counted": _not_counted(task_runs), "run_count": len(task_runs), "pareto": {}}


def build_task_boards(runs: list[dict], published: dict[str, list[dict]]) -> list[dict]:
    """One board per task that has runs or published rows, known tasks first in TASKS order.
    Sets `comparable` and `comparable_reasons` on every run summary."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        by_task[run["task"]].append(run)
    task_names = [t for t in TASKS if t in by_task or published.get(t)]
    task_names += sorted(t for t in by_task if t not in TASKS)
    return [_board(task, by_task.get(task, []), published.get(task, [])) for task in task_names]
