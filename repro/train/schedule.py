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


# -- progressive resizing: size, batch and LR per epoch, as pure functions of progress ----------------
# Size knots are (fraction of training, size) pairs, so `--epochs N` stretches or shrinks the whole
# schedule with the run. A repeated fraction makes a step (fast.ai's staged 128 → 224 → 288); distinct
# fractions make a linear ramp (FFCV's 160 → 192), rounded to `multiple` either way.

def epoch_progress(epoch: int, epochs: int) -> float:
    """Fraction of training done when 1-based `epoch` starts: epoch 1 → 0.0, epoch `epochs` → (E-1)/E."""
    if epochs < 1 or not 1 <= epoch <= epochs:
        raise ValueError(f"epoch must be in 1..{epochs}, got {epoch}")
    return (epoch - 1) / epochs


def size_for_epoch(knots: tuple[tuple[float, int], ...], epoch: int, epochs: int,
                   multiple: int = 32) -> int | None:
    """Training image size of 1-based `epoch` of `epochs`; None when the recipe has no size knots."""
    for x, _ in knots:
        if not 0.0 <= float(x) <= 1.0:
            raise ValueError(f"size knots are (fraction of training, size) pairs with fractions in [0, 1]; "
                             f"got {tuple(knots)}; e.g. ((0, 128), (0.45, 128), (0.45, 224), (1, 224))")
    return size_at(knots, epoch_progress(epoch, epochs), multiple)


def staged_knots(stages: tuple[tuple[float, int], ...]) -> tuple[tuple[float, int], ...]:
    """Steps from (start fraction, size) stages: ((0, 128), (0.45, 224), (0.88, 288)) → knots that hold
    each size flat until the next stage starts."""
    if not stages or float(stages[0][0]) != 0.0:
        raise ValueError(f"stages must start at fraction 0, got {stages}")
    knots: list[tuple[float, int]] = []
    for i, (start, size) in enumerate(stages):
        end = float(stages[i + 1][0]) if i + 1 < len(stages) else 1.0
        knots += [(float(start), int(size)), (end, int(size))]
    return tuple(knots)


def batch_for_size(base_batch: int, base_size: int, size: int | None, max_scale: float = 2.0,
                   multiple: int = 8) -> int:
    """Batch size at `size` holding pixels per batch (so activation memory) about constant:
    base_batch × (base_size / size)², capped at `max_scale` × base_batch, rounded down to `multiple`
    (batches smaller than `multiple` are left unrounded). `base_size` 0 or no size → the base batch."""
    if not size or not base_size:
        return base_batch
    scaled = int(base_batch * min(max_scale, (base_size / size) ** 2))
    rounded = scaled // multiple * multiple
    return rounded if rounded >= multiple else max(1, scaled)


def scaled_lr(lr: float, batch: int, base_batch: int, enabled: bool) -> float:
    """Linear scaling rule (Goyal et al. 2017): the LR follows the batch size when a stage changes it."""
    return lr * batch / base_batch if enabled else lr
