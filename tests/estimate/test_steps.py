"""Epochs to target: measured runs first, then the published epoch (scaled to the schedule), else all."""
from repro.estimate.steps import epochs_to_target
from repro.recipes import resolve


def test_measured_runs_win_and_are_scored_as_groups_are():
    e = epochs_to_target(resolve("digits"), [5, 3, 4, 4, 9], " in results/")
    assert e.kind == "measured" and e.values == (3, 4, 4, 5, 9)
    assert e.point == (4 + 4 + 5) / 3 and (e.low, e.high) == (3, 9)     # olympic mean, as groups are scored
    assert "5 measured run(s) of this recipe in results/" in e.source


def test_published_epoch_is_used_and_scaled_by_fraction_of_a_longer_schedule():
    same = epochs_to_target(resolve("cifar-fastai-2018"))
    assert same.kind == "published" and same.values == (27,) and "fastai_pytorch_single_volta.tsv" in same.source
    longer = epochs_to_target(resolve("cifar-fastai-2018-8gpu", epochs=50))   # entry: 36 of 40; here 50 epochs
    assert longer.values == (45,) and "as a fraction of the schedule: epoch 45 of 50" in longer.source
    shorter = epochs_to_target(resolve("digits", epochs=5))           # 3..6 of 10 → 2..3 of 5
    assert set(shorter.values) == {2, 3}


def test_without_any_figure_the_whole_schedule_is_an_upper_bound():
    e = epochs_to_target(resolve("imagenet-rn50-fast"))
    assert e.kind == "upper-bound" and e.values == (56,) and "upper bound" in e.source
