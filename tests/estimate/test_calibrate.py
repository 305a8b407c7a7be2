"""--calibrate: the recipe's own steps timed here, and a projection that a real run then meets
(loosely: a shared 2-core machine; the ±30 % acceptance is benchmarks/test_bench_estimate.py)."""
import pytest

from repro import api
from repro.estimate.calibrate import Calibration, ShapeTiming, calibrate
from repro.estimate.measured import Hardware
from repro.estimate.projection import from_calibration
from repro.estimate.steps import EpochsToTarget, epochs_to_target
from repro.harness.stats import olympic_mean
from repro.recipes import resolve


def test_every_batch_shape_of_a_progressive_recipe_is_timed_on_synthetic_data(one_torch_thread):
    recipe = resolve("cifar-airbench", epochs=4, overrides=[
        "data.batch_size=16", "data.eval_batch_size=64", "data.image_size=32",
        "data.size_knots=[[0,32],[0.5,32],[0.5,64],[1,64]]"])
    cal = calibrate(recipe, "cpu", budget_s=0.5)
    assert set(cal.shapes) == {(32, 16), (64, 4)}          # the batch follows the pixels (batch_for_size)
    assert set(cal.eval_s) == {32, 64} and cal.eval_s[64] > cal.eval_s[32] > 0
    for timing in cal.shapes.values():
        assert 0 < timing.step_s_low <= timing.step_s <= timing.step_s_high and timing.steps_timed >= 3
    assert "synthetic cifar10" in cal.data and cal.hardware["accelerator"] == "cpu"


def test_projection_is_setup_plus_each_epoch_steps_and_evaluation():
    recipe = resolve("digits")                              # 23 steps an epoch at batch 64
    cal = Calibration("cpu", {"accelerator": "cpu", "vcpus": 2}, "test", startup_s=0.05,
                      shapes={(None, 64): ShapeTiming(None, 64, 0.006, 0.005, 0.009, 60)}, eval_s={None: 0.01})
    epochs = EpochsToTarget((3, 4, 4, 4, 5), "test", "published")
    p = from_calibration(cal, recipe, epochs, Hardware(None, 0, 2))
    per_epoch = 23 * 0.006 + 0.01
    assert p.time_to_target_s == pytest.approx(0.05 + 4 * per_epoch)             # olympic mean of 3,4,4,4,5
    assert p.low_s == pytest.approx(0.05 + 3 * (23 * 0.005 + 0.01))
    assert p.high_s == pytest.approx(0.05 + 5 * (23 * 0.009 + 0.01))
    assert p.run_s == pytest.approx(0.05 + 10 * per_epoch) and p.basis == "calibrated"


def test_digits_calibration_predicts_real_runs_within_a_factor_of_two(tmp_path):
    recipe = resolve("digits")
    cal = calibrate(recipe, "cpu", budget_s=1.0)
    group = api.train("digits", runs=3, results_dir=tmp_path)
    measured = [r.outcome["epochs_to_target"] for r in group.runs]
    # the real runs' own epochs to target: this checks the time per epoch, not the epochs table
    predicted = from_calibration(cal, recipe, epochs_to_target(recipe, measured), Hardware(None, 0, 2))
    actual = olympic_mean([r.outcome["time_to_target_s"] for r in group.runs])
    assert 0.5 <= predicted.time_to_target_s / actual <= 2.0, (predicted.detail, actual)
