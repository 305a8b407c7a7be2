"""Forward FLOPs per image of a recipe's model at an image size, counted by torch's FlopCounterMode
(convolutions and matrix products, 2 FLOPs per multiply-add) on repro's own model code: ResNet-50 at
224 px counts 8.18 GFLOPs, airbench94's net 0.237 GFLOPs at 32 px (airbench's README: 0.36 PFLOPs
for 9.9 epochs of training, i.e. 3 × 0.237e9 × 495,000 ≈ 0.35e15)."""
from __future__ import annotations

from functools import lru_cache

from repro.recipes import ModelSpec


@lru_cache(maxsize=64)
def forward_flops(spec: ModelSpec, channels: int, image_size: int) -> float:
    """FLOPs of one image's forward pass in training mode (batch of 2, so batch norm behaves)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from repro.train.models import build_model

    model = build_model(spec)
    model.train()
    x = torch.randn(2, channels, image_size, image_size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / 2
