"""The shipped tables: every figure has a source and a note on where it was read, and the figures
agree with what the docs and the module docstrings say about them."""
import csv
import math

import pytest

from repro.estimate import tables
from repro.estimate.flops import forward_flops
from repro.recipes import RECIPES, ModelSpec


def test_every_throughput_figure_is_positive_sourced_and_checked():
    figs = tables.figures()
    assert len(figs) >= 20
    for f in figs:
        assert f.images_per_s > 0 and math.isfinite(f.images_per_s)
        assert f.source.startswith("https://github.com/") and "/blob/" in f.source   # pinned to a commit
        assert f.checked and f.series in tables.SERIES_ORDER
        assert f.precision in ("fp16", "fp32")


@pytest.mark.parametrize("gpu, count, precision, figure", [
    ("V100", 1, "fp16", 1200), ("V100", 8, "fp16", 8322), ("A100-80GB", 1, "fp16", 2470),
    ("A100-80GB", 8, "fp16", 16621), ("V100", 8, "fp32", 2855),
])
def test_nvidia_figures_are_the_readme_s(gpu, count, precision, figure):
    hits = [f for f in tables.figures() if f.series == "nvidia-dle" and f.gpu_model == gpu
            and f.gpu_count == count and f.precision == precision]
    assert [f.images_per_s for f in hits] == [figure]


def test_airbench_figure_is_its_readme_time_over_its_images():
    (fig,) = [f for f in tables.figures() if f.model == "airbench94"]
    assert fig.images_per_s == round(9.9 * 50_000 / 3.83)
    assert fig.gpu_model == "A100-80GB" and "3.83 s" in fig.checked


def test_every_gpu_with_a_figure_has_spec_figures_to_scale_from():
    specs = tables.gpu_specs()
    for f in tables.figures():
        assert f.gpu_model.upper() in specs, f.gpu_model
    for spec in specs.values():
        assert spec.source.startswith("https://") and spec.memory_gb_per_s > 0 and spec.fp16_tensor_tflops > 0


def test_published_epochs_name_real_recipes_and_fit_their_schedules():
    published = tables.published_epochs()
    assert set(published) <= set(RECIPES)
    digits = published["digits"]
    assert len(digits.epochs_to_target) == 20 and digits.of_epochs == RECIPES["digits"].epochs
    eight = published["cifar-fastai-2018-8gpu"]
    assert eight.epochs_to_target == (36,) and eight.of_epochs == 40 == RECIPES["cifar-fastai-2018-8gpu"].epochs
    assert published["imagenet-fastai-2018"].epochs_to_target == (42,)


def test_dataset_step_counts_are_the_data_sources_own():
    from repro.recipes import resolve
    from repro.train.data import registry

    digits = registry.make(RECIPES["digits"], device="cpu", data_dir=None, synthetic=False, seed=0)
    assert digits.info.num_train == tables.DATASETS["digits"].train_images
    assert digits.info.num_eval == tables.DATASETS["digits"].eval_images
    for batch in (64, 100, 1437, 2000):
        assert digits.steps_per_epoch(batch) == tables.DATASETS["digits"].steps_per_epoch(batch)
    cifar = registry.make(resolve("cifar-airbench", overrides=["data.synthetic_images=50000"]), device="cpu",
                          data_dir=None, synthetic=True, seed=0)
    for batch in (512, 1000, 1024):
        assert cifar.steps_per_epoch(batch) == tables.DATASETS["cifar10"].steps_per_epoch(batch)


def test_reference_flops_are_what_the_docs_say():
    rn50 = forward_flops(ModelSpec(name="resnet50", num_classes=1000), 3, 224)
    assert rn50 / 1e9 == pytest.approx(8.18, abs=0.01)          # 4.09 GMACs, the usual ResNet-50 figure
    air = forward_flops(RECIPES["cifar-airbench"].model, 3, 32)
    assert air / 1e9 == pytest.approx(0.237, abs=0.001)
    # airbench's README: 0.36 PFLOPs for airbench94 = 3 × forward × 9.9 epochs × 50,000 images (+ TTA)
    assert 3 * air * 9.9 * 50_000 / 1e15 == pytest.approx(0.36, rel=0.05)


def test_a_damaged_table_names_file_and_line(tmp_path, monkeypatch):
    src = tables.DATA_DIR / "throughput.csv"
    rows = list(csv.reader(src.read_text().splitlines()))
    rows[3][8] = "fast"
    (tmp_path / "throughput.csv").write_text("\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\n")
    monkeypatch.setattr(tables, "DATA_DIR", tmp_path)
    tables.figures.cache_clear()
    try:
        with pytest.raises(tables.TableError, match=r"throughput.csv:4: images_per_s 'fast' is not a number"):
            tables.figures()
    finally:
        tables.figures.cache_clear()
