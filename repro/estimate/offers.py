"""Offers that can hold a run, priced on a projection through repro.pricing (the same matching and
billing rules as cost.json), then ranked: cheapest billed cost first, the cheapest and the fastest
marked.

Benchmark cost is the projected time to target × the hourly rate (DAWNBench's convention); billed
cost is the projected whole run (every epoch of the schedule, as `repro` runs it unless
--stop-at-target) under the provider's billing rule. Instance start-up, image pulls and data copies
are not in either.
"""
from __future__ import annotations

import re
from decimal import Decimal

from repro.estimate.measured import Hardware
from repro.estimate.projection import Projection
from repro.harness.gpu_names import normalize_gpu_name
from repro.pricing.catalog import MARKETS, Snapshot
from repro.pricing.reprice import price_seconds
from repro.pricing.rules import usd_for_seconds

GPU_ARG = re.compile(r"^\s*([^:]+?)\s*(?::\s*(\d+))?\s*$")


class OfferError(ValueError):
    """A --gpu the snapshot cannot answer; the message lists what it has."""


def snapshot_gpus(snapshot: Snapshot) -> dict[str, set[int]]:
    """GPU model (as the snapshot spells it) → the GPU counts its instances hold."""
    out: dict[str, set[int]] = {}
    for o in snapshot.offers:
        if o.gpu_model and o.gpu_count > 0:
            out.setdefault(o.gpu_model, set()).add(o.gpu_count)
    return out


def parse_gpu(text: str, snapshot: Snapshot) -> list[Hardware]:
    """`H100:8` → [8 × H100]; `H100` → one per count the snapshot offers. An unknown model or a
    count below 1 raises OfferError listing the models the snapshot has."""
    match = GPU_ARG.match(text or "")
    if not match or (match.group(2) is not None and int(match.group(2)) < 1):
        raise OfferError(f"--gpu {text!r} must look like MODEL or MODEL:COUNT with COUNT ≥ 1, e.g. --gpu H100:8")
    have = snapshot_gpus(snapshot)
    wanted = (normalize_gpu_name(match.group(1)) or "").upper()
    model = next((m for m in have if m.upper() == wanted), None)
    if model is None:
        listed = ", ".join(f"{m} ({'/'.join(str(c) for c in sorted(have[m]))})" for m in sorted(have))
        raise OfferError(f"unknown GPU {match.group(1)!r}: snapshot {snapshot.id} has no {wanted} offer; "
                         f"GPU models it has (counts per instance): {listed or 'none'}")
    counts = [int(match.group(2))] if match.group(2) else sorted(have[model])
    return [Hardware(model, c) for c in counts]


def markets_for(market: str) -> tuple[str, ...]:
    if market == "all":
        return MARKETS
    if market not in MARKETS:
        raise OfferError(f"--market must be one of {', '.join(MARKETS)} or all, got {market!r}")
    return (market,)


def _usd(rate: str, seconds: float) -> str:
    return str(usd_for_seconds(Decimal(rate), max(0.0, seconds)))


def price(projection: Projection, snapshot: Snapshot, markets: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
    """(priced rows, provider × market pairs with no offer) of one projection."""
    cost = price_seconds(projection.hardware.for_pricing(), projection.time_to_target_s, snapshot,
                         session_s=projection.run_s, every_offer=True)
    rows = []
    for row in cost["rows"]:
        if row["market"] not in markets:
            continue
        rows.append({
            **{k: row.get(k) for k in ("provider", "market", "instance_type", "region", "zone", "gpu_model",
                                       "gpu_count", "vcpus", "usd_per_hour", "source", "fetched_at",
                                       "benchmark_usd", "billed_seconds", "billed_usd", "billing_rule",
                                       "billing_source")},
            "hardware": projection.hardware.label(),
            "time_to_target_s": projection.time_to_target_s, "low_s": projection.low_s,
            "high_s": projection.high_s, "run_s": projection.run_s,
            "benchmark_usd_low": _usd(row["usd_per_hour"], projection.low_s),
            "benchmark_usd_high": _usd(row["usd_per_hour"], projection.high_s),
            "basis": projection.basis, "scaled": projection.scaled, "basis_detail": projection.detail,
            "basis_sources": list(projection.sources), "notes": list(row.get("notes") or []),
        })
    unmatched = [{**u, "hardware": projection.hardware.label()} for u in cost["unmatched"] if u["market"] in markets]
    return rows, unmatched


def _cost_key(row: dict) -> Decimal:
    amount = row.get("billed_usd") or row.get("benchmark_usd")
    return Decimal(amount) if amount is not None else Decimal("Infinity")


def rank(rows: list[dict]) -> list[dict]:
    """Cheapest billed cost first (benchmark cost where no billing rule is known), then time; the
    cheapest and the fastest marked."""
    ranked = sorted(rows, key=lambda r: (_cost_key(r), r["time_to_target_s"], r["provider"], r["instance_type"]))
    fastest = min(ranked, key=lambda r: (r["time_to_target_s"], _cost_key(r)), default=None)
    for position, row in enumerate(ranked, start=1):
        row["rank"] = position
        row["cheapest"] = position == 1
        row["fastest"] = row is fastest
    return ranked
