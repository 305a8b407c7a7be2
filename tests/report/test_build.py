"""The golden results tree renders; the page's rows, order and numbers match the files."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from repro.harness.stats import olympic_mean
from repro.pricing.money import format_usd
from repro.report import build_site
from repro.report.format import hms
from repro.report.leaderboard import decimal_olympic_mean
from repro.report.published import load_published
from tests.helpers_report import GOLDEN, benchmark_usd, board_rows, golden_runs, soup


@pytest.fixture(scope="module")


def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    index = build_site(GOLDEN, out)
    assert index == out / "index.html"
    return out


def _group(runs, group_id):
    return [r for r in runs if r["group_id"] == group_id]


def test_one_leaderboard_per_task_in_fixed_order(site):
    page = soup(site / "index.html")
    ids = [s["id"] for s in page.find_all("section", class_="task")]
    # a board for every task with runs or published results (none for ImageNet top-1 here)
    assert ids == ["task-digits", "task-cifar10", "task-imagenet-top5"]
    titles = [s.h2.get_text(strip=True) for s in page.find_all("section", class_="task")]
    assert titles == ["digits", "CIFAR-10 94 %", "ImageNet 93 % top-5"]


def test_digits_rows_ranked_by_olympic_mean_time(site):
    runs = golden_runs()
    rows = board_rows(soup(site / "index.html"), "digits")
    expected = []
    for group in ("20261101T100000Z-g00000", "20261110T100000Z-g11111", "20261120T100000Z-g22222"):
        members = _group(runs, group)
        expected.append(olympic_mean([r["outcome"]["time_to_target_s"] for r in members]))
    assert [r["Time to target"] for r in rows] == [hms(t) for t in sorted(expected)]
    assert [r["Time to target"] for r in rows] == ["0:00:03.95", "0:00:04.50", "0:00:06.10"]
    assert [r["#"] for r in rows] == ["1", "2", "3"]
    assert [r["Converged"].split()[0] for r in rows] == ["2/2", "3/3", "3/3"]
    assert [r["Code version"] for r in rows] == ["0000aaa", "a1b2c3d", "ffff999"]
    assert all(r["Framework"] == "torch 2.14.1" for r in rows)
    # the hardware once per row: repro.harness.hardware.label and the instance it was priced on
    assert all(r["Hardware"] == "CPU, 2 vCPUs c5.large" for r in rows)


def test_digits_costs_show_the_amount_per_market_and_the_instance_once(site):
    """Spot, on-demand and Paperspace: the cheapest offer of each, the amount alone in the cell,
    provider and instance in its title (not repeated in every cell)."""
    runs = _group(golden_runs(), "20261110T100000Z-g11111")
    row = soup(site / "index.html").find("tr", attrs={"data-group": "20261110T100000Z-g11111"})
    for market, provider, pricing_market, instance in (("spot", "aws", "spot", "c5.large"),
                                                       ("on-demand", "aws", "on-demand", "c5.large"),
                                                       ("paperspace", "paperspace", "on-demand", "C4")):
        mean = decimal_olympic_mean([benchmark_usd(r, provider, pricing_market) for r in runs])
        cell = row.find("td", class_=f"m-{market}")
        assert cell.get_text(strip=True) == format_usd(mean)
        assert cell["title"] == f"{provider} {pricing_market} {instance}"
        assert Decimal(cell["data-value"]) == mean


def test_cifar_board_counts_diverged_against_convergence_and_marks_unpriced(site):
    page = soup(site / "index.html")
    measured = page.select("#board-cifar10 tr.entry")
    assert [tr["data-recipe"] for tr in measured] == ["cifar-airbench94", "cifar-resnet9", "cifar-fastai-2018"]
    rows = {r["Entry"].split()[0]: r for r in board_rows(page, "cifar10") if r["#"] != "published"}
    fastai = rows["cifar-fastai-2018"]
    assert fastai["Converged"].startswith("4/5")
    assert fastai["Time to target"] == hms(olympic_mean([170.0, 175.0, 180.0, 190.0]))
    assert fastai["Hardware"] == "8 × V100 p3.16xlarge"
    assert fastai["Paperspace"] == "no offer"       # the snapshot has no 8 × V100 there
    assert rows["cifar-resnet9"]["Spot"] == "not priced"
    assert rows["cifar-resnet9"]["Time to target"] == "0:01:15"
    unpriced = page.find("tr", attrs={"data-recipe": "cifar-resnet9"}).find("td", class_="m-spot")
    assert unpriced["title"] == "no cost.json in the run directory"


def test_not_counted_lists_each_unfinished_run_with_its_status(site):
    page = soup(site / "index.html")
    found = {}
    for section in page.find_all("section", class_="task"):
        table = section.find("table", class_="not-counted")
        for tr in table.tbody.find_all("tr") if table else []:
            found[tr.td.get_text(strip=True)] = (section["id"], tr["data-status"])
    assert found == {
        "20261120T110000Z-d9i9i9": ("task-digits", "interrupted"),
        "20261115T090000Z-c04c04": ("task-cifar10", "diverged"),
        "20261119T000000Z-i1i1i1": ("task-imagenet-top5", "failed"),
    }
    digits_board = str(page.find("table", id="board-digits"))
    assert "20261120T110000Z-d9i9i9" not in digits_board      # interrupted: not in n either
    cifar_links = [a["title"] for a in page.find("table", id="board-cifar10").find_all("a") if a.get("title")]
    assert "20261115T090000Z-c04c04 (diverged)" in cifar_links  # diverged: counted in k/n only


def test_published_rows_stand_beside_measured_ones_marked_and_unranked(site):
    page = soup(site / "index.html")
    shipped, _ = load_published(None)
    rows = page.select("table.leaderboard tr.published-row")
    assert len(rows) == len(shipped)
    for row in rows:
        assert row.find("td", class_="rank").get_text(strip=True) == "published"
        link = row.find("td", class_="recipe").find("a")
        assert link is not None and link["href"] in {p["source"] for p in shipped}
    ranks = [td.get_text(strip=True) for td in page.select("#board-cifar10 tr.entry td.rank")]
    assert ranks == ["1", "2", "3"]                            # published rows take no rank
    airbench = page.find("tr", attrs={"data-id": "cifar10-airbench/airbench94.py"})
    assert airbench.find("td", class_="time").get_text() == "0:00:03.83"
    compiled = page.find("tr", attrs={"data-id": "cifar10-airbench/airbench94_compiled.py"})
    assert compiled.find("td", class_="time").get_text() == "0:00:03.09"


def test_time_column_carries_sortable_values_in_default_order(site):
    page = soup(site / "index.html")
    for table in page.select("table.leaderboard"):
        values = [td.get("data-value") for td in table.select("td.time")]
        numbers = [float(v) for v in values if v]
        assert numbers == sorted(numbers)
        costs = table.select("td.cost")
        assert all(c["data-value"] == "" or Decimal(c["data-value"]) > 0 for c in costs)
    assert page.find("script")["src"] == "static/sort.js"


def test_cost_ranking_per_market_orders_by_that_markets_cost(site):
    page = soup(site / "index.html")
    data = json.loads((site / "index.json").read_text())
    for board in data["tasks"]:
        for market in board["markets"]:
            table = page.find("table", id=f"cost-{board['task']}-{market}")
            amounts = [Decimal(td["data-value"]) for td in table.select("td.cost")]
            assert amounts == sorted(amounts) and len(amounts) == len(board["by_cost"][market])
            ranks = [td.get_text(strip=True) for td in table.select("td.rank")]
            measured = [r for r in ranks if r != "published"]
            assert measured == [str(k) for k in range(1, len(measured) + 1)]


def test_columns_without_a_value_anywhere_are_omitted_with_a_footnote(site):
    page = soup(site / "index.html")
    top5 = page.find("table", id="board-imagenet-top5")
    headers = [th.get_text(strip=True) for th in top5.thead.find_all("th")]
    assert "Paperspace" not in headers             # no 8 × V100 on Paperspace in the snapshot
    footnote = page.find("section", id="task-imagenet-top5").find("p", class_="footnote").get_text(" ")
    assert "Paperspace: column omitted, no entry has a Paperspace price." in " ".join(footnote.split())
    digits = page.find("table", id="board-digits")
    assert "Reported cost" not in digits.thead.get_text()   # no published digits entry


def test_index_json_is_the_data_on_the_page(site):
    data = json.loads((site / "index.json").read_text())
    page = soup(site / "index.html")
    board = [b for b in data["tasks"] if b["task"] == "cifar10"][0]
    assert [e["recipe"] for e in board["entries"]] == [tr["data-recipe"] for tr in
                                                       page.select("#board-cifar10 tr.entry")]
    fastai = board["entries"][2]
    assert fastai["converged"] == 4 and fastai["n"] == 5
    assert fastai["comparable"] is True and fastai["reasons"] == []
    assert isinstance(fastai["costs"]["aws spot"]["usd"], str)
    Decimal(fastai["market_costs"]["spot"]["usd"])
    assert data["run_count"] == len(golden_runs())
    assert all("source_dir" not in r for r in data["runs"])
    assert all(isinstance(r["comparable"], bool) and isinstance(r["comparable_reasons"], list)
               for r in data["runs"])


def test_every_local_link_resolves_and_nothing_loads_from_the_network(site):
    shipped, _ = load_published(None)
    allowed_external = {url for p in shipped for url in (p["source"], p.get("log"), p.get("code_url")) if url}
    for run in golden_runs():
        for row in (run["_cost"] or {}).get("rows", []):
            allowed_external.add(row["source"])
    pages = [site / "index.html", site / "history.html", *site.glob("runs/*/*.html")]
    assert len(pages) == 2 + len(golden_runs())
    for page_path in pages:
        page = soup(page_path)
        for tag, attr in (("a", "href"), ("img", "src"), ("script", "src"), ("link", "href")):
            for element in page.find_all(tag):
                target = element.get(attr)
                if not target:
                    continue
                parts = urlsplit(target)
                if parts.scheme:
                    assert tag == "a" and target in allowed_external, (page_path, target)
                    continue
                resolved = (page_path.parent / parts.path).resolve() if parts.path else page_path
                assert resolved.is_file(), f"{page_path}: {target} does not resolve"


def test_run_page_shows_schedule_provenance_and_copied_files(site):
    run_dir = GOLDEN / "imagenet-fastai-2018" / "20261118T000000Z-i0i0i0"
    stem = "runs/imagenet-fastai-2018/20261118T000000Z-i0i0i0"
    for name in ("run.json", "cost.json", "metrics.tsv", "mllog.log"):
        assert (site / f"{stem}.{name}").read_bytes() == (run_dir / name).read_bytes()
    page = soup(site / f"{stem}.html")
    files = {a.get_text(): a["href"] for a in page.select("a")
             if a.get_text() in ("run.json", "cost.json", "metrics.tsv", "mllog.log")}
    assert files == {name: f"20261118T000000Z-i0i0i0.{name}"
                     for name in ("run.json", "cost.json", "metrics.tsv", "mllog.log")}
    epochs = page.select("table.epochs tbody tr")
    assert [tr.find_all("td")[8].get_text() for tr in epochs] == ["128", "128", "224", "224", "288"]
    provenance = {tr.th.get_text(): tr.td.get_text() for tr in page.select("table.provenance tr")}
    assert provenance["git_sha"] == "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0"
    assert provenance["dataset.verified"] == "True"
    assert provenance["command"] == "repro imagenet --seed 0"
    costs = [tr.get_text(" ", strip=True) for tr in page.select("table.costs tr.cost-row")]
    assert costs[0].startswith("aws on-demand p3.16xlarge us-east-1 $24.48")


def test_unpriced_run_page_says_not_priced(site):
    page = soup(site / "runs" / "cifar-resnet9" / "20261117T090000Z-r0r0r0.html")
    assert "Not priced" in page.get_text()
    assert not (site / "runs" / "cifar-resnet9" / "20261117T090000Z-r0r0r0.cost.json").exists()


def test_fixture_runs_render_as_examples_never_as_measurements(site):
    """Every golden run says "fixture": true; its rows and pages say it is an example."""
    assert all(r.get("fixture") is True for r in golden_runs())
    page = soup(site / "index.html")
    entries = page.select("table.leaderboard tr.entry")
    assert entries and all("fixture" in tr["class"] for tr in entries)
    assert all(tr.select_one("td.recipe .badge.example").get_text() == "example, not measured" for tr in entries)
    for tr in entries[:3]:
        run_page = site / tr.select_one("td.runs a")["href"]
        assert "not a measurement" in soup(run_page).find("dd", class_="example").get_text()
