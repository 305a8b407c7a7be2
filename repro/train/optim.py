"""What every training process sets up the same way: seeds, optimiser, LR/momentum, precision."""
from __future__ import annotations

import contextlib
import random

import numpy as np
import torch
from torch import nn

from repro.recipes import Recipe


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def autocast_context(device: torch.device, precision: str):
    """bf16/fp16 autocast; a null context for fp32, and for fp16 on CPU, whose kernels lack it."""
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


def build_optimizer(model: nn.Module, recipe: Recipe, *, fused: bool = False) -> torch.optim.Optimizer:
    """`fused`: torch's fused kernels, which also take a GradScaler's inf check on the device; the
    unfused step has the scaler read it on the host (`.item()`), a host–device sync every step."""
    o = recipe.optim
    groups = param_groups(model, o.weight_decay, o.no_bn_weight_decay)
    kernel = {"fused": True} if fused else {}
    if o.name == "sgd":
        return torch.optim.SGD(groups, lr=o.peak_lr, momentum=recipe.schedule.momentum_max, nesterov=o.nesterov,
                               **kernel)
    if o.name == "adamw":
        return torch.optim.AdamW(groups, lr=o.peak_lr, betas=(recipe.schedule.momentum_max, 0.999), **kernel)
    raise ValueError(f"unknown optimizer {o.name!r}; use sgd or adamw")


def set_lr_momentum(opt: torch.optim.Optimizer, lr: float, momentum: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr
        if "momentum" in group:
            group["momentum"] = momentum
        elif "betas" in group:
            group["betas"] = (momentum, group["betas"][1])
