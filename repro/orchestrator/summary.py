"""The summarise step: a group's runs scored together (harness.stats) in its group file,
results/<recipe>/group-<id>.json, written atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from repro.harness import stats, store
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


def _document(group_id: str, recipe: Recipe, entries: list[dict]) -> dict[str, Any]:
    return {
        "schema_version": store.SCHEMA_VERSION,
        "group_id": group_id,
        "recipe": recipe.name,
        "task": recipe.task,
        "target": {"metric": recipe.target_metric, "value": recipe.target},
        "runs": entries,
        "time_to_target": stats.summarize([e["time_to_target_s"] for e in entries]).to_dict(),
    }


def write_group(results_dir: Path, recipe: Recipe, group_id: str, records: list[dict]) -> tuple[dict, Path | None]:
    """The group file of a command's runs; none when no run got a directory."""
    doc = _document(group_id, recipe, [_entry(r) for r in records])
    if not records:
        return doc, None
    path = group_path(results_dir, recipe.name, group_id)
    store.atomic_write_json(path, doc)
    return doc, path


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
    doc = _document(group_id, recipe, entries)
    store.atomic_write_json(path, doc)
    return doc, path
