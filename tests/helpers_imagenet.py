"""Tiny ImageNet-layout JPEG trees for the tests and benchmarks (no dataset download is possible)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_tree(root: Path, *, classes: int = 3, train_per_class: int = 8, val_per_class: int = 3,
              size: tuple[int, int] = (80, 60), seed: int = 0, quality: int = 90) -> Path:
    """root/train/<wnid>/*.JPEG and root/val/<wnid>/*.JPEG; each class has its own colour and stripe
    direction (learnable), plus noise so the JPEGs have realistic entropy."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    for c in range(classes):
        wnid = f"n{c:08d}"
        base = rng.integers(40, 215, size=3)
        stripes = np.sin((xx if c % 2 else yy) * (0.2 + 0.15 * c))[..., None] * 60
        for split, n in (("train", train_per_class), ("val", val_per_class)):
            folder = Path(root) / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                noise = rng.normal(0, 25, size=(h, w, 3))
                img = np.clip(base + stripes + noise, 0, 255).astype(np.uint8)
                Image.fromarray(img).save(folder / f"{wnid}_{i}.JPEG", quality=quality)
    return Path(root)
