"""DAWNBench `hardware` prose read as run.json hardware, or left unpriced with the reason: the
strings are those of the entries repository (CIFAR10 and ImageNet training), and the labels
`repro export dawnbench` writes."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from repro.harness.hardware import label
from repro.pricing.catalog import load_snapshot
from repro.pricing.dawnbench_hardware import cpu_hardware, gpu_hardware, parse_spec, read_hardware

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
    ("32 * V100 (4 machines - AWS p3.16xlarge)", (V100, 8, 4), "4 × 8 × V100 on p3.16xlarge"),
    ("IBM AC922 + Nvidia Tesla V100 (Nimbix np9g1)", (V100, 1, 1), "1 × V100"),     # AC922 is the server
    ("2 x p3.16xlarge", (V100, 8, 2), "2 × 8 × V100 on p3.16xlarge"),
    ("A100-80GB x 8", ("A100-80GB", 8, 1), "8 × A100-80GB"),
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
    ("8 * V100 (2 x p3.16xlarge)", "disagree"),                  # 4 per machine, yet p3.16xlarge holds 8
    ("16 * 8 * V100 (8 machines)", "names 8 and 16 machines"),
    ("", "no hardware given"),
    (None, "no hardware given"),
])
def test_what_is_not_stated_plainly_is_not_priced(snapshot, text, why):
    hardware, how = read_hardware(text, snapshot)
    assert hardware is None and why in how


# the catalog names a run.json records (repro.harness.gpu_names), as `repro export dawnbench` labels them
EXPORTED_MODELS = ["V100", "V100-32GB", "A100", "A100-80GB", "H100", "H200", "GH200", "A10G", "L4", "L40S",
                   "T4", "K80", "M60", "P100", "P4000", "RTX4000"]


@settings(max_examples=200, deadline=None)
@given(model=st.sampled_from(EXPORTED_MODELS), per_node=st.integers(1, 16), nodes=st.integers(1, 64),
       with_snapshot=st.booleans())
def test_the_label_an_export_writes_reads_back_as_the_same_hardware(snapshot, model, per_node, nodes, with_snapshot):
    hardware = gpu_hardware(model, per_node, nodes)
    assert read_hardware(label(hardware), snapshot if with_snapshot else None) == (hardware, label(hardware))


@settings(max_examples=50, deadline=None)
@given(vcpus=st.integers(1, 192), nodes=st.integers(1, 16))
def test_a_cpu_label_reads_back_as_the_same_vcpus_and_nodes(snapshot, vcpus, nodes):
    hardware = cpu_hardware(vcpus, nodes)
    assert read_hardware(label(hardware), snapshot) == (hardware, label(hardware))


def test_a_spec_says_what_the_text_does_not():
    assert parse_spec("V100:8", nodes=2) == gpu_hardware("V100", 8, 2)
    assert parse_spec("Tesla V100-SXM2-32GB:4") == gpu_hardware("V100-32GB", 4)
    assert parse_spec("cpu:8") == cpu_hardware(8)
    for bad in ("V100:0", "V100:eight", ":8", "V100:8:2"):
        with pytest.raises(ValueError, match="write MODEL:COUNT"):
            parse_spec(bad)
    with pytest.raises(ValueError, match="write MODEL:COUNT"):
        parse_spec("V100:8", nodes=0)
