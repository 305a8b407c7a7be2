"""What the results store already knows about a recipe: its finished runs that reached the target,
grouped by the hardware they ran on, and the epochs they reached it at.

Only runs of exactly this resolved recipe count (same recipe hash: same model, schedule, epochs,
target); synthetic-data runs never count (they make no accuracy claim).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from repro.harness import hardware as hardware_labels
from repro.harness import store
from repro.harness.gpu_names import normalize_gpu_name
from repro.recipes import Recipe


@dataclass(frozen=True)
class Hardware:
    """What an offer must hold: N GPUs of a model, or (no GPU) a number of vCPUs."""
    gpu_model: str | None
    gpu_count: int
    vcpus: int | None = None

    @property
    def is_gpu(self) -> bool:
        return self.gpu_count > 0

    def label(self) -> str:
        return hardware_labels.label({"accelerator": "cuda" if self.is_gpu else "cpu",
                                      "gpu_model": self.gpu_model, "gpu_count": self.gpu_count,
                                      "vcpus": self.vcpus})

    def for_pricing(self) -> dict:
        if self.is_gpu:
            return {"gpu_model": self.gpu_model, "gpu_count": self.gpu_count}
        return {"vcpus": self.vcpus}


def hardware_of(record_hardware: dict | None) -> Hardware | None:
    """The Hardware a run.json's `hardware` describes; None when it says too little to price."""
    hw = record_hardware if isinstance(record_hardware, dict) else {}
    count = hw.get("gpu_count")
    if hw.get("accelerator") == "cuda" and isinstance(count, int) and count > 0:
        model = normalize_gpu_name(hw.get("gpu_name")) or normalize_gpu_name(hw.get("gpu_model"))
        return Hardware(model, count) if model else None
    vcpus = hw.get("vcpus")
    return Hardware(None, 0, vcpus) if isinstance(vcpus, int) and vcpus > 0 else None


def _finite(value) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    return float(value) if ok else None


@dataclass
class MeasuredRuns:
    """The counted runs of one hardware."""
    hardware: Hardware
    times_s: list[float] = field(default_factory=list)       # time to target (MLPerf rule)
    run_s: list[float] = field(default_factory=list)         # the whole run
    session_s: list[float] = field(default_factory=list)     # what a cloud bills
    run_dirs: list[str] = field(default_factory=list)


@dataclass
class StoreView:
    by_hardware: dict[Hardware, MeasuredRuns]
    epochs_to_target: list[int]
    errors: list[str]
    results_dir: Path


def _counted(data: dict, recipe_hash: str) -> bool:
    outcome = data.get("outcome") if isinstance(data.get("outcome"), dict) else {}
    return (data.get("recipe_hash") == recipe_hash and data.get("status") == "finished"
            and outcome.get("reached") is True and not data.get("synthetic_data")
            and _finite(outcome.get("time_to_target_s")) is not None)


def read_store(recipe: Recipe, results_dir: Path | None) -> StoreView:
    """Counted runs of `recipe` under `results_dir` (results/<recipe>/<run>/run.json)."""
    view = StoreView({}, [], [], Path(results_dir) if results_dir else Path("results"))
    if results_dir is None or not Path(results_dir).is_dir():
        return view
    recipe_hash = recipe.hash()
    for run in store.list_runs(Path(results_dir), errors=view.errors):
        data = run.data
        if not isinstance(data, dict) or not _counted(data, recipe_hash):
            continue
        outcome = data["outcome"]
        epochs = outcome.get("epochs_to_target")
        if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:
            view.epochs_to_target.append(epochs)
        hw = hardware_of(data.get("hardware"))
        if hw is None:
            continue
        runs = view.by_hardware.setdefault(hw, MeasuredRuns(hw))
        runs.times_s.append(float(outcome["time_to_target_s"]))
        for name, value in (("run_s", outcome.get("run_s")), ("session_s", outcome.get("session_s"))):
            if _finite(value) is not None:
                getattr(runs, name).append(float(value))
        runs.run_dirs.append(str(run.path))
    return view
