"""ImageNet from the standard ImageFolder tree: `train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`.

Pipeline: worker processes read each file and decode it with torchvision.io.decode_jpeg
(libjpeg-turbo), crop first and resize only the crop (RandomResizedCrop at the epoch's size, flip),
and hand back uint8 images collated as an N×H×W×3 batch; the float conversion and normalisation run
once per batch on the device, which gets N×3×H×W channels-last (the layout the models train in). On
a GPU the workers only read bytes, and the batch's files are decoded on the GPU in one batched
nvJPEG call (repro.train.data.imagenet_decode). With data.decoder=nvimgcodec the CPU decodes only
each training crop's region (repro.train.data.imagenet_roi), a batch in one call; same batches.
Validation: resize the short side to size / 0.875, centre-crop `size` (224 ← 256).

The image size can change every epoch although the DataLoader's workers persist: the batch sampler
hands each worker (index, size, epoch) keys, so the size travels with the indices. Every random crop
is drawn from a generator seeded by (seed, epoch, index), so the augmentation does not depend on the
number of workers or ranks, and a resumed epoch repeats it exactly.

Ranks: every rank draws the same global order from the loop's generator and takes its contiguous
slice of each global batch (drop_last). This is what torch's DistributedSampler does per epoch, but
it also lets the batch size change per stage and keeps the union of the ranks' slices identical to
the one-process batch. Unreadable images are counted (`unreadable_images()`), ignored in the loss
(label -100), and fail the run past `max_bad_fraction`.
"""
from __future__ import annotations

import math
import random
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.io import ImageReadMode, decode_jpeg, read_file
from torchvision.transforms.v2 import functional as TF

from repro.recipes.base import DECODERS
from repro.train.data import DataError, DatasetInfo, imagenet_rect
from repro.train.data.imagenet_synthetic import SyntheticImageNet
from repro.train.data.imagenet_decode import decode_batch_on_device
from repro.train.data import imagenet_roi
from repro.train.distributed import env_rank
from repro.train.data.imagenet_tree import ImageTree, check_tree, scan_tree

MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)
EVAL_CROP_RATIO = 0.875            # centre crop / resized short side
RRC_SCALE = (0.08, 1.0)            # RandomResizedCrop area fraction, torchvision's default
RRC_RATIO = (3 / 4, 4 / 3)
MAX_BAD_FRACTION = 0.001           # more unreadable images than this fraction fails the run
IGNORE_LABEL = -100                # CrossEntropyLoss's ignore_index: an unreadable image adds no loss

# torchvision 0.29 marks its JPEG codec deprecated in favour of TorchCodec; it is still the fast
# libjpeg-turbo / nvJPEG path this pipeline is built on, so say it once in this comment, not per image
warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision",
                        category=DeprecationWarning)


# -- transforms: pure functions of (image, size, generator) --------------------------------------------
def sample_generator(seed: int, epoch: int, index: int) -> random.Random:
    """The per-image generator. Python's Mersenne Twister: seeding it and four draws cost ≈ 3 µs
    against ≈ 40 µs for a torch.Generator, on a path that runs once per image."""
    return random.Random((seed * 1_000_003 + epoch) * 10_000_019 + index)


def random_resized_crop_box(height: int, width: int, g: random.Random) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a crop covering RRC_SCALE of the area at an aspect ratio in RRC_RATIO
    (log-uniform), torchvision's algorithm drawn from `g`; the centre crop after 10 misses."""
    area = height * width
    log_lo, log_hi = math.log(RRC_RATIO[0]), math.log(RRC_RATIO[1])
    for _ in range(10):
        target = area * g.uniform(*RRC_SCALE)
        ratio = math.exp(g.uniform(log_lo, log_hi))
        w, h = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
        if 0 < w <= width and 0 < h <= height:
            return g.randint(0, height - h), g.randint(0, width - w), h, w
    ratio = width / height
    if ratio < RRC_RATIO[0]:
        w, h = width, round(width / RRC_RATIO[0])
    elif ratio > RRC_RATIO[1]:
        h, w = height, round(height * RRC_RATIO[1])
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _resize(img: torch.Tensor, size: list[int]) -> torch.Tensor:
    """Antialiased bilinear resize of a uint8 CHW image (PIL's filter). decode_jpeg's output is an
    HWC buffer seen as CHW; made channels-last contiguous, torch's uint8 AVX2 kernel takes it as is."""
    if img.device.type != "cpu":   # CUDA's antialiased kernel takes floats: torchvision converts
        return TF.resize(img, size, antialias=True)
    x = img.unsqueeze(0).contiguous(memory_format=torch.channels_last)
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)[0]


def train_transform(img: torch.Tensor, size: int, g: random.Random, flip: bool) -> torch.Tensor:
    top, left, h, w = random_resized_crop_box(img.shape[-2], img.shape[-1], g)
    return resize_and_flip(img[:, top:top + h, left:left + w], size, g, flip)


def resize_and_flip(crop: torch.Tensor, size: int, g: random.Random, flip: bool) -> torch.Tensor:
    """The rest of train_transform once the crop's box is drawn from `g`: the flip is its next draw."""
    out = _resize(crop, [size, size])
    if flip and g.random() < 0.5:
        out = out.flip(-1)
    return out


def eval_transform(img: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    if isinstance(size, tuple):   # rectangular validation: the batch's (height, width)
        return imagenet_rect.rect_transform(img, size, EVAL_CROP_RATIO)
    short = round(size / EVAL_CROP_RATIO)
    return TF.center_crop(TF.resize(img, [short], antialias=True), [size, size])


class JpegFiles(Dataset):
    """Indexed by (index, size, epoch) keys. decode=False ships the file's bytes (GPU decoding)."""

    def __init__(self, samples, *, train: bool, seed: int, flip: bool, decode: bool = True) -> None:
        self.samples, self.train, self.seed, self.flip, self.decode = samples, train, seed, flip, decode

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key):
        index, size, epoch = key
        path, label = self.samples[index]
        try:
            data = read_file(path)
            if not self.decode:
                return data, label, index
            img = decode_jpeg(data, mode=ImageReadMode.RGB)
        except RuntimeError:  # unreadable or not a JPEG: the main process counts and reports it
            return (torch.zeros(0, dtype=torch.uint8) if not self.decode else
                    torch.zeros((3, *imagenet_rect.height_width(size)), dtype=torch.uint8)), IGNORE_LABEL, index
        if self.train:
            return train_transform(img, size, sample_generator(self.seed, epoch, index), self.flip), label, index
        return eval_transform(img, size), label, index


class RegionJpegFiles(JpegFiles):
    """Training images decoded crop first (data.decoder=nvimgcodec): each box is drawn as in
    train_transform, from the file's header, and only the box is decoded, a batch in one call. The
    batch equals JpegFiles' bit for bit, except for a JPEG whose data ends early: the full decode
    always refuses it, this one reads it when the crop lies above the missing rows."""

    def __init__(self, samples, *, seed: int, flip: bool) -> None:
        super().__init__(samples, train=True, seed=seed, flip=flip)
        self.region = imagenet_roi.RegionDecoder()

    def __getitems__(self, keys):
        gens = [sample_generator(self.seed, epoch, index) for index, _, epoch in keys]
        crops = self.region.decode_files([self.samples[index][0] for index, _, _ in keys],
                                         lambda k, height, width: random_resized_crop_box(height, width, gens[k]))
        return [(torch.zeros((3, size, size), dtype=torch.uint8), IGNORE_LABEL, index) if crop is None else
                (resize_and_flip(crop, size, g, self.flip), self.samples[index][1], index)
                for crop, g, (index, size, _) in zip(crops, gens, keys)]


def _collate_bytes(batch):
    data, labels, index = zip(*batch)
    return list(data), torch.tensor(labels), torch.tensor(index)


def stack_hwc(images) -> torch.Tensor:
    """N×H×W×3 uint8 batch of CHW images. The resize leaves each image channels-last in memory, so
    its HWC view is contiguous and this is a plain copy, where stacking CHW would transpose."""
    return torch.stack([img.permute(1, 2, 0) for img in images])


def _collate_hwc(batch):
    data, labels, index = zip(*batch)
    return stack_hwc(data), torch.tensor(labels), torch.tensor(index)


class _Plan:
    """Batch sampler whose batches the owner sets before each pass (iterated in the main process)."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, int, int]]] = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class ImageNetData:
    sharded = True      # yields this rank's rows of each global batch; skipped batches are never read

    def __init__(self, tree: ImageTree, *, device: torch.device | str = "cpu", seed: int = 0, workers: int = 0,
                 flip: bool = True, gpu_decode: bool | None = None, max_bad_fraction: float = MAX_BAD_FRACTION,
                 default_size: int = 224, rect_val: bool = False, size_multiple: int = 32,
                 decoder: str = "torchvision") -> None:
        self.tree, self.device, self.seed = tree, torch.device(device), seed
        self.rank, self.world = env_rank()
        self.gpu_decode = self.device.type == "cuda" if gpu_decode is None else gpu_decode
        if decoder not in DECODERS:
            raise DataError(f"data.decoder must be one of {', '.join(DECODERS)}, got {decoder!r}")
        if decoder == "nvimgcodec" and (why := imagenet_roi.missing()):
            raise DataError(f"data.decoder=nvimgcodec: {why}")
        self.decoder = decoder
        self.default_size = default_size
        self.rect_val, self.size_multiple = rect_val, size_multiple
        self._val_ratios: list[float] | None = None      # rectangular validation: read once, when first needed
        self.max_bad = max_bad_fraction * (len(tree.train) + len(tree.val))
        self.bad_images: dict[str, str] = {}
        self.info = DatasetInfo(name="imagenet", num_train=len(tree.train), num_eval=len(tree.val),
                                num_classes=len(tree.classes), checksum=tree.checksum, verified=False)
        # (x - mean) / std as one multiply and one add over the NHWC batch (channel innermost)
        self._scale = 1 / torch.tensor(STD, device=self.device)
        self._shift = -torch.tensor(MEAN, device=self.device) * self._scale
        self._rows: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._plans = {"train": _Plan(), "val": _Plan()}
        self._loaders = {split: self._loader(split, samples, workers, flip)
                         for split, samples in (("train", tree.train), ("val", tree.val))}

    def _loader(self, split: str, samples, workers: int, flip: bool) -> DataLoader:
        if split == "train" and self.decoder == "nvimgcodec" and not self.gpu_decode:
            ds = RegionJpegFiles(samples, seed=self.seed, flip=flip)
        else:
            ds = JpegFiles(samples, train=split == "train", seed=self.seed, flip=flip, decode=not self.gpu_decode)
        return DataLoader(ds, batch_sampler=self._plans[split], num_workers=workers,
                          pin_memory=self.device.type == "cuda", persistent_workers=workers > 0,
                          prefetch_factor=4 if workers > 0 else None,
                          collate_fn=_collate_bytes if self.gpu_decode else _collate_hwc)

    def steps_per_epoch(self, batch_size: int) -> int:
        return self.info.num_train // batch_size

    def _check_batch(self, batch_size: int) -> int:
        if batch_size % self.world:
            raise DataError(f"global batch {batch_size} does not split over {self.world} ranks; "
                            f"set data.batch_size to a multiple of {self.world}")
        if self.info.num_train < batch_size:
            raise DataError(f"{self.tree.root / 'train'} has {self.info.num_train} images, fewer than one global "
                            f"batch of {batch_size}; lower it with --set data.batch_size=N")
        return batch_size // self.world

    def train_batches(self, epoch: int, batch_size: int, generator: torch.Generator,
                      image_size: int | None = None, start_batch: int = 0
                      ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self._check_batch(batch_size)
        size = image_size or self.default_size
        order = torch.randperm(self.info.num_train, generator=generator).tolist()
        rows = _rank_slice(batch_size, self.rank, self.world)
        self._plans["train"].batches = [
            [(i, size, epoch) for i in order[s * batch_size:(s + 1) * batch_size][rows]]
            for s in range(start_batch, self.steps_per_epoch(batch_size))]
        for batch in self._loaders["train"]:
            x, y = self._to_device(batch, size, epoch, train=True)
            yield x, y

    def eval_batches(self, batch_size: int, image_size: int | None = None
                     ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        size = image_size or self.default_size
        mine = list(range(self.rank, self.info.num_eval, self.world))  # every image once over the ranks
        per_rank = max(1, batch_size // self.world)
        self._plans["val"].batches = [[(i, size, 0) for i in mine[s:s + per_rank]]
                                      for s in range(0, len(mine), per_rank)]
        if self.rect_val:
            if self._val_ratios is None:
                self._val_ratios = imagenet_rect.aspect_ratios(self.tree.val)
            self._plans["val"].batches = imagenet_rect.rank_plan(self._val_ratios, batch_size, size,
                                                                 self.size_multiple, self.rank, self.world)
        for batch in self._loaders["val"]:
            x, y = self._to_device(batch, size, 0, train=False)
            keep = y != IGNORE_LABEL
            if not bool(keep.all()):
                x, y = x[keep], y[keep]
            yield x, y

    def unreadable_images(self) -> dict[str, str]:
        return dict(self.bad_images)

    def _to_device(self, batch, size: int, epoch: int, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        data, labels, index = batch
        if self.gpu_decode:
            data, labels = self._decode_on_device(data, labels, index, size, epoch, train)
        bad = (labels == IGNORE_LABEL).nonzero().flatten().tolist()
        if bad:
            self._report_bad([int(index[i]) for i in bad], train)
        return self._normalise(data.to(self.device, non_blocking=True)), labels.to(self.device, non_blocking=True)

    def _normalise(self, data: torch.Tensor) -> torch.Tensor:
        """uint8 N×H×W×3 → float N×3×H×W (channels-last in memory, as the models run), normalised.
        The per-channel factors are tiled along a whole row: broadcasting a 3-vector over the
        innermost dimension is several times slower than over a row of W·3 values."""
        n, h, w, c = data.shape
        if w not in self._rows:
            self._rows[w] = (self._scale.repeat(w), self._shift.repeat(w))
        scale, shift = self._rows[w]
        x = data.float()
        x.view(n * h, w * c).mul_(scale).add_(shift)
        return x.permute(0, 3, 1, 2)

    def _decode_on_device(self, data: list[torch.Tensor], labels, index, size, epoch, train):
        out = []
        labels = labels.clone()
        for k, img in enumerate(decode_batch_on_device(data, self.device)):
            if img is None:
                labels[k] = IGNORE_LABEL
                out.append(torch.zeros((3, *imagenet_rect.height_width(size)), dtype=torch.uint8, device=self.device))
            elif train:
                out.append(train_transform(img, size, sample_generator(self.seed, epoch, int(index[k])),
                                           self._loaders["train"].dataset.flip))
            else:
                out.append(eval_transform(img, size))
        return stack_hwc(out), labels

    def _report_bad(self, indices: list[int], train: bool) -> None:
        samples = self.tree.train if train else self.tree.val
        for i in indices:
            path = samples[i][0]
            if path in self.bad_images:
                continue
            try:
                decode_jpeg(read_file(path))
                reason = "decoded in the main process but not in a worker"
            except RuntimeError as exc:
                reason = str(exc).splitlines()[0]
            self.bad_images[path] = reason
        if len(self.bad_images) > self.max_bad:
            listed = "; ".join(f"{p} ({r})" for p, r in list(self.bad_images.items())[:5])
            raise DataError(f"{len(self.bad_images)} unreadable images under {self.tree.root}, more than the "
                            f"{self.max_bad:.1f} allowed: {listed}; re-extract or delete them")


def _rank_slice(batch: int, rank: int, world: int) -> slice:
    per = batch // world
    return slice(rank * per, (rank + 1) * per)


def check(recipe, *, data_dir=None, synthetic=False) -> list[str]:
    if synthetic:
        if data_dir is not None:
            raise DataError("pass either --data DIR or --synthetic, not both")
        return []
    if data_dir is None:
        raise DataError("ImageNet needs --data DIR (train/<wnid>/*.JPEG, val/<wnid>/*.JPEG), "
                        "or --synthetic for a throughput-only run")
    classes = check_tree(Path(data_dir))
    notes = []
    if recipe.data.decoder == "nvimgcodec" and (why := imagenet_roi.missing()):
        notes.append(f"data.decoder=nvimgcodec: {why}; decoding whole images with torchvision instead "
                     "(the same batches, slower)")
    if len(classes) != recipe.model.num_classes:
        notes.append(f"{data_dir} has {len(classes)} classes; the model's head is sized from the recipe "
                     f"({recipe.model.num_classes}); set --set model.num_classes={len(classes)} to match")
    return notes


def make(recipe, *, device, data_dir=None, synthetic=False, seed: int = 0):
    check(recipe, data_dir=data_dir, synthetic=synthetic)
    if synthetic:
        return SyntheticImageNet(recipe, device)
    # the plan's check() has said so when the region decoder is missing
    decoder = "torchvision" if imagenet_roi.missing() else recipe.data.decoder
    return ImageNetData(scan_tree(Path(data_dir)), device=device, seed=seed, workers=recipe.data.workers,
                        flip=recipe.data.flip, default_size=recipe.data.eval_size or recipe.data.image_size or 224,
                        rect_val=recipe.data.rect_val, size_multiple=recipe.data.size_multiple,
                        decoder=decoder)
