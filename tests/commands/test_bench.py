"""`repro bench gpu` through the real entry point: the CPU dry run writes the JSON with every
section a–f marked as a CPU dry run; without a GPU a real run exits 5 and writes nothing."""
from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import run_cli


@pytest.mark.slow
def test_dry_run_writes_every_section_marked_as_a_cpu_dry_run(tmp_path):
    proc = run_cli("bench", "gpu", "--dry-run", "--out", str(tmp_path / "gpu"), "--json", timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["section"] for r in lines if r["type"] == "bench_section"] == ["a", "b", "d", "e", "f", "c"]
    (path,) = (tmp_path / "gpu").glob("cpu-dry-run-*.json")
    doc = json.loads(path.read_text())
    assert doc["dry_run"] is True and doc["schema"] == "repro-bench-gpu/1"
    assert sorted(doc["sections"]) == ["a", "b", "c", "d", "e", "f"]
    for key, section in doc["sections"].items():
        assert section["cpu_dry_run"] is True and section["device"] == "cpu", key
        assert section["status"] == "ok", (key, section["reason"])
    s = doc["sections"]
    assert s["a"]["results"]["airbench"]["function"] == "airbench.train94"
    assert s["a"]["results"]["goal_met"] is None          # a dry run judges no GPU goal
    assert {(r["precision"], r["channels_last"]) for r in s["b"]["results"]["runs"]} == {
        (p, cl) for p in ("fp32", "fp16", "bf16") for cl in (True, False)}
    assert [(r["image_size"], r["compile"]) for r in s["c"]["results"]["runs"]] == [
        (32, False), (48, False), (64, False), (32, True), (48, True), (64, True)]
    assert all(r["images_per_s"] > 0 for r in s["c"]["results"]["runs"])
    assert s["d"]["results"]["batched_decode_images_per_s"] > 0
    assert s["e"]["results"]["parameters"]["equal"] is True
    assert s["f"]["results"]["reached"] is True and s["f"]["results"]["syncs_goal_met"] is True


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_without_a_gpu_the_real_run_exits_5_and_writes_nothing(tmp_path):
    proc = run_cli("bench", "gpu", "--out", str(tmp_path / "gpu"))
    assert proc.returncode == 5, proc.stderr
    assert "no CUDA GPU" in proc.stderr and "--dry-run" in proc.stderr
    assert not (tmp_path / "gpu").exists()


def test_a_budget_must_be_positive(tmp_path):
    proc = run_cli("bench", "gpu", "--dry-run", "--budget", "0", "--out", str(tmp_path))
    assert proc.returncode == 1 and "--budget must be a positive" in proc.stderr
    assert list(tmp_path.iterdir()) == []
