"""Nothing is lost: divergence, exceptions, SIGTERM and SIGKILL all leave a readable, marked run."""
import json
import random
import signal
import subprocess
import time

import pytest

from repro import api
from repro.harness import store
from repro.harness.mllog import read_events
from tests.conftest import REPRO_BIN


def test_nan_loss_marks_the_run_diverged_and_keeps_it(tmp_path):
    summary = api.train("digits", epochs=2, results_dir=tmp_path, overrides=["optim.peak_lr=1e12"])
    assert not summary.ok
    run = summary.runs[0]
    rec = store.load_run(run.run_dir).data
    assert rec["status"] == "diverged" and "loss became" in rec["error"]
    stop = [e for e in read_events(run.run_dir / "mllog.log") if e["key"] == "run_stop"]
    assert stop and stop[0]["metadata"]["status"] == "aborted"
    assert run.cost["rows"], "a diverged run still cost money and is priced"


def test_exception_marks_the_run_failed_with_the_message(tmp_path, monkeypatch):
    import repro.train.loop as loop

    def broken(*a, **k):
        raise RuntimeError("eval exploded")

    monkeypatch.setattr(loop, "evaluate", broken)
    summary = api.train("digits", epochs=1, results_dir=tmp_path)
    rec = summary.runs[0].record
    assert rec["status"] == "failed" and rec["error"] == "RuntimeError: eval exploded"
    assert rec["ended_at"] is not None


def _start(tmp_path, epochs=400):
    return subprocess.Popen([str(REPRO_BIN), "digits", "--epochs", str(epochs), "--quiet", "--results",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_epochs(tmp_path, n, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in tmp_path.glob("digits/*/run.json"):
            try:
                if len(json.loads(p.read_text())["outcome"]["epochs"]) >= n:
                    return p
            except (json.JSONDecodeError, KeyError):
                pass
        time.sleep(0.1)
    raise AssertionError("the run never reached the wanted epoch")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_mark_the_run_interrupted(tmp_path, signum):
    proc = _start(tmp_path)
    run_json = _wait_for_epochs(tmp_path, 1)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err   # 143 for SIGTERM, 130 for SIGINT
    rec = json.loads(run_json.read_text())
    assert rec["status"] == "interrupted" and signal.Signals(signum).name in rec["error"]
    assert (run_json.parent / "cost.json").exists()


@pytest.mark.slow
def test_sigkill_at_random_points_always_leaves_a_readable_run_json(tmp_path):
    rng = random.Random(1234)
    for i in range(8):
        results = tmp_path / f"kill{i}"
        proc = _start(results, epochs=30)
        time.sleep(rng.uniform(0.5, 12.0))
        proc.kill()
        proc.wait(timeout=30)
        for run_json in results.glob("digits/*/run.json"):
            rec = json.loads(run_json.read_text())  # must parse, whatever the moment of the kill
            assert rec["schema_version"] == store.SCHEMA_VERSION
            assert rec["status"] in ("running", "finished")
        assert not list(results.glob("digits/*/.*.tmp")) or True  # a temp file may survive a kill …
        for tmp in results.glob("digits/*/.*.tmp"):
            assert tmp.name.startswith(".run.json.") or tmp.name.startswith(".metrics.tsv.")  # … never a target
