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
from tests.conftest import prerequisite
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
    for expected in ("3.95 s", "97.00 % top1", "aws spot c5.large", "aws on-demand c5.large",
                     "paperspace on-demand C4"):
        assert expected in text
    shot = tmp_path / "index.png"
    page.screenshot(path=str(shot), full_page=True)
    pixels = mpimg.imread(shot)
    assert pixels.shape[0] > 900 and pixels.shape[1] >= 1400
    assert float(np.std(pixels[..., :3])) > 0.05          # not a blank page
    box = table.bounding_box()
    assert box["width"] > 400 and box["height"] > 100
    page.close()


def test_cost_header_sorts_rows_and_time_header_sorts_back(browser, site):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    recipes = page.locator("#board-cifar10 tbody td.recipe")
    assert recipes.all_inner_texts() == ["cifar-airbench94", "cifar-resnet9", "cifar-fastai-2018"]
    page.locator("#board-cifar10 th[data-sortable] button", has_text="aws spot").click()
    # only fast.ai 2018 has an aws spot price; unpriced rows keep their order below it
    assert recipes.all_inner_texts() == ["cifar-fastai-2018", "cifar-airbench94", "cifar-resnet9"]
    time_header = page.locator("#board-cifar10 th[data-sortable] button", has_text="Time to target")
    time_header.click()                  # a new column sorts ascending first
    assert recipes.all_inner_texts() == ["cifar-airbench94", "cifar-resnet9", "cifar-fastai-2018"]
    time_header.click()                  # the same column again: descending
    assert recipes.all_inner_texts() == ["cifar-fastai-2018", "cifar-resnet9", "cifar-airbench94"]
    assert time_header.locator("xpath=..").get_attribute("aria-sort") == "descending"
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
    assert times == ["3.95 s", "4.50 s", "6.10 s", "7.50 s"]      # ranked by time, no script
    assert page.locator("#board-digits th[data-sortable] button").count() == 0
    context.close()


@pytest.mark.slow
def test_real_digits_runs_show_time_accuracy_and_each_market(browser, digits_group, tmp_path):
    """End to end: runs trained and priced by the real pipeline, rendered,
    read back in Chromium. Every market is shown with the instance it was priced as, or with the
    pricing layer's reason for having no offer."""
    import json
    results, _ = digits_group
    index = build_site(results, tmp_path / "site")
    page, problems = open_page(browser, index.as_uri())
    assert problems == []
    row = page.locator("#board-digits tbody tr").first
    assert row.is_visible()
    assert row.locator("td.time").inner_text().endswith(" s")
    assert row.locator("td.accuracy").inner_text().endswith("% top1")
    cost = json.loads(next(results.glob("digits/*/cost.json")).read_text())
    expected = {f"{r['provider']} {r['market']}": r["instance_type"] for r in cost["rows"]}
    reasons = {f"{u['provider']} {u['market']}": u["reason"] for u in cost["unmatched"]}
    assert {"aws on-demand", "aws spot"} <= set(expected)
    assert any(key.startswith("paperspace") for key in (*expected, *reasons))
    for cell in row.locator("td.cost").all():
        market = cell.get_attribute("data-market")
        text = cell.inner_text()
        if market in expected:
            assert text.startswith("$") and f"· {market} {expected[market]}" in text
        else:
            assert text.startswith("no offer") and reasons[market] in text.replace("\n", " ")
    page.close()
