"""Optional training behaviours a recipe switches on by its settings, each a small piece the loop calls.

- `training_epochs` / `steps_in_epoch`: a fractional last epoch (`final_epoch_fraction`; airbench94's
  9.9 epochs stop the 10th epoch at 0.9 of its batches).
- `Lookahead`: weight averaging every few steps (`optim.lookahead_every`), airbench94's LookaheadState.
- `frozen_parameters`: parameters trained for the first N epochs only (`model.frozen_after`), such as
  airbench94's whitening bias after 3 epochs.
- `init_from_data`: a model's data-dependent start (`model.whiten_images`).

Nothing here knows a recipe by name: each behaviour is off at the settings' defaults.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from repro.recipes import Recipe
from repro.train.data import DataSource, registry


def training_epochs(recipe: Recipe) -> float:
    """Length of training in epochs: the last epoch counts for `final_epoch_fraction` of one."""
    return recipe.epochs - 1 + recipe.final_epoch_fraction


def progress_at(recipe: Recipe, epoch: int, batch: int, steps: int) -> float:
    """Fraction of training done before batch `batch` (0-based) of 1-based `epoch` of `steps` batches."""
    return (epoch - 1 + batch / steps) / training_epochs(recipe)


def steps_in_epoch(recipe: Recipe, epoch: int, steps: int) -> int:
    """Batches 1-based `epoch` trains: all `steps`, except in a cut last epoch, where training stops at
    the first batch whose progress would reach 1 (9.9 epochs of 48 batches: 44 in the 10th, 476 in all)."""
    if epoch < recipe.epochs or recipe.final_epoch_fraction >= 1.0:
        return steps
    done = 0
    while done < steps and progress_at(recipe, epoch, done, steps) < 1.0:
        done += 1
    return max(1, done)


def total_steps(recipe: Recipe, steps_for_epoch: Callable[[int], int]) -> int:
    """Optimiser steps over the whole run; `steps_for_epoch(epoch)` is the epoch's full batch count."""
    return sum(steps_in_epoch(recipe, e, steps_for_epoch(e)) for e in range(1, recipe.epochs + 1))


class Lookahead:
    """airbench94's LookaheadState (airbench94.py lines 263-271): an average of the network's floating-point
    state (weights and BN statistics). Every `every` steps the average moves towards the network,
    average ← decay·average + (1 − decay)·network with decay = base**every · (step / total)**power, and
    the network is set to the average; after the last step, the network takes the average as it is."""

    def __init__(self, model: nn.Module, *, every: int, base: float, power: float, total: int) -> None:
        self.every, self.base, self.power, self.total = every, base, power, max(1, total)
        # airbench's alpha_schedule, in float32 as it builds it, read to the host once here and not
        # per training step (a read in the step drains a GPU's queue; repro.bench.syncs counts them)
        self.schedule = (base ** every * (torch.arange(self.total + 1) / self.total) ** power).tolist()
        self.average = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    def decay(self, step: int) -> float:
        return self.schedule[min(step, self.total)]

    def after_step(self, model: nn.Module, step: int) -> None:
        """`step`: optimiser steps done so far (1 after the first)."""
        if step % self.every == 0:
            self._blend(model, self.decay(step))

    def finish(self, model: nn.Module) -> None:
        self._blend(model, 1.0)

    @torch.no_grad()
    def _blend(self, model: nn.Module, decay: float) -> None:
        for key, value in model.state_dict().items():
            if key in self.average:
                self.average[key].lerp_(value, 1 - decay)
                value.copy_(self.average[key])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.clone() for k, v in self.average.items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for key, value in state.items():
            self.average[key].copy_(value)


def make_lookahead(model: nn.Module, recipe: Recipe, total: int) -> Lookahead | None:
    o = recipe.optim
    if not o.lookahead_every:
        return None
    return Lookahead(model, every=o.lookahead_every, base=o.lookahead_base, power=o.lookahead_power, total=total)


def frozen_parameters(model: nn.Module, recipe: Recipe, epoch: int) -> list[nn.Parameter]:
    """The parameters `model.frozen_after` freezes in 1-based `epoch` (trained in epochs 1..N)."""
    params = dict(model.named_parameters())
    frozen = []
    for name, epochs in recipe.model.frozen_after:
        if name not in params:
            raise ValueError(f"model.frozen_after names {name!r}, which {recipe.model.name} does not have; "
                             f"its parameters: {', '.join(params)}")
        if epoch > epochs:
            frozen.append(params[name])
    return frozen


def drop_gradients(params: list[nn.Parameter]) -> None:
    """Before the optimiser step: a parameter without a gradient is skipped, weight decay and momentum
    included, as airbench's requires_grad=False does; the gradient is still computed and all-reduced,
    so every rank keeps the same set of parameters in DDP."""
    for p in params:
        p.grad = None


def init_from_data(model: nn.Module, recipe: Recipe, data: DataSource) -> None:
    """Set a data-dependent stem from the first `model.whiten_images` training images, once per run (a
    resumed run's checkpoint says it is done)."""
    count = recipe.model.whiten_images
    if count and not bool(model.whitened):
        model.init_whitening(registry.init_images(recipe, data, count))
