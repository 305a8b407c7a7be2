"""Synthetic ImageNet: random images of the real shape and label range, made on the device, for
throughput runs (`--synthetic`); never an accuracy claim."""
from __future__ import annotations

import torch

from repro.train.data import DatasetInfo
from repro.train.distributed import env_rank

SYNTHETIC_TRAIN_BATCHES = 32
SYNTHETIC_EVAL_BATCHES = 4


class SyntheticImageNet:
    """Random images of the real shape and label range, made on the device: throughput only."""
    sharded = True

    def __init__(self, recipe, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.rank, self.world = env_rank()
        self.num_classes = recipe.model.num_classes
        self.default_size = recipe.data.image_size or 224
        # data.synthetic_images sets the training set's size, as it does for CIFAR
        n_train = recipe.data.synthetic_images or SYNTHETIC_TRAIN_BATCHES * recipe.data.batch_size
        n_eval = SYNTHETIC_EVAL_BATCHES * recipe.data.eval_batch_size
        self.info = DatasetInfo(name="imagenet-synthetic", num_train=n_train, num_eval=n_eval,
                                num_classes=self.num_classes, checksum="synthetic", verified=False, synthetic=True)

    def steps_per_epoch(self, batch_size: int) -> int:
        return self.info.num_train // batch_size

    def _batch(self, n: int, size: int, g: torch.Generator):
        x = torch.randn((n, 3, size, size), generator=g, device=self.device)
        y = torch.randint(0, self.num_classes, (n,), generator=g, device=self.device)
        return x, y

    def train_batches(self, epoch, batch_size, generator, image_size=None, start_batch=0):
        g = torch.Generator(device=self.device).manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        for step in range(self.steps_per_epoch(batch_size)):
            batch = self._batch(batch_size // self.world, image_size or self.default_size, g)
            if step >= start_batch:   # the skipped ones are drawn too, so the later ones match
                yield batch

    def unreadable_images(self) -> dict[str, str]:
        return {}

    def eval_batches(self, batch_size, image_size=None):
        g = torch.Generator(device=self.device).manual_seed(self.rank)
        for _ in range(SYNTHETIC_EVAL_BATCHES):
            yield self._batch(max(1, batch_size // self.world), image_size or self.default_size, g)
