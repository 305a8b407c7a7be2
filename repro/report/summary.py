"""One run directory → the plain dict the report shows (and writes into index.json): read-only.

Reads only what is on disk: run.json, and cost.json when pricing wrote one. USD stays a Decimal
string; a run with no cost.json is "not priced", never $0.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

from repro.harness import hardware, rundirs
from repro.harness.store import COST_FILE, RunRecord, StoreError, UnreadableRecord, read_json
from repro.pricing.catalog import MARKETS
from repro.report.comparable import settings_changes

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


def _cost_problem(exc: StoreError, results_dir: str | None) -> str:
    if isinstance(exc, UnreadableRecord) and results_dir is not None:
        return f"{os.path.relpath(exc.path, results_dir)}: unreadable: {exc.detail} (run shown as not priced)"
    return f"{exc} (run shown as not priced)"


def _read_cost(record: RunRecord, errors: list[str], has_cost: bool | None, results_dir: str | None) -> dict | None:
    cost_path = f"{record.path}/{COST_FILE}"
    if has_cost is None:
        has_cost = os.path.lexists(cost_path)
    if not has_cost:
        return None
    try:
        return read_json(cost_path)
    except StoreError as exc:
        errors.append(_cost_problem(exc, results_dir))
        return None


def state(data: dict) -> tuple[bool, str]:
    """(stale?, the status as a person should read it): a running run whose process is gone is
    "stale (process gone)"; one on another host says so; others are their status."""
    status = str(data.get("status") or "unknown")
    if status != "running":
        return False, status
    alive = rundirs.liveness(data)
    if alive == rundirs.STALE:
        return True, rundirs.STALE
    if alive is None:
        host = (data.get("process") or {}).get("hostname") if isinstance(data.get("process"), dict) else None
        return False, f"running on {host} (not checked from here)" if host else "running (not checked)"
    return False, "running"


def summarize_run(record: RunRecord, errors: list[str], page: str | None = None,
                  has_cost: bool | None = None, results_dir: str | None = None) -> dict:
    """The report's view of one run (its run.json already checked against the schema). A damaged
    cost.json is reported in `errors` and the run is shown as not priced rather than dropped.
    `page` is where its page goes (page_for's answer, when the caller has it); `has_cost`, whether
    a regular cost.json exists, when the caller has looked; `results_dir`, for the paths in errors."""
    data = record.data
    outcome = data.get("outcome") or {}
    target = data.get("target") or {}
    metric = target.get("metric") or "top1"
    final = outcome.get("final") or {}
    provenance = data.get("provenance") or {}
    if page is None:
        page = page_for(record.path)
    cost = _read_cost(record, errors, has_cost, results_dir)
    reached = bool(outcome.get("reached"))
    stale, status_text = state(data)
    return {
        "run_id": str(data.get("run_id") or record.path.name),
        "recipe": str(data.get("recipe") or record.path.parent.name),
        "task": str(data.get("task") or data.get("recipe") or "unknown"),
        "group_id": data.get("group_id"),
        "seed": data.get("seed"),
        "status": str(data.get("status") or "unknown"),
        "stale": stale,                  # running, but its process is gone
        "status_text": status_text,      # the status as shown: "stale (process gone)", …
        "error": data.get("error"),
        "segments": len(data.get("segments") or []),
        "lost_s": outcome.get("lost_s"),
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
        # a hand-made example (tests/golden): shown as such, never as a measurement
        "fixture": bool(data.get("fixture")),
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
        **board_fields(data),
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


# ---- Leaderboard fields: what repro.report.comparable judges and the board's columns show ----

def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def board_fields(data: dict) -> dict:
    """Model, framework, dataset and how the settings differ from the shipped recipe of the
    run's name (comparable.settings_changes), read defensively from run.json."""
    config = _dict(data.get("config"))
    provenance = _dict(data.get("provenance"))
    dataset = _dict(provenance.get("dataset"))
    model = _dict(config.get("model")).get("name")
    torch = provenance.get("torch")
    return {
        "model": model if isinstance(model, str) else None,
        "framework": f"torch {torch}" if isinstance(torch, str) and torch else None,
        "recipe_hash": data.get("recipe_hash") if isinstance(data.get("recipe_hash"), str) else None,
        "settings": settings_changes(data.get("recipe"), config, data.get("recipe_hash")),
        "dataset_name": dataset.get("name") if isinstance(dataset.get("name"), str) else None,
    }
