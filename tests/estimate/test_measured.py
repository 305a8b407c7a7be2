"""The results store as a basis: only finished, reached, real-data runs of exactly this recipe."""
import json
import math

from repro.estimate.measured import Hardware, hardware_of, read_store
from repro.recipes import resolve
from tests.estimate.helpers import write_run


def test_only_counted_runs_of_this_exact_recipe_are_read(tmp_path):
    recipe = resolve("digits")
    write_run(tmp_path, recipe, "a", time_s=0.7, epochs=4)
    write_run(tmp_path, recipe, "b", time_s=0.6, epochs=3)
    write_run(tmp_path, recipe, "synthetic", time_s=0.1, epochs=1, synthetic_data=True)
    write_run(tmp_path, recipe, "failed", time_s=0.1, epochs=1, status="failed")
    write_run(tmp_path, recipe, "not-reached", time_s=None, epochs=None, reached=False)
    write_run(tmp_path, recipe, "nan", time_s=math.nan, epochs=2)
    write_run(tmp_path, resolve("digits", epochs=5), "other-hash", time_s=0.2, epochs=2)
    (tmp_path / "digits" / "broken").mkdir()
    (tmp_path / "digits" / "broken" / "run.json").write_text("{not json")
    view = read_store(recipe, tmp_path)
    cpu = Hardware(None, 0, 2)
    assert list(view.by_hardware) == [cpu]
    assert sorted(view.by_hardware[cpu].times_s) == [0.6, 0.7]
    assert sorted(view.epochs_to_target) == [3, 4]
    assert len(view.errors) == 2                          # unreadable records are named, never read
    assert any("broken" in e for e in view.errors) and any("nan" in e and "time_to_target_s" in e for e in view.errors)


def test_a_missing_results_folder_is_an_empty_store(tmp_path):
    view = read_store(resolve("digits"), tmp_path / "nope")
    assert view.by_hardware == {} and view.epochs_to_target == [] and view.errors == []


def test_hardware_is_read_the_way_pricing_matches_it():
    assert hardware_of({"accelerator": "cuda", "gpu_name": "Tesla V100-SXM2-16GB", "gpu_count": 8}) == \
        Hardware("V100", 8)
    assert hardware_of({"accelerator": "cuda", "gpu_model": "A100-80GB", "gpu_count": 1}) == Hardware("A100-80GB", 1)
    assert hardware_of({"accelerator": "cpu", "vcpus": 2}) == Hardware(None, 0, 2)
    assert hardware_of({"accelerator": "cpu", "vcpus": "2"}) is None
    assert hardware_of("nonsense") is None
    assert Hardware("H100", 8).label() == "8 × H100" and Hardware(None, 0, 2).label() == "CPU, 2 vCPUs"
    assert json.dumps(Hardware("H100", 8).for_pricing()) == '{"gpu_model": "H100", "gpu_count": 8}'
