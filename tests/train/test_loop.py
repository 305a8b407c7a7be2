"""The training loop's host–device syncs, counted step by step: in steady state at most one per
NAN_CHECK_EVERY (≥ 50) steps, in one process and under DDP (2 gloo ranks through torchrun).

Counted: reads of tensor values on the host (`.item()`, `.tolist()`, `bool()`, `float()`, `int()`)
and Python-level collectives (repro.bench.syncs). On a CPU these cost nothing, but the same calls
stall a GPU, so the count is what matters. Steady state: the steps inside an epoch, not the first
and last of each (epoch boundaries evaluate, log and checkpoint on purpose).
Run as a script (`--worker OUT`), this file is also the rank program torchrun starts.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()
EPOCHS, BATCH = 2, 8          # digits: 1,437 training images → 180 steps an epoch


def _train_counting(out: Path, extra_overrides: tuple[str, ...] = ()) -> list[dict]:
    """Train digits under the counter; one row per step: (epoch, batch, syncs, collectives so far)."""
    from repro.bench.syncs import count_syncs
    from repro.harness import store
    from repro.recipes import apply_overrides, get_recipe
    from repro.train.loop import TrainOptions, run_recipe

    recipe = apply_overrides(get_recipe("digits"), [f"epochs={EPOCHS}", f"data.batch_size={BATCH}",
                                                    *extra_overrides])
    rank = int(os.environ.get("RANK", 0))
    run_dir = store.create_run_dir(out, recipe.name) if rank == 0 else None
    rows: list[dict] = []
    with count_syncs("cpu") as counter:
        def on_batch(epoch: int, done: int, steps: int) -> None:
            rows.append({"epoch": epoch, "batch": done, "steps": steps, "syncs": counter.syncs,
                         "collectives": counter.collectives})
        run_recipe(recipe, TrainOptions(run_dir=run_dir, seed=3, device="cpu", on_batch=on_batch))
    return rows


def steady_counts(rows: list[dict]) -> tuple[int, int, int]:
    """(steps, syncs, collectives) between consecutive steps of the same epoch, boundaries excluded."""
    steps = syncs = collectives = 0
    for a, b in zip(rows, rows[1:]):
        if a["epoch"] == b["epoch"] and 1 < b["batch"] < b["steps"]:
            steps += 1
            syncs += b["syncs"] - a["syncs"]
            collectives += b["collectives"] - a["collectives"]
    return steps, syncs, collectives


def _allowed(steps: int) -> int:
    from repro.train.loop import NAN_CHECK_EVERY
    assert NAN_CHECK_EVERY >= 50
    return math.ceil(steps / NAN_CHECK_EVERY)


def test_one_process_reads_the_device_at_most_once_per_50_steps(tmp_path, one_torch_thread):
    rows = _train_counting(tmp_path)
    steps, syncs, collectives = steady_counts(rows)
    assert steps >= 300
    assert 1 <= syncs <= _allowed(steps), f"{syncs} host reads in {steps} steady steps"
    assert collectives == 0


def test_the_counter_sees_a_read_per_step():
    """The counter itself: a loop that reads every step is counted at one read per step."""
    import torch
    from repro.bench.syncs import count_syncs
    x = torch.ones(3)
    with count_syncs() as counter:
        for _ in range(10):
            float(x.sum())
            counter.mark()
    assert [s for s, _ in counter.per_step()] == [1] * 9


def _torchrun(nproc: int, out: Path) -> list[list[dict]]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           str(HERE), "--worker", str(out)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads((out / f"steps-rank{r}.json").read_text()) for r in range(nproc)]


@pytest.mark.slow
def test_two_ddp_ranks_sync_at_most_once_per_50_steps(tmp_path):
    for rank, rows in enumerate(_torchrun(2, tmp_path)):
        steps, syncs, collectives = steady_counts(rows)
        assert steps >= 300, rank
        # one read and one all-reduce every NAN_CHECK_EVERY steps: the stop flag and the loss together
        assert 1 <= syncs <= _allowed(steps), f"rank {rank}: {syncs} host reads in {steps} steady steps"
        assert 1 <= collectives <= _allowed(steps), f"rank {rank}: {collectives} collectives in {steps} steps"


if __name__ == "__main__" and "--worker" in sys.argv:
    import torch
    torch.set_num_threads(1)
    target = Path(sys.argv[sys.argv.index("--worker") + 1])
    steps_rows = _train_counting(target)
    from repro.train import distributed as dist_
    dist_.teardown()
    (target / f"steps-rank{os.environ.get('RANK', 0)}.json").write_text(json.dumps(steps_rows))
