"""Datasets behind one small interface (`DataSource`), so the loop never knows which one it trains on."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

import torch


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


class DataSource(Protocol):
    info: DatasetInfo

    def train_batches(self, epoch: int, batch_size: int, generator: torch.Generator,
                      image_size: int | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...

    def eval_batches(self, batch_size: int, image_size: int | None = None
                     ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...

    def steps_per_epoch(self, batch_size: int) -> int: ...
