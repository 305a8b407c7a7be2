"""scikit-learn's load_digits: 1,797 real 8×8 scans of handwritten digits, shipped inside scikit-learn.

Fixed split: a stratified 80/20 split with a fixed random_state, so every run, seed and machine sees the
same 1,437 training and 360 validation images. Pixel values 0..16 are scaled to [0, 1] and standardised
with the training set's mean and std. The whole set lives on the device; batches are index slices.
"""
from __future__ import annotations

import hashlib
import math
from typing import Iterator

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from repro.train.data import DataError, DatasetInfo

SPLIT_SEED = 20180502  # the seed post's date; fixed forever so the split never moves
EVAL_FRACTION = 0.2


class DigitsData:
    sharded = False

    def __init__(self, device: torch.device | str = "cpu") -> None:
        digits = load_digits()
        images = digits.images.astype(np.float32) / 16.0
        labels = digits.target.astype(np.int64)
        checksum = hashlib.sha256(digits.images.astype(np.uint8).tobytes() + labels.tobytes()).hexdigest()
        x_tr, x_ev, y_tr, y_ev = train_test_split(images, labels, test_size=EVAL_FRACTION,
                                                  random_state=SPLIT_SEED, stratify=labels)
        mean, std = float(x_tr.mean()), float(x_tr.std())
        self.device = torch.device(device)
        self.x_train = torch.from_numpy((x_tr - mean) / std).unsqueeze(1).to(self.device)
        self.y_train = torch.from_numpy(y_tr).to(self.device)
        self.x_eval = torch.from_numpy((x_ev - mean) / std).unsqueeze(1).to(self.device)
        self.y_eval = torch.from_numpy(y_ev).to(self.device)
        self.info = DatasetInfo(name="digits", num_train=len(y_tr), num_eval=len(y_ev), num_classes=10,
                                checksum="sha256:" + checksum, verified=True)

    def steps_per_epoch(self, batch_size: int) -> int:
        return math.ceil(self.info.num_train / batch_size)

    def train_batches(self, epoch: int, batch_size: int, generator: torch.Generator,
                      image_size: int | None = None, start_batch: int = 0
                      ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(self.info.num_train, generator=generator).to(self.device)
        for i in range(start_batch * batch_size, self.info.num_train, batch_size):
            idx = order[i:i + batch_size]
            yield self.x_train[idx], self.y_train[idx]

    def eval_batches(self, batch_size: int, image_size: int | None = None
                     ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for i in range(0, self.info.num_eval, batch_size):
            yield self.x_eval[i:i + batch_size], self.y_eval[i:i + batch_size]


    def unreadable_images(self) -> dict[str, str]:
        return {}


def check(recipe, *, data_dir=None, synthetic=False) -> list[str]:
    if synthetic:
        raise DataError("digits ships real scans; --synthetic is for the CIFAR and ImageNet recipes")
    if data_dir is not None:
        raise DataError("digits is embedded in scikit-learn; drop --data")
    return []


def make(recipe, *, device, data_dir=None, synthetic=False, seed: int = 0) -> DigitsData:
    check(recipe, data_dir=data_dir, synthetic=synthetic)
    return DigitsData(device)
