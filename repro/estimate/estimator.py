"""`estimate()`: time and cost to target of a recipe on every offer that can hold it, before a cent is
spent. `estimate_for_run()`: the same for the hardware a run is about to use, kept in its run.json.

    from repro.estimate import EstimateRequest, estimate
    result = estimate(EstimateRequest("cifar-airbench", gpus=("H100:1",)))
    result.rows[0]["time_to_target_s"], result.rows[0]["billed_usd"], result.rows[0]["basis"]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from repro.estimate import offers, projection, steps, throughput
from repro.estimate.calibrate import DEFAULT_BUDGET_S, Calibration, calibrate
from repro.estimate.measured import Hardware, StoreView, hardware_of, read_store
from repro.pricing.catalog import Snapshot, load_snapshot
from repro.recipes import Recipe, RecipeError, apply_overrides, resolve


class EstimateError(ValueError):
    """An input the estimate cannot use; the message says what to do instead."""


@dataclass(frozen=True)
class EstimateRequest:
    recipe: str | Recipe
    gpus: tuple[str, ...] = ()           # "H100:8", "V100" (every count offered); () every offer
    market: str = "all"                  # spot | on-demand | all
    calibrate: bool = False
    device: str = "cpu"                  # where --calibrate runs
    runs_from: Path | None = Path("results")
    snapshot_path: Path | None = None
    epochs: int | None = None
    target: float | None = None
    overrides: tuple[str, ...] = ()
    calibration_budget_s: float = DEFAULT_BUDGET_S


@dataclass
class Estimate:
    recipe: Recipe
    epochs_to_target: steps.EpochsToTarget
    snapshot: Snapshot
    rows: list[dict] = field(default_factory=list)          # ranked, cheapest first
    unmatched: list[dict] = field(default_factory=list)     # hardware × provider × market with no offer
    unestimated: list[dict] = field(default_factory=list)   # hardware offered but with no basis
    calibration: Calibration | None = None
    measured_runs: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        r = self.recipe
        return {"recipe": r.name, "recipe_hash": r.hash(), "task": r.task,
                "target": {"metric": r.target_metric, "value": r.target}, "epochs": r.epochs,
                "epochs_to_target": self.epochs_to_target.to_dict(),
                "snapshot_id": self.snapshot.id, "snapshot_fetched_at": self.snapshot.fetched_at.isoformat(),
                "stale": self.snapshot.stale(), "rows": self.rows, "unmatched": self.unmatched,
                "unestimated": self.unestimated, "measured_runs": self.measured_runs,
                "calibration": self.calibration.to_dict() if self.calibration else None,
                "warnings": self.warnings}


def _recipe(request: EstimateRequest) -> Recipe:
    try:
        if isinstance(request.recipe, Recipe):
            changes = {k: v for k, v in (("epochs", request.epochs), ("target", request.target)) if v is not None}
            return apply_overrides(apply_overrides(request.recipe, changes), list(request.overrides))
        return resolve(request.recipe, epochs=request.epochs, target=request.target,
                       overrides=tuple(request.overrides))
    except RecipeError as exc:
        raise EstimateError(str(exc)) from None


def _candidates(request: EstimateRequest, recipe: Recipe, snapshot: Snapshot, view: StoreView,
                cal: Calibration | None) -> list[Hardware]:
    """Explicit --gpu choices; else every GPU model × count the snapshot sells (GPU recipes), and the
    hardware that measured runs or the calibration stand on."""
    if request.gpus:
        found = [hw for text in request.gpus for hw in offers.parse_gpu(text, snapshot)]
    else:
        found = []
        if recipe.gpus > 0:
            found += [Hardware(m, c) for m, counts in sorted(offers.snapshot_gpus(snapshot).items())
                      for c in sorted(counts)]
        found += list(view.by_hardware)
        if cal is not None and hardware_of(cal.hardware) is not None:
            found.append(hardware_of(cal.hardware))
    if not found:
        raise EstimateError(f"{recipe.name} trains without a GPU and nothing measures it yet: pass --calibrate to "
                            f"time it on this machine, --runs-from a results folder holding runs of it, or "
                            f"--gpu MODEL[:COUNT]")
    return list(dict.fromkeys(found))


def _same_gpu(a: Hardware, b: Hardware | None) -> bool:
    if b is None:
        return False
    if not a.is_gpu or not b.is_gpu:
        return a == b
    return (a.gpu_model or "").upper() == (b.gpu_model or "").upper()


def project(recipe: Recipe, hw: Hardware, epochs: steps.EpochsToTarget, view: StoreView,
            cal: Calibration | None) -> projection.Projection:
    """The best basis for one hardware: measured, then calibrated, then the table. Raises
    throughput.NoFigure (a ValueError) with the reason when none reaches it."""
    measured = next((runs for key, runs in view.by_hardware.items()
                     if key == hw or (hw.is_gpu and _same_gpu(hw, key) and key.gpu_count == hw.gpu_count)), None)
    if measured is not None:
        return projection.from_measured(measured)
    if cal is not None and _same_gpu(hw, hardware_of(cal.hardware)):
        return projection.from_calibration(cal, recipe, epochs, hw)
    if not hw.is_gpu:
        raise throughput.NoFigure(f"no measured run on {hw.label()} and no calibration on it; "
                                  "train the recipe there once, or run `repro estimate --calibrate` on it")
    return projection.from_table(recipe, epochs, hw)


def estimate(request: EstimateRequest) -> Estimate:
    """Project time and cost to target on every matching offer (see the module's docstring)."""
    recipe = _recipe(request)
    if not 0 < request.calibration_budget_s <= 3600:
        raise EstimateError(f"--calibrate-seconds must be in (0, 3600], got {request.calibration_budget_s!r}")
    try:
        markets = offers.markets_for(request.market)
        snapshot = load_snapshot(request.snapshot_path)
        view = read_store(recipe, request.runs_from)
        epochs = steps.epochs_to_target(recipe, view.epochs_to_target, f" in {view.results_dir}")
        cal = calibrate(recipe, request.device, request.calibration_budget_s) if request.calibrate else None
        candidates = _candidates(request, recipe, snapshot, view, cal)
    except offers.OfferError as exc:
        raise EstimateError(str(exc)) from None
    result = Estimate(recipe, epochs, snapshot, calibration=cal,
                      measured_runs=sum(len(r.times_s) for r in view.by_hardware.values()))
    rows = []
    for hw in candidates:
        try:
            proj = project(recipe, hw, epochs, view, cal)
        except throughput.NoFigure as exc:
            result.unestimated.append({"hardware": hw.label(), "reason": str(exc)})
            continue
        priced, unmatched = offers.price(proj, snapshot, markets)
        rows += priced
        result.unmatched += unmatched
    result.rows = offers.rank(rows)
    if view.errors:
        result.warnings.append(f"{len(view.errors)} unreadable run(s) under {view.results_dir} left out: "
                               f"{view.errors[0]}")
    if snapshot.stale():
        result.warnings.append(f"price snapshot {snapshot.id} is {snapshot.age_days():.0f} days old; "
                               "run `repro prices update` for current prices")
    return result


def estimate_for_run(recipe: Recipe, device: str, results_dir: Path | None, world_size: int = 1,
                     budget_s: float = DEFAULT_BUDGET_S) -> dict:
    """The estimate a run keeps in its run.json (`estimate`): its own hardware, best basis first
    (measured runs in its results folder, a calibration on its device, the table)."""
    from repro.harness import hardware, store

    detected = hardware.detect(device, world_size)
    if detected.get("accelerator") == "cuda":
        detected["gpu_count"] = world_size   # the GPUs this run uses (detect counts those on the box)
    hw = hardware_of(detected)
    if hw is None:
        raise EstimateError(f"cannot tell the hardware of device {device!r}; drop --estimate")
    view = read_store(recipe, results_dir)
    epochs = steps.epochs_to_target(recipe, view.epochs_to_target, f" in {view.results_dir}")
    measured = view.by_hardware.get(hw)
    cal = None if measured is not None else calibrate(recipe, device, budget_s)
    proj = project(recipe, hw, epochs, view, cal)
    return {**proj.to_dict(), "epochs_to_target": epochs.to_dict(), "recipe_hash": recipe.hash(),
            "estimated_at": store.iso(store.utc_now())}
