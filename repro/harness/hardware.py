"""The machine a run used, as recorded in run.json's `hardware`, and its one label.

`label()` is the only place a hardware description is written for people: the terminal, the
HTML report, the MLPerf platform name and the DAWNBench export all use it.
"""
from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from repro.harness.gpu_names import normalize_gpu_name


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def node_layout(world_size: int = 1, env: dict | None = None) -> tuple[int, int]:
    """(processes per node, nodes) of this run. torchrun exports LOCAL_WORLD_SIZE (processes on this
    node) beside WORLD_SIZE; without it every process is on this one node."""
    env = os.environ if env is None else env
    world = max(1, int(world_size or 1))
    try:
        local = int(env.get("LOCAL_WORLD_SIZE") or world)
    except ValueError:
        local = world
    local = min(max(1, local), world)
    return local, -(-world // local)


def detect(device: str = "cpu", world_size: int = 1) -> dict[str, Any]:
    """What this run uses, not what the machine has: one GPU per process (the GPUs a 1-process run
    on an 8-GPU host leaves idle are not its hardware), processes per node and nodes from torchrun's
    environment. `gpus_visible` is recorded apart and never priced."""
    import psutil
    import torch

    per_node, nodes = node_layout(world_size)
    hw: dict[str, Any] = {
        "accelerator": "cuda" if device.startswith("cuda") else "cpu",
        "gpu_model": None, "gpu_name": None, "gpu_count": 0, "gpus_per_node": 0, "gpus_visible": 0,
        "nodes": nodes, "vcpus": os.cpu_count(), "cpu_model": cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "world_size": world_size,
    }
    if hw["accelerator"] == "cuda" and torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        hw.update(gpu_name=name, gpu_model=normalize_gpu_name(name), gpu_count=max(1, world_size),
                  gpus_per_node=per_node, gpus_visible=torch.cuda.device_count())
    return hw


def _count(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def label(hardware: dict | None, *, sep: str = " × ") -> str:
    """`8 × V100` for a GPU run, `2 × 8 × V100` over two nodes, `CPU, 2 vCPUs` for a CPU run; never
    raises on odd records."""
    hw = hardware if isinstance(hardware, dict) else {}
    gpus = _count(hw.get("gpu_count"))
    nodes = _count(hw.get("nodes")) or 1
    if hw.get("accelerator") == "cuda" or gpus:
        model = hw.get("gpu_model") or hw.get("gpu_name") or "GPU"
        per_node = _count(hw.get("gpus_per_node"))
        if nodes > 1 and per_node:
            return f"{nodes}{sep}{per_node}{sep}{model}"
        return f"{max(gpus, 1)}{sep}{model}"
    vcpus = _count(hw.get("vcpus"))
    text = f"CPU, {vcpus} vCPU{'s' if vcpus != 1 else ''}" if vcpus else "CPU"
    return f"{nodes}{sep}{text}" if nodes > 1 else text
