"""Library entry points: everything the `repro` command does, as functions that return data.

    from repro import api
    group = api.train("digits", runs=3, epochs=5)
    group.ok, group.summary["time_to_target"], [r.run_dir for r in group.runs]

    api.build_report("results", "reports/site")

Nothing here prints. Training calls take an `events` listener (repro.orchestrator.Events) to
follow runs as they go.
"""
from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from repro.harness import store
from repro.orchestrator import Events, GroupResult, Plan, TrainRequest, execute, make_plan
from repro.orchestrator.checks import recorded_data_dir
from repro.recipes import Recipe, from_dict

_REQUEST_FIELDS = {f.name for f in fields(TrainRequest)}


def plan(recipe: str | Recipe = "digits", **options: Any) -> Plan:
    """Resolve and check a training request without running it (PlanError says what is wrong)."""
    unknown = sorted(set(options) - _REQUEST_FIELDS)
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(_REQUEST_FIELDS))}")
    for key in ("results_dir", "data_dir", "snapshot_path", "resume"):
        if options.get(key) is not None:
            options[key] = Path(options[key])
    if "overrides" in options:
        options["overrides"] = tuple(options["overrides"])
    return plan_request(TrainRequest(recipe=recipe, **options))


def plan_request(request: TrainRequest) -> Plan:
    """make_plan, and with `request.estimate` the time-to-target estimate its runs keep in run.json
    (measured runs in the results folder, else a calibration on the run's device: seconds)."""
    checked = make_plan(request)
    if not request.estimate:
        return checked
    from repro.estimate import estimate_for_run

    doc = estimate_for_run(checked.recipe, checked.device, checked.results_dir,
                           world_size=checked.ranks.nproc_per_node * checked.ranks.nnodes)
    return replace(checked, estimate=doc)


def estimate(recipe: str | Recipe, **options: Any):
    """Projected time and cost to target on every matching offer (repro.estimate.EstimateRequest's
    fields as keywords); returns a repro.estimate.Estimate."""
    from repro.estimate import EstimateRequest
    from repro.estimate import estimate as run_estimate

    return run_estimate(EstimateRequest(recipe=recipe, **options))


def train(recipe: str | Recipe = "digits", *, events: Events | None = None, **options: Any) -> GroupResult:
    """Train `recipe` `runs` times (seeds seed, seed+1, …), price each run, write the group file."""
    return execute(plan(recipe, **options), events)


def rerun(run_dir: Path | str, *, results_dir: Path | None = None, device: str | None = None,
          snapshot_path: Path | None = None, events: Events | None = None) -> GroupResult:
    """Train again with a run's recorded config and seed; same code + data → same per-epoch metrics."""
    run_dir = Path(run_dir)
    old = store.load_run(run_dir).data
    hw = old.get("hardware") or {}
    return train(from_dict(old["config"]), runs=1, seed=old["seed"],
                 results_dir=results_dir or run_dir.parent.parent,
                 device=device or ("cuda" if hw.get("accelerator") == "cuda" else "cpu"),
                 synthetic=bool(old.get("synthetic_data")), snapshot_path=snapshot_path,
                 data_dir=recorded_data_dir(old), events=events)


def run_table(results_dir: Path | str) -> tuple[list[dict], list[str]]:
    """Rows of `repro runs` and the messages of unreadable run directories."""
    from repro.report.table import run_rows
    return run_rows(Path(results_dir))


def build_report(results_dir: Path | str, out_dir: Path | str, snapshot_path: Path | str | None = None) -> Path:
    """Render the static site; returns its index.html."""
    from repro.report.build import build_site
    return build_site(Path(results_dir), Path(out_dir), Path(snapshot_path) if snapshot_path else None)


# ---- leaderboard side: compare, the regression gate, published entries ----

def compare(a: str, b: str, results_dir: Path | str = "results") -> dict:
    """`repro compare A B`: two runs or groups (directories, ids or group files) side by side."""
    from repro.report.compare import compare as compare_sides
    return compare_sides(a, b, Path(results_dir))


def check_regressions(site_dir: Path | str, threshold: str = "10%") -> list[dict]:
    """`repro report --fail-on-regression`'s findings for a site already rendered."""
    from repro.report import regression
    return regression.check(regression.site_runs(Path(site_dir)), regression.parse_threshold(threshold))


def import_dawnbench(path: Path | str, *, names: list[str] | None = None, commit: str | None = None,
                     snapshot_path: Path | str | None = None) -> tuple[dict, list[str]]:
    """`repro import dawnbench PATH` without writing: (published-records document, entries left out)."""
    from repro.pricing.catalog import load_snapshot
    from repro.report.dawnbench_entries import import_entries
    return import_entries(Path(path), snapshot=load_snapshot(snapshot_path), names=names, commit=commit)
