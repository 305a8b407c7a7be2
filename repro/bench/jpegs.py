"""A generated ImageFolder tree of ImageNet-sized JPEGs for the decode section (no dataset can be
downloaded where the bench runs): per class a colour and a stripe direction, plus pixel noise so
the files have a photograph's entropy (≈ 110 KB for 500×375 at quality 90, ImageNet's typical size)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_jpeg_tree(root: Path, *, images: int, shape: tuple[int, int], classes: int = 4, seed: int = 0,
                   quality: int = 90) -> Path:
    rng = np.random.default_rng(seed)
    width, height = shape
    yy, xx = np.mgrid[0:height, 0:width]
    per_class = max(1, images // classes)
    for c in range(classes):
        wnid = f"n{c:08d}"
        base = rng.integers(40, 215, size=3)
        stripes = np.sin((xx if c % 2 else yy) * (0.2 + 0.15 * c))[..., None] * 60
        for split, n in (("train", per_class), ("val", 1)):
            folder = Path(root) / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = np.clip(base + stripes + rng.normal(0, 25, size=(height, width, 3)), 0, 255)
                Image.fromarray(img.astype(np.uint8)).save(folder / f"{wnid}_{i}.JPEG", quality=quality)
    return Path(root)
