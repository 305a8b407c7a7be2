"""The train/eval loop. One loop for every recipe and device: the recipe says what, the DataSource
says where the images come from, the RunSession (harness) keeps the clock and the files.

Precision: fp32, bf16 (autocast) or fp16 (autocast + GradScaler; a no-op scaler otherwise).
Autocast is a null context on CPU for fp16, which CPU kernels do not support well.
"""
from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from repro.harness.run import RunSession, check_finite, env_rank
from repro.recipes import Recipe
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


@torch.no_grad()
def evaluate(model: nn.Module, data, recipe: Recipe, device: torch.device, image_size: int | None
             ) -> dict[str, float | None]:
    model.eval()
    want_top5 = recipe.target_metric == "top5" or data.info.num_classes >= 100
    n = correct1 = correct5 = 0
    loss_sum = 0.0
    for x, y in data.eval_batches(recipe.data.eval_batch_size, image_size):
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
    extra: dict = field(default_factory=dict)


def run_recipe(recipe: Recipe, opts: TrainOptions) -> RunSession:
    """Train `recipe` once under the harness; returns the finished session (its run_dir and record).
    Raises what the run raised (Diverged, Interrupted, errors) after the run directory is marked."""
    device = torch.device(opts.device)
    rank, world_size = env_rank()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    session = RunSession(results_dir=opts.results_dir, recipe=recipe, seed=opts.seed, group_id=opts.group_id,
                         rank=rank, world_size=world_size, device=opts.device,
                         price_snapshot_id=opts.price_snapshot_id, command=opts.command,
                         synthetic_data=opts.synthetic, on_epoch=opts.on_epoch, sync=sync)
    with session.guard():
        seed_everything(opts.seed + rank)
        model = build_model(recipe.model).to(device)
        if recipe.channels_last:
            model = model.to(memory_format=torch.channels_last)
        step_model = torch.compile(model) if recipe.compile else model
        make_data = data_factory(recipe)
        session.run_start()  # MLPerf: the clock starts before the data is touched
        data = make_data(recipe, device=device, data_dir=opts.data_dir, synthetic=opts.synthetic)
        session.set_dataset(data.info)
        session.log_hyperparameters(global_batch_size=recipe.data.batch_size, base_lr=recipe.optim.peak_lr,
                                    train_samples=data.info.num_train, eval_samples=data.info.num_eval,
                                    seed=opts.seed)
        _train(recipe, step_model, data, session, device, opts)
    return session


def _train(recipe: Recipe, model: nn.Module, data, session: RunSession, device: torch.device,
           opts: TrainOptions) -> None:
    opt = build_optimizer(model, recipe)
    lr_schedule = sched.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
    scaler = torch.amp.GradScaler(device.type, enabled=recipe.precision == "fp16" and device.type == "cuda")
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.optim.label_smoothing)
    generator = torch.Generator().manual_seed(opts.seed)
    batch_size = recipe.data.batch_size
    steps_per_epoch = data.steps_per_epoch(batch_size)
    total_steps = recipe.epochs * steps_per_epoch
    step = 0
    for epoch in range(1, recipe.epochs + 1):
        image_size = sched.size_at(recipe.data.size_knots, epoch - 1, recipe.data.size_multiple) \
            or (recipe.data.image_size or None)
        session.epoch_start(epoch)
        model.train()
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        seen = 0
        lr = momentum = 0.0
        for x, y in data.train_batches(epoch, batch_size, generator, image_size):
            progress = sched.progress_of(step, total_steps)
            lr, momentum = lr_schedule.lr(progress), lr_schedule.momentum(progress)
            set_lr_momentum(opt, lr, momentum)
            if recipe.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast_context(device, recipe.precision):
                loss = criterion(model(x), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            loss_sum += loss.detach() * y.numel()
            seen += y.numel()
            step += 1
            if step % NAN_CHECK_EVERY == 0:
                check_finite(loss.item(), epoch, step)
        train_loss = (loss_sum / max(seen, 1)).item()
        check_finite(train_loss, epoch, step)
        train_s = time.perf_counter() - t0
        eval_size = recipe.data.eval_size or image_size
        session.eval_start(epoch)
        t1 = time.perf_counter()
        metrics = evaluate(model, data, recipe, device, eval_size)
        eval_s = time.perf_counter() - t1
        reached = session.eval_end(epoch, metrics["top1"], metrics["top5"])
        session.epoch_end(epoch, {"train_s": train_s, "eval_s": eval_s, "train_loss": train_loss, **metrics,
                                  "lr": float(lr), "momentum": float(momentum),
                                  "images_per_s": seen / train_s if train_s > 0 else None,
                                  "image_size": image_size, "batch_size": batch_size})
        if reached and opts.stop_at_target:
            break
