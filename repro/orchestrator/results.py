"""What the orchestrator hands back: typed results of runs and groups, and the events it emits
while it works. It never prints; the caller (a command, a notebook, a test) decides what to show.

Every result carries the run directory it was made from. Nothing is ever looked up afterwards.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class RunStart:
    """A run is about to start (index counts from 0)."""
    index: int
    total: int
    recipe: str
    seed: int
    device: str
    target_metric: str
    target: float


@dataclass(frozen=True)
class RunResult:
    """One run as it ended: its directory, how it ended, and what pricing wrote for it."""
    run_dir: Path | None            # None only on ranks other than 0, which write nothing
    seed: int
    status: str                     # finished | diverged | failed | interrupted
    error: str | None = None
    record: dict[str, Any] = field(default_factory=dict)   # run.json as written
    cost: dict[str, Any] | None = None                     # cost.json as written, None when unpriced
    cost_error: str | None = None   # why pricing wrote no cost.json
    signal: int | None = None       # the signal that interrupted it

    @property
    def ok(self) -> bool:
        return self.status == "finished"

    @property
    def outcome(self) -> dict[str, Any]:
        return self.record.get("outcome") or {}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["run_dir"] = str(self.run_dir) if self.run_dir is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        return cls(**{**d, "run_dir": Path(d["run_dir"]) if d.get("run_dir") else None})


@dataclass(frozen=True)
class GroupResult:
    """The runs of one command (seeds seed, seed+1, …) and their summary (the group file)."""
    group_id: str
    recipe: str
    runs: tuple[RunResult, ...] = ()
    summary: dict[str, Any] | None = None     # the group file's content; None when none was written
    path: Path | None = None                  # the group file
    returncode: int | None = None             # torchrun's exit status when the runs ran as ranks
    signal_received: int | None = None        # SIGTERM/SIGINT that ended the group (between runs too)
    group_error: str | None = None            # why no group file was written (a full disk)

    @property
    def interrupted(self) -> bool:
        return (self.signal_received is not None or any(r.status == "interrupted" for r in self.runs)
                or self.returncode in (130, 143, -2, -15))

    @property
    def signal(self) -> int | None:
        if self.signal_received is not None:
            return self.signal_received
        for r in self.runs:
            if r.signal is not None:
                return r.signal
        return {130: 2, 143: 15, -2: 2, -15: 15}.get(self.returncode or 0)

    @property
    def ok(self) -> bool:
        if self.returncode not in (None, 0) or self.group_error:
            return False
        return bool(self.runs) and all(r.ok for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "recipe": self.recipe, "runs": [r.to_dict() for r in self.runs],
                "summary": self.summary, "path": str(self.path) if self.path else None,
                "returncode": self.returncode, "signal_received": self.signal_received,
                "group_error": self.group_error}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupResult:
        return cls(group_id=d["group_id"], recipe=d["recipe"],
                   runs=tuple(RunResult.from_dict(r) for r in d.get("runs", [])),
                   summary=d.get("summary"), path=Path(d["path"]) if d.get("path") else None,
                   returncode=d.get("returncode"), signal_received=d.get("signal_received"),
                   group_error=d.get("group_error"))


class Events(Protocol):
    """What a caller hears while runs go on. Every method may be a no-op."""

    def run_started(self, start: RunStart) -> None: ...
    def batch_done(self, epoch: int, batch: int, batches: int) -> None: ...
    def epoch_ended(self, row: dict[str, Any]) -> None: ...
    def run_ended(self, result: RunResult) -> None: ...
    def group_ended(self, group: GroupResult) -> None: ...


class NoEvents:
    """An Events that hears nothing (library calls without a listener, ranks other than 0)."""

    def run_started(self, start: RunStart) -> None:
        pass

    def batch_done(self, epoch: int, batch: int, batches: int) -> None:
        pass

    def epoch_ended(self, row: dict[str, Any]) -> None:
        pass

    def run_ended(self, result: RunResult) -> None:
        pass

    def group_ended(self, group: GroupResult) -> None:
        pass
