"""`repro bench gpu`: sections a–f within a time budget, one JSON file, typed results for the command.

    report = run_bench(dry_run=False, out_dir=Path("benchmarks/gpu"))
    report.path      # benchmarks/gpu/H100-2026-11-29.json
    report.failed    # keys of the sections that failed

Every section runs even when another fails; a section that would not fit in what is left of the
budget is recorded as failed ("out of budget: …"), one that cannot apply here (DDP on one GPU) as
skipped, each with its reason. The file is written once, atomically, at the end.
"""
from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

from repro.bench import profile as profiles
from repro.bench.common import Budget, OutOfBudget
from repro.bench.sections import airbench, ddp, decode, learn, precision, resnet50
from repro.harness import hardware, provenance, store

SCHEMA = "repro-bench-gpu/1"
SECTIONS: dict[str, tuple[str, ModuleType]] = {
    "a": ("cifar-airbench epoch time against airbench94's train94", airbench),
    "b": ("cifar-fastai-2018: fp16 and bf16 against fp32, channels-last on and off", precision),
    "c": ("ResNet-50 training images/s through repro's loop, with and without torch.compile", resnet50),
    "d": ("JPEG decode + random-resized-crop: batched device decode against the CPU path", decode),
    "e": ("DDP: 2 ranks equal 1 rank after the same steps; scaling efficiency", ddp),
    "f": ("a short fp16 + GradScaler + channels-last training that must reach its accuracy", learn),
}
ORDER = ("a", "b", "d", "e", "f", "c")     # c last: compiling ResNet-50 is the longest item
DRY_RUN_NOTE = "CPU dry run at tiny sizes: proves the code path runs; measures nothing about GPUs"


class BenchUnavailable(RuntimeError):
    """No GPU for a real run; the message says how to run the dry run instead."""


@dataclass(frozen=True)
class BenchReport:
    path: Path
    doc: dict

    @property
    def failed(self) -> list[str]:
        return [k for k, s in self.doc["sections"].items() if s["status"] == "failed"]


def output_path(out_dir: Path, hw: dict, dry_run: bool) -> Path:
    model = "cpu-dry-run" if dry_run else (hw.get("gpu_model") or hw.get("gpu_name") or "gpu")
    return Path(out_dir) / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', model)}-{store.utc_now():%Y-%m-%d}.json"


def _finite(value):
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def run_section(key: str, profile: profiles.Profile, work_dir: Path, budget: Budget) -> dict:
    title, module = SECTIONS[key]
    entry = {"title": title, "cpu_dry_run": profile.dry_run, "device": profile.device,
             "note": DRY_RUN_NOTE if profile.dry_run else None}
    t0 = time.perf_counter()
    try:
        results = module.run(profile, work_dir / key, budget)
        skipped, failed = results.pop("skipped", None), results.get("failed")
        status = "failed" if failed else ("skipped" if skipped else "ok")
        entry.update(status=status, reason=failed or skipped, results=results)
    except OutOfBudget as exc:   # not proved within the budget: a failure of the command, not a skip
        entry.update(status="failed", reason=f"out of budget: {exc}", results=None)
    except Exception as exc:  # noqa: BLE001 - one section's failure is recorded; the others still run
        entry.update(status="failed", reason=f"{type(exc).__name__}: {exc}", results=None)
    entry["elapsed_s"] = time.perf_counter() - t0
    return entry


def _environment(device: str) -> dict:
    hw = hardware.detect(device)
    soft = provenance.software()
    return {**hw, "label": hardware.label(hw), "gpus_visible": torch.cuda.device_count() if device == "cuda" else 0,
            "torch": soft.get("torch"), "cuda": soft.get("cuda"), "cudnn": soft.get("cudnn"),
            "nccl": soft.get("nccl"), "driver": soft.get("driver"), "python": soft.get("python"), **provenance.git_info()}


def run_bench(*, dry_run: bool, out_dir: Path, budget_s: float = profiles.DEFAULT_BUDGET_S,
              command: list[str] | None = None, on_section: Callable[[str, dict], None] | None = None
              ) -> BenchReport:
    if not dry_run and not torch.cuda.is_available():
        raise BenchUnavailable("no CUDA GPU is visible; `repro bench gpu --dry-run` runs every section on the "
                               "CPU at tiny sizes instead")
    profile = profiles.dry_run_profile() if dry_run else profiles.gpu_profile()
    env = _environment(profile.device)
    path = output_path(out_dir, env, dry_run)
    path.parent.mkdir(parents=True, exist_ok=True)       # fails here, before minutes of work, if it cannot
    budget = Budget(budget_s)
    threads = torch.get_num_threads()
    if dry_run:
        torch.set_num_threads(1)   # tiny tensors on a shared CPU: one thread beats contended ones
    else:
        torch.backends.cudnn.benchmark = True   # airbench's import sets it for the whole process anyway
    sections: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="repro-bench-") as tmp:
            for key in ORDER:
                sections[key] = run_section(key, profile, Path(tmp), budget)
                if on_section is not None:
                    on_section(key, sections[key])
    finally:
        torch.set_num_threads(threads)
    doc = {"schema": SCHEMA, "created_at": store.iso(store.utc_now()), "dry_run": dry_run,
           "command": command, "budget_s": budget_s, "elapsed_s": time.perf_counter() - budget.started_s,
           "cudnn_benchmark": bool(torch.backends.cudnn.benchmark), "environment": env,
           "sections": {key: sections[key] for key in sorted(sections)}}
    doc = _finite(provenance.redact(doc))
    store.atomic_write_json(path, doc)
    return BenchReport(path=path, doc=doc)
