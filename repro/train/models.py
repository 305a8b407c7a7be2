"""Model zoo. Every model ends in global adaptive pooling, so any input size works.

`build_model(spec)` looks the name up in MODELS; each builder takes the recipe's ModelSpec.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


class ConcatPool2d(nn.Module):
    """fast.ai's concat pooling: adaptive average and max pooling side by side (doubles the features)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([nn.functional.adaptive_avg_pool2d(x, 1),
                          nn.functional.adaptive_max_pool2d(x, 1)], dim=1).flatten(1)


class GlobalAvgPool2d(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)


def conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def digits_net(spec) -> nn.Module:
    """Three conv blocks on 8×8 single-channel scans: 8×8 → 4×4 → pooled; ~30 k parameters at width 32."""
    w = spec.width
    pool = ConcatPool2d() if spec.concat_pool else GlobalAvgPool2d()
    head_in = 2 * 2 * w if spec.concat_pool else 2 * w
    return nn.Sequential(
        conv_bn(1, w), conv_bn(w, w),
        nn.MaxPool2d(2),
        conv_bn(w, 2 * w),
        pool,
        nn.Linear(head_in, spec.num_classes),
    )


MODELS: dict[str, Callable] = {"digits_net": digits_net}


def register_model(name: str):
    def deco(fn: Callable) -> Callable:
        MODELS[name] = fn
        return fn
    return deco


def build_model(spec) -> nn.Module:
    try:
        builder = MODELS[spec.name]
    except KeyError:
        raise ValueError(f"unknown model {spec.name!r}; known models: {', '.join(sorted(MODELS))}") from None
    return builder(spec)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
