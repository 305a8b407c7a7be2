"""The throughput rules, one at a time, on the shipped table: each answer names the rule it used."""
import math

import pytest

from repro.estimate import throughput
from repro.estimate.throughput import NoFigure, images_per_s
from repro.recipes import RECIPES

RN50 = RECIPES["imagenet-fastai-2018"].model
AIRBENCH = RECIPES["cifar-airbench"].model
WRN = RECIPES["cifar-fastai-2018-8gpu"].model


def test_rule1_a_published_figure_is_used_as_it_is():
    t = images_per_s(RN50, 224, "fp16", "V100", 8)
    assert t.images_per_s == 8322 and not t.scaled
    assert "8 × V100: 8,322 img/s (nvidia-dle)" in t.how and any("DeepLearningExamples" in s for s in t.sources)


def test_rule1_bf16_reads_the_fp16_figure_and_fp32_its_own():
    assert images_per_s(RN50, 224, "bf16", "A100-80GB", 1).images_per_s == 2470
    assert images_per_s(RN50, 224, "fp32", "V100", 1).images_per_s == 367


def test_rule2_other_counts_use_the_series_own_scaling():
    t = images_per_s(RN50, 224, "fp16", "V100", 4)
    eff8 = 8322 / (8 * 1200)
    assert t.images_per_s == pytest.approx(1200 * 4 * eff8 ** (2 / 3))
    assert t.scaled and "efficiency" in t.how and "8- vs 1-GPU figures of the same series" in t.how


def test_rule3_a_gpu_only_another_series_measured_goes_through_that_series_ratio():
    t = images_per_s(RN50, 224, "fp16", "H100", 1)
    assert t.images_per_s == pytest.approx(2470 * 2786 / 1582)
    assert t.scaled and "lambda's H100/A100-80GB ratio" in t.how


def test_rule4_a_gpu_no_series_has_is_scaled_by_the_smaller_spec_ratio():
    t = images_per_s(RN50, 224, "fp16", "A100", 1)                 # A100 40 GB: same tensor cores, less bandwidth
    assert t.images_per_s == pytest.approx(2470 * min(312 / 312, 1555 / 2039))
    assert t.scaled and "min of tensor TFLOPS and memory bandwidth ratios" in t.how
    t4 = images_per_s(RN50, 224, "fp16", "T4", 1)
    assert t4.images_per_s == pytest.approx(1200 * min(65 / 125, 320 / 900))   # nearest in specs: V100


def test_rule5_a_model_without_figures_is_scaled_by_flops_from_the_nearest_one():
    t = images_per_s(WRN, 32, "fp16", "V100", 1)
    assert t.scaled and "for resnet50 at 224 px" in t.how and "wide_resnet at 32 px" in t.how
    from repro.estimate.flops import forward_flops
    ratio = forward_flops(RN50, 3, 224) / forward_flops(WRN, 3, 32)
    assert t.images_per_s == pytest.approx(1200 * ratio)
    small = images_per_s(RN50, 128, "fp16", "V100", 8)     # another size of a model with figures
    assert small.images_per_s == pytest.approx(8322 * forward_flops(RN50, 3, 224) / forward_flops(RN50, 3, 128))


def test_a_gpu_without_figures_or_specs_says_so():
    with pytest.raises(NoFigure, match="no throughput figure for P4000 and no spec figures"):
        images_per_s(AIRBENCH, 32, "fp16", "P4000", 1)


def test_efficiency_is_one_at_one_gpu_and_falls_with_count():
    assert throughput.efficiency(1)[0] == 1.0
    e2, e8 = throughput.efficiency(2)[0], throughput.efficiency(8)[0]
    assert 1 > e2 > e8 > 0.5 and e8 == pytest.approx(throughput.mean_efficiency())
    assert math.isclose(e2, e8 ** (1 / 3))


def test_the_flops_rule_does_not_reach_across_orders_of_magnitude():
    with pytest.raises(NoFigure, match="more than 10× away"):
        images_per_s(RECIPES["digits"].model, 8, "fp32", "V100", 1, channels=1)
