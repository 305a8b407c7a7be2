"""What a run records as its hardware: what it used (GPUs per node, nodes), never what the host has."""
from __future__ import annotations

import pytest

from repro.harness import hardware


@pytest.mark.parametrize("world, env, layout", [
    (1, {}, (1, 1)),
    (8, {"LOCAL_WORLD_SIZE": "8"}, (8, 1)),
    (16, {"LOCAL_WORLD_SIZE": "8"}, (8, 2)),
    (4, {}, (4, 1)),                       # no torchrun variables: all on this node
    (4, {"LOCAL_WORLD_SIZE": "junk"}, (4, 1)),
])
def test_node_layout_from_torchrun_environment(world, env, layout):
    assert hardware.node_layout(world, env) == layout


@pytest.fixture
def eight_gpu_host(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Tesla V100-SXM2-16GB")


def test_one_process_on_an_eight_gpu_host_records_one_gpu(eight_gpu_host, monkeypatch):
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    hw = hardware.detect("cuda", 1)
    assert (hw["gpu_count"], hw["gpus_per_node"], hw["nodes"], hw["gpus_visible"]) == (1, 1, 1, 8)
    assert hw["gpu_model"] == "V100" and hardware.label(hw) == "1 × V100"


def test_two_nodes_of_eight_ranks(eight_gpu_host, monkeypatch):
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
    hw = hardware.detect("cuda", 16)
    assert (hw["gpu_count"], hw["gpus_per_node"], hw["nodes"]) == (16, 8, 2)
    assert hardware.label(hw) == "2 × 8 × V100" and hardware.label(hw, sep="x") == "2x8xV100"


def test_cpu_run_records_no_gpu_even_on_a_gpu_host(eight_gpu_host):
    hw = hardware.detect("cpu", 1)
    assert hw["gpu_count"] == 0 and hw["gpus_visible"] == 0 and hw["nodes"] == 1 and hw["vcpus"] >= 1


def test_label_never_raises_on_odd_records():
    assert hardware.label(None) == "CPU"
    assert hardware.label({"accelerator": "cuda", "gpu_count": "8", "nodes": -1}) == "1 × GPU"
    assert hardware.label({"accelerator": "cpu", "vcpus": 4, "nodes": 2}) == "2 × CPU, 4 vCPUs"
