"""Schedules are pure functions of progress: shapes, inverse momentum, and rescaling with --epochs."""
import numpy as np
import pytest

from repro import recipes
from repro.recipes import ScheduleSpec
from repro.train import schedule as sched


def test_one_cycle_shape():
    s = sched.OneCycle(peak_lr=2.0, pct_start=0.3, div=20.0, final_div=2000.0, final_phase=0.2)
    p = np.linspace(0, 1, 1001)
    lr = s.lr(p)
    assert p[np.argmax(lr)] == pytest.approx(0.3)                      # peak at the stated fraction
    assert s.lr(0.0) == pytest.approx(0.1) and s.lr(0.3) == pytest.approx(2.0)
    assert s.lr(0.8) == pytest.approx(0.1)                     # back to peak/div as the final phase starts
    assert s.lr(1.0) == pytest.approx(0.001)                           # ends at peak/final_div
    assert np.all(np.diff(lr[p <= 0.3]) > 0) and np.all(np.diff(lr[p >= 0.3]) < 0)


def test_momentum_moves_inversely():
    s = sched.OneCycle(peak_lr=1.0, pct_start=0.25, final_phase=0.1, momentum_max=0.95, momentum_min=0.85)
    p = np.linspace(0, 0.9, 901)
    lr, mom = s.lr(p), s.momentum(p)
    assert mom[0] == pytest.approx(0.95) and s.momentum(0.25) == pytest.approx(0.85)
    assert s.momentum(0.9) == pytest.approx(0.95) and s.momentum(1.0) == pytest.approx(0.95)
    assert np.corrcoef(lr, mom)[0, 1] == pytest.approx(-1.0)          # exactly mirrored while the LR cycles


def test_one_cycle_rejects_impossible_phases():
    with pytest.raises(ValueError, match="final_phase"):
        sched.OneCycle(peak_lr=1.0, pct_start=0.6, final_phase=0.5)
    with pytest.raises(ValueError, match="pct_start"):
        sched.OneCycle(peak_lr=1.0, pct_start=1.0)


def test_piecewise_airbench_shape():
    s = sched.build_lr_schedule(ScheduleSpec(kind="piecewise", knots_x=(0.0, 0.23, 1.0),
                                             knots_y=(0.2, 1.0, 0.07), momentum_max=0.85), peak_lr=1.5)
    assert s.lr(0.0) == pytest.approx(0.3) and s.lr(0.23) == pytest.approx(1.5)
    assert s.lr(1.0) == pytest.approx(0.105) and s.momentum(0.5) == 0.85
    assert np.all(s.momentum(np.linspace(0, 1, 5)) == 0.85)


@pytest.mark.parametrize("name", ["cifar-fastai-2018", "cifar-fastai-2018-8gpu", "cifar-airbench", "digits"])
@pytest.mark.parametrize("epochs", [2, 7])
def test_recipe_schedules_rescale_with_epochs(name, epochs):
    """--epochs changes the number of steps; the peak lands at the same fraction of training and the
    schedule ends at the same value, because schedules only see progress."""
    steps_per_epoch = 97
    default = recipes.resolve(name)
    short = recipes.resolve(name, epochs=epochs)
    assert short.epochs == epochs and short.schedule == default.schedule

    def curve(recipe):
        s = sched.build_lr_schedule(recipe.schedule, recipe.optim.peak_lr)
        total = recipe.epochs * steps_per_epoch
        return np.array([s.lr(sched.progress_of(i, total)) for i in range(total)]), total

    lr_default, total_default = curve(default)
    lr_short, total_short = curve(short)
    assert np.argmax(lr_short) / total_short == pytest.approx(np.argmax(lr_default) / total_default, abs=0.02)
    assert lr_short.max() == pytest.approx(default.optim.peak_lr, rel=0.02)
    # the short run samples the same curve: read at its own progress points the default run agrees
    on_default = np.interp(np.arange(total_short) / total_short, np.arange(total_default) / total_default,
                           lr_default)
    assert np.abs(lr_short - on_default).max() < 0.01 * default.optim.peak_lr


def test_progress_and_sizes():
    assert sched.progress_of(0, 10) == 0.0 and sched.progress_of(5, 10) == 0.5
    assert sched.progress_of(20, 10) == 1.0
    with pytest.raises(ValueError):
        sched.progress_of(1, 0)
    knots = ((0, 128), (10, 224), (12, 288))
    assert sched.size_at(knots, 0) == 128 and sched.size_at(knots, 5) == 192
    assert sched.size_at(knots, 20) == 288 and sched.size_at((), 3) is None
