"""Checkpoints for resume: everything a run needs to continue bit-for-bit where it stopped.

A checkpoint holds the model, optimiser and GradScaler state, the schedule position (epoch in
progress, batches of it already done, global step, the partial loss sum of that epoch), the data
order generator as it was when that epoch began (so the epoch's order is drawn again, and the done
batches skipped), the global RNG states, and the run's clock (seconds counted so far) so a resumed
run's time to target includes the time before the interruption.

Written by rank 0 only, atomically (temp file + rename): a SIGKILL mid-save leaves the previous
checkpoint intact. A checkpoint holds tensors and plain data only (the numpy RNG state is stored as a
tensor), so it is read with `torch.load(weights_only=True)`: a checkpoint from a shared bucket cannot
run code when it is loaded.

When one is written: at the end of the last epoch, at an epoch end once `checkpoint_every_s` (60 s
by default) have passed since the last one, and at the next step boundary after SIGTERM/SIGINT
(repro.train.loop). A run killed outright resumes from the last of these.
"""
from __future__ import annotations

import errno
import os
import random
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT_VERSION = 2   # 2: RNG states as tensors and plain data, read with weights_only=True
WHEN_WRITTEN = ("one is written at the end of the last epoch, at an epoch end at most every 60 s, "
                "and at the next step after SIGTERM/SIGINT")


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or belongs to another recipe; the message says what to do."""


@dataclass
class Position:
    epoch: int                      # 1-based epoch in progress (the next one when an epoch just ended)
    batches_done: int               # batches of `epoch` already trained
    step: int                       # optimiser steps so far
    loss_sum: float                 # training loss summed over the samples of `epoch` seen so far
    seen: int                       # samples of `epoch` seen so far (all ranks)
    elapsed_s: float                # run clock (MLPerf rule: run_start → now), all segments so far
    training_s: float               # elapsed_s minus evaluation time (DAWNBench column)


def rng_state() -> dict[str, Any]:
    """Every RNG's state as tensors and plain data (what weights_only loading accepts)."""
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    numpy_state = {"kind": str(kind), "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                   "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}
    state = {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scaler, position: Position,
         epoch_generator_state: torch.Tensor, recipe_hash: str, seed: int, world_size: int,
         extra_state: dict[str, Any] | None = None) -> None:
    """Atomically write the checkpoint to `path` (the run directory's checkpoint.pt). `extra_state`:
    what optional training behaviours keep between steps (a weight average), read back by the loop."""
    path = Path(path)
    blob = {
        "format_version": FORMAT_VERSION,
        "recipe_hash": recipe_hash,
        "seed": seed,
        "world_size": world_size,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict(),
        "position": asdict(position),
        "epoch_generator_state": epoch_generator_state,
        "rng": rng_state(),
        "extra_state": extra_state or {},
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(blob, tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)   # a torn temp file must not keep the space the run needs next
        if isinstance(exc, RuntimeError) and _disk_full(path.parent):
            # torch's zip writer says only "unexpected pos …" when a write comes up short
            raise OSError(errno.ENOSPC, f"No space left on device writing the checkpoint {path}") from exc
        raise


def _disk_full(folder: Path) -> bool:
    try:
        info = os.statvfs(folder)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < (1 << 20)


def load(path: Path, *, recipe_hash: str | None = None) -> dict[str, Any]:
    """Read a checkpoint; with `recipe_hash`, refuse one written for another configuration."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; the run stopped before its first checkpoint "
                              f"({WHEN_WRITTEN}): start it again instead")
    if path.is_symlink():
        raise CheckpointError(f"{path} is a symbolic link; a run's checkpoint is a file of its own run directory")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a damaged or foreign file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {first_line}); "
                              "it may be truncated, written by a repro before checkpoint format "
                              f"{FORMAT_VERSION}, or hold more than tensors and plain data: start the run again"
                              ) from None
    if not isinstance(blob, dict) or blob.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {blob.get('format_version') if isinstance(blob, dict) else '?'}"
                              f", this repro reads format {FORMAT_VERSION}; resume with the release that wrote it")
    if recipe_hash is not None and blob["recipe_hash"] != recipe_hash:
        raise CheckpointError(f"{path} was written for recipe config {blob['recipe_hash']}, not {recipe_hash}; "
                              "resume with the run's recorded config (drop --set/--epochs/--target)")
    blob["position"] = Position(**blob["position"])
    return blob


def restore(blob: dict[str, Any], *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scaler,
            generator: torch.Generator) -> Position:
    """Load states into live objects; the generator gets the state of the epoch in progress's start."""
    model.load_state_dict(blob["model"])
    optimizer.load_state_dict(blob["optimizer"])
    scaler.load_state_dict(blob["scaler"])
    generator.set_state(blob["epoch_generator_state"])
    set_rng_state(blob["rng"])
    return blob["position"]
