"""`repro compare`'s data: two runs or groups from the golden tree side by side."""
from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest

from repro.report.compare import CompareError, compare, render_html, resolve
from tests.helpers_report import GOLDEN, benchmark_usd, golden_runs

DIGITS = GOLDEN / "digits"


def test_two_runs_by_directory_time_cost_and_provenance():
    result = compare(str(DIGITS / "20261101T100000Z-d00000"), str(DIGITS / "20261120T100000Z-d20202"), GOLDEN)
    assert (result["a"]["kind"], result["b"]["kind"]) == ("run", "run")
    time = result["metrics"][0]
    assert (time["a"], time["b"]) == (3.9, 6.0) and time["ratio"] == pytest.approx(6.0 / 3.9)
    runs = {r["run_id"]: r for r in golden_runs()}
    spot = next(m for m in result["metrics"] if m["what"] == "cost, Spot")
    a_usd = benchmark_usd(runs["20261101T100000Z-d00000"], "aws", "spot")
    b_usd = benchmark_usd(runs["20261120T100000Z-d20202"], "aws", "spot")
    assert (Decimal(spot["a"]), Decimal(spot["b"])) == (a_usd, b_usd)
    assert spot["ratio"] == pytest.approx(float(b_usd / a_usd))
    differs = {p["key"]: (p["a"], p["b"]) for p in result["provenance"] if p["differs"]}
    assert set(differs) == {"git_sha"}
    assert differs["git_sha"][0].startswith("0000aaaa") and differs["git_sha"][1].startswith("ffff9999")
    same = {p["key"] for p in result["provenance"] if not p["differs"]}
    assert {"torch", "image_digest", "dataset.checksum", "hardware", "gpu_name"} <= same
    assert result["settings"] == []


def test_two_groups_by_id_use_the_olympic_mean():
    result = compare("20261110T100000Z-g11111", "20261120T100000Z-g22222", GOLDEN)
    assert (result["a"]["kind"], result["a"]["n"], result["b"]["n"]) == ("group", 3, 3)
    time = result["metrics"][0]
    assert (time["a"], time["b"]) == (pytest.approx(4.5), pytest.approx(6.1))
    assert time["ratio"] == pytest.approx(6.1 / 4.5)


def test_a_group_against_a_run_with_other_settings(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-fastai-2018", results / "cifar-fastai-2018")
    run = results / "cifar-fastai-2018" / "20261115T090000Z-c00c00"
    data = json.loads((run / "run.json").read_text())
    data["config"]["epochs"] = 12
    data["provenance"]["torch"] = "2.15.0"
    data["provenance"]["dataset"]["checksum"] = "sha256:" + "1" * 64
    (run / "run.json").write_text(json.dumps(data))
    result = compare("20261115T090000Z-gc0000", "20261115T090000Z-c00c00", results)
    assert result["a"]["converged"] == 4 and result["a"]["n"] == 5      # the diverged run counts in n
    assert result["settings"] == [{"key": "epochs", "a": "12 / 30", "b": 12}]   # runs of A differ
    differs = {p["key"] for p in result["provenance"] if p["differs"]}
    assert {"torch", "dataset.checksum"} <= differs
    html = render_html(result)
    assert "<style>" in html and "epochs" in html and 'class="differs"' in html


def test_a_name_that_is_nothing_says_what_to_give(tmp_path):
    with pytest.raises(CompareError, match="no run directory, group file, run id or group id"):
        resolve("nope", GOLDEN)
    for pattern in ("../digits", "*", "2026*", "[0-9]*"):
        with pytest.raises(CompareError):
            resolve(pattern, GOLDEN)
    assert resolve("20261101T100000Z-d00000", GOLDEN) == ("run", "20261101T100000Z-d00000",
                                                          [DIGITS / "20261101T100000Z-d00000"])


def test_a_group_file_names_its_runs(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "digits", results / "digits")
    group_file = results / "digits" / "group-20261110T100000Z-g11111.json"
    group_file.write_text(json.dumps({"schema_version": 1, "group_id": "20261110T100000Z-g11111", "recipe": "digits",
                                      "time_to_target": {"n": 2, "converged": 2}, "runs": [
        {"run_id": "20261110T100000Z-d10101", "status": "finished"},
        {"run_id": "20261110T100000Z-d11111", "status": "finished"}]}))
    kind, ident, dirs = resolve(str(group_file), results)
    assert (kind, ident, [d.name for d in dirs]) == ("group", "20261110T100000Z-g11111",
                                                     ["20261110T100000Z-d10101", "20261110T100000Z-d11111"])
