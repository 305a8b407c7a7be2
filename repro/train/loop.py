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


