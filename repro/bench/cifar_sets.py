"""CIFAR-shaped sets for the bench: random tensors (throughput) and a learnable set (accuracy).

airbench reads `<dir>/train.pt` and `<dir>/test.pt`, each `{"images": uint8 N×32×32×3, "labels":
int64 N, "classes": [names]}` (airbench 0.1.8, airbench/utils.py, CifarLoader); repro reads the
python batches (repro.train.data.cifar_files). Both are written from the same arrays, so the two
trainers see the same images.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from repro.train.data.cifar import synthetic_arrays
from repro.train.data.cifar_files import LABEL_NAMES, CifarArrays, write_python_batches


def random_set(num_train: int, num_eval: int, seed: int = 0) -> CifarArrays:
    """repro's own `--synthetic` CIFAR arrays (uniform random pixels and labels)."""
    return synthetic_arrays(num_train, num_eval, seed)


def learnable_set(num_train: int, num_eval: int, seed: int = 0) -> CifarArrays:
    """Ten classes, each a colour and a stripe frequency and direction, under pixel noise: a net
    that learns reaches well over 90 % in a few epochs, one that does not stays near 10 %."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    colours = rng.integers(40, 215, size=(10, 3)).astype(np.float32)
    patterns = np.stack([np.sin((xx if c % 2 else yy) * (0.3 + 0.12 * c)) * 50 for c in range(10)])

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, n)
        noise = rng.normal(0, 20, size=(n, 3, 32, 32)).astype(np.float32)
        images = colours[labels][:, :, None, None] + patterns[labels][:, None] + noise
        return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)

    x_train, y_train = draw(num_train)
    x_test, y_test = draw(num_eval)
    return CifarArrays(x_train, y_train, x_test, y_test, checksum=f"bench-learnable:{num_train}+{num_eval}:{seed}",
                       verified=False, mismatched=())


def write_airbench_layout(arrays: CifarArrays, folder: Path) -> Path:
    """`folder/train.pt` and `folder/test.pt` in airbench's layout (N×32×32×3, channels last)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, x, y in (("train.pt", arrays.x_train, arrays.y_train), ("test.pt", arrays.x_test, arrays.y_test)):
        torch.save({"images": torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 3, 1))),
                    "labels": torch.from_numpy(y), "classes": list(LABEL_NAMES)}, folder / name)
    return folder


def write_repro_layout(arrays: CifarArrays, folder: Path) -> Path:
    """The python batches repro's `--data DIR` reads."""
    write_python_batches(folder, arrays.x_train, arrays.y_train, arrays.x_test, arrays.y_test)
    return folder
