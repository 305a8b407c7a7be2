"""docs/estimate.md's backtest and spec-rule tables are what the code computes."""
from pathlib import Path

from repro.estimate import backtest
from repro.report.format import duration

DOC = (Path(__file__).resolve().parents[2] / "docs" / "estimate.md").read_text(encoding="utf-8")


def test_the_backtest_table_in_the_docs_is_the_computed_one():
    for r in backtest.backtest():
        row = f"| {r['entry']} | {duration(r['published_s'])} | {duration(r['estimate_s'])} | {r['error']:+.0%} |"
        assert row in DOC, row
        assert r["scaled"] and r["source"].startswith("https://github.com/stanford-futuredata/dawn-bench-entries/")


def test_the_backtest_uses_the_entries_own_schedules():
    from repro.recipes import resolve
    from repro.train.loop import epoch_shape
    from collections import Counter

    imagenet = backtest.CASES[2]
    recipe = resolve(imagenet.recipe, overrides=imagenet.overrides)
    sizes = Counter(epoch_shape(recipe, e)[0] for e in range(1, recipe.epochs + 1))
    assert sizes == {128: 18, 224: 23, 288: 4}
    assert imagenet.published_s == 2.9575332 * 3600


def test_the_spec_rule_check_in_the_docs_is_the_computed_one():
    rows = backtest.spec_rule_check()
    assert {r["gpu"] for r in rows} == {"A10", "H100", "H200", "V100"}
    for r in rows:
        line = f"| {r['gpu']} | {r['published']:,.0f} | {r['predicted']:,.0f} | {r['error']:+.0%} |"
        assert line in DOC, line
