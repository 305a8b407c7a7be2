"""Same seed → identical per-epoch metrics; different seed → different; `repro rerun` replays exactly."""
from repro import api
from repro.harness import store

KEYS = ("train_loss", "eval_loss", "top1", "lr", "momentum")


def _curve(record):
    return [tuple(e[k] for k in KEYS) for e in record["outcome"]["epochs"]]


def test_same_seed_identical_different_seed_differs(digits_group, tmp_path):
    results, summary = digits_group
    seed0 = summary.runs[0].record
    seed1 = summary.runs[1].record
    again = api.train("digits", epochs=3, seed=0, results_dir=tmp_path).runs[0].record
    assert again["seed"] == seed0["seed"] == 0
    assert _curve(again) == _curve(seed0)
    assert _curve(seed1) != _curve(seed0)


def test_rerun_replays_recorded_config_exactly(digits_group):
    results, summary = digits_group
    original = summary.runs[1]
    replay = api.rerun(original.run_dir).runs[0]
    assert replay.run_dir != original.run_dir
    new = store.load_run(replay.run_dir).data
    assert new["recipe_hash"] == original.record["recipe_hash"] and new["seed"] == 1
    assert _curve(new) == _curve(original.record)


def test_overrides_change_the_hash_and_are_recorded(tmp_path):
    rec = api.train("digits", epochs=1, results_dir=tmp_path,
                    overrides=["optim.peak_lr=0.1", "data.batch_size=128"]).runs[0].record
    assert rec["config"]["optim"]["peak_lr"] == 0.1 and rec["config"]["data"]["batch_size"] == 128
    assert rec["config"]["epochs"] == 1
    from repro.recipes import get_recipe
    assert rec["recipe_hash"] != get_recipe("digits").hash()
