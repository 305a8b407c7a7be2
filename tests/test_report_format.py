from decimal import Decimal

import pytest

from repro.report.format import day, duration, hardware_label, percent, safe_url, usd


@pytest.mark.parametrize("seconds, text", [
    (None, "—"), (0.5, "0.50 s"), (4.21, "4.21 s"), (75.0, "1 min 15 s"),
    (174, "2 min 54 s"), (10647.6, "2 h 57 min 28 s"), (3600, "1 h 0 min 0 s"), (12.34, "12.3 s"),
])
def test_duration_reads_like_dawnbench(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("amount, text", [
    ("72.40", "$72.40"), ("1234.5", "$1,234.50"), ("0.00004", "$0.000040"),
    ("0.0340", "$0.034"), (Decimal("0.26"), "$0.26"), ("0", "$0"), (None, "—"),
])
def test_usd_keeps_small_amounts_visible(amount, text):
    assert usd(amount) == text


def test_usd_rejects_a_float_looking_garbage_string():
    with pytest.raises(ValueError, match="not a decimal amount"):
        usd("12 dollars")


def test_hardware_label_gpu_and_cpu():
    assert hardware_label({"accelerator": "cuda", "gpu_model": "V100", "gpu_count": 8}) == "8 × V100"
    assert hardware_label({"accelerator": "cuda", "gpu_model": None, "gpu_name": "NVIDIA A100",
                           "gpu_count": 1}) == "1 × NVIDIA A100"
    assert hardware_label({"accelerator": "cpu", "gpu_count": 0, "vcpus": 2}) == "2 vCPU CPU"
    assert hardware_label(None) == "CPU"


def test_percent_and_day():
    assert percent(0.9421, 2) == "94.21 %"
    assert percent(None) == "—"
    assert day("2026-11-25T16:45:00.000000Z") == "2026-11-25"


@pytest.mark.parametrize("url, ok", [
    ("https://dawn.cs.stanford.edu/benchmark/", True), ("http://example.org/x", True),
    ("javascript:alert(1)", False), ("  JAVASCRIPT:alert(1)", False), ("data:text/html,x", False),
    ("//evil.example/x", False), ("", False), (None, False),
])
def test_safe_url_only_links_http(url, ok):
    assert (safe_url(url) is not None) == ok
