"""What the sections share: a training run through repro's own loop, and steady-state figures."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from repro.harness import store
from repro.recipes import resolve
from repro.train.loop import TrainOptions, run_recipe


class OutOfBudget(Exception):
    """The section's remaining work would not fit in the command's time budget."""


@dataclass
class Budget:
    """Seconds left for the whole command; sections ask before each measurement."""
    total_s: float
    started_s: float = field(default_factory=time.perf_counter)

    def left_s(self) -> float:
        return self.total_s - (time.perf_counter() - self.started_s)

    def need(self, seconds: float, what: str) -> None:
        if self.left_s() < seconds:
            raise OutOfBudget(f"{what} needs about {seconds:.0f} s and {max(self.left_s(), 0):.0f} s of the "
                              f"{self.total_s:.0f}-s budget are left")


def sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def train_record(recipe_name: str, overrides: list[str], *, device: str, work_dir: Path, seed: int = 0,
                 synthetic: bool = True, data_dir: Path | None = None, on_batch=None) -> dict:
    """One run of a named recipe through repro's loop (repro.train.loop.run_recipe), in a run
    directory under work_dir; returns its run.json record. Raises when the run did not finish."""
    recipe = resolve(recipe_name, overrides=overrides)
    run_dir = store.create_run_dir(work_dir / "runs", recipe.name)
    session = run_recipe(recipe, TrainOptions(run_dir=run_dir, seed=seed, device=device, synthetic=synthetic,
                                              data_dir=data_dir, on_batch=on_batch))
    return session.record


def epochs_of(record: dict) -> list[dict]:
    return record["outcome"]["epochs"]


def steady(values: list[float]) -> float:
    """Median over the steady epochs: the first warms up (cuDNN autotuning, compilation, caches)
    and is left out when there are three or more; with fewer, the last one."""
    if len(values) >= 3:
        return statistics.median(values[1:])
    return values[-1]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
