"""MLPerf-format event log (`:::MLLOG {...}` lines) written through the mlperf-logging package.

One MLLogger per run, bound to its own `logging.Logger` and file handler, so several runs in one
process (`--runs N`) never write into each other's files. Rank 0 only: other ranks get a logger that
drops every event. `read_events(path)` reads a log back into dicts for the clock rules.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from mlperf_logging.mllog.mllog import MLLogger
from mlperf_logging.mllog import constants

LINE_PREFIX = ":::MLLOG "
C = constants  # re-exported for callers: mllog.C.RUN_START, …


class RunLogger:
    def __init__(self, path: Path | None, *, enabled: bool = True) -> None:
        self.path = path
        self.enabled = enabled and path is not None
        self._logger = logging.getLogger(f"repro.mllog.{id(self)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._handler: logging.Handler | None = None
        if self.enabled:
            self._handler = logging.FileHandler(path, mode="a", encoding="utf-8")
            self._handler.setFormatter(logging.Formatter("%(message)s"))
            self._logger.addHandler(self._handler)
        else:
            self._logger.addHandler(logging.NullHandler())
        # stack offset 2: the call site recorded in metadata is our caller, not this wrapper
        self._ml = MLLogger(logger=self._logger, default_stack_offset=2)

    def event(self, key: str, value=None, **metadata) -> None:
        if self.enabled:
            self._ml.event(key=key, value=value, metadata=metadata or None)
            self._flush()

    def start(self, key: str, value=None, **metadata) -> None:
        if self.enabled:
            self._ml.start(key=key, value=value, metadata=metadata or None)
            self._flush()

    def end(self, key: str, value=None, **metadata) -> None:
        if self.enabled:
            self._ml.end(key=key, value=value, metadata=metadata or None)
            self._flush()

    def _flush(self) -> None:
        # each line reaches the disk as it happens: a killed run keeps every event before the kill
        if self._handler is not None:
            self._handler.flush()

    def close(self) -> None:
        if self._handler is not None:
            self._handler.close()
            self._logger.removeHandler(self._handler)
            self._handler = None


def read_events(path: Path) -> list[dict]:
    """Parse `:::MLLOG` lines; a torn last line (a run killed mid-write) is ignored."""
    events = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith(LINE_PREFIX):
            continue
        try:
            events.append(json.loads(line[len(LINE_PREFIX):]))
        except json.JSONDecodeError:
            continue
    return events
