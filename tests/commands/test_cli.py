"""The `repro` command as a user runs it: help with examples, bad input, tables."""
import json

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize("command", [["digits"], ["runs"], ["report"], ["rerun"], ["recipes"],
                                     ["export", "dawnbench"], ["cifar"], ["imagenet"], ["prices"]])
def test_every_command_has_help_with_an_example(command):
    r = run_cli(*command, "--help")
    assert r.returncode == 0, r.stderr
    assert "example" in r.stdout.lower() and "repro " in r.stdout


@pytest.mark.parametrize("args, message", [
    (["digits", "--target", "1.5"], "target must be a fraction"),
    (["digits", "--target", "0"], "target must be a fraction"),
    (["cifar", "--recipe", "no-such-recipe"], "known recipes: "),
    (["digits", "--set", "optim.nope=1"], "unknown recipe key 'optim.nope'"),
    (["digits", "--set", "epochs=many"], "expected a value of type int"),
    (["digits", "--runs", "0"], "--runs must be ≥ 1"),
])
def test_bad_input_is_one_clear_line_and_nothing_is_written(tmp_path, args, message):
    results = tmp_path / "results"
    r = run_cli(*args, "--results", str(results))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("repro: error:") and message in lines[0], r.stderr
    assert not results.exists() or not any(results.rglob("run.json"))


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
