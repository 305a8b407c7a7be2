"""plan → run → price → summarise. The only code that calls the trainer and then pricing.

Each run's directory is made here, before training starts, and travels with the run's result:
whatever happens to the run, its result names its own directory and nothing else.

SIGTERM and SIGINT end a group in order whenever they come. The bookkeeping between runs (making a
directory, pricing, the group file) runs `held` (repro.harness.signals): a signal there is noted,
the step finishes, no further run starts, and the group file says the group was interrupted. A
signal while a run is being set up is raised as soon as the run's guard is in place, so that run is
marked `interrupted`; one during training stops at the next step boundary with a checkpoint.
"""
from __future__ import annotations

import signal
from dataclasses import replace

from repro.harness import rundirs, signals, store
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
    results: list[RunResult] = []
    with signals.held() as pending:
        snapshot = _snapshot(plan) if writer else None
        for index, seed in enumerate(plan.seeds):
            if pending:
                break
            events.run_started(RunStart(index=index, total=len(plan.seeds), recipe=plan.recipe.name, seed=seed,
                                        device=plan.device, target_metric=plan.recipe.target_metric,
                                        target=plan.recipe.target))
            result = run_one(plan, seed, events)
            if writer and result.run_dir is not None:
                result = price(result, snapshot)
            results.append(result)
            events.run_ended(result)
            if result.status == "interrupted" or (writer and result.run_dir is None):
                break
        received = pending.take() or next((r.signal for r in results if r.signal), None)
        if writer:
            group = summarise(plan, results, received)
        else:
            group = GroupResult(plan.group_id, plan.recipe.name, tuple(results), signal_received=received)
    events.group_ended(group)
    return group


def _snapshot(plan: Plan):
    return load_snapshot(plan.snapshot_path)


def _first_record(plan: Plan, seed: int, world_size: int):
    from repro.harness.run import initial_record

    def record(run_id: str) -> dict:
        return initial_record(run_id, recipe=plan.recipe, seed=seed, group_id=plan.group_id, device=plan.device,
                              world_size=world_size, synthetic_data=plan.synthetic)
    return record


def run_one(plan: Plan, seed: int, events: Events) -> RunResult:
    """One training run in its own directory; every way it can end comes back as a RunResult."""
    from repro.train.distributed import env_rank
    from repro.train.loop import TrainOptions, run_recipe

    rank, world_size = env_rank()
    writer = rank == 0
    run_dir = plan.resume_dir
    if run_dir is None and writer:
        try:
            run_dir = rundirs.create_run_dir(plan.results_dir, plan.recipe.name,
                                             _first_record(plan, seed, world_size))
        except (store.StoreError, OSError) as exc:   # a full disk, a folder gone read-only
            return RunResult(run_dir=None, seed=seed, status="failed", error=str(exc))
    opts = TrainOptions(run_dir=run_dir, seed=seed, device=plan.device, data_dir=plan.data_dir,
                        synthetic=plan.synthetic, resume=plan.resume_dir is not None, group_id=plan.group_id,
                        price_snapshot_id=plan.snapshot_id, command=list(plan.command),
                        on_epoch=events.epoch_ended, on_batch=events.batch_done,
                        stop_at_target=plan.stop_at_target, estimate=plan.estimate)
    signum, error = None, None
    try:
        run_recipe(plan.recipe, opts)
    except Interrupted as exc:
        signum = exc.signum
    except KeyboardInterrupt:
        signum = signal.SIGINT
    except Exception as exc:  # noqa: BLE001 - the run directory records it; the next seed still runs
        error = f"{type(exc).__name__}: {exc}"
    if not writer:
        return RunResult(run_dir=None, seed=seed, status="interrupted" if signum else "finished", signal=signum)
    record = _ended_record(run_dir, signum, error)
    return RunResult(run_dir=run_dir, seed=seed, status=record.get("status", "failed"), error=record.get("error"),
                     record=record, signal=int(signum) if signum else None)


def _ended_record(run_dir, signum: int | None, error: str | None) -> dict:
    """The run's record as it ended. A run stopped before its session could mark it (a signal or an
    error while it was being set up) is marked here, so none stays `running`."""
    from repro.harness.run import close_record

    try:
        if signum is not None:
            return close_record(run_dir, "interrupted", f"received {signal.Signals(signum).name}")
        return close_record(run_dir, "failed", error or "the run stopped before its session ended")
    except (store.StoreError, OSError) as exc:
        return {"status": "failed", "error": f"run.json unreadable after the run: {exc}"}


def price(result: RunResult, snapshot) -> RunResult:
    """cost.json for the run, written by pricing from the run's own run.json."""
    try:
        return replace(result, cost=price_run(result.run_dir, snapshot))
    except (ValueError, OSError) as exc:
        return replace(result, cost_error=str(exc))


def summarise(plan: Plan, results: list[RunResult], received: int | None = None) -> GroupResult:
    """The group file (rewritten after a resume); a group file that cannot be written is reported in
    the result, not raised, so the runs' own outcome decides the exit status."""
    records = [r.record for r in results if r.run_dir is not None and r.record]
    group_id = plan.group_id
    try:
        if plan.resume_dir is not None:
            group_id = (records[0].get("group_id") if records else None) or plan.group_id
            doc, path = update_group(plan.results_dir, plan.recipe, records[0]) if records else (None, None)
        else:
            doc, path = write_group(plan.results_dir, plan.recipe, plan.group_id, records,
                                    planned=len(plan.seeds), interrupted_by=received)
    except (store.StoreError, OSError) as exc:
        return GroupResult(group_id, plan.recipe.name, tuple(results), signal_received=received,
                           group_error=f"group file not written: {exc}")
    return GroupResult(group_id, plan.recipe.name, tuple(results), doc, path, signal_received=received)
