"""`--calibrate`: time the recipe's real model, optimiser, precision and batch shapes on this
machine's device for a few seconds, then project a whole run from it.

The steps are the trainer's own pieces (model, optimiser, schedule, autocast, GradScaler, the
dataset's batches and `evaluate`), on synthetic data of the real shape where the dataset has a
synthetic source, on its embedded data otherwise (digits, whose contents do not change a step's
time). Warm-up steps are run and not timed; the timed steps come in blocks, a block's mean step
time is one sample, and the point is the fastest quartile's edge of the samples (POINT_QUANTILE):
a block slowed by another process on a shared machine shows as spread, not in the point. The
evaluation is timed warm, the fastest of up to EVAL_REPEATS passes.

A run's time to target is then: data set-up + Σ over the epochs to target of (steps × step time +
evaluation time), each epoch at its own image size and batch (progressive resizing).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field, replace

from repro.estimate.tables import DATASETS
from repro.recipes import Recipe

DEFAULT_BUDGET_S = 3.0       # timed seconds, shared by the batch shapes, after warm-up
WARMUP_STEPS = 5
MIN_WARMUP_STEPS = 2         # the first step pays one-off costs (allocator, kernels, compilation)
MAX_BLOCK_STEPS = 20
TARGET_BLOCKS = 20
# The point is the fastest quartile's edge of the block times, not their median: another process can
# only ever slow a block down, and an estimate prices a run on an instance of its own.
POINT_QUANTILE = 0.25
EVAL_REPEATS = 3
MIN_BLOCKS = 3


@dataclass(frozen=True)
class ShapeTiming:
    image_size: int | None
    batch_size: int
    step_s: float          # the fastest quartile's edge over blocks (see POINT_QUANTILE)
    step_s_low: float
    step_s_high: float
    steps_timed: int


@dataclass
class Calibration:
    device: str
    hardware: dict
    data: str                                   # what the steps were fed
    startup_s: float                            # making the DataSource (timed once)
    shapes: dict[tuple, ShapeTiming] = field(default_factory=dict)   # (image_size, batch) → timing
    eval_s: dict = field(default_factory=dict)  # eval image size → seconds for the whole eval set
    measured_at: str = ""

    def epoch_seconds(self, recipe: Recipe, epoch: int) -> tuple[float, float, float]:
        """(point, low, high) seconds of one epoch: its steps and its evaluation."""
        from repro.train.loop import epoch_shape

        size, batch = epoch_shape(recipe, epoch)
        timing = self.shapes[(size, batch)]
        steps = DATASETS[recipe.data.name].steps_per_epoch(batch)
        evaluation = self.eval_s[recipe.data.eval_size or size]
        return (steps * timing.step_s + evaluation, steps * timing.step_s_low + evaluation,
                steps * timing.step_s_high + evaluation)

    def to_dict(self) -> dict:
        return {"device": self.device, "hardware": self.hardware, "data": self.data,
                "startup_s": self.startup_s, "measured_at": self.measured_at,
                "shapes": [vars(s) for s in self.shapes.values()],
                "eval_s": [{"image_size": k, "seconds": v} for k, v in self.eval_s.items()]}


def _source(recipe: Recipe, device, batches_needed: int):
    """(DataSource, what it holds): synthetic where the dataset has a synthetic source."""
    from repro.train.data import DataError, registry

    try:
        registry.check(recipe, data_dir=None, synthetic=True)
    except DataError:
        registry.check(recipe, data_dir=None, synthetic=False)   # raises when real data would be needed
        return registry.make(recipe, device=device, data_dir=None, synthetic=False, seed=0), \
            f"{recipe.data.name}'s embedded data (its contents do not change a step's time)"
    # enough for a few of the largest batches (progressive resizing doubles the batch at most); the
    # timing loops over epochs of them, so the whole set is never needed
    real = DATASETS[recipe.data.name].train_images
    images = min(real, max(recipe.data.batch_size * 2 * batches_needed, recipe.data.eval_batch_size))
    small = replace(recipe, data=replace(recipe.data, synthetic_images=images))
    return registry.make(small, device=device, data_dir=None, synthetic=True, seed=0), \
        f"synthetic {recipe.data.name} batches of the real shape"


class _Stepper:
    """The loop's optimiser step (repro.train.loop), repeated over one batch shape."""

    def __init__(self, recipe: Recipe, device) -> None:
        import torch
        from torch import nn

        from repro.train import schedule as sched
        from repro.train.models import build_model
        from repro.train.optim import build_optimizer, seed_everything

        seed_everything(0)
        self.recipe, self.device, self.torch = recipe, device, torch
        self.model = build_model(recipe.model).to(device)
        if recipe.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.opt = build_optimizer(self.model, recipe)
        self.step_model = torch.compile(self.model) if recipe.compile else self.model
        self.scaler = torch.amp.GradScaler(device.type, enabled=recipe.precision == "fp16" and device.type == "cuda")
        self.schedule = sched.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=recipe.optim.label_smoothing, reduction="sum")
        self.loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        self.sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step(self, x, y, progress: float, batch_size: int) -> None:
        from repro.train import schedule as sched
        from repro.train.optim import autocast_context, set_lr_momentum

        recipe, torch = self.recipe, self.torch
        lr = sched.scaled_lr(float(self.schedule.lr(progress)), batch_size, recipe.data.batch_size,
                             recipe.optim.lr_scale_with_batch)
        set_lr_momentum(self.opt, lr, float(self.schedule.momentum(progress)))
        if recipe.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast_context(self.device, recipe.precision):
            loss = self.criterion(self.step_model(x), y) / y.shape[0]
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        self.loss_sum += loss.detach().double() * y.shape[0]


def _quantile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation between order statistics (statistics' "inclusive")."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _batches(source, image_size, batch_size, generator):
    epoch = 1
    while True:
        yield from source.train_batches(epoch, batch_size, generator, image_size)
        epoch += 1


def _time_shape(stepper: _Stepper, source, image_size, batch_size: int, budget_s: float) -> ShapeTiming:
    """Warm-up steps, then blocks of steps until the budget is spent (at least MIN_BLOCKS). A block
    holds about 1/TARGET_BLOCKS of the budget, at least one step: a model that takes seconds a step
    on this device is timed step by step instead of over-running the budget many times."""
    import torch

    batches = _batches(source, image_size, batch_size, torch.Generator().manual_seed(0))
    warm_s = warm_total_s = 0.0
    for done in range(1, WARMUP_STEPS + 1):
        t0 = time.perf_counter()
        stepper.step(*next(batches), 0.5, batch_size)
        stepper.sync()
        warm_s = time.perf_counter() - t0   # the last warm-up step: the best guess of a step's time
        warm_total_s += warm_s
        if done >= MIN_WARMUP_STEPS and warm_total_s > budget_s:
            break                           # slow steps (a GPU recipe on a CPU): fewer warm-up steps
    block_steps = max(1, min(MAX_BLOCK_STEPS, int(budget_s / TARGET_BLOCKS / max(warm_s, 1e-6))))
    samples: list[float] = []
    spent = 0.0
    while len(samples) < MIN_BLOCKS or spent < budget_s:
        t0 = time.perf_counter()
        for _ in range(block_steps):
            stepper.step(*next(batches), 0.5, batch_size)
        stepper.sync()
        block = time.perf_counter() - t0
        samples.append(block / block_steps)
        spent += block
    return ShapeTiming(image_size, batch_size, _quantile(samples, POINT_QUANTILE), min(samples), max(samples),
                       len(samples) * block_steps)


def _time_eval(stepper: _Stepper, source, recipe: Recipe, image_size, budget_s: float) -> float:
    """Seconds to evaluate the real eval set: the source's eval set timed warm (the fastest of up to
    EVAL_REPEATS passes, fewer when one pass takes over a tenth of the budget), scaled by image count."""
    from repro.train.evaluate import evaluate

    passes: list[float] = []
    for _ in range(1 + EVAL_REPEATS):   # the first pass warms up
        t0 = time.perf_counter()
        evaluate(stepper.step_model, source, recipe, stepper.device, image_size)
        stepper.sync()
        passes.append(time.perf_counter() - t0)
        if len(passes) >= 2 and passes[-1] > budget_s / 10:
            break
    return min(passes[1:]) * DATASETS[recipe.data.name].eval_images / source.info.num_eval


def calibrate(recipe: Recipe, device: str = "cpu", budget_s: float = DEFAULT_BUDGET_S) -> Calibration:
    """Time every batch shape of `recipe` on `device` (synthetic data); see the module's docstring."""
    import torch

    from repro.harness import hardware, store
    from repro.train.loop import epoch_shape

    dev = torch.device(device)
    shapes = sorted({epoch_shape(recipe, e) for e in range(1, recipe.epochs + 1)},
                    key=lambda s: (s[0] or 0, s[1]))
    _source(recipe, dev, batches_needed=4)   # once untimed: first-use imports are paid once a process
    t0 = time.perf_counter()
    source, what = _source(recipe, dev, batches_needed=4)
    startup_s = time.perf_counter() - t0
    stepper = _Stepper(recipe, dev)
    cal = Calibration(device=str(dev), hardware=hardware.detect(str(dev)), data=what, startup_s=startup_s,
                      measured_at=store.iso(store.utc_now()))
    for size, batch in shapes:
        cal.shapes[(size, batch)] = _time_shape(stepper, source, size, batch, budget_s / len(shapes))
    for size in sorted({recipe.data.eval_size or s for s, _ in shapes}, key=lambda s: s or 0):
        cal.eval_s[size] = _time_eval(stepper, source, recipe, size, budget_s)
    stepper.model.train()
    return cal
