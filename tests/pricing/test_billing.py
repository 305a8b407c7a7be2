"""Billing rules, the seed's published costs, matching, and cost.json in a run directory."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from repro.pricing.billing import StalePriceWarning, format_cost_lines, price_run
from repro.pricing.catalog import SHIPPED_SNAPSHOT_ID, Offer, Snapshot, load_snapshot
from repro.pricing.reprice import price_seconds
from repro.harness.store import UnreadableRecord
from repro.pricing.money import format_usd
from repro.pricing.rules import RULES, BillingRule, usd_for_seconds
from tests.helpers_records import golden_record

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("provider, session_s, billed", [
    ("aws", 0.0, 60), ("aws", 4.21, 60), ("aws", 59.999, 60), ("aws", 60.0, 60), ("aws", 60.2, 61),
    ("aws", 3599.5, 3600), ("aws", 10647.0, 10647),
    ("paperspace", 0.4, 1), ("paperspace", 9.4, 10), ("paperspace", 3600.0, 3600),
    ("gcp", 30.0, 60), ("gcp", 61.5, 62),
])
def test_billed_seconds_table(provider, session_s, billed):
    assert RULES[provider].billed_seconds(session_s) == billed


@pytest.mark.parametrize("increment, minimum, session_s, billed", [
    (60, 60, 1, 60), (60, 60, 61, 120), (60, 60, 120, 120),  # per-minute
    (3600, 3600, 1, 3600), (3600, 3600, 3601, 7200), (3600, 0, 7200, 7200),  # per-hour
])
def test_increment_and_minimum(increment, minimum, session_s, billed):
    assert BillingRule("x", increment, minimum, "d", "https://e").billed_seconds(session_s) == billed


def test_rules_cite_sources():
    for rule in RULES.values():
        assert rule.source.startswith("https://") and rule.description


def test_bad_durations_rejected():
    with pytest.raises(ValueError):
        RULES["aws"].billed_seconds(-1)
    with pytest.raises(ValueError):
        usd_for_seconds(Decimal("1"), float("nan"))


def test_seed_published_costs():
    rate = Decimal("24.48")  # p3.16xlarge on-demand, us-east-1
    imagenet_s = 2 * 3600 + 57 * 60 + 27
    assert usd_for_seconds(rate, imagenet_s).quantize(Decimal("0.01")) == Decimal("72.40")
    assert format_usd(usd_for_seconds(rate, imagenet_s)) == "$72.40"
    assert format_usd(usd_for_seconds(rate, 174)) == "$1.18"


def test_small_costs_never_print_zero():
    tiny = usd_for_seconds(Decimal("0.0326"), 4.21)
    assert tiny > 0 and format_usd(tiny) == "$0.000038"


def write_run(tmp_path, hardware, ttt=4.21, session=9.4, reached=True):
    """A run.json as the harness writes it (pricing reads records checked against their schema),
    with this hardware and outcome."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    record = golden_record()
    record.update(run_id="r1", hardware={"cpu_model": "test CPU", **hardware},
                  outcome={"reached": reached, "time_to_target_s": ttt if reached else None, "session_s": session,
                           "epochs": []})
    (run_dir / "run.json").write_text(json.dumps(record))
    return run_dir


CPU2 = {"accelerator": "cpu", "gpu_model": None, "gpu_name": None, "gpu_count": 0, "vcpus": 2}
V100x8 = {"accelerator": "cuda", "gpu_model": "V100", "gpu_name": "Tesla V100-SXM2-16GB", "gpu_count": 8, "vcpus": 64}


def rows_by(cost):
    return {(r["provider"], r["market"]): r for r in cost["rows"]}


def test_cpu_run_priced_on_matching_vcpus(tmp_path):
    run_dir = write_run(tmp_path, CPU2)
    cost = price_run(run_dir, load_snapshot(), now=NOW)
    on_disk = json.loads((run_dir / "cost.json").read_text())
    assert on_disk == cost
    rows = rows_by(cost)
    od = rows[("aws", "on-demand")]
    assert od["instance_type"] == "c5.large" and od["vcpus"] == 2 and od["usd_per_hour"] == "0.085"
    assert od["billed_seconds"] == 60 and od["billed_usd"] == "0.001417"
    assert od["benchmark_usd"] == "0.000099"
    assert rows[("aws", "spot")]["benchmark_usd"] == "0.000038"
    assert cost["snapshot_id"] == SHIPPED_SNAPSHOT_ID and cost["stale"] is False
    # Paperspace sells no 2-vCPU machine: the smallest that holds the run (C5, 4 vCPUs), said so
    ps = rows[("paperspace", "on-demand")]
    assert ps["instance_type"] == "C5" and ps["vcpus"] == 4 and ps["usd_per_hour"] == "0.08"
    assert any("smallest that holds the run (4 vCPUs)" in n for n in ps["notes"])
    assert not any("smallest" in n for n in od["notes"])
    unmatched = {(u["provider"], u["market"]): u["reason"] for u in cost["unmatched"]}
    assert ("paperspace", "on-demand") not in unmatched
    assert ("paperspace", "spot") in unmatched
    for row in cost["rows"]:  # money is strings of Decimals, never floats, never zero
        assert isinstance(row["billed_usd"], str) and Decimal(row["billed_usd"]) > 0


def test_cpu_run_larger_than_every_offer_is_unmatched_not_guessed(tmp_path):
    run_dir = write_run(tmp_path, {**CPU2, "vcpus": 4096})
    cost = price_run(run_dir, load_snapshot(), now=NOW)
    assert cost["rows"] == []
    reasons = [u["reason"] for u in cost["unmatched"]]
    assert any("4096 or more vCPUs" in r for r in reasons)


def test_eight_v100_reproduces_seed_and_spot_is_cheaper(tmp_path):
    run_dir = write_run(tmp_path, V100x8, ttt=174.0, session=400.0)
    rows = rows_by(price_run(run_dir, load_snapshot(), now=NOW))
    od, spot = rows[("aws", "on-demand")], rows[("aws", "spot")]
    assert od["instance_type"] == "p3.16xlarge"
    assert format_usd(Decimal(od["benchmark_usd"])) == "$1.18"
    assert Decimal(spot["benchmark_usd"]) < Decimal(od["benchmark_usd"]) / 3
    assert od["billed_seconds"] == 400


def test_no_match_is_said_never_guessed(tmp_path):
    hw = dict(V100x8, gpu_count=3, gpu_name="Tesla V100-SXM2-16GB")
    cost = price_run(write_run(tmp_path, hw), load_snapshot(), now=NOW)
    assert cost["rows"] == []
    reasons = " ".join(u["reason"] for u in cost["unmatched"])
    assert "3 x V100" in reasons and "offered as 1 x, 4 x, 8 x" in reasons
    assert all("no matching offer" in line for line in format_cost_lines(cost))


def test_unknown_gpu_is_unmatched(tmp_path):
    hw = {"accelerator": "cuda", "gpu_name": "Quadro GV100", "gpu_count": 1, "vcpus": 8}
    cost = price_run(write_run(tmp_path, hw), load_snapshot(), now=NOW)
    assert cost["rows"] == [] and "sells no QUADRO GV100" in cost["unmatched"][0]["reason"]


def test_not_reached_has_no_benchmark_cost_but_is_billed(tmp_path):
    cost = price_run(write_run(tmp_path, CPU2, reached=False, session=125.3), load_snapshot(), now=NOW)
    od = rows_by(cost)[("aws", "on-demand")]
    assert od["benchmark_usd"] is None and "target not reached" in od["notes"][0]
    assert od["billed_seconds"] == 126


def test_stale_snapshot_flagged(tmp_path):
    snap = load_snapshot()
    old = Snapshot(snap.id, NOW - timedelta(days=45), snap.offers)
    with pytest.warns(StalePriceWarning, match="45 days old"):
        cost = price_run(write_run(tmp_path, CPU2), old, now=NOW)
    assert cost["stale"] is True and "repro prices update" in cost["warnings"][0]
    assert all("stale" in line for line in format_cost_lines(cost))


def test_cheapest_matching_offer_per_market(tmp_path):
    src = "https://example.org/x"
    offers = [Offer("aws", name, None, 0, 2, None, region, "on-demand", Decimal(p), src, date(2026, 11, 25))
              for name, region, p in [("c5.large", "us-east-1", "0.085"), ("m5.large", "us-east-1", "0.096"),
                                      ("c5.large", "eu-west-1", "0.096")]]
    cost = price_run(write_run(tmp_path, CPU2), Snapshot("t", NOW, offers), now=NOW)
    row = rows_by(cost)[("aws", "on-demand")]
    assert (row["instance_type"], row["region"]) == ("c5.large", "us-east-1")
    assert "no aws spot offers" in {u["market"]: u["reason"] for u in cost["unmatched"] if u["provider"] == "aws"}["spot"]


def test_format_lines_one_per_provider_market(tmp_path):
    cost = price_run(write_run(tmp_path, CPU2), load_snapshot(), now=NOW)
    lines = format_cost_lines(cost)
    assert len(lines) == 2 * len(load_snapshot().providers())   # every provider, both markets
    assert lines[0].startswith("aws") and "billed $0.0014 (60 s billed" in lines[0]


def test_one_gpu_run_on_an_eight_gpu_host_is_priced_as_one_gpu(tmp_path):
    hw = {**V100x8, "gpu_count": 1, "gpus_per_node": 1, "nodes": 1, "gpus_visible": 8}
    rows = rows_by(price_run(write_run(tmp_path, hw, ttt=3600.0, session=3600.0), load_snapshot(), now=NOW))
    od = rows[("aws", "on-demand")]
    assert (od["instance_type"], od["usd_per_hour"], od["nodes"]) == ("p3.2xlarge", "3.06", 1)
    assert od["benchmark_usd"] == "3.060000"


def test_two_nodes_of_eight_gpus_are_two_p3_16xlarge(tmp_path):
    hw = {**V100x8, "gpu_count": 16, "gpus_per_node": 8, "nodes": 2, "world_size": 16}
    cost = price_run(write_run(tmp_path, hw, ttt=3600.0, session=3600.0), load_snapshot(), now=NOW)
    assert cost["hardware_match"] == "2 nodes × 8 x V100" and cost["nodes"] == 2
    od = rows_by(cost)[("aws", "on-demand")]
    assert (od["instance_type"], od["nodes"], od["usd_per_hour"], od["usd_per_hour_total"]) == (
        "p3.16xlarge", 2, "24.48", "48.96")
    assert od["benchmark_usd"] == "48.960000" and od["billed_usd"] == "48.960000"
    assert any("2 × p3.16xlarge, one per node" in n for n in od["notes"])
    assert "2 x p3.16xlarge" in format_cost_lines(cost)[0]
    # the library entry point the leaderboard and estimates use says the same
    again = price_seconds({"gpu_model": "V100", "gpu_count": 16}, 3600.0, load_snapshot(), nodes=2, now=NOW)
    assert rows_by(again)[("aws", "on-demand")]["benchmark_usd"] == "48.960000"


def resumed_run(tmp_path, segments, session_total=None):
    run_dir = write_run(tmp_path, V100x8, ttt=900.0, session=session_total)
    doc = json.loads((run_dir / "run.json").read_text())
    doc["segments"] = segments
    (run_dir / "run.json").write_text(json.dumps(doc))
    return run_dir


def test_each_resumed_segment_is_billed_with_its_own_minimum(tmp_path):
    segments = [{"segment": 1, "status": "interrupted", "ended_at": "2026-11-29T00:01:00.000000Z", "session_s": 30.0, "lost_s": 12.0},
                {"segment": 2, "status": "finished", "ended_at": "2026-11-29T00:20:00.000000Z", "session_s": 1000.0, "lost_s": 0.0}]
    cost = price_run(resumed_run(tmp_path, segments, session_total=1030.0), load_snapshot(), now=NOW)
    aws = rows_by(cost)[("aws", "spot")]
    assert aws["billed_seconds"] == 60 + 1000                   # the 30 s segment pays AWS's 60 s minimum
    lam = rows_by(cost)[("lambda", "on-demand")]
    assert lam["billed_seconds"] == 60 + 1020                   # whole minutes, per segment
    assert aws["benchmark_seconds"] == 900.0                    # lost work is billed, not benchmarked


def test_killed_segment_makes_the_billed_cost_a_lower_bound(tmp_path):
    segments = [{"segment": 1, "status": "running", "ended_at": None, "session_s": None},
                {"segment": 2, "status": "finished", "ended_at": "2026-11-29T00:20:00.000000Z", "session_s": 500.0}]
    cost = price_run(resumed_run(tmp_path, segments, session_total=500.0), load_snapshot(), now=NOW)
    row = rows_by(cost)[("aws", "on-demand")]
    assert row["billed_seconds"] == 500
    assert any("segment(s) 1 ended without a record" in n and "lower bound" in n for n in row["notes"])


def test_old_records_without_segment_sessions_are_billed_once_and_say_so(tmp_path):
    segments = [{"segment": 1, "status": "interrupted", "ended_at": "2026-11-29T00:01:00.000000Z"},
                {"segment": 2, "status": "finished", "ended_at": "2026-11-29T00:20:00.000000Z"}]
    cost = price_run(resumed_run(tmp_path, segments, session_total=400.0), load_snapshot(), now=NOW)
    row = rows_by(cost)[("aws", "on-demand")]
    assert row["billed_seconds"] == 400 and any("billed as one session" in n for n in row["notes"])


def test_nan_and_infinity_in_a_record_are_refused_never_a_price(tmp_path):
    """NaN and Infinity are not JSON numbers a record may hold: pricing refuses the record, names the
    field, and writes no cost.json (the report lists such a run apart as unreadable)."""
    run_dir = write_run(tmp_path, CPU2, ttt=float("nan"), session=float("inf"))
    with pytest.raises(UnreadableRecord, match="outcome.time_to_target_s"):
        price_run(run_dir, load_snapshot(), now=NOW)
    assert not (run_dir / "cost.json").exists()


def test_unverified_billing_rules_are_marked_on_every_cost_they_touch(tmp_path):
    cost = price_run(write_run(tmp_path, {**V100x8, "gpu_count": 1}, ttt=404.08, session=404.08),
                     load_snapshot(), now=NOW)
    for row in cost["rows"]:
        unverified = row["provider"] == "paperspace"
        assert row["billing_verified"] is (not unverified)
        assert any("billing rule unverified" in n for n in row["notes"]) is unverified
        assert row["billing_source"].startswith("https://")
    ps = rows_by(cost)[("paperspace", "on-demand")]
    assert format_usd(ps["benchmark_usd"]) == "$0.26"           # the seed's Paperspace figure, today's rate


def test_rules_have_sources_and_dates():
    for name, rule in RULES.items():
        assert rule.source.startswith("https://") and rule.read_on.isoformat() == "2026-11-29", name
    assert RULES["lambda"].billed_seconds(61) == 120 and RULES["lambda"].billed_seconds(1) == 60
    assert RULES["paperspace"].verified is False and RULES["paperspace"].caveat


def test_every_offer_prices_each_instance_that_holds_the_run_cheapest_stays_first():
    snapshot = load_snapshot()
    one = price_seconds({"gpu_model": "V100", "gpu_count": 8}, 600.0, snapshot, now=NOW)
    every = price_seconds({"gpu_model": "V100", "gpu_count": 8}, 600.0, snapshot, now=NOW, every_offer=True)
    offers = snapshot.find(gpu_model="V100", gpu_count=8)
    assert len(every["rows"]) == len(offers) > len(one["rows"])
    assert len({(r["provider"], r["market"]) for r in one["rows"]}) == len(one["rows"])
    for row in one["rows"]:                        # the one row per provider and market is its cheapest
        same = [r for r in every["rows"] if (r["provider"], r["market"]) == (row["provider"], row["market"])]
        assert row == same[0] and all(Decimal(r["usd_per_hour"]) >= Decimal(row["usd_per_hour"]) for r in same)
    assert every["unmatched"] == one["unmatched"]
