"""The SVGs parse as SVG and hold the points the data says."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from repro.report import build_site
from repro.report.plots import pareto_front
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


def test_pareto_svgs_have_one_point_per_priced_entry(site):
    index = json.loads((site / "index.json").read_text())
    for board in index["tasks"]:
        if board["pareto_svg"] is None:
            assert not any(e["costs"] for e in board["entries"])
            continue
        root = svg_root(site / board["pareto_svg"])
        market = board["pareto_market"]
        priced = [e for e in board["entries"] if e["time_to_target_s"] is not None and market in e["costs"]]
        assert markers(root, "points") == len(priced)
        published = [p for p in board["published"] if p["cost_usd"] and p["time_to_target_s"]]
        assert markers(root, "published") == len(published)


def test_pareto_front_counts_match_the_golden_numbers(site):
    # digits: cost rises with time, so only the fastest entry is on the front;
    # cifar10: airbench94 (4.2 s, $0.0048) beats fast.ai 2018 on both, resnet9 is unpriced.
    assert markers(svg_root(site / "plots/pareto-digits.svg"), "pareto-front") == 1
    cifar = svg_root(site / "plots/pareto-cifar10.svg")
    assert markers(cifar, "points") == 2
    assert markers(cifar, "pareto-front") == 1


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
