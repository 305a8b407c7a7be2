"""CIFAR-10 from the real python-pickle batches (`cifar-10-batches-py/`), held on the device as uint8.

Layout read here, exactly as Krizhevsky ships it: `data_batch_1` … `data_batch_5` and `test_batch`, each a
pickled dict with b"data" (uint8, N×3072, channel-major rows of 32×32) and b"labels" (N ints 0..9), and
`batches.meta` (b"label_names"). Any number of rows per batch is accepted.

Integrity: every file's MD5 is compared with the official one (the list torchvision checks). A mismatch is
not an error — people train on re-packed copies — but the dataset is then recorded as unverified
(`DatasetInfo.verified=False`, shown on the leaderboard). A truncated or unreadable file is a `DataError`
naming it.

Training batches are gathered and augmented on the device (reflect-pad + random crop, horizontal flip,
cutout) with random numbers drawn from the caller's seeded `torch.Generator`, so an epoch is a pure
function of the seed. `data.flip_mode = "alternating"` is airbench's alternating flip: each image gets one
coin (drawn from the run's seed) and is mirrored in every other epoch, so it is seen both ways in any two
consecutive epochs. `data.loader = "dataloader"` swaps in a plain torch DataLoader (per-sample numpy
augmentation on the host, `data.workers` processes, then a copy to the device) to measure what the device
path saves; it uses the same draws, so both loaders yield the same batches.

`--synthetic` gives random uint8 images of CIFAR's shape: throughput only, never an accuracy claim.
`--set data.synthetic_images=N` shrinks the synthetic training set to N images (eval N/5) for smoke tests.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch.nn import functional as F

from repro.train.data import DataError, DatasetInfo
from repro.train.data.cifar_files import (DOWNLOAD_HINT, NATIVE_SIZE, TEST_FILE, TRAIN_FILES, CifarArrays,
                                         find_batches_dir, load_arrays)

MEAN = (0.4914, 0.4822, 0.4465)      # per-channel statistics of the 50,000 training images
STD = (0.2470, 0.2435, 0.2616)
SYNTHETIC_TRAIN, SYNTHETIC_EVAL = 50_000, 10_000


# -- augmentation on the device ------------------------------------------------------------------
@dataclass(frozen=True)
class AugmentParams:
    """Per-image random draws: crop offsets in [0, 2·padding], flip bits, cutout centres."""
    dx: torch.Tensor
    dy: torch.Tensor
    flip: torch.Tensor
    cy: torch.Tensor
    cx: torch.Tensor

    def to(self, device) -> "AugmentParams":
        return AugmentParams(*(t.to(device, non_blocking=True) for t in (self.dx, self.dy, self.flip,
                                                                         self.cy, self.cx)))

    def slice(self, start: int, stop: int) -> "AugmentParams":
        return AugmentParams(*(t[start:stop] for t in (self.dx, self.dy, self.flip, self.cy, self.cx)))


def draw_params(n: int, generator: torch.Generator, padding: int, size: int = NATIVE_SIZE) -> AugmentParams:
    """Drawn on the CPU from the seeded generator (cheap: 5 ints per image), so the same seed gives the
    same epoch on every device."""
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    flip = torch.randint(0, 2, (n,), generator=generator).bool()
    cy = torch.randint(0, size, (n,), generator=generator)
    cx = torch.randint(0, size, (n,), generator=generator)
    return AugmentParams(dx, dy, flip, cy, cx)


def normalizer(device) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1) * 255
    return mean, std


def augment(x: torch.Tensor, p: AugmentParams, *, padding: int, flip: bool, cutout: int,
            mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 B×3×H×W → normalised float B×3×H×W: reflect-pad + random crop, horizontal flip, then cutout
    (a zeroed square, i.e. the mean colour, clipped at the border)."""
    b, c, h, w = x.shape
    if padding or flip:
        # pad + crop + flip as two gathers from the uint8 images: output pixel (r, k) reads source row
        # reflect(dy - padding + r) and column reflect(dx - padding + k), columns reversed when flipped;
        # no padded copy is made
        ar_h = torch.arange(h, device=x.device)
        ar_w = torch.arange(w, device=x.device)
        rows = _reflect(p.dy[:, None] - padding + ar_h, h) if padding else ar_h.expand(b, h)
        cols = _reflect(p.dx[:, None] - padding + ar_w, w) if padding else ar_w.expand(b, w)
        if flip:
            cols = torch.where(p.flip[:, None], cols.flip(1), cols)
        if padding:
            x = x.gather(2, rows[:, None, :, None].expand(b, c, h, w))
        x = x.gather(3, cols[:, None, None, :].expand(b, c, h, w))
    x = x.to(torch.float32, copy=True).sub_(mean).div_(std)  # a fresh tensor: the in-place ops are safe
    if cutout:
        top = (p.cy - cutout // 2)[:, None]
        left = (p.cx - cutout // 2)[:, None]
        ar_h = torch.arange(h, device=x.device)[None, :]
        ar_w = torch.arange(w, device=x.device)[None, :]
        in_rows = (ar_h >= top) & (ar_h < top + cutout)                                # B×H
        in_cols = (ar_w >= left) & (ar_w < left + cutout)                              # B×W
        hole = in_rows[:, :, None] & in_cols[:, None, :]
        x.masked_fill_(hole[:, None], 0.0)
    return x


def _reflect(i: torch.Tensor, n: int) -> torch.Tensor:
    """Index into a length-n axis with reflect padding (edge not repeated, as np.pad/F.pad 'reflect')."""
    i = i.abs()
    return torch.where(i > n - 1, 2 * (n - 1) - i, i)


def resize(x: torch.Tensor, image_size: int | None) -> torch.Tensor:
    if image_size is None or image_size == x.shape[-1]:
        return x
    return F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)


# -- the data source ----------------------------------------------------------------------------
class CifarData:
    """The whole set on `device` as uint8; batches are index gathers plus on-device augmentation."""
    sharded = False

    def __init__(self, arrays: CifarArrays, info: DatasetInfo, *, device, padding: int = 0,
                 flip: bool = False, cutout: int = 0, loader: str = "device", workers: int = 0,
                 flip_mode: str = "random", seed: int = 0) -> None:
        if loader not in ("device", "dataloader"):
            raise DataError(f"data.loader must be 'device' or 'dataloader', got {loader!r}")
        if flip_mode not in ("random", "alternating"):
            raise DataError(f"data.flip_mode must be 'random' or 'alternating', got {flip_mode!r}")
        self.device = torch.device(device)
        self.info = info
        self.padding, self.flip, self.cutout = padding, flip, cutout
        # alternating flip: every image's own coin, drawn once from the run's seed
        self._base_flip = (torch.randint(0, 2, (info.num_train,), generator=torch.Generator().manual_seed(seed)
                                         ).bool() if flip_mode == "alternating" else None)
        self.loader, self.workers = loader, workers
        self.mean, self.std = normalizer(self.device)
        self.x_train = torch.from_numpy(np.ascontiguousarray(arrays.x_train)).to(self.device)
        self.y_train = torch.from_numpy(arrays.y_train).to(self.device)
        self.x_eval = torch.from_numpy(np.ascontiguousarray(arrays.x_test)).to(self.device)
        self.y_eval = torch.from_numpy(arrays.y_test).to(self.device)
        self._host = arrays if loader == "dataloader" else None

    def steps_per_epoch(self, batch_size: int) -> int:
        # the last partial batch is dropped (as airbench does): a tiny last batch only adds noise
        return max(1, self.info.num_train // batch_size)

    def train_batches(self, epoch: int, batch_size: int, generator: torch.Generator,
                      image_size: int | None = None, start_batch: int = 0
                      ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = self.info.num_train
        # the whole epoch's draws are made up front (so the generator advances the same when resuming), on
        # the CPU, identically for both loaders: they yield the same batches
        order = torch.randperm(n, generator=generator)
        params = self._epoch_flips(draw_params(n, generator, self.padding), order, epoch)
        steps = self.steps_per_epoch(batch_size)
        if self.loader == "dataloader":
            yield from self._dataloader_batches(order, params, batch_size, steps, start_batch, image_size)
            return
        order, params = order.to(self.device), params.to(self.device)
        for step in range(start_batch, steps):
            start, stop = step * batch_size, min((step + 1) * batch_size, n)
            idx = order[start:stop]
            x = augment(self.x_train[idx], params.slice(start, stop), padding=self.padding, flip=self.flip,
                        cutout=self.cutout, mean=self.mean, std=self.std)
            yield resize(x, image_size), self.y_train[idx]

    def _epoch_flips(self, params: AugmentParams, order: torch.Tensor, epoch: int) -> AugmentParams:
        """Alternating flip: the j-th image of the epoch (image order[j]) is mirrored when its own coin,
        turned over in even epochs, says so; the random coins drawn for the epoch go unused."""
        if self._base_flip is None:
            return params
        flips = self._base_flip[order] ^ (epoch % 2 == 0)
        return AugmentParams(params.dx, params.dy, flips, params.cy, params.cx)

    def init_images(self, count: int) -> torch.Tensor:
        """The first `count` training images in file order, normalised, not augmented (data-dependent
        initialisation, e.g. airbench's whitening from 5,000 images)."""
        return (self.x_train[:count].float() - self.mean) / self.std

    def eval_batches(self, batch_size: int, image_size: int | None = None
                     ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for i in range(0, self.info.num_eval, batch_size):
            x = (self.x_eval[i:i + batch_size].float() - self.mean) / self.std
            yield resize(x, image_size), self.y_eval[i:i + batch_size]

    def unreadable_images(self) -> dict[str, str]:
        return {}  # the batches were read whole and checked when the set was loaded

    def _dataloader_batches(self, order: torch.Tensor, params: AugmentParams, batch_size: int, steps: int,
                            start_batch: int, image_size: int | None):
        from torch.utils.data import DataLoader
        stop = min(steps * batch_size, self.info.num_train)
        dataset = _HostAugmented(self._host.x_train, self._host.y_train, order.numpy(), params,
                                 first=start_batch * batch_size, stop=stop, padding=self.padding,
                                 flip=self.flip, cutout=self.cutout)
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=self.workers,
                            pin_memory=self.device.type == "cuda")
        for x, y in loader:
            yield (resize(x.to(self.device, non_blocking=True), image_size),
                   y.to(self.device, non_blocking=True))


class _HostAugmented(torch.utils.data.Dataset):
    """The DataLoader path: item j is the epoch's j-th image (order[j]) augmented on the host with the j-th
    draws, in numpy, one sample at a time, as a classic torchvision-style pipeline would."""

    def __init__(self, x: np.ndarray, y: np.ndarray, order: np.ndarray, params: AugmentParams, *, first: int,
                 stop: int, padding: int, flip: bool, cutout: int) -> None:
        self.x, self.y, self.order, self.first, self.stop = x, y, order, first, stop
        self.dx, self.dy, self.flips, self.cy, self.cx = (t.numpy() for t in (params.dx, params.dy, params.flip,
                                                                             params.cy, params.cx))
        self.padding, self.flip, self.cutout = padding, flip, cutout
        self.mean = (np.asarray(MEAN, np.float32) * np.float32(255)).reshape(3, 1, 1)
        self.std = (np.asarray(STD, np.float32) * np.float32(255)).reshape(3, 1, 1)

    def __len__(self) -> int:
        return max(0, self.stop - self.first)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, int]:
        j = self.first + k
        i = int(self.order[j])
        img = self.x[i]
        size = img.shape[-1]
        if self.padding:
            p, dy, dx = self.padding, int(self.dy[j]), int(self.dx[j])
            img = np.pad(img, ((0, 0), (p, p), (p, p)), mode="reflect")[:, dy:dy + size, dx:dx + size]
        img = (img.astype(np.float32) - self.mean) / self.std
        if self.flip and self.flips[j]:
            img = img[:, :, ::-1]
        img = np.ascontiguousarray(img)
        if self.cutout:
            top, left = int(self.cy[j]) - self.cutout // 2, int(self.cx[j]) - self.cutout // 2
            img[:, max(top, 0):max(top + self.cutout, 0), max(left, 0):max(left + self.cutout, 0)] = 0.0
        return torch.from_numpy(img), int(self.y[i])


# -- construction ---------------------------------------------------------------------------------
def synthetic_arrays(num_train: int = SYNTHETIC_TRAIN, num_eval: int = SYNTHETIC_EVAL,
                     seed: int = 0) -> CifarArrays:
    rng = np.random.default_rng(seed)
    shape = (3, NATIVE_SIZE, NATIVE_SIZE)
    return CifarArrays(
        x_train=rng.integers(0, 256, (num_train, *shape), dtype=np.uint8),
        y_train=rng.integers(0, 10, num_train).astype(np.int64),
        x_test=rng.integers(0, 256, (num_eval, *shape), dtype=np.uint8),
        y_test=rng.integers(0, 10, num_eval).astype(np.int64),
        checksum=f"synthetic:cifar10:{num_train}+{num_eval}:seed{seed}", verified=False, mismatched=())


def _synthetic_sizes(n: int) -> tuple[int, int]:
    """(train, eval) images of a synthetic set: the recipe's data.synthetic_images, else CIFAR's own."""
    if not n:
        return SYNTHETIC_TRAIN, SYNTHETIC_EVAL
    return n, max(1, math.ceil(n / 5))


def check(recipe, *, data_dir=None, synthetic=False) -> list[str]:
    """Every batch file present (not read: that is the run's first work, timed as MLPerf says)."""
    if synthetic:
        if data_dir is not None:
            raise DataError("pass either --data DIR or --synthetic, not both")
        return []
    if data_dir is None:
        raise DataError("CIFAR-10 needs its data: pass --data DIR (the folder holding cifar-10-batches-py) "
                        "or --synthetic for a throughput-only run")
    root = find_batches_dir(Path(data_dir))
    for name in (*TRAIN_FILES, TEST_FILE):
        if not (root / name).is_file():
            raise DataError(f"CIFAR-10 file {root / name} is missing; {DOWNLOAD_HINT}")
    return []


def make(recipe, *, device, data_dir=None, synthetic=False, seed: int = 0) -> CifarData:
    """The DataSource for a CIFAR-10 recipe: the real batches under `data_dir`, or random data."""
    check(recipe, data_dir=data_dir, synthetic=synthetic)
    if synthetic:
        arrays = synthetic_arrays(*_synthetic_sizes(recipe.data.synthetic_images))
    else:
        arrays = load_arrays(Path(data_dir))
    info = DatasetInfo(name="cifar10", num_train=len(arrays.y_train), num_eval=len(arrays.y_test),
                       num_classes=10, checksum=arrays.checksum, verified=arrays.verified,
                       synthetic=bool(synthetic))
    d = recipe.data
    return CifarData(arrays, info, device=device, padding=d.crop_padding, flip=d.flip, cutout=d.cutout,
                     loader=d.loader, workers=d.workers, flip_mode=d.flip_mode, seed=seed)
