"""The plan step: a plan is plain data (what the torchrun ranks read back from a file), and each
input check turns a bad value into one PlanError that says what to do."""
from pathlib import Path

import pytest

from repro import api
from repro.orchestrator import Plan, PlanError


def test_plan_round_trips_through_its_file_form(tmp_path):
    plan = api.plan("digits", runs=3, seed=5, epochs=2, overrides=("optim.peak_lr=0.3",),
                    results_dir=tmp_path / "res", device="cpu", gpus=2)
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.recipe.optim.peak_lr == 0.3 and again.seeds == (5, 6, 7) and again.ranks.nproc_per_node == 2
    assert not (tmp_path / "res").exists()          # planning writes nothing


def test_a_plan_from_another_version_is_refused(tmp_path):
    text = api.plan("digits", results_dir=tmp_path).to_json().replace('"version": 1', '"version": 99')
    with pytest.raises(PlanError, match="another repro version"):
        Plan.from_json(text)


@pytest.mark.parametrize("options, message", [
    ({"device": "bogus"}, "use cpu, cuda or cuda:N"),
    ({"device": "cuda:x"}, "use cpu, cuda or cuda:N"),
    ({"seed": -1}, "--seed must be in 0.."),
    ({"seed": 10**40}, "--seed must be in 0.."),
    ({"runs": 0}, "--runs must be ≥ 1"),
    ({"overrides": ("optim.name=adam",)}, "optim.name must be one of sgd, adamw"),
    ({"overrides": ("model.name=nope",)}, "model.name 'nope' is not a model"),
    ({"overrides": ("schedule.kind=nope",)}, "schedule.kind must be one of"),
    ({"overrides": ('data.size_knots=[[0,"x"]]',)}, "is not a [fraction, size] pair"),
    ({"overrides": ("optim.peak_lr=-1e3",)}, "optim.peak_lr must be in (0, inf)"),
    ({"overrides": ("name=../../x",)}, "must be 1-64 letters"),
    ({"overrides": ("name=/abs/path",)}, "must be 1-64 letters"),
    ({"overrides": ("task=a/b",)}, "must be 1-64 letters"),
])
def test_bad_inputs_are_one_plan_error(tmp_path, options, message):
    with pytest.raises(PlanError) as err:
        api.plan("digits", results_dir=tmp_path / "r", **options)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "r").exists()


def test_the_recipe_folder_may_not_lead_out_of_results(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "r" / "digits").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PlanError, match="outside --results"):
        api.plan("digits", results_dir=tmp_path / "r")


def test_a_recipe_names_its_command(tmp_path):
    with pytest.raises(PlanError, match="run it with `repro cifar --recipe cifar-airbench`"):
        api.plan("cifar-airbench", family="digits", results_dir=tmp_path)
    assert api.plan("cifar-airbench", synthetic=True, results_dir=tmp_path).recipe.name == "cifar-airbench"


def test_resume_needs_a_run_directory(tmp_path):
    with pytest.raises(PlanError, match="not a directory"):
        api.plan("digits", resume=Path(tmp_path / "nothing"))
