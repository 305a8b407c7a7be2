"""Harness overhead on the digits recipe — full logging and provenance vs the bare loop.

Two figures from one benchmark session:
1. *In-run*: every RunSession call of a real digits run is timed; overhead = time inside the harness
   ÷ time outside it, within the timed region (run_start → run_stop) — the part that could move a
   time-to-target figure.
2. *Side by side*: the same recipe, seed and steps through `run_recipe` (harness) and through a bare
   loop with no harness at all, alternated round by round, min over rounds.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from torch import nn

from repro.harness import run as harness_run
from repro.harness import store
from repro.recipes import get_recipe
from repro.train import loop, schedule
from repro.train.data.digits import DigitsData
from repro.train.models import build_model

RECIPE = get_recipe("digits")
TIMED = ("epoch_start", "eval_start", "eval_end", "epoch_end", "set_dataset", "log_hyperparameters")


def bare_loop(recipe=RECIPE, seed=0) -> float:
    """The digits recipe with no harness: no files, no events, no clock rules. Returns final top1."""
    loop.seed_everything(seed)
    device = torch.device("cpu")
    model = build_model(recipe.model)
    data = DigitsData(device)
    opt = loop.build_optimizer(model, recipe)
    sched = schedule.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.optim.label_smoothing)
    gen = torch.Generator().manual_seed(seed)
    total = recipe.epochs * data.steps_per_epoch(recipe.data.batch_size)
    step = 0
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        for x, y in data.train_batches(epoch, recipe.data.batch_size, gen):
            p = schedule.progress_of(step, total)
            loop.set_lr_momentum(opt, sched.lr(p), sched.momentum(p))
            loss = criterion(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        metrics = loop.evaluate(model, data, recipe, device, None)
    return metrics["top1"]


def harness_run_once(results: Path, seed=0) -> dict:
    session = loop.run_recipe(RECIPE, loop.TrainOptions(run_dir=store.create_run_dir(results, RECIPE.name), seed=seed))
    return session.record


def test_harness_overhead_in_run(tmp_path, monkeypatch, benchmark):
    """Time spent inside the harness (run directory writes, MLPerf events, clock rules, provenance of
    the dataset) and, separately, in per-epoch checkpoints, each as a share of the rest of the run."""
    from repro.train import checkpoint

    spent = {"harness": 0.0, "checkpoint": 0.0}

    def timed(owner, name, bucket):
        original = getattr(owner, name)

        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                spent[bucket] += time.perf_counter() - t0
        monkeypatch.setattr(owner, name, wrapper)

    for name in TIMED:
        timed(harness_run.RunSession, name, "harness")
    timed(checkpoint, "save", "checkpoint")
    rounds = []

    def one():
        spent.update(harness=0.0, checkpoint=0.0)
        rec = harness_run_once(tmp_path / f"r{time.perf_counter_ns()}")
        run_s = rec["outcome"]["run_s"]
        rest = run_s - spent["harness"] - spent["checkpoint"]
        rounds.append((spent["harness"] / rest, spent["checkpoint"] / rest, run_s))

    benchmark.pedantic(one, rounds=5, iterations=1)
    harness_share = sorted(r[0] for r in rounds)[len(rounds) // 2]     # median over rounds
    checkpoint_share = sorted(r[1] for r in rounds)[len(rounds) // 2]
    benchmark.extra_info.update(harness_overhead_pct=100 * harness_share,
                                checkpoint_overhead_pct=100 * checkpoint_share,
                                run_s=[r[2] for r in rounds])
    print(f"\nharness in-run overhead (median of {len(rounds)}): {100 * harness_share:.2f} %; "
          f"per-epoch checkpoints: {100 * checkpoint_share:.2f} %")
    assert harness_share <= 0.01


@pytest.mark.parametrize("variant", ["bare", "harness"])
def test_harness_vs_bare_side_by_side(tmp_path, benchmark, variant):
    if variant == "bare":
        top1 = benchmark.pedantic(bare_loop, rounds=3, iterations=1)
    else:
        top1 = benchmark.pedantic(lambda: harness_run_once(tmp_path / str(time.perf_counter_ns()))
                                  ["outcome"]["final"]["top1"], rounds=3, iterations=1)
    assert top1 > 0.9
