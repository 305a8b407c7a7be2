"""The train/eval loop. One loop for every recipe and device: the recipe says what, the DataSource
says where the images come from, the RunSession (harness) keeps the clock and the files.

Precision: fp32, bf16 (autocast) or fp16 (autocast + GradScaler; a no-op scaler otherwise).
Scale-out: under torchrun each rank trains its slice of every global batch (repro.train.distributed).
Resume: a checkpoint is written at the end of the last epoch, at an epoch end at most every
`checkpoint_every_s` seconds (60 by default), and when SIGTERM arrives (at the next step boundary);
`TrainOptions.resume` continues the run directory from it, bit-for-bit on CPU.
Memory format: a recipe's channels_last applies on CUDA only (models.uses_channels_last).
Progressive resizing: size knots are fractions of training, so `--epochs` rescales them.
Optional behaviours (a cut last epoch, weight averaging, parameters frozen after N epochs, a
data-dependent start) are switched on by recipe settings and live in repro.train.hooks.
"""
from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from repro.harness.mllog import sgd_events
from repro.harness.run import Diverged, RunSession, check_finite
from repro.harness.signals import Interrupted, StopFlag, deferred
from repro.harness.store import CHECKPOINT_FILE
from repro.recipes import Recipe
from repro.train import checkpoint as ckpt
from repro.train import distributed as dist_
from repro.train import hooks
from repro.train import schedule as sched
from repro.train.data import DataSource, registry
from repro.train.evaluate import evaluate, rank_rows
from repro.train.models import build_model, uses_channels_last
from repro.train.optim import autocast_context, build_optimizer, seed_everything, set_lr_momentum

# Steps between host–device syncs in steady state. Every NAN_CHECK_EVERY steps the loss is read
# (NaN survives accumulation, so the epoch-end check catches the rest); under DDP that same read
# also carries the ranks' agreement on a stop signal (one all-reduce), which would otherwise cost
# a collective and a sync on every step; a SIGTERM is so honoured within NAN_CHECK_EVERY steps
# under DDP (and at the next step in one process, where reading the flag costs nothing).
NAN_CHECK_EVERY = 50


@dataclass
class TrainOptions:
    run_dir: Path | None                # made by the orchestrator; None on ranks that write nothing
    seed: int = 0
    device: str = "cpu"
    data_dir: Path | None = None
    synthetic: bool = False
    resume: bool = False                # continue run_dir from its checkpoint.pt
    group_id: str | None = None
    price_snapshot_id: str | None = None
    command: list[str] | None = None
    on_epoch: Callable[[dict], None] | None = None
    on_batch: Callable[[int, int, int], None] | None = None   # (epoch, batches done, batches)
    stop_at_target: bool = False
    estimate: dict | None = None        # kept in run.json as it is (repro.estimate)
    # a checkpoint per 0.3-s digits epoch would cost more than the whole harness
    checkpoint_every_s: float = 60.0


@dataclass
class _Run:
    """Everything one training run holds between its steps."""
    recipe: Recipe
    opts: TrainOptions
    ctx: dist_.DistContext
    session: RunSession
    model: nn.Module            # the bare model (what a checkpoint stores)
    step_model: nn.Module       # the model the steps go through (DDP, torch.compile)
    opt: torch.optim.Optimizer
    data: DataSource | None = None
    scaler: torch.amp.GradScaler | None = None
    generator: torch.Generator | None = None
    pos: ckpt.Position | None = None
    last_checkpoint_s: float = 0.0
    epoch_ended_s: float = 0.0          # when the last epoch's record was written
    lookahead: hooks.Lookahead | None = None
    frozen: list[nn.Parameter] | None = None


def run_recipe(recipe: Recipe, opts: TrainOptions) -> RunSession:
    """Train `recipe` once under the harness; returns the finished session (its run_dir and record).
    Raises what the run raised (Diverged, Interrupted, errors) after the run directory is marked."""
    rank, world_size = dist_.env_rank()
    on_gpu = str(opts.device).startswith("cuda")
    session = RunSession(run_dir=opts.run_dir, recipe=recipe, seed=opts.seed, group_id=opts.group_id,
                         rank=rank, world_size=world_size, device=str(opts.device),
                         price_snapshot_id=opts.price_snapshot_id, command=opts.command,
                         synthetic_data=opts.synthetic, on_epoch=opts.on_epoch, resume=opts.resume,
                         sync=torch.cuda.synchronize if on_gpu else (lambda: None), estimate=opts.estimate)
    with session.guard():
        ctx = dist_.setup(opts.device)
        blob = ckpt.load(Path(opts.run_dir) / CHECKPOINT_FILE, recipe_hash=recipe.hash()) if opts.resume else None
        run = _set_up(recipe, opts, ctx, session)
        session.run_start()  # MLPerf: the clock starts before the data is touched
        run.data = registry.make(recipe, device=ctx.device, data_dir=opts.data_dir, synthetic=opts.synthetic,
                                 seed=opts.seed)
        session.set_dataset(run.data.info)
        session.log_hyperparameters(train_samples=run.data.info.num_train, eval_samples=run.data.info.num_eval,
                                    seed=opts.seed, **_optimizer_events(recipe, ctx))
        _restore(run, blob)
        _start_hooks(run, blob)
        _train(run)
    return session


def _set_up(recipe: Recipe, opts: TrainOptions, ctx: dist_.DistContext, session: RunSession) -> _Run:
    """Model and optimiser before run_start: initialisation, not training, so the first run of a
    process does not pay one-off costs (building an optimiser imports torch._dynamo, seconds on a
    small CPU) inside its time to target."""
    seed_everything(opts.seed + ctx.rank)
    model = build_model(recipe.model).to(ctx.device)
    if uses_channels_last(recipe, ctx.device):
        model = model.to(memory_format=torch.channels_last)
    opt = build_optimizer(model, recipe, fused=_scaler_enabled(recipe, ctx.device))
    hooks.frozen_parameters(model, recipe, 1)  # a misnamed parameter fails here, before run_start
    step_model = dist_.wrap(model, ctx)
    step_model = torch.compile(step_model) if recipe.compile else step_model
    return _Run(recipe=recipe, opts=opts, ctx=ctx, session=session, model=model, step_model=step_model, opt=opt)


def _optimizer_events(recipe: Recipe, ctx: dist_.DistContext) -> dict:
    schedule = sched.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
    warmup = recipe.schedule.pct_start if recipe.schedule.kind == "one_cycle" else (
        recipe.schedule.knots_x[int(np.argmax(recipe.schedule.knots_y))])
    return sgd_events(recipe, end_lr=float(schedule.lr(1.0)), warmup_fraction=warmup, world_size=ctx.world_size)


def _scaler_enabled(recipe: Recipe, device: torch.device) -> bool:
    """fp16 on a GPU trains with a GradScaler (CPU autocast has no fp16: it runs fp32 there)."""
    return recipe.precision == "fp16" and device.type == "cuda"


def _restore(run: _Run, blob: dict | None) -> None:
    device = run.ctx.device
    run.scaler = torch.amp.GradScaler(device.type, enabled=_scaler_enabled(run.recipe, device))
    run.generator = torch.Generator().manual_seed(run.opts.seed)
    run.pos = ckpt.Position(epoch=1, batches_done=0, step=0, loss_sum=0.0, seen=0, elapsed_s=0.0, training_s=0.0)
    if blob is not None:
        run.pos = ckpt.restore(blob, model=run.model, optimizer=run.opt, scaler=run.scaler, generator=run.generator)
        run.session.resume_clock(run.pos.elapsed_s, run.pos.training_s)
    run.last_checkpoint_s = time.perf_counter()


def _start_hooks(run: _Run, blob: dict | None) -> None:
    """The data-dependent start and the weight average, once the data is there (timed, after run_start)."""
    total = hooks.total_steps(run.recipe, lambda e: run.data.steps_per_epoch(epoch_shape(run.recipe, e)[1]))
    # the average starts from the network as built, before the data-dependent start, as in airbench94
    # (LookaheadState is made before init_whitening_conv runs)
    run.lookahead = hooks.make_lookahead(run.model, run.recipe, total)
    extra = (blob or {}).get("extra_state") or {}
    if run.lookahead is not None and "lookahead" in extra:
        run.lookahead.load_state_dict(extra["lookahead"])
    hooks.init_from_data(run.model, run.recipe, run.data)


def epoch_shape(recipe: Recipe, epoch: int) -> tuple[int | None, int]:
    """(image size, global batch size) of an epoch; with size knots, data.image_size is the size
    data.batch_size is stated for; data.batch_ratio_per_size, when it names the size, sets the batch."""
    d = recipe.data
    image_size = sched.size_for_epoch(d.size_knots, epoch, recipe.epochs, d.size_multiple) or (d.image_size or None)
    batch_size = sched.batch_for_size(d.batch_size, d.image_size, image_size) if d.size_knots else d.batch_size
    ratio = dict(d.batch_ratio_per_size).get(image_size)
    if ratio is not None:
        batch_size = max(1, round(d.batch_size * ratio))
    return image_size, batch_size


def _train(run: _Run) -> None:
    with deferred() as stop:
        for epoch in range(run.pos.epoch, run.recipe.epochs + 1):
            reached = _epoch(run, epoch, stop)
            if dist_.any_rank(bool(stop), run.ctx):
                # the signal came after the epoch's last step check (in its evaluation, say): the
                # checkpoint at this epoch boundary is what a resume continues from
                if run.last_checkpoint_s < run.epoch_ended_s:
                    _save(run, run.generator.get_state(), ckpt.Position(epoch + 1, 0, run.pos.step, 0.0, 0, 0, 0))
                raise Interrupted(stop.signum or signal.SIGTERM)
            if reached and run.opts.stop_at_target:
                break


def _epoch(run: _Run, epoch: int, stop: StopFlag) -> bool:
    """Train and evaluate one epoch, log it, checkpoint when due; True when it reached the target."""
    recipe, session = run.recipe, run.session
    image_size, batch_size = epoch_shape(recipe, epoch)
    resuming = epoch == run.pos.epoch and run.pos.batches_done > 0
    seen_before = run.pos.seen if resuming else 0
    session.epoch_start(epoch)
    t0 = time.perf_counter()
    train_loss, seen, lr, momentum = _train_epoch(run, epoch, image_size, batch_size, resuming, stop)
    train_s = time.perf_counter() - t0
    eval_size = recipe.data.eval_size or image_size
    session.eval_start(epoch)
    t1 = time.perf_counter()
    metrics = evaluate(run.step_model, run.data, recipe, run.ctx.device, eval_size, run.ctx)
    eval_s = time.perf_counter() - t1
    reached = session.eval_end(epoch, metrics["top1"], metrics["top5"])
    row = {"train_s": train_s, "eval_s": eval_s, "train_loss": train_loss, **metrics, "lr": lr,
           "momentum": momentum, "images_per_s": (seen - seen_before) / train_s if train_s > 0 else None,
           "image_size": image_size, "batch_size": batch_size}
    unreadable = run.data.unreadable_images()
    if unreadable:
        row["unreadable_images"] = len(unreadable)
    session.epoch_end(epoch, row)
    run.epoch_ended_s = time.perf_counter()
    due = epoch == recipe.epochs or time.perf_counter() - run.last_checkpoint_s >= run.opts.checkpoint_every_s
    if dist_.any_rank(due, run.ctx):  # every rank decides alike: _save ends in a barrier
        _save(run, run.generator.get_state(), ckpt.Position(epoch + 1, 0, run.pos.step, 0.0, 0, 0, 0))
        run.last_checkpoint_s = time.perf_counter()
    return reached


def _train_epoch(run: _Run, epoch: int, image_size: int | None, batch_size: int, resuming: bool,
                 stop: StopFlag) -> tuple[float, int, float, float]:
    """The epoch's optimiser steps; (mean train loss, samples seen, last lr, last momentum)."""
    recipe, ctx, data, pos = run.recipe, run.ctx, run.data, run.pos
    steps = data.steps_per_epoch(batch_size)
    last = hooks.steps_in_epoch(recipe, epoch, steps)
    run.frozen = hooks.frozen_parameters(run.model, recipe, epoch)
    skip = pos.batches_done if resuming else 0
    loss_sum, seen = (pos.loss_sum, pos.seen) if resuming else (0.0, 0)
    epoch_gen_state = run.generator.get_state()
    lr_schedule = sched.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.optim.label_smoothing, reduction="sum")
    local_loss = torch.zeros((), device=ctx.device, dtype=torch.float64)
    local_seen = 0
    lr = momentum = 0.0
    run.step_model.train()
    batches = data.train_batches(epoch, batch_size, run.generator, image_size, start_batch=skip)
    loss = None
    for i, (x, y) in enumerate(batches, start=skip):
        if i >= last:
            break
        if _stop_now(stop, loss, epoch, pos.step, ctx):
            _save(run, epoch_gen_state, ckpt.Position(epoch, i, pos.step, loss_sum + _sum(local_loss, ctx),
                                                      seen + _count(local_seen, ctx), 0, 0))
            raise Interrupted(stop.signum or signal.SIGTERM)
        progress = hooks.progress_at(recipe, epoch, i, steps)
        lr = sched.scaled_lr(float(lr_schedule.lr(progress)), batch_size, recipe.data.batch_size,
                             recipe.optim.lr_scale_with_batch)
        momentum = float(lr_schedule.momentum(progress))
        set_lr_momentum(run.opt, lr, momentum)
        loss, n_global, rows = _step(run, criterion, x, y)
        local_loss += loss.detach().double() * (n_global / ctx.world_size)
        local_seen += rows
        pos.step += 1
        if run.lookahead is not None:
            run.lookahead.after_step(run.model, pos.step)
        if not ctx.active and pos.step % NAN_CHECK_EVERY == 0:
            check_finite(loss.item(), epoch, pos.step)
        if run.opts.on_batch is not None:
            run.opts.on_batch(epoch, i + 1, last)
    if run.lookahead is not None and epoch == recipe.epochs:
        run.lookahead.finish(run.model)
    loss_sum += _sum(local_loss, ctx)
    seen += _count(local_seen, ctx)
    check_finite(loss_sum / max(seen, 1), epoch, pos.step)
    return loss_sum / max(seen, 1), seen, lr, momentum


def _stop_now(stop: StopFlag, loss: torch.Tensor | None, epoch: int, step: int, ctx: dist_.DistContext) -> bool:
    """Whether to stop before this step. One process reads its signal flag every step (a Python
    flag, no sync). Under DDP the ranks must agree, which takes a collective and a host read: every
    NAN_CHECK_EVERY steps, in one all-reduce with the last loss's finiteness, so a NaN on any rank
    stops every rank at the same step instead of leaving the others waiting in the next collective."""
    if not ctx.active:
        return bool(stop)
    if step % NAN_CHECK_EVERY:
        return False
    bad_loss = False if loss is None else ~torch.isfinite(loss.detach())
    stopping, diverged = dist_.any_rank_flags([bool(stop), bad_loss], ctx)
    if diverged:
        raise Diverged(f"loss became non-finite (NaN or ±inf) on a rank by epoch {epoch}, step {step}")
    return stopping


def _step(run: _Run, criterion: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """One optimiser step on this rank's rows: (the scaled loss, the global batch size, this rank's rows)."""
    ctx, recipe = run.ctx, run.recipe
    n_global = y.shape[0] * ctx.world_size if run.data.sharded else y.shape[0]
    x, y = rank_rows(x, y, run.data, ctx)
    if uses_channels_last(recipe, ctx.device):
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast_context(ctx.device, recipe.precision):
        # summed loss × world / global batch: DDP's average of these gradients is the
        # gradient of the global batch's mean loss, whatever the split
        loss = criterion(run.step_model(x), y) * (ctx.world_size / n_global)
    run.opt.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    hooks.drop_gradients(run.frozen or [])
    run.scaler.step(run.opt)
    run.scaler.update()
    return loss, n_global, y.shape[0]


def _sum(t: torch.Tensor, ctx) -> float:
    return dist_.all_reduce_sum([t.item()], ctx)[0]


def _count(n: int, ctx) -> int:
    return round(dist_.all_reduce_sum([n], ctx)[0])


def _save(run: _Run, gen_state, pos: ckpt.Position) -> None:
    pos.elapsed_s, pos.training_s = run.session.clock_s()
    path = run.session.checkpoint_path() if run.ctx.rank == 0 else None
    if path is not None:
        extra = {"lookahead": run.lookahead.state_dict()} if run.lookahead is not None else None
        ckpt.save(path, model=run.model, optimizer=run.opt, scaler=run.scaler, position=pos,
                  epoch_generator_state=gen_state, recipe_hash=run.recipe.hash(), seed=run.opts.seed,
                  world_size=run.ctx.world_size, extra_state=extra)
    dist_.barrier(run.ctx)
