"""Only comparable runs are ranked: the task's standard target, the recipe's scored settings as
shipped, verified data. The others are listed apart with their reasons, on the page and in
index.json."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from repro.recipes import RECIPES
from repro.report import build_site
from repro.report.comparable import TASKS, reasons, settings_changes
from tests.helpers_report import GOLDEN, soup


def summary(**changes) -> dict:
    """A run summary as repro.report.summary makes it, comparable unless changed."""
    run = {"task": "cifar10", "recipe": "cifar-airbench", "target_metric": "top1", "target_value": 0.94,
           "synthetic_data": False, "data_verified": True, "dataset_name": "cifar10",
           "recipe_hash": RECIPES["cifar-airbench"].hash(),
           "settings": settings_changes("cifar-airbench", {}, RECIPES["cifar-airbench"].hash())}
    run.update(changes)
    return run


def config_of(name: str, **top) -> dict:
    config = json.loads(json.dumps(RECIPES[name].to_dict(), default=list))
    config.update(top)
    return config


def test_a_run_of_the_shipped_recipe_at_the_standard_target_is_comparable():
    assert reasons(summary()) == []


def test_a_lowered_target_is_named():
    assert reasons(summary(target_value=0.05)) == ["target 0.05 instead of 0.94"]


def test_a_recipe_with_its_own_lower_target_is_not_ranked_on_the_mlperf_board():
    rn18 = RECIPES["imagenet-rn18-1gpu"]
    run = summary(task="imagenet-top1", recipe=rn18.name, target_value=rn18.target,
                  recipe_hash=rn18.hash(), settings=settings_changes(rn18.name, {}, rn18.hash()),
                  dataset_name="imagenet")
    assert reasons(run)[0] == "target 0.69 instead of 0.759"


def test_another_metric_is_named():
    assert reasons(summary(target_metric="top5", target_value=0.94)) == ["target top5 0.94 instead of top1 0.94"]


def test_changed_scored_settings_are_named_and_machine_settings_are_not():
    config = config_of("cifar-airbench", epochs=1, seed=7, gpus=4)
    config["optim"]["peak_lr"] = 0.4
    config["data"]["workers"] = 16
    run = summary(recipe_hash="sha256:other", settings=settings_changes("cifar-airbench", config, "sha256:other"))
    assert reasons(run) == ["epochs shortened to 1 (recipe: 10)", "optim.peak_lr 0.4 instead of 1.5"]


def test_many_changes_are_summed_up():
    config = config_of("cifar-airbench", epochs=12, target=0.9, precision="fp32", tta=False, compile=True,
                       channels_last=False)
    changes = settings_changes("cifar-airbench", config, "sha256:other")
    assert len(changes["changes"]) == 4 and changes["more"] == 1     # the target is judged on its own
    run = summary(target_value=0.9, settings=changes)
    assert reasons(run)[0] == "target 0.9 instead of 0.94"
    assert "epochs lengthened to 12 (recipe: 10)" in reasons(run)
    assert reasons(run)[-1] == "1 more setting changed"


def test_settings_missing_from_an_older_record_are_not_judged():
    assert settings_changes("cifar-airbench", {"epochs": 10, "model": {"name": "airbench94"}}, None)["changes"] == []


def test_a_recipe_repro_does_not_ship_is_judged_on_target_and_data_alone():
    run = summary(recipe="my-net", settings=settings_changes("my-net", {"epochs": 1}, None))
    assert reasons(run) == []


def test_unverified_or_unrecorded_data_is_named():
    assert reasons(summary(data_verified=False)) == [
        "data checksum unverified (the files differ from the official release)"]
    assert reasons(summary(data_verified=False, dataset_name="imagenet", task="imagenet-top5",
                           target_metric="top5", target_value=0.93, recipe="x")) == [
        "data checksum unverified (an ImageNet folder has no official checksum to match)"]
    assert reasons(summary(data_verified=None)) == ["data checksum not recorded"]
    assert reasons(summary(synthetic_data=True)) == ["synthetic data (throughput only)"]


def test_a_task_without_a_standard_says_so():
    assert reasons(summary(task="mnist", recipe="mnist-net")) == ["task 'mnist' has no standard target to rank at"]


def test_standard_targets():
    assert {t: (s["metric"], s["value"]) for t, s in TASKS.items()} == {
        "digits": ("top1", 0.97), "cifar10": ("top1", 0.94), "imagenet-top5": ("top5", 0.93),
        "imagenet-top1": ("top1", 0.759)}


def _variant(results: Path, source: Path, run_id: str, group: str, change) -> None:
    target = results / source.parent.name / run_id
    shutil.copytree(source, target)
    data = json.loads((target / "run.json").read_text())
    data["run_id"], data["group_id"] = run_id, group
    change(data)
    (target / "run.json").write_text(json.dumps(data))


def _lower_target(data: dict) -> None:
    """`repro cifar --epochs 1 --target 0.05`: what the run record says of such a run."""
    data["target"]["value"] = data["config"]["target"] = 0.05
    data["config"]["epochs"] = 1
    data["outcome"]["time_to_target_s"] = 1.0      # the fastest on the board, were it ranked


def _unverified(data: dict) -> None:
    data["data_verified"] = False
    data["provenance"]["dataset"]["verified"] = False
    data["outcome"]["time_to_target_s"] = 2.0


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("comparable")
    results = tmp / "results"
    shutil.copytree(GOLDEN / "cifar-fastai-2018", results / "cifar-fastai-2018")
    source = GOLDEN / "cifar-fastai-2018" / "20261115T090000Z-c00c00"
    _variant(results, source, "20261125T090000Z-low000", "g-lowered", _lower_target)
    _variant(results, source, "20261125T100000Z-unv000", "g-unverified", _unverified)
    build_site(results, tmp / "site", published=[])
    return tmp / "site"


def test_lowered_target_and_unverified_data_are_never_ranked_but_listed_apart(site):
    page = soup(site / "index.html")
    board = page.find("table", id="board-cifar10")
    assert [tr["data-group"] for tr in board.select("tr.entry")] == ["20261115T090000Z-gc0000"]
    assert board.select_one("tr.entry td.rank").get_text() == "1"
    apart = {tr["data-group"]: [li.get_text() for li in tr.select("td.why li")]
             for tr in page.select("#apart-cifar10 tr.apart-row")}
    assert apart == {
        "g-lowered": ["target 0.05 instead of 0.94", "epochs shortened to 1 (recipe: 30)"],
        "g-unverified": ["data checksum unverified (the files differ from the official release)"],
    }
    cost_tables = " ".join(str(t) for t in page.select("#task-cifar10 table.cost-ranking"))
    assert "g-lowered" not in cost_tables and "g-unverified" not in cost_tables


def test_index_json_carries_comparable_and_the_reasons_for_every_entry_and_run(site):
    data = json.loads((site / "index.json").read_text())
    board = data["tasks"][0]
    assert [(e["group_id"], e["comparable"], e["rank"]) for e in board["entries"]] == \
        [("20261115T090000Z-gc0000", True, 1)]
    apart = {e["group_id"]: (e["comparable"], e["reasons"], e["rank"]) for e in board["apart"]}
    assert apart["g-lowered"] == (False, ["target 0.05 instead of 0.94", "epochs shortened to 1 (recipe: 30)"], None)
    assert apart["g-unverified"][:2] == (False, ["data checksum unverified (the files differ from the official release)"])
    runs = {r["run_id"]: r for r in data["runs"]}
    assert runs["20261125T090000Z-low000"]["comparable"] is False
    assert runs["20261125T090000Z-low000"]["comparable_reasons"][0] == "target 0.05 instead of 0.94"
    assert runs["20261115T090000Z-c00c00"]["comparable"] is True
    assert runs["20261115T090000Z-c04c04"]["comparable"] is False      # diverged: finished runs only
    assert runs["20261115T090000Z-c04c04"]["comparable_reasons"] == []
