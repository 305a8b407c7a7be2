"""CIFAR-10 recipes as data, and end to end through the real CLI on generated CIFAR-format data and on
--synthetic: a valid run directory, falling loss, bf16 autocast on CPU, fp16 + GradScaler on CUDA."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from repro import recipes
from repro.cli import build_parser, main
from repro.harness import store
from repro.recipes import RECIPES
from repro.train.data import cifar_files
from repro.train.loop import TrainOptions, run_recipe

REPRO = Path(sys.executable).with_name("repro")
CIFAR_NAMES = ("cifar-fastai-2018", "cifar-fastai-2018-8gpu", "cifar-basenet-2018", "cifar-airbench")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def learnable_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A colour per class plus strong noise: learnable in a few steps, not trivially."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    palette = np.random.default_rng(1234).integers(0, 256, (10, 3, 1, 1))
    images = np.clip(palette[labels] + rng.normal(0, 40, (n, 3, 32, 32)), 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    cifar_files.write_python_batches(root, *learnable_images(150, 0), *learnable_images(60, 1))
    return root


def test_cifar_recipes_with_published_sources():
    for name in CIFAR_NAMES:
        r = RECIPES[name]
        assert r.task == "cifar10" and r.data.name == "cifar10" and r.target == 0.94
        assert r.published_claim and r.published_source.startswith("https://")
    for name, gpus in (("cifar-fastai-2018", 1), ("cifar-fastai-2018-8gpu", 8)):
        fastai = RECIPES[name]
        assert (fastai.model.name, fastai.model.depth, fastai.model.width) == ("wide_resnet", 22, 96)
        assert fastai.gpus == gpus and fastai.precision == "fp16" and fastai.schedule.kind == "one_cycle"
        assert fastai.schedule.momentum_max > fastai.schedule.momentum_min
    basenet = RECIPES["cifar-basenet-2018"]
    assert basenet.model.name == "basenet_resnet18" and basenet.optim.nesterov and basenet.epochs == 40
    airbench = RECIPES["cifar-airbench"]
    assert airbench.model.name == "airbench94" and airbench.epochs == 10 and airbench.final_epoch_fraction == 0.9
    assert airbench.tta and airbench.tta_translate == 1 and airbench.data.flip_mode == "alternating"
    assert airbench.model.whiten_images == 5000 and airbench.model.frozen_after == (("whiten.bias", 3),)
    assert airbench.optim.lookahead_every == 5
    assert airbench.optim.peak_lr == pytest.approx(1.5, rel=0.01)


def test_cifar_subcommand_lists_the_recipes(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["cifar", "--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in CIFAR_NAMES)


def test_overrides_fail_loudly_and_land_in_the_config():
    r = recipes.resolve("cifar-airbench", epochs=3, precision="bf16",
                           overrides=["data.batch_size=64", "data.loader=dataloader"])
    assert (r.epochs, r.precision, r.data.batch_size, r.data.loader) == (3, "bf16", 64, "dataloader")
    with pytest.raises(ValueError, match="unknown recipe key 'data.bogus'"):
        recipes.resolve("cifar-airbench", overrides=["data.bogus=1"])


def cli(args, tmp_path, **env):
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **env}
    return subprocess.run([str(REPRO), *args, "--device", "cpu", "--results", str(tmp_path / "results")],
                          capture_output=True, text=True, env=full_env, timeout=300)


def only_run(tmp_path, name="cifar-airbench") -> store.RunRecord:
    runs = store.list_runs(tmp_path / "results")
    assert len(runs) == 1 and runs[0].data["recipe"] == name
    return runs[0]


@pytest.mark.slow  # a fresh process: ~10 s of torch import on a loaded 2-core box
def test_cli_trains_on_cifar_format_data(cifar_dir, tmp_path):
    # batch 25 instead of 1024, so a peak LR scaled down with it (the recipe's 1.5 is for 1024)
    proc = cli(["cifar", "--recipe", "cifar-airbench", "--data", str(cifar_dir), "--epochs", "4",
                "--set", "data.batch_size=25", "--set", "model.width=16", "--set", "optim.peak_lr=0.4",
                "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["epoch"] for line in lines if line["type"] == "epoch"] == [1, 2, 3, 4]
    run = only_run(tmp_path)
    d = run.data
    assert d["status"] == "finished" and d["task"] == "cifar10"
    # generated files do not have the official MD5s: unverified, but real (not synthetic) data
    assert d["synthetic_data"] is False and d["data_verified"] is False
    assert d["provenance"]["dataset"]["name"] == "cifar10"
    assert d["provenance"]["dataset"]["checksum"].startswith("sha256:")
    assert d["config"]["model"]["width"] == 16 and d["config"]["epochs"] == 4
    assert d["config"]["optim"]["peak_lr"] == 0.4
    assert d["published"]["source"] == RECIPES["cifar-airbench"].published_source
    losses = [e["train_loss"] for e in d["outcome"]["epochs"]]
    assert losses[-1] < losses[0] * 0.9, losses                            # loss falls
    assert all(e["images_per_s"] > 0 for e in d["outcome"]["epochs"])
    tsv = (run.path / store.METRICS_FILE).read_text().splitlines()
    assert tsv[0].startswith("epoch\thours\ttop1") and len(tsv) == 5
    assert (run.path / store.MLLOG_FILE).read_text().count(":::MLLOG") > 10
    assert (run.path / "cost.json").exists()


def test_cli_trains_on_synthetic_data(tmp_path, capsys):
    rc = main(["cifar", "--recipe", "cifar-airbench", "--synthetic", "--epochs", "2",
               "--set", "data.synthetic_images=48",
               "--set", "data.batch_size=16", "--set", "model.width=8", "--device", "cpu", "--results", str(tmp_path / "results")])
    assert rc == 0, capsys.readouterr().err
    d = only_run(tmp_path).data
    assert d["status"] == "finished" and d["synthetic_data"] is True and d["data_verified"] is False
    assert d["provenance"]["dataset"]["num_train"] == 48
    assert len(d["outcome"]["epochs"]) == 2
    assert "epoch   2/2" in capsys.readouterr().out


def test_cli_without_data_says_what_to_pass(tmp_path, capsys):
    rc = main(["cifar", "--recipe", "cifar-airbench", "--epochs", "1", "--device", "cpu",
               "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert rc == 1 and "--data DIR" in err and "--synthetic" in err


def train_in_process(tmp_path, cifar_dir, name, **overrides):
    changes = {"data.batch_size": 25, "model.width": 8, **overrides}
    recipe = recipes.resolve(name, epochs=1, overrides=[f"{k}={v}" for k, v in changes.items()])
    opts = TrainOptions(run_dir=store.create_run_dir(tmp_path / "results", recipe.name),
                        device=overrides.pop("device", "cpu"), data_dir=cifar_dir)
    session = run_recipe(recipe, opts)
    return store.load_run(session.run_dir).data


@pytest.mark.parametrize("name", CIFAR_NAMES)
def test_every_cifar_recipe_runs_an_epoch(tmp_path, cifar_dir, name):
    extra = {"model.depth": 10} if RECIPES[name].model.name == "wide_resnet" else {}
    d = train_in_process(tmp_path, cifar_dir, name, **extra)
    assert d["status"] == "finished" and len(d["outcome"]["epochs"]) == 1
    assert np.isfinite(d["outcome"]["epochs"][0]["train_loss"])


def test_dataloader_path_trains(tmp_path, cifar_dir):
    d = train_in_process(tmp_path, cifar_dir, "cifar-airbench", **{"data.loader": "dataloader"})
    assert d["status"] == "finished" and d["config"]["data"]["loader"] == "dataloader"


def test_bf16_autocast_runs_on_cpu(tmp_path, cifar_dir):
    d = train_in_process(tmp_path, cifar_dir, "cifar-airbench", precision="bf16")
    assert d["status"] == "finished" and d["config"]["precision"] == "bf16"
    assert np.isfinite(d["outcome"]["epochs"][0]["train_loss"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 + GradScaler needs a CUDA GPU")
def test_fp16_with_grad_scaler_on_cuda(tmp_path, cifar_dir):
    d = train_in_process(tmp_path, cifar_dir, "cifar-airbench", precision="fp16", device="cuda")
    assert d["status"] == "finished" and d["hardware"]["accelerator"] == "cuda"
    assert np.isfinite(d["outcome"]["epochs"][0]["train_loss"])
