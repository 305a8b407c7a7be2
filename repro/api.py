"""Library-first entry points; the CLI only parses and prints around these.

    from repro import api
    summary = api.train(recipe_name="digits", runs=3)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from repro.harness import stats, store
from repro.harness.run import Diverged, Interrupted
from repro.recipes import Recipe, RecipeError, apply_overrides, from_dict, get_recipe


class _Silent:
    def line(self, text: str) -> None: ...
    def record(self, kind: str, data: dict) -> None: ...
    def epoch(self, row: dict) -> None: ...


def resolve_recipe(name: str, *, target: float | None = None, epochs: int | None = None,
                   precision: str | None = None, overrides: list[str] | None = None) -> Recipe:
    """Named recipe + command-line changes, validated once; unknown keys and bad values fail here."""
    recipe = get_recipe(name)
    changes: dict[str, Any] = {}
    if target is not None:
        changes["target"] = float(target)
    if epochs is not None:
        changes["epochs"] = int(epochs)
    if precision is not None:
        changes["precision"] = precision
    recipe = apply_overrides(recipe, changes)
    return apply_overrides(recipe, list(overrides or []))


def default_device(device: str | None) -> str:
    if device:
        if device.startswith("cuda"):
            import torch
            if not torch.cuda.is_available():
                raise RecipeError(f"--device {device}: no CUDA GPU is visible here; use --device cpu")
        return device
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def _check_writable(results_dir: Path) -> None:
    try:
        Path(results_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise store.StoreError(f"cannot create results directory {results_dir}: {exc.strerror}; "
                               "pass a writable --results DIR") from None
    if not os.access(results_dir, os.W_OK):
        raise store.StoreError(f"results directory {results_dir} is not writable; pass a writable --results DIR")


def train(*, recipe_name: str, runs: int = 1, seed: int = 0, target: float | None = None,
          epochs: int | None = None, precision: str | None = None, overrides: list[str] | None = None,
          results_dir: Path = Path("results"), device: str | None = None, data_dir: Path | None = None,
          synthetic: bool = False, snapshot_path: Path | None = None, stop_at_target: bool = False,
          gpus: int | None = None, printer=None, command: list[str] | None = None,
          recipe: Recipe | None = None, nnodes: int = 1, node_rank: int = 0, rdzv_endpoint: str | None = None,
          resume: Path | None = None) -> dict[str, Any]:
    """Run a recipe `runs` times with seeds seed, seed+1, …; price each run; write the group summary.
    Every input is checked before the first run directory is made.

    `gpus` > 1 or `nnodes` > 1 outside torchrun: re-run this call as torchrun ranks (see
    repro.train.distributed). `resume`: continue that run directory from its checkpoint."""
    from repro.pricing.billing import format_cost_lines, price_run
    from repro.pricing.catalog import load_snapshot
    from repro.train import distributed
    from repro.train.loop import TrainOptions, run_recipe

    printer = printer or _Silent()
    if distributed.under_torchrun() and int(os.environ["RANK"]) != 0:
        printer = _Silent()  # rank 0 speaks for the run
    caller_recipe = recipe is not None
    if runs < 1:
        raise RecipeError(f"--runs must be ≥ 1, got {runs}")
    if resume is not None:  # the recorded config and seed, never the command line's
        if any(v is not None for v in (target, epochs, precision)) or overrides or runs != 1:
            raise RecipeError("--resume continues the recorded config and seed; drop --target/--epochs/"
                              "--precision/--set/--runs")
        old = store.load_run(resume).data
        recipe, seed, results_dir = from_dict(old["config"]), old["seed"], Path(resume).parent.parent
        data_dir = data_dir if data_dir is not None else _recorded_data_dir(old)
        synthetic = synthetic or bool(old.get("synthetic_data"))
    recipe = recipe or resolve_recipe(recipe_name, target=target, epochs=epochs, precision=precision,
                                      overrides=overrides)
    snapshot = load_snapshot(snapshot_path)
    device = default_device(device)
    _check_writable(results_dir)
    if data_dir is not None and not Path(data_dir).exists():
        raise RecipeError(f"--data {data_dir}: no such directory")
    # a caller-built recipe (rerun) cannot be re-stated on a command line: it runs in this process
    gpus = gpus or (1 if caller_recipe else distributed.default_gpus(recipe, device))
    if (gpus > 1 or nnodes > 1) and not distributed.under_torchrun():
        if caller_recipe:
            raise distributed.LaunchError("a Recipe object cannot be handed to torchrun ranks; pass "
                                          "recipe_name with overrides instead, or gpus=1")
        rc = distributed.launch(distributed.cli_args(
            recipe_name=recipe_name, recipe=recipe, runs=runs, seed=seed, target=target, epochs=epochs,
            precision=precision, overrides=overrides, results_dir=results_dir, device=device, data_dir=data_dir,
            synthetic=synthetic, snapshot_path=snapshot_path, stop_at_target=stop_at_target, gpus=gpus,
            resume=resume, printer=printer), nproc_per_node=gpus, nnodes=nnodes, node_rank=node_rank,
            rdzv_endpoint=rdzv_endpoint)
        return {"ok": rc == 0, "interrupted": rc in (130, 143, -2, -15), "group": None, "runs": [],
                "returncode": rc}

    group_id = store.new_run_id()
    results: list[dict[str, Any]] = []
    interrupted = False
    for i in range(runs):
        run_seed = seed + i
        printer.line(f"run {i + 1}/{runs}: recipe {recipe.name}, seed {run_seed}, {device}, "
                     f"target {recipe.target_metric} ≥ {recipe.target}")
        opts = TrainOptions(results_dir=Path(results_dir), seed=run_seed, device=device, data_dir=data_dir,
                            synthetic=synthetic, group_id=group_id, price_snapshot_id=snapshot.id,
                            command=command, on_epoch=printer.epoch, stop_at_target=stop_at_target,
                            resume_dir=Path(resume) if resume is not None else None)
        session = None
        try:
            session = run_recipe(recipe, opts)
        except Diverged as exc:
            printer.line(f"  diverged: {exc}")
        except Interrupted as exc:
            printer.line(f"  interrupted: {exc}")
            interrupted = True
        except (RecipeError, ValueError):
            raise
        except Exception as exc:  # noqa: BLE001 - the run directory records it; the next seed still runs
            printer.line(f"  failed: {type(exc).__name__}: {exc}")
        if distributed.under_torchrun() and int(os.environ["RANK"]) != 0:
            continue  # rank 0 prices, prints and summarises
        run_dir = Path(resume) if resume is not None else _latest_run_dir(results_dir, recipe.name, session)
        if run_dir is not None:
            record = store.load_run(run_dir).data
            cost = price_run(run_dir, snapshot)
            results.append({"run_dir": str(run_dir), "record": record, "cost": cost})
            _print_run(printer, run_dir, record, cost, format_cost_lines)
        if interrupted:
            break

    if resume is not None or (distributed.under_torchrun() and int(os.environ["RANK"]) != 0):
        # a resumed run keeps its group; other ranks write nothing
        ok = not interrupted and all(r["record"]["status"] == "finished" for r in results)
        return {"ok": ok, "interrupted": interrupted, "group": None, "runs": results}
    summary = write_group_summary(results_dir, recipe, group_id, [r["record"] for r in results])
    _print_summary(printer, summary)
    ok = bool(results) and all(r["record"]["status"] == "finished" for r in results) and not interrupted
    return {"ok": ok, "interrupted": interrupted, "group": summary, "runs": results}


def _latest_run_dir(results_dir: Path, recipe_name: str, session) -> Path | None:
    if session is not None:
        return session.run_dir
    # the run raised: its directory is the newest one of this recipe
    candidates = sorted((Path(results_dir) / recipe_name).glob("*/" + store.RUN_FILE),
                        key=lambda p: p.stat().st_mtime)
    return candidates[-1].parent if candidates else None


def write_group_summary(results_dir: Path, recipe: Recipe, group_id: str, records: list[dict]) -> dict:
    times = [r["outcome"]["time_to_target_s"] if r["status"] == "finished" and r["outcome"]["reached"]
             else None for r in records]
    summary = {
        "schema_version": store.SCHEMA_VERSION,
        "group_id": group_id,
        "recipe": recipe.name,
        "task": recipe.task,
        "target": {"metric": recipe.target_metric, "value": recipe.target},
        "runs": [{"run_id": r["run_id"], "seed": r["seed"], "status": r["status"],
                  "time_to_target_s": t} for r, t in zip(records, times)],
        "time_to_target": stats.summarize(times).to_dict(),
    }
    path = Path(results_dir) / recipe.name / f"{store.GROUP_PREFIX}{group_id}.json"
    if records:
        store.atomic_write_json(path, summary)
    summary["path"] = str(path)
    return summary


def _print_run(printer, run_dir: Path, record: dict, cost: dict, format_cost_lines) -> None:
    out = record["outcome"]
    printer.record("run", {"run_dir": str(run_dir), "status": record["status"], "seed": record["seed"],
                           "reached": out["reached"], "time_to_target_s": out["time_to_target_s"],
                           "time_to_target_dawnbench_s": out["time_to_target_dawnbench_s"],
                           "final": out["final"], "cost": cost})
    ttt = (f"{out['time_to_target_s']:.2f} s (MLPerf rule), {out['time_to_target_dawnbench_s']:.2f} s "
           f"(DAWNBench rule), epoch {out['epochs_to_target']}" if out["reached"] else "target not reached")
    final = out["final"].get("top1")
    printer.line(f"  status {record['status']}; time to target: {ttt}; "
                 f"final top1 {final:.4f}" if final is not None else f"  status {record['status']}; {ttt}")
    for line in format_cost_lines(cost):
        printer.line(f"  {line}")
    printer.line(f"  run directory: {run_dir}")


def _print_summary(printer, summary: dict) -> None:
    t = summary["time_to_target"]
    if t["n"] > 1:
        mean = f"{t['olympic_mean_s']:.2f} s" if t["olympic_mean_s"] is not None else "-"
        spread = f"{t['spread_s']:.2f} s" if t["spread_s"] is not None else "-"
        printer.line(f"group {summary['group_id']}: converged {t['converged']}/{t['n']}, "
                     f"time to target olympic mean {mean}, spread {spread}")
    printer.record("group", summary)


def rerun(run_dir: Path, *, results_dir: Path | None = None, device: str | None = None,
          snapshot_path: Path | None = None, printer=None, command: list[str] | None = None) -> dict:
    """Train again with the recorded config and seed; same code + data → same per-epoch metrics."""
    old = store.load_run(run_dir).data
    recipe = from_dict(old["config"])
    results_dir = results_dir or Path(run_dir).parent.parent
    hw = old.get("hardware", {})
    return train(recipe_name=recipe.name, recipe=recipe, runs=1, seed=old["seed"], results_dir=results_dir,
                 device=device or ("cuda" if hw.get("accelerator") == "cuda" else "cpu"),
                 synthetic=old.get("synthetic_data", False), snapshot_path=snapshot_path,
                 printer=printer, command=command,
                 data_dir=_recorded_data_dir(old))


def _recorded_data_dir(record: dict) -> Path | None:
    cmd = record.get("provenance", {}).get("command") or []
    if "--data" in cmd and cmd.index("--data") + 1 < len(cmd):
        return Path(cmd[cmd.index("--data") + 1])
    return None


def run_table(results_dir: Path, errors: list[str] | None = None) -> list[dict]:
    rows = []
    for rec in store.list_runs(results_dir, errors=errors):
        d = rec.data
        hw = d.get("hardware", {})
        rows.append({
            "run_id": d["run_id"], "recipe": d["recipe"], "status": d["status"], "seed": d["seed"],
            "target": d["target"]["value"], "reached": d["outcome"]["reached"],
            "time_to_target_s": d["outcome"]["time_to_target_s"],
            "final_top1": d["outcome"]["final"].get("top1"),
            "hardware": (f"{hw.get('gpu_count')}×{hw.get('gpu_model')}" if hw.get("gpu_count")
                         else f"{hw.get('vcpus')} vCPU"),
            "started_at": d["started_at"], "path": str(rec.path),
        })
    return rows
