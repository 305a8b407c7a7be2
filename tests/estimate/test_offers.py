"""--gpu parsing against the snapshot, pricing of a projection, ranking."""
from decimal import Decimal

import pytest

from repro.estimate.measured import Hardware
from repro.estimate.offers import OfferError, markets_for, parse_gpu, price, rank, snapshot_gpus
from repro.estimate.projection import Projection
from repro.pricing.catalog import load_snapshot

SNAPSHOT = load_snapshot()


def test_gpu_model_and_count_parse_and_a_bare_model_means_every_count_offered():
    assert parse_gpu("H100:8", SNAPSHOT) == [Hardware("H100", 8)]
    assert parse_gpu(" h100 : 1 ", SNAPSHOT) == [Hardware("H100", 1)]
    assert parse_gpu("Tesla V100-SXM2-16GB:8", SNAPSHOT) == [Hardware("V100", 8)]
    assert parse_gpu("V100", SNAPSHOT) == [Hardware("V100", c) for c in sorted(snapshot_gpus(SNAPSHOT)["V100"])]


@pytest.mark.parametrize("text", ["X100:1", "", "H100:0", "H100:-1", "H100:two"])
def test_a_bad_gpu_lists_what_the_snapshot_has(text):
    with pytest.raises(OfferError) as info:
        parse_gpu(text, SNAPSHOT)
    message = str(info.value)
    assert "MODEL:COUNT" in message or ("GPU models it has" in message and "H100 (" in message
                                        and all(f"{m} (" in message for m in snapshot_gpus(SNAPSHOT)))


def test_markets():
    assert markets_for("all") == ("on-demand", "spot") and markets_for("spot") == ("spot",)
    with pytest.raises(OfferError):
        markets_for("reserved")


def _projection(hw, t=100.0, run_s=250.0):
    return Projection(hw, t, t / 2, t * 2, run_s, "table", False, "test")


def test_priced_rows_carry_time_costs_range_and_basis():
    rows, unmatched = price(_projection(Hardware("V100", 8)), SNAPSHOT, ("on-demand", "spot"))
    by = {(r["provider"], r["market"]): r for r in rows}
    aws = by[("aws", "on-demand")]
    assert aws["instance_type"] == "p3.16xlarge" and aws["benchmark_usd"] == str(
        (Decimal(aws["usd_per_hour"]) * 100 / 3600).quantize(Decimal("0.000001")))
    assert Decimal(aws["benchmark_usd_low"]) < Decimal(aws["benchmark_usd"]) < Decimal(aws["benchmark_usd_high"])
    assert aws["billed_seconds"] == 250 and aws["basis"] == "table" and aws["hardware"] == "8 × V100"
    sold = {(o.provider, o.market) for o in SNAPSHOT.find(gpu_model="V100", gpu_count=8)}
    asked = {(p, m) for p in {o.provider for o in SNAPSHOT.offers} for m in ("on-demand", "spot")}
    assert {(r["provider"], r["market"]) for r in rows} == sold
    assert {(u["provider"], u["market"]) for u in unmatched} == asked - sold        # each one said, none guessed
    spot_only, _ = price(_projection(Hardware("V100", 8)), SNAPSHOT, ("spot",))
    assert {r["market"] for r in spot_only} == {"spot"}


def test_rank_puts_the_cheapest_billed_first_and_marks_the_fastest():
    slow_cheap = price(_projection(Hardware("V100", 1), t=1000, run_s=1000), SNAPSHOT, ("spot",))[0]
    fast_dear = price(_projection(Hardware("H100", 8), t=10, run_s=10), SNAPSHOT, ("on-demand",))[0]
    ranked = rank(slow_cheap + fast_dear)
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    billed = [Decimal(r["billed_usd"]) for r in ranked]
    assert billed == sorted(billed) and ranked[0]["cheapest"] and sum(r["cheapest"] for r in ranked) == 1
    (fastest,) = [r for r in ranked if r["fastest"]]
    assert fastest["time_to_target_s"] == 10
