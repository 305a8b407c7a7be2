import csv
import json

from repro.report.dawnbench import export_dawnbench
from tests.conftest import run_cli

FIELDS = {"version", "author", "authorEmail", "framework", "codeURL", "model", "hardware", "costPerHour",
          "timestamp", "logFilename", "misc"}


def test_export_writes_entry_json_and_tsv(digits_group, tmp_path):
    _, group = digits_group
    run = group.runs[0]
    written = export_dawnbench(run.run_dir, tmp_path, author="me", email="me@example.org",
                               code_url="https://example.org/repro")
    entry = json.loads(written[0].read_text())
    assert set(entry) == FIELDS
    assert entry["logFilename"] == written[1].name
    on_demand = [r for r in run.cost["rows"] if r["market"] == "on-demand"][0]
    assert entry["costPerHour"] == float(on_demand["usd_per_hour"])
    rows = list(csv.reader(written[1].open(), delimiter="\t"))
    assert rows[0] == ["epoch", "hours", "top1Accuracy"]
    assert len(rows) - 1 == len(run.record["outcome"]["epochs"])
    assert float(rows[1][2]) == round(100 * run.record["outcome"]["epochs"][0]["top1"], 4)


def test_export_cli(digits_group, tmp_path):
    _, group = digits_group
    r = run_cli("export", "dawnbench", str(group.runs[1].run_dir), "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert len(list(tmp_path.glob("*.json"))) == 1 and len(list(tmp_path.glob("*.tsv"))) == 1


def test_export_of_a_non_run_is_a_clear_error(tmp_path):
    r = run_cli("export", "dawnbench", str(tmp_path))
    assert r.returncode == 1 and "run.json" in r.stderr
