"""run.json's `estimate`: kept as the orchestrator handed it over, and kept through a resume."""
from repro.harness import store
from repro.harness.run import RunSession
from repro.recipes import get_recipe

ESTIMATE = {"time_to_target_s": 0.66, "low_s": 0.5, "high_s": 1.1, "basis": "calibrated"}


def test_the_estimate_is_written_with_the_first_run_json_and_kept_through_a_resume(tmp_path):
    recipe = get_recipe("digits")
    run_dir = store.create_run_dir(tmp_path, recipe.name)
    first = RunSession(run_dir=run_dir, recipe=recipe, seed=0, estimate=ESTIMATE)
    assert store.read_json(run_dir / store.RUN_FILE)["estimate"] == ESTIMATE
    first.finish("interrupted", "SIGTERM")
    RunSession(run_dir=run_dir, recipe=recipe, seed=0, resume=True)      # a resume made without --estimate
    assert store.read_json(run_dir / store.RUN_FILE)["estimate"] == ESTIMATE


def test_a_run_without_an_estimate_has_no_estimate_key(tmp_path):
    recipe = get_recipe("digits")
    run_dir = store.create_run_dir(tmp_path, recipe.name)
    RunSession(run_dir=run_dir, recipe=recipe, seed=0)
    assert "estimate" not in store.read_json(run_dir / store.RUN_FILE)
