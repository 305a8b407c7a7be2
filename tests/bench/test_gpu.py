"""repro.bench.gpu: the JSON file's name, what happens without a GPU, and a section that fails or
does not fit the budget (the whole dry run is tests/commands/test_bench.py)."""
from __future__ import annotations

import json
import math

import pytest
import torch

from repro.bench import gpu
from repro.bench.common import Budget, OutOfBudget
from repro.bench.profile import dry_run_profile


@pytest.mark.parametrize("hw,dry_run,stem", [
    ({"gpu_model": "H100"}, False, "H100"),
    ({"gpu_model": None, "gpu_name": "NVIDIA Weird/GPU 80GB"}, False, "NVIDIA-Weird-GPU-80GB"),
    ({"gpu_model": "H100"}, True, "cpu-dry-run"),
])
def test_the_file_is_named_after_the_gpu_model_and_the_date(tmp_path, hw, dry_run, stem):
    path = gpu.output_path(tmp_path, hw, dry_run)
    assert path.parent == tmp_path and path.name.startswith(stem + "-") and path.suffix == ".json"
    assert "/" not in path.name[len(stem):]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_without_a_gpu_a_real_run_says_so_and_writes_nothing(tmp_path):
    with pytest.raises(gpu.BenchUnavailable, match="--dry-run"):
        gpu.run_bench(dry_run=False, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failing_section_is_recorded_with_its_reason(tmp_path, monkeypatch):
    def broken(profile, work_dir, budget):
        raise RuntimeError("nvjpeg said no")
    monkeypatch.setattr(gpu.decode, "run", broken)
    entry = gpu.run_section("d", dry_run_profile(), tmp_path, Budget(100))
    assert entry["status"] == "failed" and entry["reason"] == "RuntimeError: nvjpeg said no"
    assert entry["cpu_dry_run"] is True and entry["results"] is None


def test_a_section_that_does_not_fit_the_budget_fails_saying_so(tmp_path):
    entry = gpu.run_section("c", dry_run_profile(), tmp_path, Budget(0.0))
    assert entry["status"] == "failed" and entry["reason"].startswith("out of budget:")


def test_budget_refuses_work_it_has_no_time_for():
    with pytest.raises(OutOfBudget, match="needs about 10 s"):
        Budget(5).need(10, "ten seconds of work")
    Budget(60).need(10, "fits")


def test_non_finite_numbers_become_null():
    assert gpu._finite({"a": [1.0, math.nan], "b": {"c": math.inf}, "d": "x"}) == {"a": [1.0, None],
                                                                                   "b": {"c": None}, "d": "x"}
    json.dumps(gpu._finite({"x": -math.inf}), allow_nan=False)
