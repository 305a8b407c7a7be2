"""A torchrun rank: `python -m repro.orchestrator.worker PLAN_FILE` (started by relaunch.py).

Every rank runs the same plan; rank 0 writes the run directories and reports its events to the
file beside the plan, the others train their share and report nothing. The exit status is the
group's: 0 when every run finished, 3 when one failed, 128 + the signal when interrupted.
"""
from __future__ import annotations

import sys
from pathlib import Path

from repro.harness import signals
from repro.orchestrator.execute import execute
from repro.orchestrator.plan import Plan
from repro.orchestrator.relaunch import EVENTS_FILE, EventFile
from repro.orchestrator.results import NoEvents


def main(argv: list[str]) -> int:
    signals.install()
    from repro.train import distributed

    plan_file = Path(argv[0])
    plan = Plan.from_json(plan_file.read_text(encoding="utf-8"))
    rank, _ = distributed.env_rank()
    events = EventFile(plan_file.parent / EVENTS_FILE) if rank == 0 else NoEvents()
    try:
        group = execute(plan, events)
    finally:
        if isinstance(events, EventFile):
            events.close()
        distributed.teardown()
    if group.signal:
        return 128 + group.signal
    return 0 if group.ok else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
