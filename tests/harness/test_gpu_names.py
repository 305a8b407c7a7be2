import pytest

from repro.harness.gpu_names import known_gpu_model, normalize_gpu_name


@pytest.mark.parametrize("reported, model", [
    ("Tesla V100-SXM2-16GB", "V100"),
    ("Tesla V100-SXM2-32GB", "V100-32GB"),
    ("Tesla V100-PCIE-16GB", "V100"),
    ("NVIDIA H100 80GB HBM3", "H100"),
    ("NVIDIA H100 PCIe", "H100"),
    ("NVIDIA A100-SXM4-40GB", "A100"),
    ("NVIDIA A100-SXM4-80GB", "A100-80GB"),
    ("NVIDIA A100 80GB PCIe", "A100-80GB"),
    ("NVIDIA A10G", "A10G"),
    ("NVIDIA L4", "L4"),
    ("NVIDIA L40S", "L40S"),
    ("Tesla T4", "T4"),
    ("Quadro P5000", "P5000"),
    ("V100", "V100"),
    ("h100", "H100"),
    ("NVIDIA H200", "H200"),
])
def test_normalize(reported, model):
    assert normalize_gpu_name(reported) == model


def test_none_and_unknown():
    assert normalize_gpu_name(None) is None and normalize_gpu_name("  ") is None
    assert normalize_gpu_name("NVIDIA GeForce RTX 4090") == "RTX 4090"


def test_only_known_families_are_taken_for_a_gpu():
    """Prose names servers and words beside GPUs ("IBM AC922 + 4 * Nvidia Tesla V100"): only a
    family repro knows is a GPU model."""
    assert known_gpu_model("V100") == "V100" and known_gpu_model("Tesla V100-32GB") == "V100-32GB"
    assert known_gpu_model("RTX 4000") == "RTX4000" and known_gpu_model("a100-80gb") == "A100-80GB"
    for word in ("AC922", "GTX", "C12G1", "n1", "", None):
        assert known_gpu_model(word) is None
