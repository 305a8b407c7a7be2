"""plan → run → price → summarise: the one path from a request to records on disk.

    plan = make_plan(TrainRequest(recipe="digits", runs=3))   # every input checked, nothing written
    group = execute(plan, events)                              # runs, cost.json, group file

The orchestrator never prints; it returns typed results and tells an `Events` listener what happens.
"""
from repro.orchestrator.execute import execute
from repro.orchestrator.plan import Plan, make_plan
from repro.orchestrator.request import PlanError, TrainRequest
from repro.orchestrator.results import Events, GroupResult, NoEvents, RunResult, RunStart

__all__ = ["Events", "GroupResult", "NoEvents", "Plan", "PlanError", "RunResult", "RunStart", "TrainRequest",
           "execute", "make_plan"]
