"""(a) `cifar-airbench` epoch time against PyPI airbench94's `train94`, same device, same run.

Both train on the same synthetic tensors (repro's `--synthetic` CIFAR arrays, also written in
airbench's train.pt/test.pt layout) at the same batch size and number of batches per epoch.
airbench's epoch is the time between the starts of consecutive epochs of its loader (its loop
synchronises the GPU at every epoch end; the loader synchronises again before reading the clock);
repro's is the run's `train_s` of the epoch (steps only, no evaluation). Epochs 2 … E-1 are
compared (the first autotunes cuDNN and fills caches on both sides).

The dry run calls the same train94 on the CPU: airbench 0.1.8 hard-codes CUDA and fp16 (`.half()`,
`.cuda()`, `torch.cuda.Event`, `torch.cuda.synchronize`, its loaders on GPU 0 in fp16), so while it
runs those are replaced by CPU stand-ins (a wall-clock event, a no-op synchronise, identity
`.cuda()` and `.half()` — fp16 convolutions on a CPU run on slow reference kernels — and loaders on
the CPU in fp32), and both nets are narrowed to DRY_RUN_WIDTH. A dry-run ratio says nothing about GPUs.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import math
import statistics
import time
from pathlib import Path

from repro.bench.cifar_sets import random_set, write_airbench_layout
from repro.bench.common import Budget, epochs_of, ratio, sync, train_record
from repro.bench.profile import Profile

GOAL = 1.0      # cifar-airbench's epoch time ≤ 1.0 × airbench94's on the same GPU
DRY_RUN_WIDTH = 16   # airbench94's block widths 64/256/256 become 16/64/64 on both sides


def _timed_loader_class(base, device: str):
    class TimedLoader(base):
        """airbench's CifarLoader that reads the clock (after a sync) as each epoch starts."""
        def __iter__(self):
            sync(device)
            self.epoch_starts_s.append(time.perf_counter())
            yield from super().__iter__()
    return TimedLoader


class _WallClockEvent:
    """torch.cuda.Event's timing interface on the host clock (dry run only)."""

    def __init__(self, enable_timing: bool = False, **_) -> None:
        self.at_s = 0.0

    def record(self, stream=None) -> None:
        self.at_s = time.perf_counter()

    def elapsed_time(self, end: "_WallClockEvent") -> float:
        return (end.at_s - self.at_s) * 1000.0


@contextlib.contextmanager
def _cpu_stand_ins(ab_utils):
    import torch
    from torch import nn

    base = ab_utils.CifarLoader

    class CpuLoader(base):
        def __init__(self, path, train=True, batch_size=500, aug=None, drop_last=None, shuffle=None,
                     altflip=False, gpu="cpu"):
            super().__init__(path, train, batch_size, aug, drop_last, shuffle, altflip, gpu)
            self.images = self.images.float()

    saved = (torch.cuda.Event, torch.cuda.synchronize, nn.Module.cuda, nn.Module.half)
    torch.cuda.Event, torch.cuda.synchronize = _WallClockEvent, (lambda device=None: None)
    nn.Module.cuda = lambda self, device=None: self
    nn.Module.half = lambda self: self
    ab_utils.CifarLoader = CpuLoader
    try:
        yield CpuLoader
    finally:
        torch.cuda.Event, torch.cuda.synchronize, nn.Module.cuda, nn.Module.half = saved
        ab_utils.CifarLoader = base


def airbench_epoch_s(profile: Profile, root: Path) -> list[float]:
    """Seconds of airbench94's epochs 1 … E-1 on `root/cifar10/{train,test}.pt`."""
    import airbench
    from airbench import lib_airbench94, utils as ab_utils

    stand_ins = _cpu_stand_ins(ab_utils) if profile.dry_run else contextlib.nullcontext(ab_utils.CifarLoader)
    with contextlib.chdir(root), stand_ins as loader_class:
        loader = _timed_loader_class(loader_class, profile.device)(
            "cifar10", train=True, batch_size=profile.cifar_batch, aug=lib_airbench94.hyp["aug"], altflip=True,
            gpu="cpu" if profile.dry_run else 0)
        loader.epoch_starts_s = []
        make_net = lib_airbench94.make_net94
        if profile.dry_run:
            widths = {"block1": DRY_RUN_WIDTH, "block2": 4 * DRY_RUN_WIDTH, "block3": 4 * DRY_RUN_WIDTH}
            make_net = functools.partial(lib_airbench94.make_net94, widths=widths)
        airbench.train94(loader, epochs=profile.cifar_epochs, make_net=make_net, verbose=False)
    starts = loader.epoch_starts_s
    return [b - a for a, b in zip(starts, starts[1:])]


def _middle(values: list[float], epochs: int) -> float:
    """Median of epochs 2 … E-1 (index 1 … E-2); the last value when there are fewer."""
    middle = values[1:epochs - 1]
    return statistics.median(middle) if middle else values[-1]


def run(profile: Profile, work_dir: Path, budget: Budget) -> dict:
    budget.need(30 if profile.dry_run else 60, "airbench94 and cifar-airbench")
    n_eval = math.ceil(profile.cifar_images / 5)   # what repro's --synthetic makes for the same count
    write_airbench_layout(random_set(profile.cifar_images, n_eval, seed=0), work_dir / "airbench" / "cifar10")
    theirs = airbench_epoch_s(profile, work_dir / "airbench")
    overrides = [f"epochs={profile.cifar_epochs}", f"data.batch_size={profile.cifar_batch}",
                 f"data.synthetic_images={profile.cifar_images}"]
    if profile.dry_run:
        overrides.append(f"model.width={DRY_RUN_WIDTH}")
    record = train_record("cifar-airbench", overrides, device=profile.device, work_dir=work_dir)
    ours = [row["train_s"] for row in epochs_of(record)]
    airbench_s, repro_s = _middle(theirs, profile.cifar_epochs), _middle(ours, profile.cifar_epochs)
    result = ratio(repro_s, airbench_s)
    return {
        "images": profile.cifar_images, "batch_size": profile.cifar_batch, "epochs": profile.cifar_epochs,
        "data": "repro's --synthetic CIFAR arrays (seed 0), also written as airbench's train.pt/test.pt",
        "airbench": {"package": f"airbench {importlib.metadata.version('airbench')}", "function": "airbench.train94",
                     "epoch_s": theirs, "steady_epoch_s": airbench_s},
        "repro": {"recipe": "cifar-airbench", "epoch_train_s": ours, "steady_epoch_s": repro_s},
        "ratio_repro_to_airbench": result, "goal": f"≤ {GOAL}",
        "goal_met": None if profile.dry_run or result is None else result <= GOAL,
    }
