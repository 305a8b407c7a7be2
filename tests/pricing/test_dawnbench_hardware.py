"""DAWNBench `hardware` prose read as run.json hardware, or left unpriced with the reason: the
strings are those of the entries repository (CIFAR10 and ImageNet training), and the labels
`repro export dawnbench` writes."""
from __future__ import annotations

import pytest

from repro.pricing.catalog import load_snapshot
from repro.pricing.dawnbench_hardware import read_hardware

V100 = "V100"


@pytest.fixture(scope="module")
def snapshot():
    return load_snapshot()


@pytest.mark.parametrize("text, expected, read", [
    ("8 * V100 (AWS p3.16xlarge)", (V100, 8, 1), "8 × V100 on p3.16xlarge"),
    ("Paperspace Volta (V100)", (V100, 1, 1), "1 × V100"),
    ("V100 (AWS p3.2xlarge)", (V100, 1, 1), "1 × V100 on p3.2xlarge"),
    ("p3.16xlarge", (V100, 8, 1), "8 × V100 on p3.16xlarge"),
    ("Tesla V100 * 4 GPU / 488 GB / 56 CPU (Kakao Brain BrainCloud)", (V100, 4, 1), "4 × V100"),
    ("Baidu Cloud Tesla 8*V100-16GB/448 GB/96 CPU", (V100, 8, 1), "8 × V100"),
    ("Baidu Cloud Tesla V100*1-16GB/56 GB/12 CPU", (V100, 1, 1), "1 × V100"),
    ("IBM AC922 + 4 * Nvidia Tesla V100 (NCSA HAL)", (V100, 4, 1), "4 × V100"),
    ("1 K80 / 61 GB / 4 CPU (Amazon EC2 [p2.xlarge])", ("K80", 1, 1), "1 × K80"),
    ("4 M60 / 488 GB / 64 CPU (Amazon EC2 [g3.16xlarge])", ("M60", 4, 1), "4 × M60"),
    ("16 p3.16xlarge (AWS)", (V100, 8, 16), "16 × 8 × V100 on p3.16xlarge"),
    ("64 * V100 (8 machines - AWS p3.16xlarge)", (V100, 8, 8), "8 × 8 × V100 on p3.16xlarge"),
    ("16 * 8 * Tesla-V100(ModelArts Service)", (V100, 8, 16), "16 × 8 × V100"),
    ("16 nodes with InfiniBand (8*V100 with NVLink for each node)", (V100, 8, 16), "16 × 8 × V100"),
    ("8 nodes with InfiniBand (8*P100 for each node)", ("P100", 8, 8), "8 × 8 × P100"),
])
def test_gpu_hardware_is_read_as_stated(snapshot, text, expected, read):
    hardware, how = read_hardware(text, snapshot)
    model, per_node, nodes = expected
    assert hardware == {"accelerator": "cuda", "gpu_model": model, "gpu_count": per_node * nodes,
                        "gpus_per_node": per_node, "nodes": nodes}
    assert how == read


def test_cpu_entries_are_read_as_vcpus(snapshot):
    assert read_hardware("60 GB / 16 CPU (Google Cloud [n1-standard-16])", snapshot) == \
        ({"accelerator": "cpu", "gpu_count": 0, "vcpus": 16, "nodes": 1}, "CPU, 16 vCPUs")


@pytest.mark.parametrize("text, why", [
    ("Half of a TPUv2 Pod", "TPUs"),
    ("GCP n1-standard-2, Cloud TPU", "TPUs"),
    ("Lambda GPU Cloud - 4x GTX 1080 Ti", "names no GPU model"),
    ("16 ecs.gn6e-c12g1.24xlarge (AlibabaCloud)", "names no GPU model"),
    ("Azure ND40s_v2", "names no GPU model"),
    ("128 nodes with Xeon Platinum 8124M / 144 GB / 36 Cores (Amazon EC2 [c5.18xlarge])", "names no GPU model"),
    ("7 * V100 (2 machines)", "do not divide"),
    ("4 * V100 (AWS p3.16xlarge)", "disagree"),
    ("", "no hardware given"),
    (None, "no hardware given"),
])
def test_what_is_not_stated_plainly_is_not_priced(snapshot, text, why):
    hardware, how = read_hardware(text, snapshot)
    assert hardware is None and why in how
