"""Checks run before `make image` / `make reproduce-*` touch anything: is there a Docker engine, is
there an NVIDIA GPU, is the dataset there? Standard library only, so the Makefile can run it with the
system Python before any virtualenv exists (`python3 -m repro.commands.preflight`). Never creates a file.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

_TIMEOUT_S = 20

# How to get the same kind of result without the missing piece, per make target.
CPU_ALTERNATIVES = {
    "reproduce-cifar": [
        "make demo                                   # the whole pipeline on the digits recipe, CPU, < 1 min",
        ".venv/bin/repro cifar --recipe cifar-airbench --device cpu --data data/cifar10 --epochs 1  # slow on CPU",
        ".venv/bin/repro cifar --recipe cifar-fastai-2018 --device cpu --synthetic --epochs 1       # throughput only",
    ],
    "reproduce-imagenet": [
        "make demo                                   # the whole pipeline on the digits recipe, CPU, < 1 min",
        ".venv/bin/repro imagenet --recipe imagenet-rn18-1gpu --device cpu --synthetic --epochs 1  # throughput only",
    ],
    "image": ["make demo                                   # runs in a local virtualenv, no image needed"],
}


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None


def docker_problem() -> str | None:
    """None when the docker CLI can talk to an engine, else what is wrong and how to fix it."""
    if shutil.which("docker") is None:
        return ("docker: the `docker` command is not installed "
                "(install Docker Engine: https://docs.docker.com/engine/install/)")
    out = _run(["docker", "info", "--format", "{{.ServerVersion}}"])
    if out is None or out.returncode != 0 or not out.stdout.strip():
        detail = (out.stderr.strip().splitlines() or ["no answer"])[-1] if out is not None else "timed out"
        return (f"docker: the Docker engine is not reachable ({detail}); "
                "start it (`sudo systemctl start docker`) or set DOCKER_HOST")
    return None


def gpu_problem() -> str | None:
    """None when nvidia-smi lists at least one GPU, else what is wrong and how to fix it."""
    if shutil.which("nvidia-smi") is None:
        return ("gpu: no NVIDIA GPU found (`nvidia-smi` is not installed); these recipes need CUDA GPUs, "
                "an NVIDIA driver and the NVIDIA Container Toolkit")
    out = _run(["nvidia-smi", "-L"])
    gpus = [line for line in (out.stdout.splitlines() if out is not None and out.returncode == 0 else [])
            if line.startswith("GPU ")]
    if not gpus:
        detail = (out.stderr.strip() or out.stdout.strip()) if out is not None else "timed out"
        return f"gpu: `nvidia-smi -L` lists no GPU ({detail or 'empty output'}); check the NVIDIA driver"
    return None


def data_problem(path: str) -> str | None:
    """None when the dataset folder exists and is not empty."""
    folder = Path(path)
    if not folder.is_dir() or not any(folder.iterdir()):
        return (f"data: {path} is missing or empty; put the dataset there (ImageNet: an ImageFolder tree with "
                f"train/ and val/) or point the Makefile at it, e.g. IMAGENET_DATA=/data/imagenet")
    return None


def problems(*, need_docker: bool, need_gpu: bool, data: str | None = None) -> list[str]:
    found = []
    if need_docker and (p := docker_problem()):
        found.append(p)
    if need_gpu and (p := gpu_problem()):
        found.append(p)
    if data is not None and (p := data_problem(data)):
        found.append(p)
    return found


def report(target: str, missing: list[str]) -> str:
    lines = [f"make {target}: cannot start, missing:"]
    lines += [f"  - {m}" for m in missing]
    alternatives = CPU_ALTERNATIVES.get(target, CPU_ALTERNATIVES["image"])
    lines += ["Nothing was built or written. To run on the CPU instead:"]
    lines += [f"  {a}" for a in alternatives]
    return "\n".join(lines)
