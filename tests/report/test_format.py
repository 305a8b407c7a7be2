from decimal import Decimal

import pytest

from repro.harness import hardware
from repro.harness.store import RunRecord
from repro.report.environment import make_environment
from repro.report.format import day, duration, percent, safe_url
from repro.report.run_page import cost_rows
from repro.report.summary import summarize_run


@pytest.mark.parametrize("seconds, text", [
    (None, "—"), (0.5, "0.50 s"), (4.21, "4.21 s"), (75.0, "1 min 15 s"),
    (174, "2 min 54 s"), (10647.6, "2 h 57 min 28 s"), (3600, "1 h 0 min 0 s"), (12.34, "12.3 s"),
])
def test_duration_reads_like_dawnbench(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("amount, text", [
    ("72.40", "$72.40"), ("1234.5", "$1,234.50"), ("0.00004", "$0.000040"),
    ("0.0340", "$0.03"), ("0.0054", "$0.0054"), (Decimal("0.26"), "$0.26"), ("0", "$0"), (None, "—"),
])
def test_pages_write_money_with_the_one_usd_formatter(amount, text):
    """The `usd` filter is repro.pricing.money.format_usd: the terminal's text, not a second one."""
    assert make_environment().from_string("{{ amount | usd }}").render(amount=amount) == text


def test_usd_filter_rejects_a_float_looking_garbage_string():
    with pytest.raises(ValueError, match="not a decimal amount"):
        make_environment().from_string("{{ amount | usd }}").render(amount="12 dollars")


def test_cost_rows_show_the_hourly_rate_exactly_and_amounts_rounded():
    row = {"provider": "aws", "market": "spot", "instance_type": "c5.large", "region": "us-east-1",
           "usd_per_hour": "4.0970", "benchmark_usd": "0.004666", "benchmark_seconds": 4.1,
           "billed_usd": "0.068283", "billed_seconds": 60.0, "billing_rule": "per-second",
           "source": None, "fetched_at": None}
    cells = str(cost_rows([row], []))
    assert "<td>$4.097</td>" in cells and "$0.0047 (4.10 s)" in cells and "$0.07 (1 min 0 s)" in cells


@pytest.mark.parametrize("recorded", [
    {"accelerator": "cuda", "gpu_model": "V100", "gpu_count": 8},
    {"accelerator": "cuda", "gpu_model": None, "gpu_name": "NVIDIA A100", "gpu_count": 1},
    {"accelerator": "cpu", "gpu_count": 0, "vcpus": 2},
    None,
])
def test_run_summary_labels_hardware_with_the_one_label(tmp_path, recorded):
    record = RunRecord(tmp_path / "digits" / "run0", {"run_id": "run0", "hardware": recorded})
    assert summarize_run(record, [], has_cost=False)["hardware"] == hardware.label(recorded)


def test_cpu_runs_read_as_cpu_with_their_vcpus():
    assert hardware.label({"accelerator": "cpu", "gpu_count": 0, "vcpus": 2}) == "CPU, 2 vCPUs"
    assert hardware.label({"accelerator": "cuda", "gpu_model": "V100", "gpu_count": 8}) == "8 × V100"


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
