"""`repro compare`, `repro report --fail-on-regression` and `repro import dawnbench` as a user
runs them, on the golden tree."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import run_cli
from tests.helpers_report import GOLDEN


@pytest.mark.parametrize("command", [["compare"], ["import", "dawnbench"], ["import"]])
def test_help_ends_with_an_example(command):
    r = run_cli(*command, "--help")
    assert r.returncode == 0, r.stderr
    tail = r.stdout.rstrip().split("\n\n")[-1]
    assert tail.startswith("example") and "repro " in tail


def test_compare_prints_time_cost_ratios_and_what_differs(tmp_path):
    html = tmp_path / "compare.html"
    r = run_cli("compare", "20261110T100000Z-g11111", "20261120T100000Z-g22222", "--results", str(GOLDEN),
                "--html", str(html))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("A: group 20261110T100000Z-g11111 (digits, 3/3")
    time = next(line for line in lines if line.startswith("time to target"))
    assert "0:00:04.50" in time and "0:00:06.10" in time and "×1.356" in time
    assert any(line.startswith("cost, Spot") and "×" in line for line in lines)
    assert "settings: the same" in lines
    assert any(line.strip().startswith("git_sha") and "≠" in line for line in lines)
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "×1.356" in page


def test_compare_json_writes_numbers(tmp_path):
    r = run_cli("compare", str(GOLDEN / "digits" / "20261101T100000Z-d00000"), "20261120T100000Z-d20202",
                "--results", str(GOLDEN), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["type"] == "compare"
    time = doc["metrics"][0]
    assert time["a"] == 3.9 and isinstance(time["ratio"], float)
    assert isinstance(doc["metrics"][1]["a"], float)           # USD as a JSON number


def test_compare_of_nothing_is_one_line_and_exit_1(tmp_path):
    r = run_cli("compare", "nope", "20261120T100000Z-d20202", "--results", str(GOLDEN),
                "--html", str(tmp_path / "c.html"))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "'nope' is no run directory" in r.stderr
    assert not (tmp_path / "c.html").exists()


def test_fail_on_regression_names_both_groups_and_exits_1(tmp_path):
    r = run_cli("report", "--results", str(GOLDEN), "--out", str(tmp_path / "site"), "--fail-on-regression")
    assert r.returncode == 1
    assert (tmp_path / "site" / "index.html").is_file()             # the site is written either way
    digits = next(line for line in r.stderr.splitlines() if line.startswith("warning: digits"))
    assert "group 20261120T100000Z-g22222" in digits and "group 20261110T100000Z-g11111" in digits
    assert "35.6 % slower" in digits
    assert "repro: error: 2 regressions beyond 10 %" in r.stderr


def test_threshold_decides(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "digits", results / "digits")
    site = str(tmp_path / "site")
    loose = run_cli("report", "--results", str(results), "--out", site, "--fail-on-regression", "--threshold", "40%")
    assert loose.returncode == 0, loose.stderr
    assert "within bounds" in loose.stdout and "no regression beyond 40 %" in loose.stdout
    strict = run_cli("report", "--results", str(results), "--out", site, "--fail-on-regression", "--threshold", "30%")
    assert strict.returncode == 1 and "beyond the 30 % allowed" in strict.stderr


def test_a_bad_threshold_is_refused_before_anything_is_written(tmp_path):
    r = run_cli("report", "--results", str(GOLDEN), "--out", str(tmp_path / "site"), "--fail-on-regression",
                "--threshold", "10")
    assert r.returncode == 1 and "percentage such as 10%" in r.stderr
    assert not (tmp_path / "site").exists()
    r = run_cli("report", "--results", str(GOLDEN), "--out", str(tmp_path / "site"), "--threshold", "5%")
    assert r.returncode == 2 and "--threshold applies to --fail-on-regression" in r.stderr
    assert not (tmp_path / "site").exists()
