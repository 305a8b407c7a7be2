"""(e) With ≥ 2 GPUs: 2-rank NCCL DDP lands on the 1-rank parameters after the same steps, and the
scaling efficiency of 2 ranks over 1 at a fixed batch per GPU (cifar-fastai-2018, synthetic).

Both through torchrun and repro's loop (repro.bench.ddp_worker). The dry run runs the same two
comparisons with 2 gloo ranks on the CPU; its efficiency says nothing about GPUs or NCCL.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import torch

from repro.bench.common import Budget, ratio
from repro.bench.profile import Profile
from repro.harness.store import read_json
from repro.launch.torchrun import Ranks, torchrun_command

RTOL, ATOL = 1e-4, 1e-5       # fp32 reductions in another order: equal to float rounding


def _torchrun(nproc: int, args: list[str], out: Path, timeout_s: float) -> dict:
    cmd = torchrun_command("repro.bench.ddp_worker", [args[0], str(out), *args[1:]], Ranks(nproc_per_node=nproc))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"torchrun with {nproc} rank(s) exited {proc.returncode}: " + " | ".join(tail))
    return read_json(out, expect_schema=False)


def _max_difference(one: dict, two: dict) -> tuple[float, bool]:
    a = torch.load(one["checkpoint"], map_location="cpu", weights_only=False)["model"]
    b = torch.load(two["checkpoint"], map_location="cpu", weights_only=False)["model"]
    diff = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    return diff, all(torch.allclose(b[k].float(), a[k].float(), rtol=RTOL, atol=ATOL) for k in a)


def run(profile: Profile, work_dir: Path, budget: Budget) -> dict:
    gpus = torch.cuda.device_count() if profile.device == "cuda" else 0
    if profile.device == "cuda" and gpus < 2:
        return {"skipped": f"needs ≥ 2 GPUs; {gpus} visible", "gpus": gpus}
    budget.need(40 if profile.dry_run else 90, "DDP with 1 and 2 ranks")
    timeout_s = max(30.0, budget.left_s())
    equal = [_torchrun(n, ["equal", profile.device, str(profile.ddp_epochs)], work_dir / f"equal-{n}.json", timeout_s)
             for n in (1, 2)]
    diff, same = _max_difference(*equal)
    scaling_args = ["scaling", profile.device, "2", str(profile.ddp_scaling_images),
                    str(profile.ddp_scaling_batch_per_rank), str(profile.fastai_width)]
    speed = [_torchrun(n, scaling_args, work_dir / f"scaling-{n}.json", timeout_s)["images_per_s"] for n in (1, 2)]
    efficiency = ratio(speed[1], 2 * speed[0]) if speed[0] else None
    return {"backend": "nccl" if profile.device == "cuda" else "gloo", "ranks_compared": [1, 2],
            "parameters": {"model": "digits with a BatchNorm-free MLP", "epochs": profile.ddp_epochs,
                           "max_abs_difference": diff, "equal_within": {"rtol": RTOL, "atol": ATOL}, "equal": same},
            "scaling": {"recipe": "cifar-fastai-2018 (synthetic)", "batch_per_rank": profile.ddp_scaling_batch_per_rank,
                        "model_width": profile.fastai_width,
                        "images_per_s": {"1": speed[0], "2": speed[1]}, "efficiency": efficiency},
            "failed": None if same else f"2-rank parameters differ from 1-rank by up to {diff:.3g}"}
