"""The `repro` command as a user runs it: bad input, tables, runs that never credit another run."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPRO_BIN, run_cli


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("args, message", [
    (["digits", "--target", "1.5"], "target must be a fraction"),
    (["digits", "--target", "0"], "target must be a fraction"),
    (["cifar", "--recipe", "no-such-recipe"], "known recipes: "),
    (["digits", "--set", "optim.nope=1"], "unknown recipe key 'optim.nope'"),
    (["digits", "--set", "epochs=many"], "expected a value of type int"),
    (["digits", "--runs", "0"], "--runs must be ≥ 1"),
    (["digits", "--set", "optim.name=adam"], "optim.name must be one of sgd, adamw"),
    (["digits", "--set", "model.name=nope"], "model.name 'nope' is not a model"),
    (["digits", "--set", "schedule.kind=nope"], "schedule.kind must be one of"),
    (["digits", "--set", 'data.size_knots=[[0,"x"]]'], "not a [fraction, size] pair"),
    (["digits", "--set", "optim.peak_lr=-1e3"], "optim.peak_lr must be in (0, inf)"),
    (["digits", "--seed", str(10**40)], "--seed must be in 0.."),
    (["digits", "--set", "name=../../x"], "must be 1-64 letters"),
    (["digits", "--set", "name=/abs/path"], "must be 1-64 letters"),
    (["digits", "--device", "bogus"], "use cpu, cuda or cuda:N"),
    (["cifar", "--recipe", "cifar-airbench"], "pass --data DIR"),
    (["cifar", "--recipe", "cifar-airbench", "--data", "EMPTY"], "no CIFAR-10 python batches in"),
    (["digits", "--recipe", "cifar-airbench"], "run it with `repro cifar --recipe cifar-airbench`"),
])
def test_bad_input_is_one_clear_line_and_nothing_is_written(tmp_path, args, message):
    (tmp_path / "EMPTY").mkdir()
    before = _tree(tmp_path)
    r = run_cli(*args, "--results", "results", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("repro: error:") and message in lines[0], r.stderr
    assert _tree(tmp_path) == before                    # no new directory or file anywhere under cwd


def test_a_failed_start_never_touches_an_earlier_run(tmp_path, digits_group):
    """A run that fails before its directory exists (here: a bad device) is never credited with the
    newest run on disk: exit 1, the old run's cost.json untouched, no group file."""
    results, group = digits_group
    old = group.runs[0].run_dir
    copied = tmp_path / "R" / "digits" / old.name
    shutil.copytree(old, copied)
    cost_before = (copied / "cost.json").read_bytes()
    r = run_cli("digits", "--device", "bogus", "--runs", "2", "--results", str(tmp_path / "R"))
    assert r.returncode == 1 and "--device 'bogus'" in r.stderr
    assert (copied / "cost.json").read_bytes() == cost_before
    assert sorted(p.name for p in (tmp_path / "R" / "digits").iterdir()) == [old.name]


def test_two_processes_in_one_results_folder_each_price_their_own_run(tmp_path):
    procs = [subprocess.Popen([str(REPRO_BIN), "digits", "--epochs", str(epochs), "--seed", str(seed),
                               "--results", str(tmp_path), "--quiet"], stderr=subprocess.PIPE, text=True)
             for seed, epochs in ((0, 2), (1, 4))]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    run_dirs = sorted(p.parent for p in tmp_path.glob("digits/*/run.json"))
    assert len(run_dirs) == 2
    for run_dir in run_dirs:
        run = json.loads((run_dir / "run.json").read_text())
        cost = json.loads((run_dir / "cost.json").read_text())
        assert cost["run_id"] == run["run_id"] == run_dir.name
        on_demand = next(row for row in cost["rows"] if row["market"] == "on-demand")
        assert on_demand["benchmark_seconds"] == run["outcome"]["time_to_target_s"]
    groups = [json.loads(p.read_text()) for p in tmp_path.glob("digits/group-*.json")]
    assert sorted(len(g["runs"]) for g in groups) == [1, 1]
    assert {g["runs"][0]["run_id"] for g in groups} == {d.name for d in run_dirs}


def test_unknown_recipe_lists_the_known_ones(tmp_path):
    r = run_cli("digits", "--recipe", "cifar-nope", "--results", str(tmp_path))
    assert r.returncode == 1 and "digits" in r.stderr.split("known recipes:")[1]


def test_unwritable_results_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run_cli("digits", "--results", str(blocker / "results"))
    assert r.returncode == 1 and "writable --results" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [None, "provider,instance_type\nnot,a,valid,snapshot\n"])
def test_missing_or_corrupt_price_snapshot(tmp_path, content):
    snap = tmp_path / "prices.csv"
    if content is not None:
        snap.write_text(content)
    results = tmp_path / "results"
    r = run_cli("digits", "--snapshot", str(snap), "--results", str(results))
    assert r.returncode == 1 and str(snap.name).split(".")[0] in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not any(results.rglob("run.json")) if results.exists() else True


def test_digits_prints_time_accuracy_cost_and_runs_table(tmp_path):
    r = run_cli("digits", "--epochs", "3", "--results", str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "epoch   1/3" in out and "img/s" in out and "eta" in out
    assert "time to target:" in out and "final top1" in out
    for provider_market in ("aws        on-demand", "aws        spot", "paperspace on-demand"):
        assert provider_market in out
    table = run_cli("runs", "--results", str(tmp_path))
    assert table.returncode == 0 and "digits/" in table.stdout and "finished" in table.stdout
    as_json = run_cli("runs", "--results", str(tmp_path), "--json")
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["status"] == "finished" and rows[0]["recipe"] == "digits"


def test_quiet_prints_nothing_and_json_prints_only_json(tmp_path):
    q = run_cli("digits", "--epochs", "1", "--quiet", "--results", str(tmp_path / "q"))
    assert q.returncode == 0 and q.stdout == ""
    j = run_cli("digits", "--epochs", "1", "--json", "--results", str(tmp_path / "j"))
    kinds = [json.loads(line)["type"] for line in j.stdout.splitlines()]
    assert kinds == ["epoch", "run", "group"]
