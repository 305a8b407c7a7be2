"""The SVGs parse as SVG and hold the points the data says."""
from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import matplotlib.pyplot as plt

from repro.report import build_site
from repro.report.plots import STYLE, pareto_figure, pareto_front
from repro.report.svgchart import nice_ticks
from tests.helpers_report import GOLDEN, golden_runs

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(GOLDEN, out)
    return out


def svg_root(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return root


def inline_svg(page: Path, figure_id: str) -> ET.Element:
    """The <svg> drawn inside <figure id=figure_id> of an HTML page, parsed as SVG (XML)."""
    html = page.read_text(encoding="utf-8")
    match = re.search(rf'<figure [^>]*id="{figure_id}"[^>]*>(<svg .*?</svg>)</figure>', html, re.S)
    assert match, f"no inline SVG in figure #{figure_id} of {page}"
    root = ET.fromstring(match.group(1))
    assert root.tag == f"{SVG}svg"
    return root


def group(root: ET.Element, gid: str) -> ET.Element | None:
    return next((g for g in root.iter(f"{SVG}g") if g.get("id") == gid), None)


def markers(root: ET.Element, gid: str) -> int:
    """Data points drawn in the series `gid`: a matplotlib scatter writes one <use> (or, for few
    points, one <path>) per point outside its <defs>; the run charts write a <circle> per point."""
    g = group(root, gid)
    if g is None:
        return 0

    def count(element: ET.Element) -> int:
        total = 0
        for child in element:
            if child.tag == f"{SVG}defs":
                continue
            if child.tag in (f"{SVG}use", f"{SVG}circle", f"{SVG}path"):
                total += 1
            total += count(child)
        return total
    return count(g)


def test_pareto_front_keeps_only_undominated_points():
    points = [(3.0, 5.0), (1.0, 9.0), (2.0, 4.0), (4.0, 1.0), (5.0, 2.0)]
    assert pareto_front(points) == [(1.0, 9.0), (2.0, 4.0), (4.0, 1.0)]


def test_nice_ticks_cover_the_range_with_round_steps():
    ticks = nice_ticks(0.13, 0.97)
    assert ticks[0] <= 0.13 and ticks[-1] >= 0.97
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    assert steps == {0.2}


def _priced(rows: list[dict], market: str) -> list[dict]:
    return [r for r in rows if r["time_to_target_s"] and market in r["market_costs"]]


def test_pareto_svgs_per_market_have_one_point_per_priced_entry(site):
    index = json.loads((site / "index.json").read_text())
    drawn = 0
    for board in index["tasks"]:
        assert set(board["pareto"]) == {m for m in board["markets"]
                                        if _priced(board["entries"] + board["published"], m)}
        for market, name in board["pareto"].items():
            assert name == f"plots/pareto-{board['task']}-{market}.svg"
            root = svg_root(site / name)
            assert markers(root, "points") == len(_priced(board["entries"], market))
            assert markers(root, "published") == len(_priced(board["published"], market))
            drawn += 1
    assert drawn >= 6        # digits and CIFAR-10 on all three markets at least


def test_pareto_front_counts_match_the_golden_numbers(site):
    """digits: cost rises with time, so only the fastest entry is on the front. CIFAR-10 on
    demand: airbench94 (4.2 s, $0.0048) beats every other measured and published point."""
    index = json.loads((site / "index.json").read_text())
    for task, market in (("digits", "spot"), ("cifar10", "on-demand"), ("cifar10", "spot")):
        board = [b for b in index["tasks"] if b["task"] == task][0]
        points = [(r["time_to_target_s"], float(r["market_costs"][market]["usd"]))
                  for r in _priced(board["entries"] + board["published"], market)]
        root = svg_root(site / board["pareto"][market])
        assert markers(root, "pareto-front") == len(pareto_front(points))
    assert markers(svg_root(site / "plots/pareto-digits-spot.svg"), "pareto-front") == 1
    assert markers(svg_root(site / "plots/pareto-cifar10-on-demand.svg"), "pareto-front") == 1


def _tick_texts(root: ET.Element, axis: str) -> list[str]:
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == f"matplotlib.axis_{axis}")
    texts = []
    for tick in group.iter(f"{SVG}g"):
        if (tick.get("id") or "").startswith(("xtick_", "ytick_")):
            texts += ["".join(t.itertext()).strip() for t in tick.iter(f"{SVG}text")]
    return [t for t in texts if t]


def test_one_entry_gets_dollar_labels_on_log_axes_a_decade_wide(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "digits", results / "digits",
                    ignore=lambda d, names: [n for n in names if n.startswith("2026111") or n.startswith("2026112")])
    site = tmp_path / "site"
    build_site(results, site, published=[])
    root = svg_root(site / "plots/pareto-digits-spot.svg")
    dollars = _tick_texts(root, "2")
    assert len(dollars) >= 2 and all(t.startswith("$") for t in dollars)
    amounts = [Decimal(t[1:].replace(",", "")) for t in dollars]
    assert all(a == Decimal(10) ** a.adjusted() for a in amounts)      # whole decades
    assert max(amounts) / min(amounts) >= 10
    assert _tick_texts(root, "1") == ["1 s", "10 s"]
    svg = (site / "plots/pareto-digits-spot.svg").read_text()
    assert "log scale" in svg and "e-0" not in "".join(dollars)


def test_legend_sits_off_the_axes():
    board = {"title": "t", "markets": ["spot"], "market_labels": ["Spot"],
             "entries": [{"time_to_target_s": 4.0 + k, "market_costs": {"spot": {"usd": f"0.00{k + 1}"}}}
                         for k in range(5)],
             "published": [{"time_to_target_s": 170.0, "market_costs": {"spot": {"usd": "0.13"}}}]}
    with plt.rc_context(STYLE):
        fig = pareto_figure(board, "spot")
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legend = fig.legends[0].get_window_extent(renderer)
        axes = fig.axes[0].get_window_extent(renderer)
        plt.close(fig)
    assert not legend.overlaps(axes)


@pytest.mark.parametrize("run", golden_runs(), ids=lambda r: r["run_id"])
def test_run_charts_have_a_point_per_epoch(site, run):
    stem = site / "runs" / run["_dir"].parent.name / run["_dir"].name
    epochs = run["outcome"]["epochs"]
    curves = inline_svg(stem.with_name(stem.name + ".html"), "curves")
    schedule = svg_root(stem.with_name(stem.name + ".schedule.svg"))
    with_top1 = [e for e in epochs if e["top1"] is not None]
    assert markers(curves, "accuracy-top1") == len(with_top1)
    assert markers(curves, "accuracy-top5") == len([e for e in epochs if e["top5"] is not None])
    assert markers(curves, "loss-train") == len([e for e in epochs if e["train_loss"] is not None])
    assert markers(schedule, "lr") == len(epochs)
    assert markers(schedule, "momentum") == len(epochs)
    assert markers(schedule, "image-size") == len([e for e in epochs if e["image_size"] is not None])
    assert (group(curves, "target") is not None) is True
    assert (group(curves, "time-to-target") is not None) == bool(run["outcome"]["reached"])


def test_history_svg_marks_the_regression(site):
    index = json.loads((site / "index.json").read_text())
    digits = [s for s in index["history"] if s["recipe"] == "digits"][0]
    root = svg_root(site / digits["svg"])
    assert markers(root, "history-mean") == 3
    assert markers(root, "regressions") == 1


def test_run_curve_labels_and_key_sit_above_the_plot_area(site):
    """"target reached", the target line's label and the series names are in the key row over
    the plot, where no curve runs through them."""
    from repro.report.svgchart import TOP
    run = next(r for r in golden_runs() if r["outcome"]["reached"] and r["recipe"] == "digits")
    stem = site / "runs" / run["_dir"].parent.name / run["_dir"].name
    curves = inline_svg(stem.with_name(stem.name + ".html"), "curves")
    labels = [t for t in curves.iter(f"{SVG}text") if "".join(t.itertext()).startswith(("target", "top1"))]
    assert {"".join(t.itertext()) for t in labels} >= {"target reached", "target top1 0.97"}
    assert all(float(t.get("y")) < TOP for t in labels)
