"""Dataset name (recipe.data.name) → constructor `make(recipe, *, device, data_dir, synthetic)`."""
from __future__ import annotations

import importlib
from typing import Callable

from repro.train.data import DataError

# name → "module:function"; imported on demand so digits never pays for torchvision's JPEG stack
FACTORIES: dict[str, str] = {
    "digits": "repro.train.data.digits:make",
    "cifar10": "repro.train.data.cifar:make",
    "imagenet": "repro.train.data.imagenet:make",
}


def factory(name: str) -> Callable:
    try:
        target = FACTORIES[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(FACTORIES))}") from None
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)
