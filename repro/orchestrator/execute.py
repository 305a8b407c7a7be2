"""plan → run → price → summarise. The only code that calls the trainer and then pricing.

Each run's directory is made here, before training starts, and travels with the run's result:
whatever happens to the run, its result names its own directory and nothing else.
"""
from __future__ import annotations

import signal
from dataclasses import replace

from repro.harness import store
from repro.harness.signals import Interrupted
from repro.orchestrator.plan import Plan
from repro.orchestrator.relaunch import run_as_ranks
from repro.orchestrator.results import Events, GroupResult, NoEvents, RunResult, RunStart
from repro.orchestrator.summary import update_group, write_group
from repro.pricing.billing import price_run
from repro.pricing.catalog import load_snapshot

# repro.train (torch) is imported inside the functions that train: planning, pricing and the
# command line start in a fraction of the time torch takes to import


def execute(plan: Plan, events: Events | None = None) -> GroupResult:
    """Run the plan's seeds one after the other (as torchrun ranks when it asks for several processes),
    price each run, write the group file; returns what happened. Prints nothing."""
    from repro.train.distributed import env_rank, under_torchrun

    events = events or NoEvents()
    if plan.ranks.many and not under_torchrun():
        return run_as_ranks(plan, events)
    writer = env_rank()[0] == 0
    snapshot = _snapshot(plan) if writer else None
    results: list[RunResult] = []
    for index, seed in enumerate(plan.seeds):
        events.run_started(RunStart(index=index, total=len(plan.seeds), recipe=plan.recipe.name, seed=seed,
                                    device=plan.device, target_metric=plan.recipe.target_metric,
                                    target=plan.recipe.target))
        result = run_one(plan, seed, events)
        if writer and result.run_dir is not None:
            result = price(result, snapshot)
        events.run_ended(result)
        results.append(result)
        if result.status == "interrupted":
            break
    group = summarise(plan, results) if writer else GroupResult(plan.group_id, plan.recipe.name, tuple(results))
    events.group_ended(group)
    return group


def _snapshot(plan: Plan):
    return load_snapshot(plan.snapshot_path)


def run_one(plan: Plan, seed: int, events: Events) -> RunResult:
    """One training run in its own directory; every way it can end comes back as a RunResult."""
    from repro.train.distributed import env_rank
    from repro.train.loop import TrainOptions, run_recipe

    writer = env_rank()[0] == 0
    run_dir = plan.resume_dir
    if run_dir is None and writer:
        run_dir = store.create_run_dir(plan.results_dir, plan.recipe.name)
    opts = TrainOptions(run_dir=run_dir, seed=seed, device=plan.device, data_dir=plan.data_dir,
                        synthetic=plan.synthetic, resume=plan.resume_dir is not None, group_id=plan.group_id,
                        price_snapshot_id=plan.snapshot_id, command=list(plan.command),
                        on_epoch=events.epoch_ended, on_batch=events.batch_done,
                        stop_at_target=plan.stop_at_target, estimate=plan.estimate)
    signum = None
    try:
        run_recipe(plan.recipe, opts)
    except Interrupted as exc:
        signum = exc.signum
    except KeyboardInterrupt:
        signum = signal.SIGINT
    except Exception:  # noqa: BLE001 - the run directory records it; the next seed still runs
        pass
    if not writer:
        return RunResult(run_dir=None, seed=seed, status="interrupted" if signum else "finished", signal=signum)
    record = _read_record(run_dir)
    return RunResult(run_dir=run_dir, seed=seed, status=record.get("status", "failed"), error=record.get("error"),
                     record=record, signal=int(signum) if signum else None)


def _read_record(run_dir) -> dict:
    try:
        return store.read_json(run_dir / store.RUN_FILE)
    except store.StoreError as exc:
        return {"status": "failed", "error": f"run.json unreadable after the run: {exc}"}


def price(result: RunResult, snapshot) -> RunResult:
    """cost.json for the run, written by pricing from the run's own run.json."""
    try:
        return replace(result, cost=price_run(result.run_dir, snapshot))
    except (ValueError, OSError) as exc:
        return replace(result, cost_error=str(exc))


def summarise(plan: Plan, results: list[RunResult]) -> GroupResult:
    records = [r.record for r in results if r.run_dir is not None and r.record]
    if plan.resume_dir is not None:
        doc, path = update_group(plan.results_dir, plan.recipe, records[0]) if records else (None, None)
        group_id = (records[0].get("group_id") if records else None) or plan.group_id
        return GroupResult(group_id, plan.recipe.name, tuple(results), doc, path)
    doc, path = write_group(plan.results_dir, plan.recipe, plan.group_id, records)
    return GroupResult(plan.group_id, plan.recipe.name, tuple(results), doc, path)
