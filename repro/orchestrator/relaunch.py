"""Runs as torchrun ranks, from a plan file.

The parent writes the resolved plan to a private folder and starts
`torchrun … -m repro.orchestrator.worker PLAN_FILE`; every rank reads the same plan, so nothing is
re-stated on a command line. Rank 0 appends each event (run started, epoch, run ended, group) as a
JSON line to `events.jsonl` beside the plan; the parent follows that file and hands the events to
its caller as they come, then returns the group the ranks reported.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from repro.launch import torchrun
from repro.orchestrator.plan import Plan
from repro.orchestrator.results import Events, GroupResult, RunResult, RunStart

WORKER_MODULE = "repro.orchestrator.worker"
PLAN_FILE = "plan.json"
EVENTS_FILE = "events.jsonl"


class EventFile:
    """An Events that appends each event to a file as one JSON line (rank 0 of a torchrun job)."""

    def __init__(self, path: Path) -> None:
        self._fh: IO[str] = open(path, "a", encoding="utf-8")

    def _put(self, kind: str, data: Any) -> None:
        self._fh.write(json.dumps({"type": kind, "data": data}, default=str) + "\n")
        self._fh.flush()

    def run_started(self, start: RunStart) -> None:
        self._put("run_started", asdict(start))

    def batch_done(self, epoch: int, batch: int, batches: int) -> None:
        self._put("batch_done", [epoch, batch, batches])

    def epoch_ended(self, row: dict) -> None:
        self._put("epoch_ended", row)

    def run_ended(self, result: RunResult) -> None:
        self._put("run_ended", result.to_dict())

    def group_ended(self, group: GroupResult) -> None:
        self._put("group_ended", group.to_dict())

    def close(self) -> None:
        self._fh.close()


class _Follower:
    """Reads the events file as rank 0 appends to it and replays each complete line."""

    def __init__(self, path: Path, events: Events) -> None:
        self.path, self.events = path, events
        self.offset = 0
        self.group: GroupResult | None = None
        self.runs: list[RunResult] = []

    def poll(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n") + 1     # a line still being written waits for the next poll
        self.offset += end
        for line in chunk[:end].splitlines():
            self._replay(json.loads(line))

    def _replay(self, event: dict) -> None:
        kind, data = event["type"], event["data"]
        if kind == "run_started":
            self.events.run_started(RunStart(**data))
        elif kind == "batch_done":
            self.events.batch_done(*data)
        elif kind == "epoch_ended":
            self.events.epoch_ended(data)
        elif kind == "run_ended":
            result = RunResult.from_dict(data)
            self.runs.append(result)
            self.events.run_ended(result)
        elif kind == "group_ended":
            self.group = GroupResult.from_dict(data)


def run_as_ranks(plan: Plan, events: Events) -> GroupResult:
    """Start the plan's ranks under torchrun and wait; returns the group rank 0 reported (with
    torchrun's exit status), or the runs it reported before it died."""
    folder = Path(tempfile.mkdtemp(prefix="repro-plan-"))
    try:
        (folder / PLAN_FILE).write_text(plan.to_json(), encoding="utf-8")
        follower = _Follower(folder / EVENTS_FILE, events)
        process = torchrun.start(WORKER_MODULE, [str(folder / PLAN_FILE)], plan.ranks)
        returncode = torchrun.wait(process, poll=follower.poll)
        follower.poll()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    group = follower.group or GroupResult(plan.group_id, plan.recipe.name, tuple(follower.runs))
    group = GroupResult(group.group_id, group.recipe, group.runs, group.summary, group.path, returncode,
                        group.signal_received, group.group_error)
    events.group_ended(group)
    return group
