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


def detect(device: str = "cpu", world_size: int = 1) -> dict[str, Any]:
    import psutil
    import torch

    hw: dict[str, Any] = {
        "accelerator": "cuda" if device.startswith("cuda") else "cpu",
        "gpu_model": None, "gpu_name": None, "gpu_count": 0,
        "vcpus": os.cpu_count(), "cpu_model": cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "world_size": world_size,
    }
    if hw["accelerator"] == "cuda" and torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        hw.update(gpu_name=name, gpu_model=normalize_gpu_name(name),
                  gpu_count=max(world_size, 1) if world_size > 1 else torch.cuda.device_count())
    return hw


def _count(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def label(hardware: dict | None, *, sep: str = " × ") -> str:
    """`8 × V100` for a GPU run, `CPU, 2 vCPUs` for a CPU run; never raises on odd records."""
    hw = hardware if isinstance(hardware, dict) else {}
    gpus = _count(hw.get("gpu_count"))
    if hw.get("accelerator") == "cuda" or gpus:
        model = hw.get("gpu_model") or hw.get("gpu_name") or "GPU"
        return f"{max(gpus, 1)}{sep}{model}"
    vcpus = _count(hw.get("vcpus"))
    return f"CPU, {vcpus} vCPU{'s' if vcpus != 1 else ''}" if vcpus else "CPU"
