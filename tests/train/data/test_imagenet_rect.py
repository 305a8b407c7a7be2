"""Rectangular validation on JPEG trees of mixed aspect ratios: one rectangle per batch, grouped by aspect,
sides multiples of 32, every image once (over ranks too), and square validation exactly on square images."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from repro.recipes import apply_overrides, get_recipe
from repro.train.data import imagenet_rect
from repro.train.data.imagenet import ImageNetData, make, scan_tree
from repro.train.evaluate import evaluate
from repro.train.models import build_model

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")

LANDSCAPE, PORTRAIT, SQUARE = (120, 80), (80, 120), (90, 90)   # (width, height)


def jpeg_tree(root: Path, shapes: dict[tuple[int, int], int], classes: int = 2) -> Path:
    """val/<wnid>/ with `count` images of each (width, height), spread over the classes, plus one train image
    per class (the tree needs a train split)."""
    rng = np.random.default_rng(0)
    n = 0
    for (w, h), count in shapes.items():
        for _ in range(count):
            wnid = f"n{n % classes:08d}"
            folder = root / "val" / wnid
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"v{n:04d}.JPEG")
            n += 1
    for c in range(classes):
        folder = root / "train" / f"n{c:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / "t.JPEG")
    return root


def test_rectangle_sides_are_multiples_of_32_with_the_eval_size_short():
    assert imagenet_rect.rect_shape(1.0, 224, 32) == (224, 224)
    assert imagenet_rect.rect_shape(4 / 3, 224, 32) == (224, 288)        # 298.7 rounded down to 288
    assert imagenet_rect.rect_shape(3 / 4, 224, 32) == (288, 224)
    assert imagenet_rect.rect_shape(1.05, 224, 32) == (224, 224)          # never below the short side
    assert imagenet_rect.rect_shape(1.5, 128, 8) == (128, 192)


def test_batches_are_grouped_by_aspect_and_each_image_is_cropped_to_its_batchs_rectangle(tmp_path):
    root = jpeg_tree(tmp_path, {LANDSCAPE: 8, PORTRAIT: 4, SQUARE: 4})
    data = ImageNetData(scan_tree(root), rect_val=True, size_multiple=32)
    batches = list(data.eval_batches(4, 64))
    shapes = [tuple(x.shape[-2:]) for x, _ in batches]
    # sorted by width / height: portrait (0.67) first, then square, then landscape (1.5): 96 = 64 × 1.5
    assert shapes == [(96, 64), (64, 64), (64, 96), (64, 96)]
    assert sum(len(y) for _, y in batches) == 16
    ratios = imagenet_rect.aspect_ratios(data.tree.val)
    plan = imagenet_rect.rank_plan(ratios, 4, 64, 32)
    assert all(len({round(ratios[i], 3) for i, _, _ in batch}) == 1 for batch in plan)   # one aspect a batch
    assert sorted(i for batch in plan for i, _, _ in batch) == list(range(16))


def test_a_batch_of_mixed_aspects_shares_the_mean_rectangle(tmp_path):
    root = jpeg_tree(tmp_path, {PORTRAIT: 2, LANDSCAPE: 2})
    data = ImageNetData(scan_tree(root), rect_val=True, size_multiple=32)
    (x, y), = list(data.eval_batches(4, 64))
    assert x.shape[-2:] == (64, 64) and len(y) == 4          # mean of 2/3 and 3/2 is 1.08: the square


def test_on_square_images_it_is_square_validation_exactly(tmp_path):
    root = jpeg_tree(tmp_path, {SQUARE: 10})
    square = list(ImageNetData(scan_tree(root)).eval_batches(4, 64))
    rect = list(ImageNetData(scan_tree(root), rect_val=True).eval_batches(4, 64))
    assert len(square) == len(rect) == 3
    for (xs, ys), (xr, yr) in zip(square, rect):
        assert torch.equal(xs, xr) and torch.equal(ys, yr)


def test_ranks_share_each_batchs_rectangle_and_score_every_image_once(tmp_path):
    root = jpeg_tree(tmp_path, {LANDSCAPE: 6, PORTRAIT: 6})
    ratios = imagenet_rect.aspect_ratios(scan_tree(root).val)
    plans = [imagenet_rect.rank_plan(ratios, 4, 64, 32, rank, 2) for rank in (0, 1)]
    seen = sorted(i for plan in plans for batch in plan for i, _, _ in batch)
    assert seen == list(range(12))
    for batch0, batch1 in zip(*plans):
        assert {shape for _, shape, _ in batch0 + batch1} == {batch0[0][1]}


def test_the_recipe_option_reaches_the_data_source_and_evaluation_runs_on_rectangles(tmp_path):
    root = jpeg_tree(tmp_path, {LANDSCAPE: 3, PORTRAIT: 3})
    recipe = apply_overrides(get_recipe("imagenet-rn18-1gpu"), [
        "data.rect_val=true", "model.num_classes=2", "data.eval_batch_size=3", "data.eval_size=64",
        "data.workers=0"])
    data = make(recipe, device="cpu", data_dir=root)
    assert data.rect_val and data.size_multiple == 32
    metrics = evaluate(build_model(recipe.model), data, recipe, torch.device("cpu"), 64)
    assert 0.0 <= metrics["top1"] <= 1.0 and metrics["top5"] == 1.0


def test_unreadable_headers_count_as_square(tmp_path):
    bad = tmp_path / "bad.JPEG"
    bad.write_bytes(b"not a jpeg")
    assert imagenet_rect.aspect_ratio(str(bad)) == 1.0
