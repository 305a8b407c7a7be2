"""Every named recipe against its fidelity record, setting by setting; a drifted value or a difference
without a reason fails; docs/recipes.md is the render of the records; `repro recipes --json` carries them."""
from __future__ import annotations

import dataclasses
import importlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from repro.recipes import RECIPES, apply_overrides
from repro.recipes.fidelity import check, same
from repro.recipes.fidelity_doc import render
from repro.recipes.fidelity_index import FIDELITY
from tests.conftest import REPO, run_cli

RECIPES_MD = REPO / "docs" / "recipes.md"


def code_value(dotted: str):
    """A "code:" field: the longest importable module prefix, then attributes (or dict keys)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
            break
        except ModuleNotFoundError:
            continue
    for part in parts[cut:]:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return list(obj) if isinstance(obj, tuple) else obj


def test_every_recipe_that_cites_a_source_has_a_record():
    cited = {name for name, r in RECIPES.items() if r.published_source}
    assert cited == set(FIDELITY)
    assert {"imagenet-fastai-2018", "cifar-fastai-2018", "cifar-fastai-2018-8gpu", "cifar-basenet-2018",
            "cifar-airbench"} <= set(FIDELITY)


@pytest.mark.parametrize("name", sorted(FIDELITY))
def test_recipe_matches_its_record(name):
    assert check(FIDELITY[name], RECIPES[name], code_value) == []


@pytest.mark.parametrize("change, setting", [
    ({"optim.weight_decay": 5e-5}, "weight decay"),
    ({"epochs": 44}, "epochs"),
    ({"optim.peak_lr": 0.8}, "peak LR"),
    ({"data.batch_ratio_per_size": [[288, 1.0]]}, "batch per GPU at 288 px"),
    ({"model.zero_init_residual": True}, "zero-init residual"),
])
def test_a_changed_value_fails_the_check(change, setting):
    changed = apply_overrides(RECIPES["imagenet-fastai-2018"], change)
    problems = check(FIDELITY["imagenet-fastai-2018"], changed, code_value)
    assert problems and any(setting in p for p in problems), problems


def test_every_cifar_and_airbench_setting_is_guarded_too():
    for name, change in (("cifar-airbench", {"optim.lookahead_every": 0}), ("cifar-airbench", {"tta_translate": 0}),
                         ("cifar-airbench", {"data.flip_mode": "random"}), ("cifar-basenet-2018", {"optim.nesterov": False}),
                         ("cifar-fastai-2018", {"schedule.div": 25.0}), ("cifar-fastai-2018-8gpu", {"data.batch_size": 512})):
        assert check(FIDELITY[name], apply_overrides(RECIPES[name], change), code_value), (name, change)


def test_a_changed_code_constant_fails_the_check():
    record = FIDELITY["cifar-fastai-2018"]
    assert check(record, RECIPES[record.recipe], lambda name: "something else" if "INITIALISATION" in name
                 else code_value(name))


def test_a_difference_without_a_reason_fails():
    record = FIDELITY["imagenet-fastai-2018"]
    settings = list(record.settings)
    i = next(k for k, s in enumerate(settings) if s.reason and s.field and not s.field.startswith("code:"))
    settings[i] = dataclasses.replace(settings[i], reason="")
    problems = check(dataclasses.replace(record, settings=tuple(settings)), RECIPES[record.recipe], code_value)
    assert any("no reason is recorded" in p for p in problems)
    j = next(k for k, s in enumerate(settings) if s.field is None)
    settings[j] = dataclasses.replace(settings[j], reason="")
    problems = check(dataclasses.replace(record, settings=tuple(settings)), RECIPES[record.recipe], code_value)
    assert any("no such setting" in p for p in problems)


def test_records_point_at_commits_and_lines():
    for record in FIDELITY.values():
        for source in record.sources:
            assert len(source.commit) == 40 and int(source.commit, 16) >= 0, source
        for s in record.settings:
            assert s.lines, (record.recipe, s.name)
            assert record.source(s.where).url(s.lines).startswith("https://github.com/")


def test_published_figures_are_the_entries_own():
    imagenet = FIDELITY["imagenet-fastai-2018"].published[0]
    assert (imagenet.epoch, imagenet.time, imagenet.accuracy_percent) == (41, "2.957533192777778", "93.002")
    assert imagenet.usd_per_hour == Decimal("24.48") and imagenet.usd() == Decimal("72.40")
    one_gpu = FIDELITY["cifar-fastai-2018"].published[0]
    assert one_gpu.epoch == 26 and one_gpu.usd_per_hour == Decimal("2.30") and round(one_gpu.seconds()) == 404
    eight = FIDELITY["cifar-fastai-2018-8gpu"].published[0]
    assert eight.epoch == 35 and round(eight.seconds()) == 174 and eight.hardware.startswith("8 × V100")
    basenet = FIDELITY["cifar-basenet-2018"].published[0]
    assert basenet.epoch == 30 and basenet.usd_per_hour == Decimal("3.060") and "6 of 7" in basenet.note
    airbench = FIDELITY["cifar-airbench"].published[0]
    assert (airbench.time, airbench.unit, airbench.usd_per_hour) == ("3.83", "s", None)
    assert "3.09 s" in airbench.note and "3.29 s" in airbench.note


def test_docs_recipes_md_is_the_render_of_the_records():
    rendered = render()
    if RECIPES_MD.read_text(encoding="utf-8") != rendered:
        pytest.fail("docs/recipes.md is stale: run `python -m repro.recipes.fidelity_doc docs/recipes.md`")
    for name, record in FIDELITY.items():
        assert f"## {name}" in rendered
        differing = [s for s in record.settings if not same(s.source_value, s.recipe_value)]
        assert all(s.reason in rendered for s in differing)


def test_a_stale_docs_page_is_detected(tmp_path):
    from repro.recipes import fidelity_doc
    page = tmp_path / "recipes.md"
    fidelity_doc.write(page)
    assert page.read_text(encoding="utf-8") == render()
    record = FIDELITY["cifar-airbench"]
    changed = dataclasses.replace(record, summary=record.summary + " (edited)")
    fidelity_doc.FIDELITY[record.recipe] = changed
    try:
        assert page.read_text(encoding="utf-8") != render()
    finally:
        fidelity_doc.FIDELITY[record.recipe] = record


@pytest.mark.slow  # a fresh process
def test_repro_recipes_json_shows_the_records():
    proc = run_cli("recipes", "--json")
    assert proc.returncode == 0, proc.stderr
    recipes = {r["name"]: r for r in map(json.loads, proc.stdout.splitlines())}
    fastai = recipes["imagenet-fastai-2018"]
    settings = {s["name"]: s for s in fastai["fidelity"]["settings"]}
    assert settings["momentum"]["recipe_value"] == [[0, 0.9], [45, 0.9]]
    assert settings["weight decay"]["recipe_value"] == 0.0001 and settings["epochs"]["recipe_value"] == 45
    knots = settings["LR per epoch (knots in epochs, a repeated epoch is a step)"]["recipe_value"]
    steps = [knots[0]] + [k for prev, k in zip(knots, knots[1:]) if k[0] == prev[0]]   # a repeated epoch: a step
    assert [epoch for epoch, _ in steps] == pytest.approx([0, 1, 2, 3, 21, 35, 43])
    assert [lr for _, lr in steps] == pytest.approx([0.1, 0.4 / 3, 0.2, 0.4, 0.04, 0.004, 0.0004])
    assert fastai["config"]["schedule"]["kind"] == "piecewise"
    for name in ("cifar-fastai-2018", "cifar-fastai-2018-8gpu"):
        assert recipes[name]["config"]["model"] == {**recipes[name]["config"]["model"], "name": "wide_resnet",
                                                     "depth": 22, "width": 96}
        assert recipes[name]["fidelity"]["sources"][5]["path"] == "cifar10/models/wideresnet.py"
    assert recipes["cifar-basenet-2018"]["config"]["model"]["name"] == "basenet_resnet18"
    assert recipes["cifar-basenet-2018"]["fidelity"]["published"][0]["usd_per_hour"] == "3.060"
    assert recipes["digits"]["fidelity"] is None
    assert Path(RECIPES_MD).exists()
