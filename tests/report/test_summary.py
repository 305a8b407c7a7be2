"""Estimate against actual on the run page and the board: what run.json's `estimate` said, and its
error against the measured time. Hostile values never break a page."""
import json
import math
import shutil

import pytest

from repro.report import build_site
from repro.report.summary import estimate_vs_actual
from tests.helpers_report import GOLDEN, board_rows, soup


def test_error_is_estimate_minus_actual_over_actual():
    e = estimate_vs_actual({"time_to_target_s": 4.4, "low_s": 3.0, "high_s": 5.0, "basis": "calibrated"}, 4.0)
    assert e["error"] == pytest.approx(0.1) and e["error_text"] == "+10 %" and e["within_range"] is True
    short = estimate_vs_actual({"time_to_target_s": 2.0, "low_s": 1.5, "high_s": 2.5, "basis": "table"}, 4.0)
    assert short["error_text"] == "-50 %" and short["within_range"] is False


@pytest.mark.parametrize("estimate", [None, "fast", [], {}, {"time_to_target_s": "4"},
                                      {"time_to_target_s": math.nan}, {"time_to_target_s": -1},
                                      {"time_to_target_s": True}])
def test_unusable_estimates_are_left_out(estimate):
    assert estimate_vs_actual(estimate, 4.0) is None


def test_an_estimate_without_an_actual_has_no_error():
    e = estimate_vs_actual({"time_to_target_s": 4.0, "low_s": math.inf, "basis": "table"}, None)
    assert e["error"] is None and e["low_s"] is None and e["within_range"] is None


def test_run_page_and_board_show_estimate_against_actual(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "digits", results / "digits")
    group = sorted((results / "digits").glob("20261110T100000Z-*"))      # the runs of group g11111: 4.2, 4.5, 5.1 s
    for run_dir in group:
        data = json.loads((run_dir / "run.json").read_text())
        data["estimate"] = {"time_to_target_s": 4.95, "low_s": 4.0, "high_s": 6.0, "basis": "calibrated",
                            "hardware": "CPU, 2 vCPUs"}
        (run_dir / "run.json").write_text(json.dumps(data))
    site = tmp_path / "site"
    build_site(results, site)
    page = soup(site / "runs" / "digits" / f"{group[0].name}.html")
    (dd,) = page.find_all("dd", class_="estimate")
    assert dd.get_text() == "4.95 s (4.00 s–6.00 s), calibrated; error +18 % against the actual 4.20 s"
    rows = board_rows(soup(site / "index.html"), "digits")
    (row,) = [r for r in rows if "est." in r["Time to target"]]
    assert "est. 0:00:04.95 (+10 %)" in row["Time to target"]                  # against the olympic mean 4.5 s
    others = [r for r in rows if r is not row]
    assert others and all("est." not in r["Time to target"] for r in others)
