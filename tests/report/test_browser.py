"""The report in real headless Chromium (Debian's package): loads from plain files with no console
errors, shows the tables, sorts by cost, and screenshots to a non-blank image.
Skipped, with the reason, where /usr/bin/chromium is absent or cannot start; under
REPRO_TEST_STRICT=1 (.ci/run installs it) that is a failure."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from repro.report import build_site
from tests.conftest import prerequisite, run_cli
from tests.helpers_report import GOLDEN

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(GOLDEN, out)
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import Error, sync_playwright
    prerequisite(CHROMIUM.exists(), f"Debian chromium not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        try:
            instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        except Error as exc:
            prerequisite(False, f"{CHROMIUM} does not start here: {str(exc).strip().splitlines()[0]}")
        yield instance
        instance.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, problems


def test_index_loads_clean_and_shows_the_digits_row(browser, site, tmp_path):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    assert problems == []
    table = page.locator("#board-digits")
    assert table.is_visible()
    first = page.locator("#board-digits tbody tr").first
    text = first.inner_text()
    for expected in ("0:00:03.95", "$0.000038", "CPU, 2 vCPUs", "c5.large", "torch 2.14.1", "0000aaa", "2/2"):
        assert expected in text
    shot = tmp_path / "index.png"
    page.screenshot(path=str(shot), full_page=True)
    pixels = mpimg.imread(shot)
    assert pixels.shape[0] > 900 and pixels.shape[1] >= 1400
    assert float(np.std(pixels[..., :3])) > 0.05          # not a blank page
    box = table.bounding_box()
    assert box["width"] > 400 and box["height"] > 100
    for img in page.locator("img").all():
        if img.is_visible():
            assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("src")
    page.close()


def _pages(site: Path) -> list[Path]:
    return [site / "index.html", site / "history.html", *sorted(site.glob("runs/*/*.html")),
            site / "compare.html"]


@pytest.mark.parametrize("width", [1400, 390])
def test_no_page_scrolls_sideways(browser, site, width):
    """Every page fits the window: at 1400 px every column of a board is on screen; at 390 px
    (a phone) the boards turn into cards and wide tables scroll inside themselves."""
    compare = run_cli("compare", "20261110T100000Z-g11111", "20261120T100000Z-g22222",
                      "--results", str(GOLDEN), "--html", str(site / "compare.html"))
    assert compare.returncode == 0, compare.stderr
    page = browser.new_page(viewport={"width": width, "height": 900})
    too_wide = []
    for path in _pages(site):
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            too_wide.append(f"{path.relative_to(site)}: {scroll} > {client}")
    page.close()
    assert too_wide == []


def test_every_board_column_is_on_screen_at_1400(browser, site):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    for table in page.locator("table.leaderboard").all():
        right = table.evaluate("t => t.getBoundingClientRect().right")
        assert right <= 1400
        last = table.locator("thead th").last
        assert last.inner_text().strip() == "Converged" and last.is_visible()
    assert problems == []
    page.close()


def test_market_switch_shows_one_cost_ranking_at_a_time(browser, site):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    spot, on_demand = page.locator("#cost-cifar10-spot"), page.locator("#cost-cifar10-on-demand")
    assert spot.is_visible() and not on_demand.is_visible()
    page.locator("label[for='market-cifar10-on-demand']").click()
    assert on_demand.is_visible() and not spot.is_visible()
    amounts = [float(v) for v in on_demand.locator("td.cost").evaluate_all(
        "cells => cells.map(c => c.getAttribute('data-value'))")]
    assert amounts == sorted(amounts) and amounts
    figure = page.locator("#task-cifar10 .by-market.m-on-demand img")
    assert figure.evaluate("i => i.complete && i.naturalWidth > 0")
    assert problems == []
    page.close()


def test_cost_header_sorts_rows_and_time_header_sorts_back(browser, site):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    times = page.locator("#board-cifar10 tbody td.time")

    def values(column: str) -> list[float]:
        return page.locator(f"#board-cifar10 tbody td.{column}").evaluate_all(
            "cells => cells.map(c => c.getAttribute('data-value') === '' ? Infinity : parseFloat(c.getAttribute('data-value')))")

    by_time = values("time")
    assert by_time == sorted(by_time)
    page.locator("#board-cifar10 th[data-sortable] button", has_text="Spot").click()
    spot = values("m-spot")
    priced = [v for v in spot if v != float("inf")]
    assert priced == sorted(priced) and spot[:len(priced)] == priced   # unpriced rows sink
    time_header = page.locator("#board-cifar10 th[data-sortable] button", has_text="Time to target")
    time_header.click()                  # a new column sorts ascending first
    assert values("time") == by_time
    time_header.click()                  # the same column again: descending
    assert values("time") == sorted(by_time, reverse=True)
    assert time_header.locator("xpath=..").get_attribute("aria-sort") == "descending"
    assert times.count() == len(by_time)
    assert problems == []
    page.close()


def test_run_page_and_svgs_render_offline(browser, site):
    run_page = site / "runs/imagenet-fastai-2018/20261118T000000Z-i0i0i0.html"
    page, problems = open_page(browser, run_page.as_uri())
    assert problems == []
    for img in page.locator("img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("src")
    assert page.locator("table.provenance").is_visible()
    page.close()


def test_page_reads_without_javascript(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((site / "index.html").as_uri())
    times = page.locator("#board-digits tbody td.time").all_inner_texts()
    assert times == ["0:00:03.95", "0:00:04.50", "0:00:06.10"]      # ranked by time, no script
    assert page.locator("#board-digits th[data-sortable] button").count() == 0
    page.locator("label[for='market-digits-paperspace']").click()   # the switch is CSS alone
    assert page.locator("#cost-digits-paperspace").is_visible()
    context.close()


@pytest.mark.slow
def test_real_digits_run_is_ranked_with_each_market(browser, tmp_path):
    """End to end: a digits run as shipped (10 epochs, 97 %) trained and priced by the real
    pipeline, rendered, read back in Chromium: ranked, each market shown with the instance it was
    priced as, or with the pricing layer's reason for having no offer."""
    import json
    from repro import api
    results = tmp_path / "results"
    api.train("digits", runs=1, seed=0, results_dir=results)
    index = build_site(results, tmp_path / "site", published=[])
    page, problems = open_page(browser, index.as_uri())
    assert problems == []
    cost = json.loads(next(results.glob("digits/*/cost.json")).read_text())
    run = json.loads(next(results.glob("digits/*/run.json")).read_text())
    if not run["outcome"]["reached"]:
        pytest.skip("this digits run did not reach 97 % (seed noise on this machine)")
    row = page.locator("#board-digits tbody tr.entry").first
    assert row.locator("td.rank").inner_text() == "1"
    assert row.locator("td.time").inner_text().startswith("0:00:")
    for cell in row.locator("td.cost").all():
        title = cell.get_attribute("title")
        key = title.split()[0] + " " + title.split()[1]
        rows = {f"{r['provider']} {r['market']}": r for r in cost["rows"]}
        if cell.inner_text().startswith("$"):
            assert key in rows and rows[key]["instance_type"] in title
        else:
            assert any(u["reason"] in title for u in cost["unmatched"])
    page.close()
