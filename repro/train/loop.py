"""The train/eval loop. One loop for every recipe and device: the recipe says what, the DataSource
says where the images come from, the RunSession (harness) keeps the clock and the files.

Precision: fp32, bf16 (autocast) or fp16 (autocast + GradScaler; a no-op scaler otherwise).
Autocast is a null context on CPU for fp16, which CPU kernels do not support well.

Scale-out: under torchrun each rank trains its slice of every global batch (repro.train.distributed).
Resume: a checkpoint is written at every epoch end and when SIGTERM arrives (at the next step
boundary); `TrainOptions.resume_dir` continues that run directory from it, bit-for-bit on CPU.
Progressive resizing: size knots are fractions of training, so `--epochs` rescales them.
"""
from __future__ import annotations

import contextlib
import inspect
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np
import torch
from torch import nn

from repro.harness.run import Interrupted, RunSession, check_finite
from repro.harness.store import CHECKPOINT_FILE
from repro.recipes import Recipe
from repro.train import checkpoint as ckpt
from repro.train import distributed as dist_
from repro.train import schedule as sched
from repro.train.models import build_model

NAN_CHECK_EVERY = 50  # steps between loss.item() syncs; NaN survives accumulation, so the epoch check catches the rest


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def data_factory(recipe: Recipe) -> Callable:
    """The dataset's constructor, imported before run_start (importing code is not touching data)."""
    from repro.train.data import registry
    return registry.factory(recipe.data.name)


def autocast_context(device: torch.device, precision: str):
    if precision == "fp32" or (precision == "fp16" and device.type == "cpu"):
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def param_groups(model: nn.Module, weight_decay: float, no_bn_weight_decay: bool) -> list[dict]:
    if not no_bn_weight_decay:
        return [{"params": [p for p in model.parameters() if p.requires_grad], "weight_decay": weight_decay}]
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)  # BN weights/biases and all biases are 1-D
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    o = recipe.optim
    groups = param_groups(model, o.weight_decay, o.no_bn_weight_decay)
    if o.name == "sgd":
        return torch.optim.SGD(groups, lr=o.peak_lr, momentum=recipe.schedule.momentum_max, nesterov=o.nesterov)
    if o.name == "adamw":
        return torch.optim.AdamW(groups, lr=o.peak_lr, betas=(recipe.schedule.momentum_max, 0.999))
    raise ValueError(f"unknown optimizer {o.name!r}; use sgd or adamw")


def set_lr_momentum(opt: torch.optim.Optimizer, lr: float, momentum: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr
        if "momentum" in group:
            group["momentum"] = momentum
        elif "betas" in group:
            group["betas"] = (momentum, group["betas"][1])


def _rank_rows(x: torch.Tensor, y: torch.Tensor, data, ctx: dist_.DistContext):
    """This rank's rows of a batch: sources that shard themselves (`data.sharded`) yield them already."""
    if not ctx.active or getattr(data, "sharded", False):
        return x, y
    rows = dist_.shard_rows(y.shape[0], ctx)
    return x[rows], y[rows]


@torch.no_grad()
def evaluate(model: nn.Module, data, recipe: Recipe, device: torch.device, image_size: int | None,
             ctx: dist_.DistContext | None = None) -> dict[str, float | None]:
    """Top-1, top-5 and loss over the eval set; each rank scores its share and the counts are summed."""
    ctx = ctx or dist_.DistContext(device=device)
    model = dist_.for_eval(model, ctx)
    model.eval()
    want_top5 = (recipe.target_metric == "top5" or data.info.num_classes >= 100
                 or recipe.task.startswith("imagenet"))  # ImageNet entries always report both
    n = correct1 = correct5 = 0
    loss_sum = 0.0
    for x, y in data.eval_batches(recipe.data.eval_batch_size, image_size):
        x, y = _rank_rows(x, y, data, ctx)
        if y.numel() == 0:
            continue
        if recipe.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast_context(device, recipe.precision):
            logits = model(x)
            if recipe.tta:  # test-time augmentation: average with the horizontally flipped image
                logits = (logits + model(torch.flip(x, dims=[3]))) / 2
        logits = logits.float()
        loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum").item()
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        correct1 += (top[:, 0] == y).sum().item()
        if want_top5:
            correct5 += (top == y[:, None]).any(dim=1).sum().item()
        n += y.numel()
    n, correct1, correct5, loss_sum = dist_.all_reduce_sum([n, correct1, correct5, loss_sum], ctx)
    if n == 0:
        raise ValueError("the eval set yielded no images; check the dataset's validation split")
    return {"top1": correct1 / n, "top5": correct5 / n if want_top5 else None, "eval_loss": loss_sum / n}


@dataclass
class TrainOptions:
    results_dir: Path
    seed: int = 0
    device: str = "cpu"
    data_dir: Path | None = None
    synthetic: bool = False
    group_id: str | None = None
    price_snapshot_id: str | None = None
    command: list[str] | None = None
    on_epoch: Callable[[dict], None] | None = None
    stop_at_target: bool = False
    resume_dir: Path | None = None      # continue this run directory from its checkpoint.pt
    # periodic checkpoints at epoch ends, at most this often (SIGTERM always checkpoints, and so does the
    # last epoch): a checkpoint per 0.3-s digits epoch would cost more than the whole harness
    checkpoint_every_s: float = 60.0
    extra: dict = field(default_factory=dict)


def run_recipe(recipe: Recipe, opts: TrainOptions) -> RunSession:
    """Train `recipe` once under the harness; returns the finished session (its run_dir and record).
    Raises what the run raised (Diverged, Interrupted, errors) after the run directory is marked."""
    ctx = dist_.setup(opts.device)
    device = ctx.device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    blob = None
    if opts.resume_dir is not None:  # read before the session opens the directory again
        blob = ckpt.load(Path(opts.resume_dir) / CHECKPOINT_FILE, recipe_hash=recipe.hash())
    session = RunSession(results_dir=opts.results_dir, recipe=recipe, seed=opts.seed, group_id=opts.group_id,
                         rank=ctx.rank, world_size=ctx.world_size, device=str(device),
                         price_snapshot_id=opts.price_snapshot_id, command=opts.command,
                         synthetic_data=opts.synthetic, on_epoch=opts.on_epoch, sync=sync,
                         resume_dir=opts.resume_dir)
    with session.guard():
        seed_everything(opts.seed + ctx.rank)
        model = build_model(recipe.model).to(device)
        if recipe.channels_last:
            model = model.to(memory_format=torch.channels_last)
        # model and optimiser set-up is initialisation, not training: it happens before run_start, so the
        # first run of a process does not pay one-off costs (building an optimiser imports torch._dynamo,
        # seconds on a small CPU) inside its time to target
        opt = build_optimizer(model, recipe)
        step_model = dist_.wrap(model, ctx)
        step_model = torch.compile(step_model) if recipe.compile else step_model
        make_data = data_factory(recipe)
        session.run_start()  # MLPerf: the clock starts before the data is touched
        seed_kw = {"seed": opts.seed} if "seed" in inspect.signature(make_data).parameters else {}
        data = make_data(recipe, device=device, data_dir=opts.data_dir, synthetic=opts.synthetic, **seed_kw)
        session.set_dataset(data.info)
        session.log_hyperparameters(global_batch_size=recipe.data.batch_size, base_lr=recipe.optim.peak_lr,
                                    train_samples=data.info.num_train, eval_samples=data.info.num_eval,
                                    seed=opts.seed, **mlperf_hyperparameters(recipe, ctx))
        _train(recipe, model, step_model, opt, data, session, ctx, opts, blob)
    return session


def mlperf_hyperparameters(recipe: Recipe, ctx: dist_.DistContext) -> dict:
    """The optimiser keys MLPerf's ResNet rules ask for, read off the recipe (SGD; LR knots)."""
    if recipe.optim.name != "sgd":
        return {"opt_name": recipe.optim.name}
    schedule = sched.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
    warmup = recipe.schedule.pct_start if recipe.schedule.kind == "one_cycle" else (
        recipe.schedule.knots_x[int(np.argmax(recipe.schedule.knots_y))])
    return {"opt_name": "sgd", "sgd_opt_base_learning_rate": recipe.optim.peak_lr,
            "sgd_opt_end_learning_rate": float(schedule.lr(1.0)),
            "sgd_opt_learning_rate_decay_poly_power": 1,  # piecewise-linear decay
            "sgd_opt_learning_rate_decay_steps": recipe.epochs,  # in epochs: steps vary with per-stage batch
            "sgd_opt_weight_decay": recipe.optim.weight_decay, "sgd_opt_momentum": recipe.schedule.momentum_max,
            "model_bn_span": max(1, recipe.data.batch_size // ctx.world_size),
            "opt_learning_rate_warmup_epochs": float(warmup) * recipe.epochs,
            "gradient_accumulation_steps": 1}


class _StopRequest:
    """SIGTERM/SIGINT during training set a flag; the loop stops at the next step boundary, where the
    state is consistent, saves a checkpoint and raises Interrupted (RunSession marks the run). A
    second signal interrupts at once."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> Self:
        for s in (signal.SIGTERM, signal.SIGINT):
            self._previous[s] = signal.getsignal(s)
            signal.signal(s, self._set)
        return self

    def _set(self, signum, frame) -> None:
        if self.signum is not None:  # a second signal: stop now, without the checkpoint
            raise Interrupted(signum)
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


def _train(recipe: Recipe, model: nn.Module, step_model: nn.Module, opt: torch.optim.Optimizer, data,
           session: RunSession, ctx: dist_.DistContext, opts: TrainOptions, blob: dict | None) -> None:
    device = ctx.device
    scaler = torch.amp.GradScaler(device.type, enabled=recipe.precision == "fp16" and device.type == "cuda")
    generator = torch.Generator().manual_seed(opts.seed)
    pos = ckpt.Position(epoch=1, batches_done=0, step=0, loss_sum=0.0, seen=0, elapsed_s=0.0, training_s=0.0)
    if blob is not None:
        pos = ckpt.restore(blob, model=model, optimizer=opt, scaler=scaler, generator=generator)
        session.resume_clock(pos.elapsed_s, pos.training_s)
    lr_schedule = sched.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.optim.label_smoothing, reduction="sum")
    d = recipe.data
    last_checkpoint_s = time.perf_counter()
    with _StopRequest() as stop:
        for epoch in range(pos.epoch, recipe.epochs + 1):
            image_size = sched.size_for_epoch(d.size_knots, epoch, recipe.epochs, d.size_multiple) \
                or (d.image_size or None)
            # with size knots, data.image_size is the size data.batch_size is stated for
            batch_size = sched.batch_for_size(d.batch_size, d.image_size, image_size) if d.size_knots else d.batch_size
            steps = data.steps_per_epoch(batch_size)
            resuming = epoch == pos.epoch and pos.batches_done > 0
            skip = pos.batches_done if resuming else 0
            loss_sum, seen = (pos.loss_sum, pos.seen) if resuming else (0.0, 0)
            epoch_gen_state = generator.get_state()
            session.epoch_start(epoch)
            step_model.train()
            t0 = time.perf_counter()
            local_loss = torch.zeros((), device=device, dtype=torch.float64)
            local_seen = 0
            lr = momentum = 0.0
            for i, (x, y) in enumerate(_batches(data, epoch, batch_size, generator, image_size, skip), start=skip):
                if dist_.any_rank(stop.signum is not None, ctx):
                    _interrupt(session, model, opt, scaler, recipe, opts, ctx, epoch_gen_state, stop, ckpt.Position(
                        epoch, i, pos.step, loss_sum + _sum(local_loss, ctx), seen + _count(local_seen, ctx), 0, 0))
                progress = (epoch - 1 + i / steps) / recipe.epochs
                lr = sched.scaled_lr(lr_schedule.lr(progress), batch_size, d.batch_size,
                                     recipe.optim.lr_scale_with_batch)
                momentum = lr_schedule.momentum(progress)
                set_lr_momentum(opt, lr, momentum)
                n_global = y.shape[0] * ctx.world_size if getattr(data, "sharded", False) else y.shape[0]
                x, y = _rank_rows(x, y, data, ctx)
                if recipe.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                with autocast_context(device, recipe.precision):
                    # summed loss × world / global batch: DDP's average of these gradients is the
                    # gradient of the global batch's mean loss, whatever the split
                    loss = criterion(step_model(x), y) * (ctx.world_size / n_global)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                local_loss += loss.detach().double() * (n_global / ctx.world_size)
                local_seen += y.numel()
                pos.step += 1
                if pos.step % NAN_CHECK_EVERY == 0:
                    check_finite(loss.item(), epoch, pos.step)
            loss_sum += _sum(local_loss, ctx)
            seen += _count(local_seen, ctx)
            train_loss = loss_sum / max(seen, 1)
            check_finite(train_loss, epoch, pos.step)
            train_s = time.perf_counter() - t0
            eval_size = d.eval_size or image_size
            session.eval_start(epoch)
            t1 = time.perf_counter()
            metrics = evaluate(step_model, data, recipe, device, eval_size, ctx)
            eval_s = time.perf_counter() - t1
            reached = session.eval_end(epoch, metrics["top1"], metrics["top5"])
            row = {"train_s": train_s, "eval_s": eval_s, "train_loss": train_loss, **metrics,
                   "lr": float(lr), "momentum": float(momentum),
                   "images_per_s": (seen - (pos.seen if resuming else 0)) / train_s if train_s > 0 else None,
                   "image_size": image_size, "batch_size": batch_size}
            if getattr(data, "bad_images", None):
                row["unreadable_images"] = len(data.bad_images)
            session.epoch_end(epoch, row)
            due = epoch == recipe.epochs or time.perf_counter() - last_checkpoint_s >= opts.checkpoint_every_s
            if dist_.any_rank(due, ctx):  # every rank decides alike: _save ends in a barrier
                _save(session, model, opt, scaler, recipe, opts, ctx, generator.get_state(),
                      ckpt.Position(epoch + 1, 0, pos.step, 0.0, 0, 0, 0))
                last_checkpoint_s = time.perf_counter()
            if dist_.any_rank(stop.signum is not None, ctx):
                raise Interrupted(stop.signum or signal.SIGTERM)
            if reached and opts.stop_at_target:
                break


def _batches(data, epoch, batch_size, generator, image_size, skip):
    """The epoch's batches from batch `skip` on; the order is drawn in full either way, so a resumed
    epoch sees exactly the batches the interrupted one had left."""
    if skip and getattr(data, "can_skip", False):
        yield from data.train_batches(epoch, batch_size, generator, image_size, start_batch=skip)
        return
    for i, batch in enumerate(data.train_batches(epoch, batch_size, generator, image_size)):
        if i >= skip:
            yield batch


def _sum(t: torch.Tensor, ctx) -> float:
    return dist_.all_reduce_sum([t.item()], ctx)[0]


def _count(n: int, ctx) -> int:
    return round(dist_.all_reduce_sum([n], ctx)[0])


def _save(session, model, opt, scaler, recipe, opts, ctx, gen_state, pos: ckpt.Position) -> None:
    pos.elapsed_s, pos.training_s = session.clock_s()
    path = session.checkpoint_path() if ctx.rank == 0 else None
    if path is not None:
        ckpt.save(path, model=model, optimizer=opt, scaler=scaler, position=pos, epoch_generator_state=gen_state,
                  recipe_hash=recipe.hash(), seed=opts.seed, world_size=ctx.world_size)
    dist_.barrier(ctx)


def _interrupt(session, model, opt, scaler, recipe, opts, ctx, gen_state, stop, pos) -> None:
    _save(session, model, opt, scaler, recipe, opts, ctx, gen_state, pos)
    raise Interrupted(stop.signum or signal.SIGTERM)
