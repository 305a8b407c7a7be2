"""`repro runs`: one row per run directory on disk, read-only, whatever state the records are in.

Records are read through repro.harness.store (no symbolic link followed, every run.json checked
against its schema); one that cannot be read is a message, never a row, and never stops the table."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from repro.harness import hardware, store
from repro.report.summary import state


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_row(record: store.RunRecord) -> dict[str, Any]:
    d = record.data
    outcome = d.get("outcome") if isinstance(d.get("outcome"), dict) else {}
    target = d.get("target") if isinstance(d.get("target"), dict) else {}
    final = outcome.get("final") if isinstance(outcome.get("final"), dict) else {}
    stale, status_text = state(d)
    return {
        "run_id": str(d.get("run_id") or record.path.name),
        "recipe": str(d.get("recipe") or record.path.parent.name),
        "status": str(d.get("status") or "unknown"),
        "stale": stale,
        "status_text": status_text,
        "seed": d.get("seed") if isinstance(d.get("seed"), int) else None,
        "target": _number(target.get("value")),
        "reached": bool(outcome.get("reached")),
        "time_to_target_s": _number(outcome.get("time_to_target_s")),
        "final_top1": _number(final.get("top1")),
        "hardware": hardware.label(d.get("hardware")),
        "started_at": d.get("started_at") if isinstance(d.get("started_at"), str) else None,
        "path": str(record.path),
    }


def run_rows(results_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows oldest first, one message per run directory that could not be read)."""
    errors: list[str] = []
    rows = [run_row(rec) for rec in store.list_runs(results_dir, errors=errors)]
    return rows, errors
