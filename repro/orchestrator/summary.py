"""The summarise step: a group's runs scored together (harness.stats) in its group file,
results/<recipe>/group-<id>.json, written atomically and redacted like every file of a run.

`status` says whether the group is whole: "complete" when every planned run ended (finished,
diverged or failed), "interrupted" when a signal stopped it (`interrupted_by` names it), and
"incomplete" when it was not stopped by a signal but some planned run did not end, or a run
interrupted earlier has been resumed and others never ran."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import signal

from repro.harness import provenance, stats, store
from repro.recipes import Recipe


def _time_to_target(record: dict) -> float | None:
    outcome = record.get("outcome") or {}
    if record.get("status") == "finished" and outcome.get("reached"):
        return outcome.get("time_to_target_s")
    return None


def _entry(record: dict) -> dict[str, Any]:
    return {"run_id": record.get("run_id"), "seed": record.get("seed"), "status": record.get("status"),
            "time_to_target_s": _time_to_target(record)}


def group_path(results_dir: Path, recipe_name: str, group_id: str) -> Path:
    return Path(results_dir) / recipe_name / f"{store.GROUP_PREFIX}{group_id}.json"


ENDED = ("finished", "diverged", "failed")


def _status(entries: list[dict], planned: int, interrupted_by: str | None) -> str:
    if interrupted_by is not None:
        return "interrupted"
    ended = sum(1 for e in entries if e.get("status") in ENDED)
    return "complete" if ended >= planned else "incomplete"


def _document(group_id: str, recipe: Recipe, entries: list[dict], planned: int,
              interrupted_by: str | None) -> dict[str, Any]:
    return {
        "schema_version": store.SCHEMA_VERSION,
        "group_id": group_id,
        "recipe": recipe.name,
        "task": recipe.task,
        "target": {"metric": recipe.target_metric, "value": recipe.target},
        "status": _status(entries, planned, interrupted_by),
        "interrupted_by": interrupted_by,
        "planned_runs": planned,
        "runs": entries,
        "time_to_target": stats.summarize([e["time_to_target_s"] for e in entries]).to_dict(),
    }


def _write(path: Path, doc: dict) -> dict:
    doc = provenance.Redactor()(doc)
    store.atomic_write_json(path, doc)
    return doc


def write_group(results_dir: Path, recipe: Recipe, group_id: str, records: list[dict], *,
                planned: int | None = None, interrupted_by: int | None = None) -> tuple[dict, Path | None]:
    """The group file of a command's runs (`planned` of them asked for; `interrupted_by` the signal
    that stopped the group); none when no run got a directory."""
    by = signal.Signals(interrupted_by).name if interrupted_by else None
    doc = _document(group_id, recipe, [_entry(r) for r in records],
                    len(records) if planned is None else planned, by)
    if not records:
        return doc, None
    path = group_path(results_dir, recipe.name, group_id)
    return _write(path, doc), path


def update_group(results_dir: Path, recipe: Recipe, record: dict) -> tuple[dict | None, Path | None]:
    """After a resume: the run's entry in its group file replaced by how it ends now, the scores
    recomputed. A run whose group file is gone gets none (nothing is invented)."""
    group_id = record.get("group_id")
    if not group_id:
        return None, None
    path = group_path(results_dir, recipe.name, group_id)
    try:
        old = store.read_json(path)
    except store.StoreError:
        return None, None
    entries = [_entry(record) if e.get("run_id") == record.get("run_id") else e for e in old.get("runs", [])]
    if not any(e.get("run_id") == record.get("run_id") for e in entries):
        entries.append(_entry(record))
    planned = old.get("planned_runs") if isinstance(old.get("planned_runs"), int) else len(entries)
    by = signal.Signals.SIGTERM.name if record.get("status") == "interrupted" else None
    if by is not None and isinstance(record.get("error"), str) and "SIGINT" in record["error"]:
        by = signal.Signals.SIGINT.name
    doc = _document(group_id, recipe, entries, planned, by)
    return _write(path, doc), path
