"""Scale-out through torchrun: launch commands, batch sharding, and a 2-rank gloo run that lands on
the same parameters as one process with the same global batch and seed.

The equivalence runs use a model without BatchNorm: BN statistics are per rank under DDP (SyncBatchNorm
needs GPUs), which is a real, intended difference between 1 and N ranks, not a bug to test away.
Run as a script (`--worker`), this file is also the rank program torchrun starts.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from repro.train import distributed as dist_

HERE = Path(__file__).resolve()


@pytest.mark.parametrize("n,world", [(64, 2), (29, 2), (10, 3), (5, 8)])
def test_shard_rows_cover_the_batch_once(n, world):
    rows = [dist_.shard_rows(n, dist_.DistContext(rank=r, world_size=world)) for r in range(world)]
    covered = [i for s in rows for i in range(n)[s]]
    assert covered == list(range(n))
    assert max(len(range(n)[s]) for s in rows) - min(len(range(n)[s]) for s in rows) <= 1


def test_single_process_context_is_a_no_op(monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    ctx = dist_.setup("cpu")
    assert not ctx.active and ctx.backend is None
    model = nn.Linear(2, 2)
    assert dist_.wrap(model, ctx) is model
    assert dist_.all_reduce_sum([1, 2.5], ctx) == [1.0, 2.5]


# -- the acceptance run: 2 gloo ranks vs 1 process ------------------------------------------------------
def _flat_mlp(spec) -> nn.Module:
    """Digits without BatchNorm (see the module docstring)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, spec.width), nn.ReLU(), nn.Linear(spec.width, spec.num_classes))


def _worker(out: Path) -> None:
    from repro.recipes import apply_overrides, get_recipe
    from repro.train.loop import TrainOptions, run_recipe
    from repro.train.models import register_model

    register_model("test_flat_mlp")(_flat_mlp)
    recipe = apply_overrides(get_recipe("digits"), ["model.name=test_flat_mlp", "epochs=2", "data.batch_size=50"])
    from repro.harness import store
    run_dir = store.create_run_dir(out, recipe.name) if int(os.environ.get("RANK", 0)) == 0 else None
    session = run_recipe(recipe, TrainOptions(run_dir=run_dir, seed=7, device="cpu"))
    dist_.teardown()
    if session.run_dir is not None:
        (out / "run_dir.txt").write_text(str(session.run_dir))


def _torchrun(nproc: int, out: Path) -> Path:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           str(HERE), "--worker", str(out)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path((out / "run_dir.txt").read_text())


@pytest.mark.slow
def test_two_gloo_ranks_reach_the_one_process_parameters(tmp_path):
    one = _torchrun(1, tmp_path / "one")
    two = _torchrun(2, tmp_path / "two")
    assert len(list((tmp_path / "two" / "digits").glob("*/run.json"))) == 1  # only rank 0 wrote
    p1 = torch.load(one / "checkpoint.pt", weights_only=False)["model"]
    p2 = torch.load(two / "checkpoint.pt", weights_only=False)["model"]
    for name in p1:
        torch.testing.assert_close(p2[name], p1[name], rtol=1e-4, atol=1e-5, msg=f"parameter {name}")
    r1, r2 = (json.loads((d / "run.json").read_text()) for d in (one, two))
    assert r2["hardware"]["world_size"] == 2 and r1["hardware"]["world_size"] == 1
    for e1, e2 in zip(r1["outcome"]["epochs"], r2["outcome"]["epochs"]):
        assert e2["top1"] == pytest.approx(e1["top1"], abs=1 / 360)  # metrics all-reduced over ranks
        assert e2["train_loss"] == pytest.approx(e1["train_loss"], rel=1e-4)


@pytest.mark.slow
def test_repro_imagenet_gpus_2_launches_two_cpu_ranks(tmp_path):
    from tests.conftest import run_cli
    proc = run_cli("imagenet", "--recipe", "imagenet-rn18-1gpu", "--synthetic", "--gpus", "2", "--device", "cpu",
                   "--epochs", "1", "--set", "data.batch_size=4", "--set", "data.eval_batch_size=4",
                   "--set", "data.size_knots=[[0,32],[1,32]]", "--set", "data.eval_size=32",
                   "--set", "model.num_classes=10", "--results", str(tmp_path), "--json", timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    finished = [r for r in runs if r.get("type") == "run"]
    assert len(finished) == 1 and finished[0]["status"] == "finished"  # rank 0 alone reports
    record = json.loads((Path(finished[0]["run_dir"]) / "run.json").read_text())
    assert record["hardware"]["world_size"] == 2 and record["synthetic_data"] is True
    assert len(list(tmp_path.glob("imagenet-rn18-1gpu/*/run.json"))) == 1


@pytest.mark.slow
def test_repro_cifar_fastai_8gpu_runs_on_two_cpu_ranks(tmp_path):
    from tests.conftest import run_cli
    proc = run_cli("cifar", "--recipe", "cifar-fastai-2018-8gpu", "--synthetic", "--gpus", "2", "--device", "cpu",
                   "--epochs", "1", "--set", "data.synthetic_images=64", "--set", "data.batch_size=16",
                   "--set", "data.eval_batch_size=16", "--set", "model.width=8", "--results", str(tmp_path),
                   "--quiet", timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_json,) = tmp_path.glob("cifar-fastai-2018-8gpu/*/run.json")
    record = json.loads(run_json.read_text())
    assert record["status"] == "finished" and record["hardware"]["world_size"] == 2
    assert record["outcome"]["epochs"][0]["top1"] is not None


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker(Path(sys.argv[sys.argv.index("--worker") + 1]))
