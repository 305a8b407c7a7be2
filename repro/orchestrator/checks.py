"""The plan step's checks, one per input. Each returns the resolved value or raises PlanError
(or RecipeError / LaunchError, which make_plan turns into one) with what to do instead.
None of them writes anything."""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from repro.harness import records, rundirs, store
from repro.launch.torchrun import Ranks
from repro.orchestrator.request import MAX_SEED, PlanError, TrainRequest
from repro.recipes import Recipe, command_for, from_dict

MAX_RUNS = 1000


def family(recipe: Recipe, asked_by: str | None) -> None:
    """`repro digits --recipe cifar-airbench` names the command that trains it."""
    wanted = command_for(recipe)
    if asked_by is not None and wanted != asked_by:
        raise PlanError(f"recipe {recipe.name!r} trains on {recipe.data.name}; run it with "
                        f"`repro {wanted} --recipe {recipe.name}`")


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def record_names(recipe: Recipe) -> None:
    """The recipe's name (a folder name under --results) and task (a leaderboard, and a file name in
    the site) as the run.json schema takes them: `--set task=a/b` is refused here, not found later
    as a record the report cannot read."""
    task_pattern = records.schema("run")["$defs"]["task"]["pattern"]
    if not re.match(task_pattern, recipe.task):
        raise PlanError(f"task {recipe.task!r}: use letters, digits, '.', '_' and '-' (at most 64, starting with "
                        "a letter or digit), e.g. --set task=digits")
    if not _SAFE_NAME.match(recipe.name):
        raise PlanError(f"recipe name {recipe.name!r}: use letters, digits, '.', '_' and '-' (at most 128, starting "
                        "with a letter or digit); it names the run's folder under --results")


def seeds(seed: int, runs: int) -> tuple[int, ...]:
    if not 1 <= runs <= MAX_RUNS:
        raise PlanError(f"--runs must be ≥ 1 and ≤ {MAX_RUNS}, got {runs}")
    if not 0 <= seed <= MAX_SEED - (runs - 1):
        raise PlanError(f"--seed must be in 0..{MAX_SEED - (runs - 1)} (a signed 64-bit seed for each of the "
                        f"{runs} runs), got {seed}")
    return tuple(range(seed, seed + runs))


def device(name: str | None) -> str:
    import torch

    if name is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return name
    kind, _, index = name.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise PlanError(f"--device {name!r}: use cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise PlanError(f"--device {name}: no CUDA GPU is visible here; use --device cpu")
    if index and int(index) >= torch.cuda.device_count():
        raise PlanError(f"--device {name}: this machine shows {torch.cuda.device_count()} GPUs (cuda:0.."
                        f"cuda:{torch.cuda.device_count() - 1})")
    return name


def results_dir(path: Path, recipe: Recipe) -> Path:
    """The results folder (as given), writable or creatable; the recipe's folder in it must not lead
    elsewhere (a symlink out of --results)."""
    root = Path(os.path.abspath(path))
    existing = root
    while not existing.exists():
        if existing.is_symlink():
            raise PlanError(f"--results {path}: {existing} is a broken symbolic link; pass a writable --results DIR")
        existing = existing.parent
    if not existing.is_dir():
        raise PlanError(f"cannot create results directory {path}: {existing} is not a directory; "
                        "pass a writable --results DIR")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PlanError(f"results directory {existing} is not writable; pass a writable --results DIR")
    recipe_dir = root / recipe.name
    if os.path.lexists(recipe_dir):
        real_root, real_dir = os.path.realpath(root), os.path.realpath(recipe_dir)
        if os.path.dirname(real_dir) != real_root or not os.path.isdir(real_dir):
            raise PlanError(f"{recipe_dir} leads to {real_dir}, outside --results {path}; remove it or "
                            "pass another --results DIR")
    return Path(path)


def data(recipe: Recipe, data_dir: Path | None, synthetic: bool) -> list[str]:
    from repro.train.data import DataError, registry

    try:
        return registry.check(recipe, data_dir=Path(data_dir) if data_dir is not None else None,
                              synthetic=synthetic)
    except DataError as exc:
        raise PlanError(str(exc)) from None


def environment() -> None:
    """What provenance will read from the environment, checked now rather than mid-run."""
    from repro.harness.provenance import image_digest
    image_digest()


def model(recipe: Recipe) -> None:
    from repro.train.models import MODELS

    if recipe.model.name not in MODELS:
        raise PlanError(f"model.name {recipe.model.name!r} is not a model repro builds; known models: "
                        f"{', '.join(sorted(MODELS))}")
    if recipe.model.frozen_after:
        _frozen_names(recipe)


def _frozen_names(recipe: Recipe) -> None:
    """model.frozen_after names real parameters: the model is built on the meta device (no memory)."""
    import torch

    from repro.train.hooks import frozen_parameters
    from repro.train.models import build_model
    with torch.device("meta"):
        built = build_model(recipe.model)
    try:
        frozen_parameters(built, recipe, 1)
    except ValueError as exc:
        raise PlanError(str(exc)) from None


def snapshot(path: Path | None) -> tuple[Path | None, str]:
    from repro.pricing.catalog import PriceSnapshotError, load_snapshot

    try:
        snap = load_snapshot(path)
    except (PriceSnapshotError, OSError) as exc:
        raise PlanError(f"price snapshot {path}: {exc}") from None
    return (Path(os.path.abspath(path)) if path is not None else None), snap.id


def ranks(request: TrainRequest, recipe: Recipe, device_name: str) -> Ranks:
    """torchrun ranks: --gpus, else every local GPU the recipe's published figure used."""
    import torch

    gpus = request.gpus
    if gpus is None:
        on_gpu = device_name.startswith("cuda") and request.nnodes == 1
        gpus = max(1, min(recipe.gpus, torch.cuda.device_count())) if on_gpu and request.resume is None else 1
    if device_name.startswith("cuda") and gpus > torch.cuda.device_count():
        raise PlanError(f"--gpus {gpus}: this machine shows {torch.cuda.device_count()} GPUs; "
                        f"pass --gpus {max(1, torch.cuda.device_count())} or fewer")
    result = Ranks(nproc_per_node=gpus, nnodes=request.nnodes, node_rank=request.node_rank,
                   rdzv_endpoint=request.rdzv_endpoint, rdzv_id=os.environ.get("REPRO_RDZV_ID", "repro"))
    result.check()
    return result


def resume_request(request: TrainRequest) -> TrainRequest:
    """`--resume RUN_DIR`: the recorded config and seed, never the command line's; only a run that
    did not finish, and only from a checkpoint."""
    run_dir = Path(request.resume)
    if any(v is not None for v in (request.target, request.epochs, request.precision)) or request.overrides \
            or request.runs != 1:
        raise PlanError("--resume continues the recorded config and seed; drop --target/--epochs/--precision/"
                        "--set/--runs")
    try:
        record = store.load_run(run_dir).data
    except store.StoreError as exc:
        raise PlanError(str(exc)) from None
    if record.get("status") in ("finished", "diverged"):
        raise PlanError(f"{run_dir} finished already (status {record['status']}); resume continues interrupted, "
                        "failed or stale runs; start a new run instead")
    if rundirs.liveness(record) == "running":
        raise PlanError(f"{run_dir} is still running (pid {record['process']['pid']} on this host); stop it "
                        "first (SIGTERM checkpoints it), then resume")
    try:
        recipe = from_dict(record["config"])
    except (KeyError, TypeError) as exc:
        raise PlanError(f"{run_dir}: run.json has no usable config ({exc}); start the run again") from None
    from repro.train.checkpoint import CheckpointError, load
    try:   # read in full once here, so a torn or foreign checkpoint fails before anything is written
        load(run_dir / store.CHECKPOINT_FILE, recipe_hash=recipe.hash())
    except CheckpointError as exc:
        raise PlanError(str(exc)) from None
    return replace(request, recipe=recipe, seed=int(record["seed"]), runs=1,
                   results_dir=run_dir.parent.parent, family=None,
                   data_dir=request.data_dir if request.data_dir is not None else recorded_data_dir(record),
                   synthetic=request.synthetic or bool(record.get("synthetic_data")))


def recorded_data_dir(record: dict) -> Path | None:
    """The --data a run was started with, from its recorded command line."""
    cmd = (record.get("provenance") or {}).get("command") or []
    if "--data" in cmd and cmd.index("--data") + 1 < len(cmd):
        return Path(cmd[cmd.index("--data") + 1])
    return None
