"""Markup and quotes in a run's recipe, description, hostname, config, error or published source are
shown as text, never run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro.report import build_site
from tests.helpers_report import GOLDEN, soup

EVIL_RECIPE = 'digits<script>alert("recipe")</script>'
EVIL_HOST = "\"><script>alert('host')</script>"
EVIL_PAGE = Path("runs/digits-evil/20261121T100000Z-e0e0e0.html")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(GOLDEN, out)
    return out


def test_golden_tree_really_holds_the_hostile_strings():
    data = json.loads((GOLDEN / "digits-evil" / "20261121T100000Z-e0e0e0" / "run.json").read_text())
    assert data["recipe"] == EVIL_RECIPE
    assert data["provenance"]["hostname"] == EVIL_HOST
    assert "<script>" in data["config"]["description"] and '"' in data["config"]["description"]


@pytest.mark.parametrize("page", [Path("index.html"), Path("history.html"), EVIL_PAGE])
def test_no_injected_element_survives(site, page):
    raw = (site / page).read_text()
    assert "<script>alert" not in raw
    assert "<img src=x" not in raw
    parsed = soup(site / page)
    scripts = parsed.find_all("script")
    assert all(s.get("src", "").endswith("static/sort.js") and not s.string for s in scripts)
    assert not parsed.find_all(attrs={"onerror": True})
    assert not [a for a in parsed.find_all("a") if a.get("href", "").lower().startswith("javascript")]


def test_leaderboard_shows_the_hostile_recipe_as_text(site):
    page = soup(site / "index.html")
    row = page.find("tr", attrs={"data-recipe": EVIL_RECIPE})  # attribute round-trips intact
    assert row is not None
    assert row.find("td", class_="recipe").find(class_="recipe-name").get_text() == EVIL_RECIPE


def test_run_page_shows_hostname_config_and_claim_as_text(site):
    page = soup(site / EVIL_PAGE)
    provenance = {tr.th.get_text(): tr.td.get_text() for tr in page.select("table.provenance tr")}
    assert provenance["hostname"] == EVIL_HOST
    config = json.loads(page.find("pre", class_="config").get_text())
    assert config["description"] == "O'Brien's \"fast\" net <script>alert('config')</script>"
    text = page.get_text()
    assert "<img src=x onerror=alert(1)> claim" in text
    assert "javascript:alert('src')" in text           # shown, not linked
    assert page.find("title").get_text().startswith(EVIL_RECIPE)


def test_error_message_with_markup_is_text(site):
    page = soup(site / "index.html")
    diverged = page.find("tr", attrs={"data-status": "diverged"})
    assert "(<script>alert('err')</script>)" in diverged.get_text()


def test_index_json_keeps_the_string_exactly(site):
    data = json.loads((site / "index.json").read_text())
    assert EVIL_RECIPE in [r["recipe"] for r in data["runs"]]
