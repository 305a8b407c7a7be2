"""The command of a SkyPilot managed job, restart after restart.

A managed job (`sky jobs launch`) runs its `run` script again from the top after every spot
preemption, on a new machine. The script asks this module what to do next, with the job's folder
on the results bucket (the same folder across recoveries: SkyPilot keeps SKYPILOT_TASK_ID for the
life of a managed task):

    python -m repro.launch.managed next --job-dir DIR --command cifar --recipe R --seed 0 --runs 2

prints the next `repro` arguments, shell-quoted, or nothing when every seed's run has ended:

- a seed whose run ended (finished, diverged or failed) is done;
- a seed whose run was cut off (running or interrupted) with a checkpoint is resumed from it:
  `repro cifar --resume RUN_DIR`, one run with one more segment, honest time and billed cost;
- otherwise the seed starts: `repro cifar --recipe R --runs 1 --seed S --results DIR`.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from repro.harness import store

ENDED = ("finished", "diverged", "failed")


def _records(job_dir: Path) -> list[tuple[Path, dict]]:
    found = []
    for path in sorted(job_dir.glob(f"*/*/{store.RUN_FILE}")):
        try:
            found.append((path.parent, store.read_json(path)))
        except store.StoreError as exc:
            print(f"repro.launch.managed: skipping {path.parent}: {exc}", file=sys.stderr)
    return found


def next_args(job_dir: Path, *, command: str, recipe: str, seed: int, runs: int, data: str | None = None,
              epochs: int | None = None) -> list[str] | None:
    """The next `repro` arguments for this job, or None when every seed's run has ended."""
    records = _records(job_dir)
    data_args = ["--data", data] if data else []
    for s in range(seed, seed + runs):
        mine = [(d, r) for d, r in records if r.get("seed") == s and r.get("recipe") == recipe]
        if any(r.get("status") in ENDED for _, r in mine):
            continue
        resumable = [d for d, _ in mine if (d / store.CHECKPOINT_FILE).is_file()]
        if resumable:
            return [command, "--resume", str(max(resumable, key=lambda d: d.name)), *data_args]
        start = [command, "--recipe", recipe, "--runs", "1", "--seed", str(s), "--results", str(job_dir)]
        return start + data_args + (["--epochs", str(epochs)] if epochs else [])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.launch.managed",
                                     description="What a managed job runs next (see the module docstring).")
    parser.add_argument("action", choices=["next"])
    parser.add_argument("--job-dir", type=Path, required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--data", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    args.job_dir.mkdir(parents=True, exist_ok=True)
    found = next_args(args.job_dir, command=args.command, recipe=args.recipe, seed=args.seed, runs=args.runs,
                      data=args.data, epochs=args.epochs)
    if found:
        print(shlex.join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
