"""Run directories as the harness writes them, made by hand for the estimate tests."""
from __future__ import annotations

from pathlib import Path

from repro.harness import store
from repro.recipes import Recipe
from tests.helpers_records import golden_record


def write_run(results: Path, recipe: Recipe, name: str, *, time_s, epochs, status: str = "finished",
              reached: bool = True, synthetic_data: bool = False, hardware: dict | None = None,
              run_s: float | None = None, session_s: float | None = None) -> Path:
    run_dir = Path(results) / recipe.name / name
    run_dir.mkdir(parents=True)
    record = golden_record()        # a real record (records are checked against their schema on reading)
    record.update({
        "run_id": name, "recipe": recipe.name, "recipe_hash": recipe.hash(), "status": status,
        "synthetic_data": synthetic_data,
        "hardware": {**record["hardware"], **(hardware or {"accelerator": "cpu", "gpu_count": 0, "vcpus": 2})},
        "outcome": {**record["outcome"], "reached": reached, "time_to_target_s": time_s, "epochs_to_target": epochs,
                    "run_s": run_s if run_s is not None else (time_s or 1.0) * 2,
                    "session_s": session_s if session_s is not None else (time_s or 1.0) * 2 + 1}})
    store.atomic_write_json(run_dir / store.RUN_FILE, record)
    return run_dir
