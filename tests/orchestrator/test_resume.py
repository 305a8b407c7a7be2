"""Checkpoint and resume: SIGTERM mid-epoch saves a checkpoint and marks the run interrupted; resuming
finishes with the same metrics as an uninterrupted run of the same seed, and run.json shows both
segments, the time before and after the interruption counted, the lost time apart."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from repro import api
from repro.harness import store
from repro.train import checkpoint as ckpt
from repro.train.data import registry


def _sigterm_at(monkeypatch, epoch: int, batch: int) -> None:
    """Make the digits source send this process SIGTERM when it hands out `batch` of `epoch`."""
    from repro.train.data import digits

    class Preempted(digits.DigitsData):
        def train_batches(self, ep, batch_size, generator, image_size=None, start_batch=0):
            batches = super().train_batches(ep, batch_size, generator, image_size, start_batch)
            for i, b in enumerate(batches, start=start_batch):
                if (ep, i) == (epoch, batch):
                    os.kill(os.getpid(), signal.SIGTERM)
                yield b

    monkeypatch.setitem(registry.MODULES, "digits", __name__)   # this module's check() and make()
    monkeypatch.setitem(globals(), "_PREEMPTED", Preempted)


def _sigterm_in_evaluation(monkeypatch, epoch: int) -> None:
    """Make the digits source send this process SIGTERM while `epoch` is being evaluated (after the
    epoch's last step check)."""
    from repro.train.data import digits

    class PreemptedInEval(digits.DigitsData):
        evaluations = 0

        def eval_batches(self, batch_size, image_size=None):
            type(self).evaluations += 1
            for i, b in enumerate(super().eval_batches(batch_size, image_size)):
                if (type(self).evaluations, i) == (epoch, 0):
                    os.kill(os.getpid(), signal.SIGTERM)
                yield b

    monkeypatch.setitem(registry.MODULES, "digits", __name__)
    monkeypatch.setitem(globals(), "_PREEMPTED", PreemptedInEval)


def check(recipe, **kwargs):
    from repro.train.data import digits
    return digits.check(recipe, **kwargs)


def make(recipe, *, device, data_dir=None, synthetic=False, seed=0):
    return globals()["_PREEMPTED"](device)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = api.train("digits", epochs=2, seed=4, target=0.5, results_dir=tmp_path_factory.mktemp("a"))
    return out.runs[0].record


def test_sigterm_mid_epoch_then_resume_matches_the_uninterrupted_run(tmp_path, monkeypatch, uninterrupted):
    epochs = uninterrupted["outcome"]["epochs"]
    target = epochs[1]["top1"]  # reached at the end of epoch 2, after the resume (unless epoch 1 got there)
    _sigterm_at(monkeypatch, epoch=2, batch=7)
    first = api.train("digits", epochs=2, seed=4, target=target, results_dir=tmp_path)
    assert first.interrupted and not first.ok
    run_dir = Path(first.runs[0].run_dir)
    record = store.load_run(run_dir).data
    assert record["status"] == "interrupted" and "SIGTERM" in record["error"]
    assert [e["epoch"] for e in record["outcome"]["epochs"]] == [1]
    pos = ckpt.load(run_dir / store.CHECKPOINT_FILE)["position"]
    assert (pos.epoch, pos.batches_done) == (2, 7)  # saved at the step boundary after the signal

    monkeypatch.undo()
    time.sleep(0.3)  # the "preemption" gap: lost time, not counted
    second = api.train("digits", resume=run_dir)
    assert second.ok, second
    done = store.load_run(run_dir).data
    assert done["status"] == "finished" and done["run_id"] == record["run_id"]
    for a, b in zip(done["outcome"]["epochs"], epochs, strict=True):
        assert (a["epoch"], a["top1"], a["eval_loss"]) == (b["epoch"], b["top1"], b["eval_loss"])
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-12)
    assert done["outcome"]["final"] == uninterrupted["outcome"]["final"]

    segs = done["segments"]
    assert [s["status"] for s in segs] == ["interrupted", "finished"]
    assert segs[0]["counted_s"] > 0 and segs[1]["downtime_before_s"] >= 0.3
    assert done["outcome"]["lost_s"] == pytest.approx(
        segs[0]["lost_s"] + segs[1]["lost_s"] + segs[1]["downtime_before_s"])
    assert done["outcome"]["run_s"] == pytest.approx(segs[0]["run_s"] + segs[1]["run_s"])
    # the clock goes on from the checkpoint: epoch 2's elapsed includes segment 1's counted time
    assert done["outcome"]["epochs"][1]["elapsed_s"] > segs[0]["counted_s"]
    if epochs[0]["top1"] < target:
        assert done["outcome"]["reached"] and done["outcome"]["epochs_to_target"] == 2
        ttt = done["outcome"]["time_to_target_s"]
        assert segs[0]["counted_s"] < ttt <= segs[0]["counted_s"] + segs[1]["run_s"] + 1e-6
    tsv = (run_dir / store.METRICS_FILE).read_text().splitlines()
    assert [line.split("\t")[0] for line in tsv[1:]] == ["1", "2"]

    assert first.summary["status"] == "interrupted" and first.summary["interrupted_by"] == "SIGTERM"
    group = store.read_json(first.path)                          # rewritten by the resume
    assert group["status"] == "complete" and group["interrupted_by"] is None
    assert [(e["run_id"], e["status"]) for e in group["runs"]] == [(record["run_id"], "finished")]
    assert group["time_to_target"]["n"] == 1

    from bs4 import BeautifulSoup
    from repro.report import build_site
    build_site(tmp_path, tmp_path / "site")
    page = BeautifulSoup(next((tmp_path / "site").glob("runs/digits/*.html")).read_text(), "html.parser")
    rows = page.select("table.segments tbody tr")
    assert [r.find_all("td")[3].get_text() for r in rows] == ["interrupted", "finished"]
    assert "This run was resumed: 2 processes" in page.get_text() and "Lost time" in page.get_text()


def test_resume_refuses_changes_and_missing_checkpoints(tmp_path):
    run_dir = Path(api.train("digits", epochs=1, results_dir=tmp_path).runs[0].run_dir)
    with pytest.raises(ValueError, match="--resume continues the recorded config"):
        api.train("digits", resume=run_dir, epochs=5)
    with pytest.raises(ValueError, match="finished already"):
        api.train("digits", resume=run_dir)
    record = store.load_run(run_dir).data
    store.atomic_write_json(run_dir / store.RUN_FILE, {**record, "status": "interrupted"})
    (run_dir / store.CHECKPOINT_FILE).unlink()
    with pytest.raises(ValueError, match="no checkpoint at .*start it again"):
        api.train("digits", resume=run_dir)
    (run_dir / store.CHECKPOINT_FILE).write_bytes(b"torn")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        api.train("digits", resume=run_dir)
    assert store.load_run(run_dir).data["status"] == "interrupted"   # a refused resume writes nothing


def test_resume_refuses_a_diverged_run_and_one_still_running(tmp_path):
    from repro.harness import rundirs

    run_dir = Path(api.train("digits", epochs=1, results_dir=tmp_path).runs[0].run_dir)
    record = store.load_run(run_dir).data
    store.atomic_write_json(run_dir / store.RUN_FILE, {**record, "status": "diverged"})
    with pytest.raises(ValueError, match="finished already \\(status diverged\\)"):
        api.train("digits", resume=run_dir)
    alive = {**record, "status": "running", "process": rundirs.process_info()}   # this very process
    store.atomic_write_json(run_dir / store.RUN_FILE, alive)
    with pytest.raises(ValueError, match="still running \\(pid"):
        api.train("digits", resume=run_dir)


def test_checkpoint_for_another_config_is_refused(tmp_path):
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "checkpoint.pt"
    ckpt.save(path, model=model, optimizer=opt, scaler=torch.amp.GradScaler("cpu", enabled=False),
              position=ckpt.Position(1, 0, 0, 0.0, 0, 0.0, 0.0), epoch_generator_state=torch.Generator().get_state(),
              recipe_hash="sha256:aaa", seed=0, world_size=1)
    assert ckpt.load(path, recipe_hash="sha256:aaa")["position"].epoch == 1
    with pytest.raises(ckpt.CheckpointError, match="written for recipe config sha256:aaa"):
        ckpt.load(path, recipe_hash="sha256:bbb")


@pytest.mark.slow
def test_cli_sigterm_and_resume_on_a_jpeg_tree(tmp_path):
    """The real path: `repro imagenet` gets SIGTERM from outside mid-epoch, exits 130, `--resume` ends it
    with the metrics of an uninterrupted run (worker-side crops are seeded per image, so exact)."""
    from tests.conftest import REPRO_BIN
    from tests.helpers_imagenet import make_tree
    data = make_tree(tmp_path / "data", classes=3, train_per_class=16, val_per_class=2)
    common = ["--recipe", "imagenet-rn18-1gpu", "--data", str(data), "--device", "cpu", "--epochs", "3",
              "--seed", "1", "--set", "data.batch_size=4", "--set", "data.eval_batch_size=8",
              "--set", "data.workers=1", "--set", "model.num_classes=3",
              "--set", "data.size_knots=[[0,32],[0.5,32],[0.5,64],[1,64]]", "--set", "data.eval_size=48"]
    ref = subprocess.run([str(REPRO_BIN), "imagenet", *common, "--results", str(tmp_path / "ref"), "--quiet"],
                         check=False, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr[-2000:]
    proc = subprocess.Popen([str(REPRO_BIN), "imagenet", *common, "--results", str(tmp_path / "cut"), "--json"],
                            stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:  # wait for epoch 1 to end, then preempt during a later epoch
        if '"type": "epoch"' in line:
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            break
    proc.communicate(timeout=120)
    assert proc.returncode == 143   # 128 + SIGTERM
    run_dir = next((tmp_path / "cut" / "imagenet-rn18-1gpu").glob("*/run.json")).parent
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    res = subprocess.run([str(REPRO_BIN), "imagenet", "--resume", str(run_dir), "--device", "cpu", "--quiet"],
                         check=False, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    done = json.loads((run_dir / "run.json").read_text())
    want = json.loads(next((tmp_path / "ref" / "imagenet-rn18-1gpu").glob("*/run.json")).read_text())
    assert done["outcome"]["final"] == want["outcome"]["final"]
    assert [e["image_size"] for e in done["outcome"]["epochs"]] == [32, 32, 64]
    assert [s["status"] for s in done["segments"]] == ["interrupted", "finished"]


def test_sigterm_during_evaluation_checkpoints_the_epoch_boundary_and_resume_matches(tmp_path, monkeypatch,
                                                                                      uninterrupted):
    """A spot preemption that lands in an epoch's evaluation: no step check follows it in that epoch,
    so the checkpoint is written at the epoch boundary before the run ends (found by a fresh-clone
    run of the SkyPilot job test, where a missing checkpoint made the restart start over)."""
    epochs = uninterrupted["outcome"]["epochs"]
    _sigterm_in_evaluation(monkeypatch, epoch=1)
    first = api.train("digits", epochs=2, seed=4, target=epochs[1]["top1"], results_dir=tmp_path)
    assert first.interrupted
    run_dir = Path(first.runs[0].run_dir)
    record = store.load_run(run_dir).data
    assert record["status"] == "interrupted" and [e["epoch"] for e in record["outcome"]["epochs"]] == [1]
    pos = ckpt.load(run_dir / store.CHECKPOINT_FILE)["position"]
    assert (pos.epoch, pos.batches_done) == (2, 0)
    monkeypatch.undo()
    assert api.train("digits", resume=run_dir).ok
    done = store.load_run(run_dir).data
    for a, b in zip(done["outcome"]["epochs"], epochs, strict=True):
        assert (a["epoch"], a["top1"], a["eval_loss"]) == (b["epoch"], b["top1"], b["eval_loss"])
