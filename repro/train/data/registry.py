"""Dataset name (recipe.data.name) → its module's `check` and `make` (see repro.train.data)."""
from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from repro.train.data import DataError, DataSource

# imported on demand, so digits never pays for torchvision's JPEG stack
MODULES: dict[str, str] = {
    "digits": "repro.train.data.digits",
    "cifar10": "repro.train.data.cifar",
    "imagenet": "repro.train.data.imagenet",
}


def module(name: str) -> ModuleType:
    try:
        return importlib.import_module(MODULES[name])
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(MODULES))}") from None


# datasets whose source hands out un-augmented training images (`init_images`) for a model's
# data-dependent initialisation (model.whiten_images)
INIT_IMAGES: tuple[str, ...] = ("cifar10",)


def check(recipe, *, data_dir: Path | None, synthetic: bool) -> list[str]:
    """Look at the inputs without loading them; raises DataError, returns notes for the user."""
    if recipe.model.whiten_images and recipe.data.name not in INIT_IMAGES:
        raise DataError(f"model.whiten_images needs training images from the dataset, which only "
                        f"{', '.join(INIT_IMAGES)} provides; set --set model.whiten_images=0")
    return module(recipe.data.name).check(recipe, data_dir=data_dir, synthetic=synthetic)


def init_images(recipe, data, count: int):
    """The first `count` training images, normalised and not augmented (see INIT_IMAGES)."""
    if recipe.data.name not in INIT_IMAGES:
        raise DataError(f"dataset {recipe.data.name!r} provides no images for data-dependent initialisation")
    return data.init_images(count)


def make(recipe, *, device, data_dir: Path | None, synthetic: bool, seed: int) -> DataSource:
    return module(recipe.data.name).make(recipe, device=device, data_dir=data_dir, synthetic=synthetic, seed=seed)
