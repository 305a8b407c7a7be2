"""Builds from changed, broken or unusual inputs: re-renders, deleted and unreadable runs, snapshots,
missing inputs, files beside the pages, staging, stale prices, NaN and damaged costs."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import repro.pricing.catalog
from repro.report import ReportError, build_site
from tests.helpers_report import GOLDEN, soup


def test_rerender_redraws_only_changed_runs(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN, results)
    out = tmp_path / "site"
    build_site(results, out)
    page = out / "runs" / "cifar-resnet9" / "20261117T090000Z-r0r0r0.html"
    other = out / "runs" / "digits" / "20261101T100000Z-d00000.html"
    page.write_text("stale"), other.write_text("kept")
    run_json = results / "cifar-resnet9" / "20261117T090000Z-r0r0r0" / "run.json"
    data = json.loads(run_json.read_text())
    data["provenance"]["hostname"] = "renamed-host"
    run_json.write_text(json.dumps(data))
    build_site(results, out)
    assert "renamed-host" in page.read_text()
    assert other.read_text() == "kept"      # unchanged run: its page was not redrawn


def test_pages_of_deleted_runs_are_removed(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN, results)
    out = tmp_path / "site"
    build_site(results, out)
    gone = "runs/cifar-resnet9/20261117T090000Z-r0r0r0"
    assert (out / f"{gone}.html").is_file() and (out / f"{gone}.run.json").is_file()
    shutil.rmtree(results / "cifar-resnet9")
    build_site(results, out)
    assert not (out / "runs" / "cifar-resnet9").exists()   # its pages, files and the emptied folder
    assert "cifar-resnet9" not in (out / "index.html").read_text()


def test_unreadable_run_is_reported_not_fatal(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "digits", results / "digits")
    broken = results / "digits" / "20261125T000000Z-bad000"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    index = build_site(results, tmp_path / "site")
    errors = soup(index).find("section", class_="errors").get_text()
    assert "20261125T000000Z-bad000" in errors and "not valid JSON" in errors


def test_snapshot_is_named_and_runs_priced_otherwise_are_counted(tmp_path):
    snapshot = Path(repro.pricing.catalog.SNAPSHOT_DIR) / "shipped-2026-11-25.csv"
    index = build_site(GOLDEN, tmp_path / "site", snapshot_path=snapshot)
    footer = soup(index).find("footer").get_text(" ")
    assert "Reference snapshot: shipped-2026-11-25 (shipped-2026-11-25.csv" in footer
    assert "priced with another snapshot" not in footer     # the golden runs used this one
    renamed = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-airbench94", renamed / "cifar-airbench94")
    cost_path = next(renamed.glob("*/*/cost.json"))
    cost = json.loads(cost_path.read_text())
    cost["snapshot_id"] = "shipped-2026-10-01"
    cost_path.write_text(json.dumps(cost))
    footer = soup(build_site(renamed, tmp_path / "site2", snapshot_path=snapshot)).find("footer")
    assert "1 run priced with another snapshot keeps that price" in footer.get_text(" ")


def test_corrupt_snapshot_is_a_clear_error(tmp_path):
    bad = tmp_path / "prices.csv"
    bad.write_text("not,a,snapshot\n")
    with pytest.raises(ReportError, match="--snapshot .*prices.csv: .*metadata not found"):
        build_site(GOLDEN, tmp_path / "site", snapshot_path=bad)


def test_clear_errors_for_missing_inputs(tmp_path):
    with pytest.raises(ReportError, match="results directory .* does not exist"):
        build_site(tmp_path / "nope", tmp_path / "site")
    with pytest.raises(ReportError, match="price snapshot .* not found"):
        build_site(GOLDEN, tmp_path / "site", snapshot_path=tmp_path / "missing.csv")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="cannot create output folder"):
        build_site(GOLDEN, blocker / "site")


def test_empty_results_render_an_empty_page(tmp_path):
    (tmp_path / "results").mkdir()
    index = build_site(tmp_path / "results", tmp_path / "site", published=[])
    assert "No runs under" in soup(index).get_text()


def test_run_files_beside_a_page_are_linked_or_copied_and_never_written_through(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN, results)
    run_dir = results / "digits" / "20261101T100000Z-d00000"
    (run_dir / "cost.json").chmod(0o600)     # as an atomic write by the harness leaves it
    out = tmp_path / "site"
    build_site(results, out)
    stem = "runs/digits/20261101T100000Z-d00000"
    for name in ("run.json", "cost.json", "metrics.tsv", "mllog.log"):
        assert (out / f"{stem}.{name}").read_bytes() == (run_dir / name).read_bytes()
    assert os.path.samefile(out / f"{stem}.run.json", run_dir / "run.json")   # 0644: linked
    assert not os.path.samefile(out / f"{stem}.cost.json", run_dir / "cost.json")
    assert (out / f"{stem}.cost.json").stat().st_mode & 0o044 == 0o044       # copy: readable

    originals = {p: p.read_bytes() for p in results.rglob("*") if p.is_file()}
    schedules = {p: p.read_bytes() for p in out.glob("runs/*/*.schedule.svg")}
    assert schedules
    for run_json in results.glob("*/*/run.json"):   # every page redrawn, over its old files
        data = json.loads(run_json.read_text())
        data["provenance"]["hostname"] = "renamed-host"
        tmp = run_json.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, run_json)
    build_site(results, out)
    assert "renamed-host" in (out / f"{stem}.html").read_text()
    for path, before in originals.items():
        if path.name != "run.json":
            assert path.read_bytes() == before, path
    assert {p: p.read_bytes() for p in out.glob("runs/*/*.schedule.svg")} == schedules


def test_a_site_drawn_by_another_renderer_is_redrawn_without_its_old_pages(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "digits", results / "digits")
    out = tmp_path / "site"
    build_site(results, out)
    # what renderer 2 left: a folder per run, and its manifest
    old = out / "runs" / "digits" / "20261101T100000Z-d00000"
    old.mkdir()
    (old / "index.html").write_text("old layout")
    manifest = out / "runs" / ".rendered.json"
    manifest.write_text(json.dumps({"renderer": "2", "runs": {}}))
    build_site(results, out)
    assert not old.exists()
    assert (out / "runs" / "digits" / "20261101T100000Z-d00000.html").is_file()
    assert json.loads(manifest.read_text())["renderer"] != "2"


def test_pages_are_written_through_a_staging_folder_that_does_not_stay(tmp_path):
    out = tmp_path / "site"
    leftover = out / "runs" / ".staging-999999"      # what a writer killed mid-page leaves
    leftover.mkdir(parents=True)
    (leftover / "half.html").write_text("<p>half")
    build_site(GOLDEN, out)
    assert not list((out / "runs").glob(".staging-*"))
    assert (out / "runs" / "digits" / "20261101T100000Z-d00000.html").read_text().startswith("<!doctype")


def test_a_measured_run_carries_no_example_mark(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "digits", results / "digits")
    for run_json in results.rglob("run.json"):
        data = json.loads(run_json.read_text())
        del data["fixture"]
        run_json.write_text(json.dumps(data))
    page = soup(build_site(results, tmp_path / "site"))
    entries = page.select("table.leaderboard tr.entry")
    assert entries and not any("fixture" in tr["class"] for tr in entries)
    assert not page.select(".badge.example")


def test_groups_sharing_an_id_and_a_zero_cost_still_render(tmp_path):
    """Two recipes' runs under one group id are two entries; a cost that rounds to $0 (a run of
    milliseconds) is listed but has no place on a log axis."""
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-airbench94", results / "cifar-airbench94")
    shutil.copytree(GOLDEN / "cifar-resnet9", results / "cifar-resnet9")
    for run_json in results.glob("*/*/run.json"):
        data = json.loads(run_json.read_text())
        data["group_id"] = "shared"
        run_json.write_text(json.dumps(data))
    for cost_json in results.glob("cifar-airbench94/*/cost.json"):
        cost = json.loads(cost_json.read_text())
        for row in cost["rows"]:
            row["benchmark_usd"] = "0.000000"
        cost_json.write_text(json.dumps(cost))
    index = build_site(results, tmp_path / "site", published=[])
    page = soup(index)
    assert [tr["data-recipe"] for tr in page.select("#board-cifar10 tr.entry")] == ["cifar-airbench94",
                                                                                   "cifar-resnet9"]
    assert [td.get_text() for td in page.select("#cost-cifar10-on-demand td.cost")] == ["$0"]
    assert not list((tmp_path / "site" / "plots").glob("pareto-*"))


def test_prices_from_a_stale_snapshot_are_marked(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-airbench94", results / "cifar-airbench94")
    for cost_json in results.glob("*/*/cost.json"):
        cost = json.loads(cost_json.read_text())
        cost["stale"] = True
        cost_json.write_text(json.dumps(cost))
    page = soup(build_site(results, tmp_path / "site", published=[]))
    cell = page.find("tr", attrs={"data-recipe": "cifar-airbench94"}).find("td", class_="m-on-demand")
    assert cell.find("span", class_="stale") is not None and "past its age limit" in cell["title"]
    assert "priced on a snapshot past its age limit" in page.find("p", class_="footnote").get_text()


def test_nan_and_infinity_in_records_do_not_rank_or_break_the_site(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-airbench94", results / "cifar-airbench94")
    first, second = sorted(results.glob("*/*/run.json"))
    first.write_text(first.read_text().replace('"time_to_target_s": 4.1', '"time_to_target_s": NaN'))
    second.write_text(second.read_text().replace('"time_to_target_s": 4.3', '"time_to_target_s": Infinity'))
    build_site(results, tmp_path / "site", published=[])
    data = json.loads((tmp_path / "site" / "index.json").read_text())   # strict JSON: no NaN in it
    assert data["runs"] == [] and all(not task["entries"] for task in data["tasks"])
    problems = [u["problem"] for u in data["unreadable"]]
    assert len(problems) == 2 and all("outcome.time_to_target_s" in p for p in problems)


def test_a_damaged_cost_amount_leaves_that_cost_out_of_the_board():
    from repro.report.build import build_context
    from repro.report.leaderboard import build_task_boards
    runs = [r for r in build_context(GOLDEN, published=[])["runs"] if r["recipe"] == "cifar-airbench94"]
    for run in runs:
        run["costs"] = [dict(c, benchmark_usd="NaN") if c["key"] == "aws on-demand" else c for c in run["costs"]]
    entry = build_task_boards(runs, {})[0]["entries"][0]
    assert "on-demand" not in entry["market_costs"] and "paperspace" in entry["market_costs"]
