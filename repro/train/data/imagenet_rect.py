"""Rectangular validation for ImageNet (`data.rect_val`), fast.ai's 2018 follow-up to its DAWNBench entry
("Now anyone can train Imagenet in 18 minutes", https://www.fast.ai/2018/08/10/fastai-diu-imagenet/:
"progressive resizing for classification, and rectangular image validation").

Instead of a centre square, each validation image keeps most of its own shape. The images are sorted by
aspect ratio (width / height) and cut, in that order, into batches of the eval batch size; each batch
shares one rectangle: its short side is the eval size, its long side the eval size × the batch's mean
aspect ratio rounded down to a multiple of `multiple` (data.size_multiple, 32: every stride of the
networks divides it), never below the short side. Each image is resized as square validation resizes it
(short side to size / crop ratio) and centre-cropped to its batch's rectangle. On square images every
rectangle is the square, and the result is square validation exactly.

Under torch.distributed every rank sorts the same way and takes every world-th image of each batch, so
each image is scored once and a rank's batch shares its batch's rectangle.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

Key = tuple[int, tuple[int, int], int]      # (image index, (height, width), epoch): a JpegFiles key


def aspect_ratio(path: str) -> float:
    """Width / height from the file's header (PIL reads no pixels for .size); 1.0 when unreadable, so
    the image lands among the squares and is counted as unreadable when it is decoded."""
    try:
        with Image.open(path) as img:
            width, height = img.size
        return width / height if height else 1.0
    except (OSError, ValueError):
        return 1.0


def aspect_ratios(samples: Sequence[tuple[str, int]]) -> list[float]:
    return [aspect_ratio(path) for path, _ in samples]


def rect_shape(mean_ratio: float, size: int, multiple: int) -> tuple[int, int]:
    """(height, width) of a batch whose images' mean width / height is `mean_ratio`."""
    if mean_ratio >= 1:
        return size, max(size, math.floor(size * mean_ratio / multiple) * multiple)
    return max(size, math.floor(size / mean_ratio / multiple) * multiple), size


def rect_batches(ratios: Sequence[float], batch_size: int, size: int, multiple: int
                 ) -> list[tuple[list[int], tuple[int, int]]]:
    """All validation images as (indices, (height, width)) batches, grouped by aspect ratio."""
    order = sorted(range(len(ratios)), key=lambda i: (ratios[i], i))
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        mean = sum(ratios[i] for i in chunk) / len(chunk)
        batches.append((chunk, rect_shape(mean, size, multiple)))
    return batches


def rank_plan(ratios: Sequence[float], batch_size: int, size: int, multiple: int, rank: int = 0,
              world: int = 1) -> list[list[Key]]:
    """This rank's batches as JpegFiles keys: every world-th image of each global batch."""
    plan = []
    for indices, shape in rect_batches(ratios, batch_size, size, multiple):
        mine = [(i, shape, 0) for i in indices[rank::world]]
        if mine:
            plan.append(mine)
    return plan


def height_width(size: int | tuple[int, int]) -> tuple[int, int]:
    """A square size or a (height, width) rectangle as (height, width)."""
    return tuple(size) if isinstance(size, tuple) else (size, size)


def rect_transform(img: torch.Tensor, shape: tuple[int, int], crop_ratio: float) -> torch.Tensor:
    """uint8 CHW image → its batch's rectangle: short side to min(shape) / crop_ratio, centre crop."""
    short = round(min(shape) / crop_ratio)
    return TF.center_crop(TF.resize(img, [short], antialias=True), list(shape))
