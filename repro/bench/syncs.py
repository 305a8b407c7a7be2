"""Counting host–device syncs of a training loop, step by step.

A GPU runs ahead of the Python that feeds it until the host reads a value the device computed
(`.item()`, `.tolist()`, `bool(t)`, `float(t)`), or waits for a collective's result: each such read
drains the queue and leaves the GPU idle until the host has sent the next kernels. The counter
wraps those reads and torch.distributed's collectives, so the same count works on a CPU (where the
reads cost nothing, but the loop that makes them would stall a GPU) and on a GPU. On CUDA it also
turns on torch's own detector (`torch.cuda.set_sync_debug_mode`), which sees syncs made inside
C++ too, and counts its warnings.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

_READS = ("item", "tolist", "__bool__", "__float__", "__int__")
_COLLECTIVES = ("all_reduce", "all_gather", "broadcast", "reduce", "all_gather_into_tensor")


@dataclass
class SyncCounter:
    reads: int = 0                  # device values read on the host
    collectives: int = 0            # torch.distributed calls made from Python
    marks: list[tuple[int, int, int]] = field(default_factory=list)
    detected: list = field(default_factory=list)   # warnings caught while counting

    @property
    def cuda_syncs(self) -> int:
        """Syncs torch's CUDA detector reported so far (0 off CUDA)."""
        return sum("synchroniz" in str(w.message) for w in self.detected)

    @property
    def syncs(self) -> int:
        """Host waits: a read, or a CUDA-detected sync, whichever counted more (the detector sees a
        read too, so the two are not added)."""
        return max(self.reads, self.cuda_syncs)

    def mark(self) -> None:
        """Record the counts so far (call once per training step)."""
        self.marks.append((self.syncs, self.collectives, len(self.marks)))

    def per_step(self) -> list[tuple[int, int]]:
        """(syncs, collectives) made between consecutive marks."""
        return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(self.marks, self.marks[1:])]


def _wrap(counter: SyncCounter, attr: str, fn):
    def counted(*args, **kwargs):
        setattr(counter, attr, getattr(counter, attr) + 1)
        return fn(*args, **kwargs)
    return counted


@contextlib.contextmanager
def count_syncs(device: torch.device | str = "cpu") -> Iterator[SyncCounter]:
    """Count host reads of tensors and Python-level collectives inside the block."""
    counter = SyncCounter()
    saved_reads = {name: getattr(torch.Tensor, name) for name in _READS}
    saved_collectives = {name: getattr(dist, name) for name in _COLLECTIVES if hasattr(dist, name)}
    on_cuda = torch.device(device).type == "cuda"
    for name, fn in saved_reads.items():
        setattr(torch.Tensor, name, _wrap(counter, "reads", fn))
    for name, fn in saved_collectives.items():
        setattr(dist, name, _wrap(counter, "collectives", fn))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counter.detected = caught
        if on_cuda:
            torch.cuda.set_sync_debug_mode("warn")
        try:
            yield counter
        finally:
            if on_cuda:
                torch.cuda.set_sync_debug_mode("default")
            for name, fn in saved_reads.items():
                setattr(torch.Tensor, name, fn)
            for name, fn in saved_collectives.items():
                setattr(dist, name, fn)
