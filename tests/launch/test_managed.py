"""A SkyPilot managed job's command: resume the run a preemption cut off, start the next seed, stop
when every seed's run has ended; killed and restarted locally, it makes one continuous run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repro.launch import skypilot
from repro.launch.managed import next_args, main as managed_main
from tests.helpers_records import golden_record


def write_record(run_dir: Path, seed: int, status: str) -> None:
    """A schema-valid run.json (records are checked on reading) with this seed and status."""
    record = golden_record()
    record.update(run_id=run_dir.name, recipe="digits", seed=seed, status=status)
    (run_dir / "run.json").write_text(json.dumps(record))


def fake_run(job_dir: Path, name: str, seed: int, status: str, checkpoint: bool = False) -> Path:
    run_dir = job_dir / "digits" / name
    run_dir.mkdir(parents=True)
    write_record(run_dir, seed, status)
    if checkpoint:
        (run_dir / "checkpoint.pt").write_bytes(b"x")
    return run_dir


def test_next_step_per_seed(tmp_path):
    ask = dict(command="digits", recipe="digits", seed=0, runs=3, epochs=4)
    assert next_args(tmp_path, **ask) == ["digits", "--recipe", "digits", "--runs", "1", "--seed", "0",
                                          "--results", str(tmp_path), "--epochs", "4"]
    fake_run(tmp_path, "20261129T000000Z-aaaaaa", 0, "finished")
    cut = fake_run(tmp_path, "20261129T000100Z-bbbbbb", 1, "interrupted", checkpoint=True)
    assert next_args(tmp_path, **ask) == ["digits", "--resume", str(cut)]
    write_record(cut, 1, "finished")
    fake_run(tmp_path, "20261129T000200Z-cccccc", 2, "running")            # killed before any checkpoint
    assert next_args(tmp_path, **ask)[:6] == ["digits", "--recipe", "digits", "--runs", "1", "--seed"]
    fake_run(tmp_path, "20261129T000300Z-dddddd", 2, "diverged")
    assert next_args(tmp_path, **ask) is None


def test_cli_prints_shell_words_or_nothing(tmp_path, capsys):
    job = tmp_path / "job dir"
    assert managed_main(["next", "--job-dir", str(job), "--command", "digits", "--recipe", "digits"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"--results '{job}'")


def test_managed_export_loads_in_skypilot(tmp_path):
    sky = pytest.importorskip("sky", reason="skypilot is a dev dependency (pyproject.toml)")
    opts = skypilot.SkyTaskOptions(recipe="cifar-fastai-2018", gpus="V100:8", spot=True, managed=True,
                                   image="ghcr.io/example/repro@sha256:" + "ab" * 32,
                                   data_source="s3://example-data/cifar10", results_bucket="s3://example-results")
    text = skypilot.to_yaml(skypilot.task_config(opts), opts)
    task = skypilot.validate_with_skypilot(text)
    assert isinstance(task, sky.Task) and "sky jobs launch" in text.splitlines()[1]
    (resources,) = task.resources
    assert resources.use_spot is True and resources.job_recovery["strategy"] == "EAGER_NEXT_REGION"
    assert task.storage_mounts["/results"].source == "s3://example-results"
    assert "python -m repro.launch.managed next" in task.run and '"${SKYPILOT_TASK_ID' in task.run
    with pytest.raises(skypilot.ExportError, match="--managed keeps checkpoints on the results bucket"):
        skypilot.task_config(skypilot.SkyTaskOptions(recipe="digits", gpus="T4", managed=True))


def _progress(job_dir: Path) -> tuple[Path | None, dict]:
    for path in job_dir.glob("repro-jobs/digits/*/digits/*/run.json"):
        try:
            return path.parent, json.loads(path.read_text())
        except ValueError:
            pass
    return None, {}


@pytest.mark.slow
def test_job_command_killed_and_restarted_makes_one_continuous_run(tmp_path):
    venv_bin = str(Path(sys.executable).parent)
    script = skypilot.managed_run_script("digits", "digits", runs=1, seed=0, with_data=False, venv_bin=venv_bin,
                                         results_dir=str(tmp_path / "bucket"), epochs=30)
    (tmp_path / "run.sh").write_text(script)
    env = {**os.environ, "SKYPILOT_TASK_ID": "sky-managed-2026-11-29-00-00-00-000000_repro-digits_1-0",
           "SKYPILOT_NODE_IPS": "127.0.0.1", "SKYPILOT_NUM_NODES": "1", "SKYPILOT_NODE_RANK": "0",
           "SKYPILOT_NUM_GPUS_PER_NODE": "1", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(["bash", str(tmp_path / "run.sh")], env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    run_dir, record = None, {}
    while time.monotonic() < deadline and len(record.get("outcome", {}).get("epochs", [])) < 2:
        time.sleep(0.5)
        run_dir, record = _progress(tmp_path / "bucket")
        assert first.poll() is None, first.stderr.read()
    os.killpg(first.pid, signal.SIGTERM)                    # what a spot preemption delivers
    first.wait(timeout=120)
    gone = time.monotonic() + 120                           # torchrun and the trainer end after bash
    while time.monotonic() < gone:
        try:
            os.killpg(first.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    _, cut = _progress(tmp_path / "bucket")
    assert cut["status"] == "interrupted" and (run_dir / "checkpoint.pt").is_file()
    time.sleep(2)                                           # a new machine takes a while to come up
    second = subprocess.run(["bash", str(tmp_path / "run.sh")], env=env, capture_output=True, text=True,
                            timeout=900)
    assert second.returncode == 0, second.stderr
    runs = list((tmp_path / "bucket").glob("repro-jobs/digits/*/digits/*/run.json"))
    assert len(runs) == 1                                   # one run, resumed, not started again
    done = json.loads(runs[0].read_text())
    assert done["status"] == "finished" and len(done["segments"]) == 2
    epochs = [e["epoch"] for e in done["outcome"]["epochs"]]
    assert epochs == list(range(1, epochs[-1] + 1)) and epochs[-1] > len(cut["outcome"]["epochs"])
    # continuous: no epoch twice, none missing (digits stops at its target, so maybe before epoch 30)
    first_seg, second_seg = done["segments"]
    assert first_seg["status"] == "interrupted" and second_seg["downtime_before_s"] >= 2
    assert done["outcome"]["run_s"] == pytest.approx(first_seg["run_s"] + second_seg["run_s"])
    cost = json.loads((runs[0].parent / "cost.json").read_text())
    aws = {(r["provider"], r["market"]): r for r in cost["rows"]}[("aws", "spot")]
    assert aws["billed_seconds"] == sum(max(60, int(-(-s["session_s"] // 1))) for s in done["segments"])
    assert not any("lower bound" in n for n in aws["notes"])
    # the job knows it is done: a third start does nothing
    third = subprocess.run(["bash", str(tmp_path / "run.sh")], env=env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and len(list((tmp_path / "bucket").glob("repro-jobs/digits/*/digits/*/run.json"))) == 1
