"""ImageNet recipes, torchvision ResNets and progressive resizing as a pure function of the epoch."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from repro.recipes import RECIPES, apply_overrides, get_recipe
from repro.train import schedule as sched
from repro.train.evaluate import evaluate
from repro.train.loop import epoch_shape
from repro.train.optim import param_groups
from repro.train.models import build_model
from tests.helpers_imagenet import make_tree

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")

NAMES = ("imagenet-fastai-2018", "imagenet-rn50-fast", "imagenet-rn18-1gpu")


def test_recipes_are_registered_with_their_targets():
    fastai, rn50, rn18 = (RECIPES[n] for n in NAMES)
    assert (fastai.task, fastai.target_metric, fastai.target) == ("imagenet-top5", "top5", 0.93)
    assert (fastai.model.name, fastai.precision, fastai.gpus) == ("resnet50", "fp16", 8)
    assert (rn50.task, rn50.target_metric, rn50.target, rn50.model.name) == ("imagenet-top1", "top1", 0.759, "resnet50")
    assert (rn18.model.name, rn18.gpus) == ("resnet18", 1)
    for r in (rn50, rn18, RECIPES["imagenet-rn50-onecycle"]):
        assert r.data.name == "imagenet" and r.optim.no_bn_weight_decay and r.channels_last
    assert not fastai.optim.no_bn_weight_decay and not fastai.model.zero_init_residual
    assert fastai.published_source.startswith("https://")


def test_the_cpu_jpeg_decoder_is_a_data_setting_with_two_choices():
    assert get_recipe("imagenet-fastai-2018").data.decoder == "torchvision"
    assert apply_overrides(get_recipe("imagenet-rn18-1gpu"), ["data.decoder=nvimgcodec"]).data.decoder == "nvimgcodec"
    with pytest.raises(ValueError, match="data.decoder must be one of torchvision, nvimgcodec, got 'dali'"):
        apply_overrides(get_recipe("imagenet-rn18-1gpu"), ["data.decoder=dali"])


def test_fastai_2018_is_the_entry_as_submitted_epoch_by_epoch():
    """main.py at c4b2255 with --lr 0.40 --epochs 45 --small, -b 192 per GPU, 8 GPUs (docs/recipes.md)."""
    r = get_recipe("imagenet-fastai-2018")
    assert (r.optim.name, r.schedule.momentum_max, r.optim.weight_decay, r.epochs) == ("sgd", 0.9, 1e-4, 45)
    lr = sched.build_lr_schedule(r.schedule, r.optim.peak_lr)
    per_epoch = [float(lr.lr(e / 45)) for e in range(45)]   # main.py sets the LR once per epoch (0-based)
    expected = [0.1, 0.4 / 3, 0.2] + [0.4] * 18 + [0.04] * 14 + [0.004] * 8 + [0.0004] * 2
    assert per_epoch == pytest.approx(expected)
    assert float(lr.lr((21 - 1e-9) / 45)) == pytest.approx(0.4)            # flat within the epoch
    shapes = [epoch_shape(r, e) for e in range(1, 46)]                      # 1-based epochs
    assert shapes == [(128, 1536)] * 18 + [(224, 1536)] * 23 + [(288, 1024)] * 4
    assert {batch // r.gpus for _, batch in shapes} == {192, 128}


def test_stage_batch_ratio_follows_a_smaller_batch():
    r = apply_overrides(get_recipe("imagenet-fastai-2018"), ["data.batch_size=6"])
    assert [epoch_shape(r, e)[1] for e in (1, 19, 42)] == [6, 6, 4]


def test_onecycle_variant_sizes_go_128_224_288_and_rescale_with_epochs():
    knots = get_recipe("imagenet-rn50-onecycle").data.size_knots
    assert knots == sched.staged_knots(((0.0, 128), (0.45, 224), (0.88, 288)))
    for epochs in (35, 70, 10):
        sizes = [sched.size_for_epoch(knots, e, epochs) for e in range(1, epochs + 1)]
        assert sizes == sorted(sizes) and set(sizes) == {128, 224, 288}
        # each stage keeps its share of training whatever the length
        assert abs(sizes.count(128) / epochs - 0.45) <= 1 / epochs
        assert abs(sizes.count(288) / epochs - 0.12) <= 1 / epochs
    assert [sched.size_for_epoch(knots, e, 2) for e in (1, 2)] == [128, 224]


def test_ffcv_style_linear_ramp_rounds_to_32():
    knots = get_recipe("imagenet-rn50-fast").data.size_knots
    sizes = [sched.size_for_epoch(knots, e, 56) for e in range(1, 57)]
    assert sizes[0] == 160 and sizes[-1] == 192 and sizes == sorted(sizes)
    assert all(s % 32 == 0 for s in sizes)
    ramp = sched.size_for_epoch(((0.0, 128), (1.0, 256)), 6, 10)   # halfway: 192
    assert ramp == 192
    with pytest.raises(ValueError, match="fractions in \\[0, 1\\]"):
        sched.size_for_epoch(((0, 128), (30, 224)), 1, 35)  # epoch-valued knots are refused


def test_batch_and_lr_follow_the_stage():
    assert [sched.batch_for_size(1024, 224, s) for s in (128, 224, 288)] == [2048, 1024, 616]
    assert sched.batch_for_size(1024, 0, 128) == 1024           # no reference size: batch unchanged
    assert sched.scaled_lr(0.8, 2048, 1024, True) == pytest.approx(1.6)
    assert sched.scaled_lr(0.8, 2048, 1024, False) == 0.8


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_resnets_take_128_224_288_and_start_blocks_as_identity(name):
    spec = apply_overrides(get_recipe("imagenet-rn18-1gpu"), [f"model.name={name}", "model.num_classes=7"]).model
    model = build_model(spec).eval()
    with torch.no_grad():
        for size in (128, 224, 288) if name == "resnet18" else (128, 288):
            assert model(torch.randn(1, 3, size, size)).shape == (1, 7)
    last_bns = [getattr(b, "bn3", None) or b.bn2 for layer in (model.layer1, model.layer2, model.layer3, model.layer4)
                for b in layer]
    assert last_bns and all(not bn.weight.detach().any() for bn in last_bns)
    assert isinstance(model.avgpool, torch.nn.AdaptiveAvgPool2d)


def test_no_weight_decay_on_bn_and_bias():
    model = build_model(get_recipe("imagenet-rn18-1gpu").model)
    decay, no_decay = param_groups(model, 5e-5, True)
    assert decay["weight_decay"] == 5e-5 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in decay["params"])
    names = {id(p): n for n, p in model.named_parameters()}
    assert {names[id(p)] for p in no_decay["params"]} >= {"bn1.weight", "bn1.bias", "fc.bias"}


def test_imagenet_eval_always_records_top1_and_top5(tmp_path):
    from repro.train.data.imagenet import ImageNetData, scan_tree
    recipe = apply_overrides(get_recipe("imagenet-rn50-fast"), ["model.name=resnet18", "model.num_classes=3",
                                                                "data.eval_batch_size=8"])
    data = ImageNetData(scan_tree(make_tree(tmp_path, classes=3, train_per_class=2, val_per_class=2)))
    metrics = evaluate(build_model(recipe.model), data, recipe, torch.device("cpu"), 64)
    assert metrics["top5"] == 1.0 and 0.0 <= metrics["top1"] <= 1.0  # 3 classes: top-5 holds them all


@pytest.mark.slow
def test_fastai_2018_runs_end_to_end_on_cpu_changing_size(tmp_path):
    from tests.conftest import run_cli
    data = make_tree(tmp_path / "data", classes=3, train_per_class=4, val_per_class=1)
    proc = run_cli("imagenet", "--recipe", "imagenet-fastai-2018", "--data", str(data), "--epochs", "2",
                   "--device", "cpu", "--set", "data.batch_size=4", "--set", "data.eval_batch_size=4",
                   "--set", "data.workers=1", "--set", "model.num_classes=3", "--results", str(tmp_path / "r"),
                   timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads(next(Path(tmp_path / "r").glob("imagenet-fastai-2018/*/run.json")).read_text())
    epochs = record["outcome"]["epochs"]
    assert record["status"] == "finished" and record["task"] == "imagenet-top5"
    assert [(e["image_size"], e["batch_size"]) for e in epochs] == [(128, 4), (224, 4)]
    assert all(e["top1"] is not None and e["top5"] is not None for e in epochs)
    assert record["provenance"]["dataset"]["checksum"].startswith("sha256:")
    assert record["provenance"]["dataset"]["num_train"] == 12
    tsv = next(Path(tmp_path / "r").glob("imagenet-fastai-2018/*/metrics.tsv")).read_text()
    assert tsv.splitlines()[0].endswith("top5Accuracy")


@pytest.mark.slow
def test_the_region_decoder_trains_end_to_end_and_its_absence_is_said_not_fatal(tmp_path):
    """`--set data.decoder=nvimgcodec` through the real command: with the extra it trains (and the
    config records the choice); without it (an `nvidia.nvimgcodec` that fails to import, first on the
    path) the plan says what to install and the run decodes with torchvision."""
    pytest.importorskip("nvidia.nvimgcodec", reason="the repro[nvimgcodec] extra is not installed")
    from tests.conftest import run_cli
    data = make_tree(tmp_path / "data", classes=3, train_per_class=4, val_per_class=1)
    shadow = tmp_path / "shadow" / "nvidia" / "nvimgcodec"
    shadow.mkdir(parents=True)
    (shadow.parent / "__init__.py").write_text("")
    (shadow / "__init__.py").write_text("raise ImportError('simulated: the wheel is not installed')\n")
    args = ["imagenet", "--recipe", "imagenet-rn18-1gpu", "--data", str(data), "--epochs", "1", "--device", "cpu",
            "--set", "data.decoder=nvimgcodec", "--set", "data.batch_size=4", "--set", "data.eval_batch_size=4",
            "--set", "data.workers=1", "--set", "model.num_classes=3"]
    shadowed = os.pathsep.join(filter(None, [str(tmp_path / "shadow"), os.environ.get("PYTHONPATH")]))
    for name, env in (("with", None), ("without", {"PYTHONPATH": shadowed})):
        proc = run_cli(*args, "--results", str(tmp_path / name), env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        record = json.loads(next((tmp_path / name).glob("imagenet-rn18-1gpu/*/run.json")).read_text())
        assert record["status"] == "finished" and record["config"]["data"]["decoder"] == "nvimgcodec"
        said = "decoding whole images with torchvision instead" in proc.stdout + proc.stderr
        assert said == (name == "without"), proc.stderr[-2000:]
    assert "pip install 'repro[nvimgcodec]'" in proc.stdout + proc.stderr
