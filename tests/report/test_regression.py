"""The regression gate: a recipe's newest group on some hardware against the group before it."""
from __future__ import annotations

import pytest

from repro.report.build import build_context
from repro.report.regression import check, describe, parse_threshold
from tests.helpers_report import GOLDEN


@pytest.fixture(scope="module")
def runs():
    return build_context(GOLDEN, published=[])["runs"]


def test_threshold_is_a_percentage():
    assert parse_threshold("10%") == 0.10 and parse_threshold(" 2.5 % ") == 0.025
    for bad in ("10", "0.1", "-5%", "ten%", "nan%", ""):
        with pytest.raises(ValueError, match="percentage such as 10%"):
            parse_threshold(bad)


def test_golden_digits_newest_group_is_a_regression_beyond_ten_percent(runs):
    findings = {f["recipe"]: f for f in check(runs, 0.10)}
    digits = findings["digits"]
    assert digits["newest"]["group_id"] == "20261120T100000Z-g22222"
    assert digits["previous"]["group_id"] == "20261110T100000Z-g11111"
    assert digits["ratio"] == pytest.approx(6.1 / 4.5) and digits["regression"] is True
    line = describe(digits)
    assert "20261120T100000Z-g22222" in line and "20261110T100000Z-g11111" in line
    assert "35.6 % slower" in line and "beyond the 10 % allowed" in line


def test_within_the_threshold_is_no_regression(runs):
    digits = {f["recipe"]: f for f in check(runs, 0.40)}["digits"]
    assert digits["regression"] is False and "within bounds" in describe(digits)


def test_a_newest_group_that_never_reached_the_target_fails(runs):
    imagenet = {f["recipe"]: f for f in check(runs, 0.10)}["imagenet-fastai-2018"]
    assert imagenet["ratio"] is None and imagenet["regression"] is True
    assert "reached the target in none of its 1 run;" in describe(imagenet)


def test_a_recipe_with_one_group_is_not_judged(runs):
    recipes = {f["recipe"] for f in check(runs, 0.10)}
    assert "cifar-fastai-2018" not in recipes and "cifar-airbench94" not in recipes


def test_a_faster_newest_group_passes(runs):
    reordered = [dict(r, started_at="2027" + r["started_at"][4:]) if r["group_id"] == "20261101T100000Z-g00000"
                 else r for r in runs]
    digits = {f["recipe"]: f for f in check(reordered, 0.10)}["digits"]
    assert digits["newest"]["group_id"] == "20261101T100000Z-g00000"
    assert digits["regression"] is False and "faster" in describe(digits)


def test_the_library_offers_the_gate_compare_and_import(tmp_path):
    from repro import api
    from repro.report import build_site
    build_site(GOLDEN, tmp_path / "site", published=[])
    findings = {f["recipe"]: f for f in api.check_regressions(tmp_path / "site", "10%")}
    assert findings["digits"]["regression"] is True
    assert api.compare("20261110T100000Z-g11111", "20261120T100000Z-g22222", GOLDEN)["metrics"][0]["ratio"] > 1
    entries = GOLDEN.parent.parent / "fixtures" / "dawnbench"
    document, problems = api.import_dawnbench(entries, names=["basenet"], commit="f" * 40)
    assert [e["id"] for e in document["entries"]] == ["CIFAR10/train/basenet"] and problems == []
