"""Schedules as pure functions of progress: the caller passes the step, nothing is hidden.

One-cycle (Smith, "Super-Convergence", 2017; fast.ai's DAWNBench 2018 entries): the learning rate
rises linearly from peak/div to peak over the first `pct_start` of training, anneals to peak/div, then
a final low phase decays to peak/final_div; momentum moves inversely (high → low → high).
Everything is piecewise linear over knots (np.interp), so it plots and tests as a table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneCycle:
    peak_lr: float
    pct_start: float = 0.25        # fraction of training spent warming up to the peak
    div: float = 10.0              # start (and end-of-anneal) LR = peak / div
    final_div: float = 100.0       # LR at the very end = peak / final_div
    final_phase: float = 0.1       # fraction of training in the final low phase
    momentum_max: float = 0.95
    momentum_min: float = 0.85

    def __post_init__(self) -> None:
        if not 0 <= self.pct_start < 1:
            raise ValueError(f"pct_start must be in [0, 1), got {self.pct_start}")
        if not 0 <= self.final_phase < 1 - self.pct_start:
            raise ValueError(f"final_phase must be in [0, 1 - pct_start), got {self.final_phase}")
        if self.peak_lr <= 0 or self.div <= 0 or self.final_div <= 0:
            raise ValueError("peak_lr, div and final_div must be positive")

    def _knots(self) -> tuple[list[float], list[float], list[float]]:
        x = [0.0, self.pct_start, 1.0 - self.final_phase, 1.0]
        lr = [self.peak_lr / self.div, self.peak_lr, self.peak_lr / self.div,
              self.peak_lr / self.final_div]
        mom = [self.momentum_max, self.momentum_min, self.momentum_max, self.momentum_max]
        return x, lr, mom

    def lr(self, progress: float | np.ndarray) -> float | np.ndarray:
        x, lr, _ = self._knots()
        return _interp(progress, x, lr)

    def momentum(self, progress: float | np.ndarray) -> float | np.ndarray:
        x, _, mom = self._knots()
        return _interp(progress, x, mom)


@dataclass(frozen=True)
class Piecewise:
    """Any piecewise-linear schedule over (progress, value) knots, e.g. warmup + linear decay."""
    knots_x: tuple[float, ...]
    knots_y: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.knots_x) != len(self.knots_y) or len(self.knots_x) < 2:
            raise ValueError("Piecewise needs ≥ 2 knots with as many x as y")
        if list(self.knots_x) != sorted(self.knots_x):
            raise ValueError(f"knots_x must be increasing, got {self.knots_x}")

    def __call__(self, progress: float | np.ndarray) -> float | np.ndarray:
        return _interp(progress, list(self.knots_x), list(self.knots_y))


def _interp(progress, x, y):
    out = np.interp(np.clip(progress, 0.0, 1.0), x, y)
    return float(out) if np.ndim(out) == 0 else out


def progress_of(step: int, total_steps: int) -> float:
    """Fraction of training done before `step` (0-based), in [0, 1]."""
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    return min(max(step / total_steps, 0.0), 1.0)


def size_at(knots: tuple[tuple[float, int], ...], epoch: float, multiple: int = 32) -> int | None:
    """Progressive resizing: the image size for `epoch` (0-based, fractional allowed), linear between
    (epoch, size) knots and rounded to a multiple of `multiple`. None when the recipe has no knots."""
    if not knots:
        return None
    xs = [float(k[0]) for k in knots]
    ys = [float(k[1]) for k in knots]
    size = float(np.interp(epoch, xs, ys))
    return max(multiple, int(round(size / multiple)) * multiple)


def build_lr_schedule(spec, peak_lr: float):
    """The recipe's schedule section → an object with .lr(progress) and .momentum(progress)."""
    if spec.kind == "one_cycle":
        return OneCycle(peak_lr=peak_lr, pct_start=spec.pct_start, div=spec.div, final_div=spec.final_div,
                        final_phase=spec.final_phase, momentum_max=spec.momentum_max,
                        momentum_min=spec.momentum_min)
    if spec.kind == "piecewise":
        return _ScaledPiecewise(Piecewise(tuple(spec.knots_x), tuple(peak_lr * y for y in spec.knots_y)),
                                spec.momentum_max)
    raise ValueError(f"unknown schedule kind {spec.kind!r}; use one_cycle or piecewise")


@dataclass(frozen=True)
class _ScaledPiecewise:
    lr_curve: Piecewise
    constant_momentum: float

    def lr(self, progress):
        return self.lr_curve(progress)

    def momentum(self, progress):
        return self.constant_momentum if np.ndim(progress) == 0 else np.full(np.shape(progress), self.constant_momentum)
