"""LR range test (Smith 2015; fast.ai's `lr_find`): train a fresh model for a few hundred steps while the
learning rate grows exponentially from `start_lr` to `end_lr`, record the loss, smooth it, stop once it
diverges, and suggest a peak LR.

Smoothing is an exponential moving average with bias correction (beta 0.98 as fast.ai for sweeps of 1,000+
steps, less for shorter ones: `default_beta`); divergence is a
smoothed loss above `divergence_factor` × the best one seen, or a non-finite loss. The suggestion is the LR
where the smoothed loss falls fastest per decade of LR (steepest negative slope), looked for before the
minimum; `lr_at_min / 10` is reported beside it, the other rule of thumb of the 2018 course.

    from repro.train.lr_find import find_lr
    result = find_lr(get_recipe("cifar-airbench"), device="cpu", synthetic=True, steps=100)
    print(result.suggested_lr)
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn


@dataclass
class LRFindResult:
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    stopped: str = "completed"           # completed | diverged | out of data
    suggested_lr: float | None = None     # steepest descent of the smoothed loss
    lr_at_min: float | None = None        # LR at the lowest smoothed loss
    min_loss: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self, rows: int = 20) -> list[dict]:
        """About `rows` evenly spaced steps (always including the last), for printing."""
        n = len(self.lrs)
        if n == 0:
            return []
        picks = sorted(set(np.linspace(0, n - 1, min(rows, n)).round().astype(int).tolist()))
        return [{"step": i + 1, "lr": self.lrs[i], "loss": self.losses[i], "smoothed": self.smoothed[i]}
                for i in picks]


def default_beta(steps: int) -> float:
    """fast.ai's 0.98 for long sweeps; shorter sweeps smooth less, keeping the moving average's time
    constant (1 / (1 - beta) steps) at most 5 % of the sweep, so its lag does not shift the curve."""
    return min(0.98, max(0.0, 1.0 - 20.0 / steps))


def lr_at(step: int, steps: int, start_lr: float, end_lr: float) -> float:
    """Exponential sweep: start_lr at step 0, end_lr at step steps-1."""
    if steps < 2:
        raise ValueError(f"an LR range test needs at least 2 steps, got {steps}")
    return start_lr * (end_lr / start_lr) ** (step / (steps - 1))


def suggest(lrs: list[float], smoothed: list[float], skip_start: int = 5) -> tuple[float | None, float | None]:
    """(steepest-descent LR, LR at the minimum) from a recorded sweep. The slope is a central difference
    over ±5 % of the sweep (per decade of LR), which a noisy single step cannot dominate; the first
    `skip_start` steps are ignored while the moving average settles. With fewer than 3 points before the
    minimum, the suggestion falls back to lr_at_min / 10."""
    if not lrs:
        return None, None
    i_min = int(np.argmin(smoothed))
    lr_min = lrs[i_min]
    lo, hi = min(skip_start, i_min), i_min + 1
    if hi - lo < 3:
        return lr_min / 10, lr_min
    loss = np.asarray(smoothed[lo:hi])
    log_lr = np.log10(np.asarray(lrs[lo:hi]))
    k = max(1, len(lrs) // 20)
    idx = np.arange(len(loss))
    left, right = np.clip(idx - k, 0, len(loss) - 1), np.clip(idx + k, 0, len(loss) - 1)
    slopes = (loss[right] - loss[left]) / (log_lr[right] - log_lr[left])
    return float(lrs[lo + int(np.argmin(slopes))]), lr_min


def lr_range_test(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
                  optimizer: torch.optim.Optimizer, *, criterion: Callable | None = None, steps: int = 200,
                  start_lr: float = 1e-6, end_lr: float = 10.0, beta: float | None = None,
                  divergence_factor: float = 4.0, autocast: Callable | None = None,
                  scaler: torch.amp.GradScaler | None = None) -> LRFindResult:
    """The sweep itself, on any model, batch iterator and optimizer (its LR is overwritten each step)."""
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    criterion = criterion or nn.CrossEntropyLoss()
    beta = default_beta(steps) if beta is None else beta
    autocast = autocast or contextlib.nullcontext
    result = LRFindResult()
    avg, best = 0.0, math.inf
    iterator: Iterator = iter(batches)
    model.train()
    for step in range(steps):
        try:
            x, y = next(iterator)
        except StopIteration:
            result.stopped = "out of data"
            break
        lr = lr_at(step, steps, start_lr, end_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with autocast():
            loss = criterion(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            result.stopped = "diverged"
            break
        avg = beta * avg + (1 - beta) * value
        smooth = avg / (1 - beta ** (step + 1))
        result.lrs.append(lr)
        result.losses.append(value)
        result.smoothed.append(smooth)
        best = min(best, smooth)
        if step > 0 and smooth > divergence_factor * best:
            result.stopped = "diverged"
            break
    result.suggested_lr, result.lr_at_min = suggest(result.lrs, result.smoothed)
    result.min_loss = min(result.smoothed) if result.smoothed else None
    return result


def find_lr(recipe, *, device: str = "cpu", data_dir: Path | None = None, synthetic: bool = False,
            steps: int = 200, start_lr: float = 1e-6, end_lr: float = 10.0, seed: int = 0,
            divergence_factor: float = 4.0) -> LRFindResult:
    """Run the range test for a recipe: its model, data (augmented as in training), optimizer, momentum,
    weight decay, precision and batch size; a fresh model, nothing written to disk."""
    from repro.train.data import registry
    from repro.train.models import build_model
    from repro.train.optim import autocast_context, build_optimizer, seed_everything

    dev = torch.device(device)
    seed_everything(seed)
    model = build_model(recipe.model).to(dev)
    if recipe.channels_last:
        model = model.to(memory_format=torch.channels_last)
    data = registry.make(recipe, device=dev, data_dir=data_dir, synthetic=synthetic, seed=seed)
    optimizer = build_optimizer(model, recipe)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.optim.label_smoothing)
    scaler = (torch.amp.GradScaler(dev.type) if recipe.precision == "fp16" and dev.type == "cuda" else None)
    image_size = recipe.data.image_size or None
    generator = torch.Generator().manual_seed(seed)

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch = 1
        while True:
            produced = False
            for x, y in data.train_batches(epoch, recipe.data.batch_size, generator, image_size):
                produced = True
                if recipe.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                yield x, y
            if not produced:
                return
            epoch += 1

    return lr_range_test(model, batches(), optimizer, criterion=criterion, steps=steps, start_lr=start_lr,
                         end_lr=end_lr, divergence_factor=divergence_factor,
                         autocast=lambda: autocast_context(dev, recipe.precision), scaler=scaler)
