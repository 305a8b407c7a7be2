"""The shipped tables an estimate starts from, each figure with its source (repro/estimate/data/):

    throughput.csv        training images/s per GPU model and count, for a model, resolution and precision
    gpu_specs.csv         dense fp16 tensor TFLOPS, fp32 TFLOPS and memory bandwidth per GPU model
    epochs_to_target.csv  the epoch at which a recipe (or the published entry it follows) reached its target

and the datasets' sizes. A malformed row raises TableError naming file and line.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


class TableError(ValueError):
    """A shipped table is missing or malformed; the message names file and line."""


@dataclass(frozen=True)
class Figure:
    """One published training throughput."""
    model: str
    width: int
    depth: int
    num_classes: int
    image_size: int
    precision: str
    gpu_model: str
    gpu_count: int
    images_per_s: float
    series: str          # figures measured together (one benchmark); ratios are taken within a series
    source: str
    checked: str


@dataclass(frozen=True)
class GpuSpec:
    gpu_model: str
    fp16_tensor_tflops: float
    fp32_tflops: float
    memory_gb_per_s: float
    source: str


@dataclass(frozen=True)
class PublishedEpochs:
    recipe: str
    epochs_to_target: tuple[int, ...]   # one value per run (several for a seed sweep)
    of_epochs: int                      # the length of the schedule they were measured with
    source: str
    checked: str


@dataclass(frozen=True)
class Dataset:
    train_images: int
    eval_images: int
    channels: int
    native_size: int
    drops_last_batch: bool     # the DataSource yields only whole batches (floor), else ceil
    source: str

    def steps_per_epoch(self, batch_size: int) -> int:
        if self.drops_last_batch:
            return max(1, self.train_images // batch_size)
        return math.ceil(self.train_images / batch_size)


DATASETS: dict[str, Dataset] = {
    "digits": Dataset(1437, 360, 1, 8, False,
                      "scikit-learn's load_digits (1,797 scans), split 80/20 by repro.train.data.digits"),
    "cifar10": Dataset(50_000, 10_000, 3, 32, True, "https://www.cs.toronto.edu/~kriz/cifar.html"),
    "imagenet": Dataset(1_281_167, 50_000, 3, 224, True,
                        "https://image-net.org/challenges/LSVRC/2012/ (ILSVRC-2012 train and validation)"),
}

# the series used first when several measured the same GPU; NVIDIA's own figures come from the
# reference implementation with its real data pipeline
SERIES_ORDER = ("nvidia-dle", "airbench", "lambda")


def _rows(name: str) -> list[tuple[str, dict[str, str]]]:
    path = DATA_DIR / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TableError(f"{path}: cannot read the shipped table ({exc}); reinstall repro") from None
    reader = csv.DictReader(text.splitlines())
    return [(f"{path}:{reader.line_num}", row) for row in reader]


def _number(where: str, row: dict[str, str], key: str, kind=float):
    try:
        value = kind(row[key])
    except (KeyError, TypeError, ValueError):
        raise TableError(f"{where}: {key} {row.get(key)!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise TableError(f"{where}: {key} must be a positive finite number, got {value!r}")
    return value


def _text(where: str, row: dict[str, str], key: str) -> str:
    value = (row.get(key) or "").strip()
    if not value:
        raise TableError(f"{where}: empty {key}; every row needs it")
    return value


@lru_cache(maxsize=1)
def figures() -> tuple[Figure, ...]:
    out = []
    for where, row in _rows("throughput.csv"):
        series = _text(where, row, "series")
        if series not in SERIES_ORDER:
            raise TableError(f"{where}: unknown series {series!r}; known: {', '.join(SERIES_ORDER)}")
        out.append(Figure(
            model=_text(where, row, "model"), width=_number(where, row, "width", int),
            depth=int(row.get("depth") or 0), num_classes=_number(where, row, "num_classes", int),
            image_size=_number(where, row, "image_size", int), precision=_text(where, row, "precision"),
            gpu_model=_text(where, row, "gpu_model"), gpu_count=_number(where, row, "gpu_count", int),
            images_per_s=_number(where, row, "images_per_s"), series=series,
            source=_text(where, row, "source"), checked=_text(where, row, "checked")))
    return tuple(out)


@lru_cache(maxsize=1)
def gpu_specs() -> dict[str, GpuSpec]:
    out = {}
    for where, row in _rows("gpu_specs.csv"):
        model = _text(where, row, "gpu_model")
        out[model.upper()] = GpuSpec(model, _number(where, row, "fp16_tensor_tflops"),
                                     _number(where, row, "fp32_tflops"), _number(where, row, "memory_gb_per_s"),
                                     _text(where, row, "source"))
    return out


@lru_cache(maxsize=1)
def published_epochs() -> dict[str, PublishedEpochs]:
    out = {}
    for where, row in _rows("epochs_to_target.csv"):
        try:
            values = tuple(int(v) for v in _text(where, row, "epochs_to_target").split())
        except ValueError:
            raise TableError(f"{where}: epochs_to_target must be whole epochs separated by spaces") from None
        of_epochs = _number(where, row, "of_epochs", int)
        if any(not 1 <= v <= of_epochs for v in values):
            raise TableError(f"{where}: every epochs_to_target must be in 1..{of_epochs}")
        recipe = _text(where, row, "recipe")
        out[recipe] = PublishedEpochs(recipe, values, of_epochs, _text(where, row, "source"),
                                      _text(where, row, "checked"))
    return out
