"""Datasets behind one interface (`DataSource`), so the loop never knows which one it trains on.

Every dataset module provides two functions, listed in `repro.train.data.registry`:

    check(recipe, *, data_dir, synthetic) -> list[str]   cheap look at the inputs before anything is
                                                          written; raises DataError, returns notes
    make(recipe, *, device, data_dir, synthetic, seed) -> DataSource
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol, runtime_checkable

import torch

Batch = tuple[torch.Tensor, torch.Tensor]


class DataError(ValueError):
    """A dataset is missing, truncated or malformed; the message names the file and what to do."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    num_train: int
    num_eval: int
    num_classes: int
    checksum: str                  # sha256 over the files (or a manifest of paths and sizes)
    verified: bool                 # checksum matched the official one
    synthetic: bool = False


@runtime_checkable
class DataSource(Protocol):
    """What the loop asks of a dataset. `sharded` sources yield this rank's rows of each global
    batch themselves; the others yield whole global batches and the loop slices them."""

    info: DatasetInfo
    sharded: bool

    def steps_per_epoch(self, batch_size: int) -> int:
        """Training batches in one epoch at this global batch size."""
        ...

    def train_batches(self, epoch: int, batch_size: int, generator: torch.Generator,
                      image_size: int | None = None, start_batch: int = 0) -> Iterator[Batch]:
        """The epoch's batches from `start_batch` on. The epoch's order is drawn from `generator` in
        full either way, so a resumed epoch sees exactly the batches the interrupted one had left."""
        ...

    def eval_batches(self, batch_size: int, image_size: int | None = None) -> Iterator[Batch]:
        """The evaluation set in a fixed order (each rank's share when sharded)."""
        ...

    def unreadable_images(self) -> dict[str, str]:
        """Images left out because they could not be read so far: path → reason."""
        ...
