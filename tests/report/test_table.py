"""`repro runs`: exit 0 on any results folder, one line per bad record saying what is wrong, and no
control sequence from a record ever reaches the terminal."""
from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.helpers_records import COST_VARIANTS, RUN_VARIANTS, break_record, copy_run, deep_json, golden_record


def test_runs_lists_every_broken_record_and_the_good_ones(tmp_path):
    results = tmp_path / "results"
    copy_run(results, run_id="20261101T100000Z-good00")
    for index, (name, field, raw) in enumerate(RUN_VARIANTS + COST_VARIANTS):
        break_record(copy_run(results, run_id=f"20261102T{index:06d}Z-bad{index:03d}"), name, field, raw)
    (copy_run(results, run_id="20261102T999999Z-deep00") / "run.json").write_text(deep_json(2000))
    out = run_cli("runs", "--results", str(results))
    assert out.returncode == 0, out.stderr[-3000:]
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == len(RUN_VARIANTS) + 1
    assert all("/run.json: unreadable: " in w for w in warnings)
    assert "Traceback" not in out.stderr
    shown = [line for line in out.stdout.splitlines()[1:]]
    assert len(shown) == 1 + len(COST_VARIANTS)        # a bad cost.json does not hide its run here


def test_control_sequences_in_a_record_never_reach_the_terminal(tmp_path):
    results = tmp_path / "results"
    run = copy_run(results)
    evil = "digits\x9b31m"                        # C1 CSI: the schema keeps C0 out of names, not C1
    hardware = {**golden_record()["hardware"], "accelerator": "cuda", "gpu_model": "V100\x1b[2J\x1b]0;pwned\x07"}
    (run / "run.json").write_text(json.dumps({**golden_record(), "recipe": evil, "hardware": hardware}))
    broken = copy_run(results, run_id="20261101T100000Z-bad000")
    (broken / "run.json").write_text(json.dumps({**golden_record(), "recipe": "x\x1b[2J"}))
    out = run_cli("runs", "--results", str(results))
    assert out.returncode == 0
    assert not any(c in out.stdout + out.stderr for c in "\x1b\x07\x9b")
    as_json = run_cli("runs", "--results", str(results), "--json")
    assert not any(c in as_json.stdout for c in "\x1b\x07\x9b")
    row = json.loads(as_json.stdout.splitlines()[0])
    assert row["recipe"] == evil and "\x1b[2J" in row["hardware"]             # the data itself intact
    assert "unreadable: recipe" in out.stderr
