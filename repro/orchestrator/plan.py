"""The plan step: every input resolved and checked before anything is written.

`make_plan(TrainRequest(...))` returns a `Plan` (a recipe, seeds, device, folders, snapshot, ranks)
or raises `PlanError` with one line that says what to do. No directory is created and no file is
written here; a Plan is plain data, written to a file when the runs go to torchrun ranks.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from repro.harness import store
from repro.launch.torchrun import LaunchError, Ranks
from repro.orchestrator import checks
from repro.orchestrator.request import PlanError, TrainRequest
from repro.recipes import Recipe, RecipeError, apply_overrides, from_dict, resolve

PLAN_VERSION = 1


@dataclass(frozen=True)
class Plan:
    """A resolved, checked request: what each run (and each rank) does."""
    recipe: Recipe
    seeds: tuple[int, ...]
    device: str
    results_dir: Path
    snapshot_path: Path | None
    snapshot_id: str
    group_id: str
    data_dir: Path | None = None
    synthetic: bool = False
    stop_at_target: bool = False
    ranks: Ranks = field(default_factory=Ranks)
    resume_dir: Path | None = None
    command: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()      # things worth saying before the runs start
    estimate: dict | None = None     # repro.estimate's projection for this hardware, kept in run.json

    @property
    def recipe_dir(self) -> Path:
        return self.results_dir / self.recipe.name

    def to_json(self) -> str:
        d = asdict(self)
        d.update(recipe=self.recipe.to_dict(), version=PLAN_VERSION)
        return json.dumps(d, default=str, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        d = json.loads(text)
        if d.pop("version", None) != PLAN_VERSION:
            raise PlanError("the plan file was written by another repro version; start the command again")
        paths = ("results_dir", "snapshot_path", "data_dir", "resume_dir")
        return cls(**{**d, "recipe": from_dict(d["recipe"]), "seeds": tuple(d["seeds"]),
                      "ranks": Ranks(**d["ranks"]), "command": tuple(d["command"]), "notes": tuple(d["notes"]),
                      **{k: Path(d[k]) if d[k] is not None else None for k in paths}})


def make_plan(request: TrainRequest) -> Plan:
    """Resolve and check every input; raises PlanError before anything is written."""
    try:
        if request.resume is not None:
            request = checks.resume_request(request)
        recipe = _recipe(request)
        checks.family(recipe, request.family)
        checks.record_names(recipe)
        seeds = checks.seeds(request.seed, request.runs)
        device = checks.device(request.device)
        results_dir = checks.results_dir(request.results_dir, recipe)
        notes = checks.data(recipe, request.data_dir, request.synthetic)
        checks.model(recipe)
        checks.environment()
        snapshot_path, snapshot_id = checks.snapshot(request.snapshot_path)
        ranks = checks.ranks(request, recipe, device)
    except (RecipeError, LaunchError, ValueError) as exc:
        raise PlanError(str(exc)) from None
    return Plan(recipe=recipe, seeds=seeds, device=device, results_dir=results_dir, snapshot_path=snapshot_path,
                snapshot_id=snapshot_id, group_id=store.new_run_id(), stop_at_target=request.stop_at_target,
                data_dir=_absolute(request.data_dir), synthetic=request.synthetic, ranks=ranks,
                resume_dir=_absolute(request.resume), command=tuple(request.command), notes=tuple(notes))


def _recipe(request: TrainRequest) -> Recipe:
    if isinstance(request.recipe, Recipe):
        recipe = request.recipe
        if any(v is not None for v in (request.target, request.epochs, request.precision)) or request.overrides:
            changes = {k: v for k, v in (("target", request.target), ("epochs", request.epochs),
                                         ("precision", request.precision)) if v is not None}
            recipe = apply_overrides(apply_overrides(recipe, changes), list(request.overrides))
        return recipe
    return resolve(request.recipe, target=request.target, epochs=request.epochs, precision=request.precision,
                   overrides=tuple(request.overrides))


def _absolute(path: Path | None) -> Path | None:
    return Path(os.path.abspath(path)) if path is not None else None
