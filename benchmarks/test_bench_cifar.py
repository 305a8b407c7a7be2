"""CIFAR-10 trainer throughput.

CPU (always): training images/s of each CIFAR recipe's full-size model on synthetic data, through the
recipe's own augmentation, optimizer and precision (fp16 is fp32 on CPU), a few steps per round.

CUDA (skipped without a GPU): epoch time of `cifar-airbench` against airbench94 itself (PyPI `airbench`,
whose CifarLoader reads `cifar10/train.pt` and `test.pt`, here synthetic tensors of CIFAR's shape), the
epoch time of `cifar-fastai-2018`, and the fp16 / fp32 speed-up. The goal for airbench is a ratio ≤ 1.05;
the figure is recorded in extra_info and benchmarks/RESULTS.md, not asserted.

    .venv/bin/pytest benchmarks/test_bench_cifar.py --benchmark-only -s
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

from repro import recipes
from repro.harness import store
from repro.train.data import cifar
from repro.train.loop import TrainOptions, run_recipe
from repro.train.optim import autocast_context, build_optimizer
from repro.train.models import build_model, count_parameters

CIFAR_RECIPES = ("cifar-fastai-2018", "cifar-fastai-2018-8gpu", "cifar-airbench")
CPU_BATCH = 32
CPU_STEPS = 2
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="GPU comparison: needs a CUDA device")


def train_steps(recipe, data, model, opt, device, steps: int, batch_size: int) -> int:
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.optim.label_smoothing)
    generator = torch.Generator().manual_seed(0)
    seen = 0
    for i, (x, y) in enumerate(data.train_batches(1, batch_size, generator)):
        if i == steps:
            break
        if recipe.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast_context(device, recipe.precision):
            loss = criterion(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seen += y.numel()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen


@pytest.mark.parametrize("name", CIFAR_RECIPES)
def test_cpu_training_images_per_s(benchmark, name):
    recipe = recipes.resolve(name)
    device = torch.device("cpu")
    torch.manual_seed(0)
    model = build_model(recipe.model)
    if recipe.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = build_optimizer(model, recipe)
    arrays = cifar.synthetic_arrays(CPU_BATCH * CPU_STEPS, 16)
    info = cifar.DatasetInfo(name="cifar10", num_train=len(arrays.y_train), num_eval=16, num_classes=10,
                             checksum=arrays.checksum, verified=False, synthetic=True)
    data = cifar.CifarData(arrays, info, device=device, padding=recipe.data.crop_padding,
                           flip=recipe.data.flip, cutout=recipe.data.cutout)
    seen = benchmark.pedantic(train_steps, args=(recipe, data, model, opt, device, CPU_STEPS, CPU_BATCH),
                              rounds=3, iterations=1, warmup_rounds=1)
    assert seen == CPU_BATCH * CPU_STEPS
    images_per_s = seen / benchmark.stats.stats.mean
    benchmark.extra_info.update({"images_per_s": round(images_per_s, 1), "batch": CPU_BATCH,
                                 "parameters": count_parameters(model), "threads": torch.get_num_threads(),
                                 "precision_effective": "fp32" if recipe.precision == "fp16"
                                 else recipe.precision})
    print(f"\n{name}: {images_per_s:.1f} training images/s on CPU "
          f"({count_parameters(model):,} parameters, batch {CPU_BATCH})")
    assert images_per_s > 0


@pytest.mark.parametrize("loader", ["device", "dataloader"])
def test_cpu_loader_images_per_s(benchmark, loader):
    """The data path alone (pad 4 + crop, flip, cutout 8, normalise): whole-set gathers vs a DataLoader
    with per-sample augmentation, one epoch of 4,096 synthetic images in batches of 256."""
    arrays = cifar.synthetic_arrays(4096, 16)
    info = cifar.DatasetInfo(name="cifar10", num_train=4096, num_eval=16, num_classes=10,
                             checksum=arrays.checksum, verified=False, synthetic=True)
    data = cifar.CifarData(arrays, info, device="cpu", padding=4, flip=True, cutout=8, loader=loader)

    def epoch() -> int:
        return sum(y.numel() for _, y in data.train_batches(1, 256, torch.Generator().manual_seed(0)))

    seen = benchmark.pedantic(epoch, rounds=3, iterations=1, warmup_rounds=1)
    assert seen == 4096
    images_per_s = seen / benchmark.stats.stats.mean
    benchmark.extra_info["images_per_s"] = round(images_per_s)
    print(f"\n{loader} loader: {images_per_s:,.0f} augmented images/s on CPU")
    assert images_per_s > 0


# -- GPU comparisons -----------------------------------------------------------------------------------
def _epoch_train_s(name: str, tmp_path, epochs: int = 2, **overrides) -> float:
    """Mean training seconds per epoch after the first (warm-up) epoch, from the run record; eval excluded."""
    recipe = recipes.resolve(name, epochs=epochs, overrides=[f"{k}={v}" for k, v in overrides.items()])
    session = run_recipe(recipe, TrainOptions(run_dir=store.create_run_dir(tmp_path / "results", recipe.name), device="cuda",
                                              synthetic=True))
    epochs_rows = session.record["outcome"]["epochs"]
    assert session.record["status"] == "finished"
    return float(np.mean([row["train_s"] for row in epochs_rows[1:]]))


@needs_cuda
def test_gpu_airbench94_vs_cifar_airbench_epoch_time(benchmark, tmp_path, monkeypatch):
    airbench = pytest.importorskip("airbench")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cifar10").mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 50_000), ("test", 10_000)):
        torch.save({"images": torch.from_numpy(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)),
                    "labels": torch.from_numpy(rng.integers(0, 10, n)), "classes": list(cifar.LABEL_NAMES)},
                   tmp_path / "cifar10" / f"{split}.pt")
    airbench.train94(epochs=1, verbose=False)  # warm-up: cuDNN autotuning, allocator
    torch.cuda.synchronize()

    def airbench_two_epochs():
        t0 = time.perf_counter()
        airbench.train94(epochs=2, verbose=False)
        torch.cuda.synchronize()
        return (time.perf_counter() - t0) / 2

    theirs_s = benchmark.pedantic(airbench_two_epochs, rounds=1, iterations=1)
    ours_s = _epoch_train_s("cifar-airbench", tmp_path, epochs=3)
    ratio = ours_s / theirs_s
    benchmark.extra_info.update({"airbench94_epoch_s": theirs_s, "cifar_airbench_epoch_s": ours_s,
                                 "ratio": ratio, "goal": "≤ 1.05", "gpu": torch.cuda.get_device_name()})
    print(f"\nairbench94 {theirs_s:.3f} s/epoch, cifar-airbench {ours_s:.3f} s/epoch, ratio {ratio:.2f}")
    assert theirs_s > 0 and ours_s > 0


@needs_cuda
def test_gpu_fastai_2018_epoch_time(benchmark, tmp_path):
    seconds = benchmark.pedantic(lambda: _epoch_train_s("cifar-fastai-2018", tmp_path), rounds=1, iterations=1)
    benchmark.extra_info.update({"epoch_train_s": seconds, "gpu": torch.cuda.get_device_name()})
    print(f"\ncifar-fastai-2018: {seconds:.2f} s per training epoch")
    assert seconds > 0


@needs_cuda
def test_gpu_fp16_vs_fp32_speedup(benchmark, tmp_path):
    def both():
        return (_epoch_train_s("cifar-airbench", tmp_path, precision="fp32"),
                _epoch_train_s("cifar-airbench", tmp_path, precision="fp16"))

    fp32_s, fp16_s = benchmark.pedantic(both, rounds=1, iterations=1)
    benchmark.extra_info.update({"fp32_epoch_s": fp32_s, "fp16_epoch_s": fp16_s, "speedup": fp32_s / fp16_s,
                                 "gpu": torch.cuda.get_device_name()})
    print(f"\ncifar-airbench: fp32 {fp32_s:.2f} s/epoch, fp16 {fp16_s:.2f} s/epoch, "
          f"speed-up {fp32_s / fp16_s:.2f}×")
    assert fp32_s > 0 and fp16_s > 0
