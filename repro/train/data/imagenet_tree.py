"""The ImageFolder tree on disk (`train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`): a cheap layout check
for the plan step, and the full scan (every image listed, a manifest checksum) for the data source.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from repro.train.data import DataError

EXTENSIONS = (".jpeg", ".jpg")
LAYOUT = "expected DIR/train/<wnid>/*.JPEG and DIR/val/<wnid>/*.JPEG"


@dataclass(frozen=True)
class ImageTree:
    root: Path
    classes: tuple[str, ...]
    train: tuple[tuple[str, int], ...]     # (path, label)
    val: tuple[tuple[str, int], ...]
    checksum: str                          # sha256 of the manifest: relative paths and sizes


def _images(folder: Path) -> list[tuple[str, int]]:
    with os.scandir(folder) as it:
        return sorted((e.path, e.stat().st_size) for e in it
                      if e.is_file() and e.name.lower().endswith(EXTENSIONS))


def scan_tree(root: Path) -> ImageTree:
    """Check the ImageFolder layout and list its images; every error names the path and the fix."""
    root = Path(root)
    layout = LAYOUT
    if not root.is_dir():
        raise DataError(f"ImageNet directory {root} does not exist; pass --data DIR ({layout})")
    train_dir, val_dir = root / "train", root / "val"
    if not train_dir.is_dir():
        raise DataError(f"{train_dir} is missing; {layout}")
    if not val_dir.is_dir():
        raise DataError(f"{val_dir} is missing: the validation images must be sorted into val/<wnid>/ folders "
                        "(ILSVRC2012_img_val.tar is flat; sort it with the devkit labels, e.g. valprep.sh)")
    classes = sorted(d.name for d in train_dir.iterdir() if d.is_dir())
    if not classes:
        raise DataError(f"{train_dir} has no class folders; {layout}, e.g. train/n01440764/n01440764_10026.JPEG")
    for split_dir in (train_dir, val_dir):
        stray = sorted(p.name for p in split_dir.iterdir() if p.is_file())
        if stray:
            raise DataError(f"{split_dir} holds {len(stray)} files directly (e.g. {stray[0]}), not in <wnid>/ "
                            f"class folders; move them into {split_dir}/<wnid>/")
    val_classes = sorted(d.name for d in val_dir.iterdir() if d.is_dir())
    unknown = sorted(set(val_classes) - set(classes))
    if unknown:
        raise DataError(f"{val_dir} has class folders with no training folder: {', '.join(unknown[:5])}; "
                        f"train/ and val/ must use the same <wnid> names")
    label = {c: i for i, c in enumerate(classes)}
    manifest = hashlib.sha256()
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "val": []}
    for split, split_classes in (("train", classes), ("val", val_classes)):
        for c in split_classes:
            files = _images(root / split / c)
            if split == "train" and not files:
                raise DataError(f"{root / split / c} has no .JPEG images; remove the folder or restore its images")
            for path, size in files:
                manifest.update(f"{split}/{c}/{os.path.basename(path)}\t{size}\n".encode())
                splits[split].append((path, label[c]))
    if not splits["val"]:
        raise DataError(f"{val_dir} has no .JPEG images in its class folders; {layout}")
    return ImageTree(root=root, classes=tuple(classes), train=tuple(splits["train"]), val=tuple(splits["val"]),
                     checksum="sha256:" + manifest.hexdigest())


def check_tree(root: Path) -> list[str]:
    """The layout without listing every image: both splits there, class folders in train/, an image
    in the first of them. Returns the class folder names."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"ImageNet directory {root} does not exist; pass --data DIR ({LAYOUT})")
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise DataError(f"{root / split} is missing; {LAYOUT}")
    classes = sorted(d.name for d in os.scandir(root / "train") if d.is_dir())
    if not classes:
        raise DataError(f"{root / 'train'} has no class folders; {LAYOUT}, e.g. train/n01440764/n01440764_10026.JPEG")
    with os.scandir(root / "train" / classes[0]) as it:
        if not any(e.name.lower().endswith(EXTENSIONS) for e in it):
            raise DataError(f"{root / 'train' / classes[0]} has no .JPEG images; {LAYOUT}")
    return classes
