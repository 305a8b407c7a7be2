"""One run directory → the plain dict the report shows (and writes into index.json): read-only.

Reads only what is on disk: run.json, and cost.json when pricing wrote one. USD stays a Decimal
string; a run with no cost.json is "not priced", never $0.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

from repro.harness import hardware
from repro.harness.store import COST_FILE, RunRecord, StoreError, read_json
from repro.pricing.catalog import MARKETS

# Runs that ended for good: they count as attempts of the recipe (a diverged run is a recipe
# failing to converge), and the harness no longer writes their files in place (pricing replaces
# cost.json atomically, with a new inode). An interrupted run may be resumed and a running one
# is not done: neither says anything about the recipe yet.
ENDED_STATUSES = ("finished", "diverged", "failed")
MARKET_ORDER = {market: position for position, market in enumerate(MARKETS)}


def slug(text: str) -> str:
    """A file-name-safe form of a run directory name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return cleaned or "run"


def page_for(run_dir: Path) -> str:
    """Where a run's page goes in the site, without suffix: runs/<recipe>/<run>, the page being
    <run>.html and the run's files <run>.run.json, <run>.mllog.log … beside it. list_runs finds
    runs at results/<recipe>/<run>/, so these two names identify the run.

    One flat folder per recipe, not a folder per run: a cold build creates every file of the
    site, and on common filesystems a new directory costs several times a new file."""
    return f"runs/{slug(run_dir.parent.name)}/{slug(run_dir.name)}"


def cost_key(row: dict) -> str:
    return f"{row.get('provider', '?')} {row.get('market', '?')}"


def cost_key_order(key: str) -> tuple:
    provider, _, market = key.partition(" ")
    return (provider, MARKET_ORDER.get(market, 9), market)


def _cost_rows(cost: dict) -> list[dict]:
    rows = []
    for row in cost.get("rows", []):
        rows.append({
            "key": cost_key(row),
            "provider": row.get("provider"),
            "market": row.get("market"),
            "instance_type": row.get("instance_type"),
            "region": row.get("region"),
            "usd_per_hour": row.get("usd_per_hour"),
            "benchmark_seconds": row.get("benchmark_seconds"),
            "benchmark_usd": row.get("benchmark_usd"),
            "billed_seconds": row.get("billed_seconds"),
            "billed_usd": row.get("billed_usd"),
            "billing_rule": row.get("billing_rule"),
            "billing_source": row.get("billing_source"),
            "source": row.get("source"),
            "fetched_at": row.get("fetched_at"),
        })
    rows.sort(key=lambda r: cost_key_order(r["key"]))
    return rows


def summarize_run(record: RunRecord, errors: list[str], page: str | None = None,
                  has_cost: bool | None = None) -> dict:
    """The report's view of one run. A damaged cost.json is reported in `errors` and the run is
    shown as not priced rather than dropped. `page` is where its page goes (page_for's answer,
    when the caller has it); `has_cost`, whether cost.json exists, when the caller has looked."""
    data = record.data
    outcome = data.get("outcome") or {}
    target = data.get("target") or {}
    metric = target.get("metric") or "top1"
    final = outcome.get("final") or {}
    provenance = data.get("provenance") or {}
    if page is None:
        page = page_for(record.path)

    cost = None
    cost_path = f"{record.path}/{COST_FILE}"
    if has_cost is None:
        has_cost = os.path.exists(cost_path)
    if has_cost:
        try:
            cost = read_json(cost_path)
        except StoreError as exc:
            errors.append(f"{exc} (run shown as not priced)")

    reached = bool(outcome.get("reached"))
    return {
        "run_id": str(data.get("run_id") or record.path.name),
        "recipe": str(data.get("recipe") or record.path.parent.name),
        "task": str(data.get("task") or data.get("recipe") or "unknown"),
        "group_id": data.get("group_id"),
        "seed": data.get("seed"),
        "status": str(data.get("status") or "unknown"),
        "error": data.get("error"),
        "started_at": data.get("started_at"),
        "ended_at": data.get("ended_at"),
        "hardware": hardware.label(data.get("hardware")),
        "target_metric": metric,
        "target_value": target.get("value"),
        "reached": reached,
        "time_to_target_s": outcome.get("time_to_target_s") if reached else None,
        "time_to_target_dawnbench_s": outcome.get("time_to_target_dawnbench_s") if reached else None,
        "epochs_to_target": outcome.get("epochs_to_target"),
        "final_metric": final.get(metric),
        "synthetic_data": bool(data.get("synthetic_data")),
        "data_verified": data.get("data_verified"),
        "git_sha": provenance.get("git_sha"),
        "git_dirty": provenance.get("git_dirty"),
        "href": page + ".html",
        "page": page,
        "source_dir": str(record.path),
        "priced": cost is not None,
        "snapshot_id": cost.get("snapshot_id") if cost else None,
        "stale_prices": bool(cost.get("stale")) if cost else False,
        "hardware_match": cost.get("hardware_match") if cost else None,
        "costs": _cost_rows(cost) if cost else [],
        "unmatched": list(cost.get("unmatched", [])) if cost else [],
        # -- estimate against actual: run.json's `estimate` (repro estimate / --estimate), kept apart --
        "estimate": estimate_vs_actual(data.get("estimate"), outcome.get("time_to_target_s") if reached else None),
    }


def _seconds(value) -> float | None:
    ok = type(value) in (int, float) and math.isfinite(value) and value >= 0
    return float(value) if ok else None


def signed_percent(fraction: float) -> str:
    return f"{fraction * 100:+.0f} %"


def estimate_vs_actual(estimate, actual_s: float | None) -> dict | None:
    """What run.json's estimate said and how far off it was: error = (estimate − actual) / actual,
    positive when the estimate was too long. None without a usable estimate."""
    if not isinstance(estimate, dict):
        return None
    point = _seconds(estimate.get("time_to_target_s"))
    if point is None:
        return None
    low, high = _seconds(estimate.get("low_s")), _seconds(estimate.get("high_s"))
    actual = _seconds(actual_s)
    error = (point - actual) / actual if actual else None
    return {"time_to_target_s": point, "low_s": low, "high_s": high, "basis": str(estimate.get("basis") or "?"),
            "error": error, "error_text": signed_percent(error) if error is not None else None,
            "within_range": (low <= actual <= high) if None not in (low, high, actual) else None}


def not_counted_reason(run: dict) -> str | None:
    """Why a run is kept out of the ranking, or None when it counts."""
    if run["status"] != "finished":
        return run["status"]
    if run["synthetic_data"]:
        return "synthetic data (throughput only)"
    return None
