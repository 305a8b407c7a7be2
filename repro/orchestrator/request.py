"""What a caller asks the orchestrator for, before anything is resolved or checked."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repro.recipes import Recipe

MAX_SEED = 2**63 - 1   # torch.manual_seed's upper bound for a signed 64-bit seed


class PlanError(ValueError):
    """An input cannot be used; the message says which and what to do instead."""


@dataclass(frozen=True)
class TrainRequest:
    """What a caller asks for, as given (a command line, a library call)."""
    recipe: str | Recipe = "digits"
    runs: int = 1
    seed: int = 0
    target: float | None = None
    epochs: int | None = None
    precision: str | None = None
    overrides: tuple[str, ...] = ()
    results_dir: Path = Path("results")
    device: str | None = None
    data_dir: Path | None = None
    synthetic: bool = False
    snapshot_path: Path | None = None
    stop_at_target: bool = False
    gpus: int | None = None
    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None
    resume: Path | None = None
    command: tuple[str, ...] = ()
    family: str | None = None        # the command that asked (digits, cifar, imagenet); None: any recipe
    estimate: bool = False           # keep a time-to-target estimate in run.json (repro.api attaches it)
