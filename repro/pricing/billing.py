"""The cost of a run: match what it ran on to offers, apply billing rules, write cost.json.

Two figures per provider × market:
- benchmark cost, DAWNBench convention: time-to-target × the hourly rate of the instances that hold
  the run's hardware (seconds exactly as measured, no rounding, no minimum);
- billed cost: every session the run had (one per process that worked on it: a resumed run has
  several) under the provider's billing rule, each with its own minimum. A session covers the whole
  process, so work lost after the last checkpoint is in the billed cost.

What a run ran on is what it used: GPUs per node and nodes (run.json `gpus_per_node`, `nodes`),
never the GPUs the host had. The offer is the cheapest instance that holds one node's GPUs
exactly (CPU runs: its vCPUs, or the smallest CPU instance that holds them), times the nodes.
When a provider sells nothing that matches, the provider × market goes into `unmatched` with the
reason; nothing is ever guessed and no cost is ever a silent 0.
"""
from __future__ import annotations

import math
import warnings
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from repro.harness.gpu_names import normalize_gpu_name
from repro.harness.store import COST_FILE, RUN_FILE, SCHEMA_VERSION, atomic_write_json, read_json
from repro.pricing.catalog import DEFAULT_MAX_AGE_DAYS, MARKETS, Offer, Snapshot, load_snapshot
from repro.pricing.money import format_usd
from repro.pricing.rules import rule_for, usd_for_seconds

# Providers every cost.json speaks about, even when a snapshot has none of their offers
ALWAYS_LISTED = ("aws", "paperspace")


class StalePriceWarning(UserWarning):
    """Prices come from a snapshot older than the allowed age."""


def _iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _positive_int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def run_hardware(hardware: dict[str, Any]) -> dict[str, Any]:
    """What to match on: {"gpu_model", "gpu_count" (per node), "vcpus", "nodes"}; CPU runs have
    gpu_model None and gpu_count 0."""
    nodes = _positive_int(hardware.get("nodes")) or 1
    total = _positive_int(hardware.get("gpu_count"))
    accelerator = (hardware.get("accelerator") or ("cuda" if total else "cpu")).lower()
    if accelerator == "cpu" or total == 0:
        vcpus = _positive_int(hardware.get("vcpus"))
        if not vcpus:
            raise ValueError("run.json hardware has neither GPUs nor a vCPU count; "
                             "cannot match it to an instance")
        return {"gpu_model": None, "gpu_count": 0, "vcpus": vcpus, "nodes": nodes}
    model = normalize_gpu_name(hardware.get("gpu_name")) or normalize_gpu_name(hardware.get("gpu_model"))
    if not model:
        raise ValueError("run.json hardware reports GPUs but no gpu_name or gpu_model; "
                         "cannot match it to an instance")
    per_node = _positive_int(hardware.get("gpus_per_node")) or -(-total // nodes)
    return {"gpu_model": model, "gpu_count": per_node, "vcpus": hardware.get("vcpus"), "nodes": nodes}


def describe_hardware(match: dict[str, Any]) -> str:
    nodes = match.get("nodes", 1)
    on = f"{nodes} nodes × " if nodes > 1 else ""
    if match["gpu_count"] == 0:
        return (f"{on}{match['vcpus']} vCPUs, no GPU (CPU run priced on a {match['vcpus']}-vCPU instance, or on "
                f"the provider's smallest CPU instance with more vCPUs where none has exactly {match['vcpus']})")
    return f"{on}{match['gpu_count']} x {match['gpu_model']}"


def find_offer(snapshot: Snapshot, match: dict[str, Any], provider: str, market: str) -> Offer | None:
    """The cheapest of `matching_offers`, or None."""
    hits = matching_offers(snapshot, match, provider, market)
    return hits[0] if hits else None


def matching_offers(snapshot: Snapshot, match: dict[str, Any], provider: str, market: str) -> list[Offer]:
    """The provider's offers on this market that hold one node of the run, cheapest first. GPU runs:
    exact GPU model and per-node count. CPU runs: exactly the run's vCPUs; where the provider sells
    no such size, the smallest CPU instance that holds the run (fewer vCPUs never holds it), since
    that is the machine one would have to rent there."""
    if match["gpu_count"] == 0:
        hits = snapshot.find(provider=provider, market=market, gpu_count=0, vcpus=match["vcpus"])
        if not hits:
            bigger = [o for o in snapshot.find(provider=provider, market=market, gpu_count=0)
                      if o.vcpus and o.vcpus > match["vcpus"]]
            smallest = min((o.vcpus for o in bigger), default=None)
            hits = [o for o in bigger if o.vcpus == smallest]
    else:
        hits = snapshot.find(provider=provider, market=market, gpu_model=match["gpu_model"],
                             gpu_count=match["gpu_count"])
    return hits


# Why a whole market is absent, where that is a fact about the provider rather than the snapshot
ABSENT_MARKETS = {
    ("paperspace", "spot"): "Paperspace publishes no spot prices (SpotPrice is blank throughout "
                            "SkyPilot's Paperspace catalog)",
    ("lambda", "spot"): "Lambda sells no spot market (SpotPrice is blank throughout SkyPilot's Lambda catalog)",
}


def unmatched_reason(snapshot: Snapshot, match: dict[str, Any], provider: str, market: str) -> str:
    offered = snapshot.find(provider=provider, market=market)
    if not offered:
        known = ABSENT_MARKETS.get((provider, market))
        return (f"{known}; snapshot {snapshot.id} has no {provider} {market} offers" if known
                else f"snapshot {snapshot.id} has no {provider} {market} offers at all")
    if match["gpu_count"] == 0:
        sizes = sorted({o.vcpus for o in offered if o.gpu_count == 0})
        have = ", ".join(map(str, sizes)) or "none"
        return (f"no {provider} {market} CPU instance with {match['vcpus']} or more vCPUs in snapshot "
                f"{snapshot.id} (CPU sizes offered: {have} vCPUs)")
    same_model = sorted({o.gpu_count for o in offered if (o.gpu_model or "").upper() == match["gpu_model"].upper()})
    if same_model:
        counts = ", ".join(f"{c} x" for c in same_model)
        return (f"no {provider} {market} instance with {match['gpu_count']} x {match['gpu_model']} in "
                f"snapshot {snapshot.id} ({match['gpu_model']} offered as {counts})")
    return f"{provider} sells no {match['gpu_model']} {market} instance in snapshot {snapshot.id}"


def _seconds(value: Any) -> float | None:
    """A finite, non-negative number of seconds, else None (NaN and Infinity in a record are not times)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    return float(value) if ok else None


def _session_of(segment: dict) -> float | None:
    return _seconds(segment.get("session_s"))


def billed_sessions(run: dict[str, Any]) -> tuple[list[float], list[str]]:
    """(session seconds of each segment, notes). A segment that ended without closing its record
    (killed -9, machine lost) has no session length: the billed cost is then a lower bound, and
    the notes say so. Records written before segments kept their own session length are billed
    as one session of `outcome.session_s`."""
    segments = [s for s in run.get("segments") or [] if isinstance(s, dict)]
    known = [x for x in (_session_of(s) for s in segments) if x is not None]
    unclosed = [str(s.get("segment", "?")) for s in segments if _session_of(s) is None and s.get("ended_at") is None]
    lower_bound = (f"segment(s) {', '.join(unclosed)} ended without a record (killed, or still running): "
                   "their session time is missing, so the billed cost is a lower bound")
    if segments and len(known) == len(segments):
        return known, []
    if known and len(known) + len(unclosed) == len(segments):
        return known, [lower_bound]
    total = _seconds((run.get("outcome") or {}).get("session_s"))
    if total is None:
        return [], ["run.json has no usable outcome.session_s: no billed cost"]
    notes = []
    if len(segments) > 1:
        notes.append(f"{len(segments)} segments but no per-segment session lengths recorded: billed as one "
                     "session, so the minimum is counted once")
    if unclosed and len(segments) > 1:
        notes.append(lower_bound)
    return [total], notes


def cost_row(offer: Offer, time_to_target_s: float | None, sessions: tuple[list[float], list[str]],
             nodes: int = 1) -> dict[str, Any]:
    rule = rule_for(offer.provider)
    rate_total = offer.usd_per_hour * nodes
    row: dict[str, Any] = {
        "provider": offer.provider, "market": offer.market, "instance_type": offer.instance_type,
        "region": offer.region, "zone": offer.zone, "gpu_model": offer.gpu_model,
        "gpu_count": offer.gpu_count, "vcpus": offer.vcpus, "nodes": nodes,
        "usd_per_hour": str(offer.usd_per_hour), "usd_per_hour_total": str(rate_total),
        "source": offer.source, "fetched_at": offer.fetched_at.isoformat(),
        "benchmark_seconds": time_to_target_s, "benchmark_usd": None,
        "billed_seconds": None, "billed_usd": None,
        "billing_rule": rule.description if rule else None,
        "billing_source": rule.source if rule else None,
        "billing_verified": bool(rule and rule.verified),
        "notes": [],
    }
    if time_to_target_s is None:
        row["notes"].append("target not reached: no benchmark cost")
    else:
        row["benchmark_usd"] = str(usd_for_seconds(rate_total, time_to_target_s))
    seconds, session_notes = sessions
    if rule is None:
        row["notes"].append(f"no billing rule known for {offer.provider}: no billed cost")
    elif seconds:
        billed = rule.billed_seconds_for_segments(seconds)
        row["billed_seconds"] = billed
        row["billed_usd"] = str(usd_for_seconds(rate_total, billed))
    row["notes"].extend(session_notes)
    if rule is not None and rule.caveat:
        row["notes"].append(rule.caveat)
    if nodes > 1:
        row["notes"].append(f"{nodes} × {offer.instance_type}, one per node")
    return row


def _cost_header(run: dict[str, Any], snapshot: Snapshot, match: dict[str, Any], max_age_days: float,
                 now: datetime) -> dict[str, Any]:
    stale = snapshot.stale(max_age_days, now)
    cost: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "run_id": run.get("run_id"),
        "snapshot_id": snapshot.id, "snapshot_fetched_at": _iso(snapshot.fetched_at),
        "priced_at": _iso(now), "stale": stale, "max_age_days": max_age_days,
        "hardware_match": describe_hardware(match), "nodes": match["nodes"],
        "rows": [], "unmatched": [], "warnings": [],
    }
    if stale:
        message = (f"price snapshot {snapshot.id} is {snapshot.age_days(now):.0f} days old "
                   f"(limit {max_age_days:g}); run `repro prices update` for current prices")
        cost["warnings"].append(message)
        warnings.warn(message, StalePriceWarning, stacklevel=4)
    return cost


def cost_for_run(run: dict[str, Any], snapshot: Snapshot, *, max_age_days: float = DEFAULT_MAX_AGE_DAYS,
                 now: datetime | None = None, every_offer: bool = False) -> dict[str, Any]:
    """The cost.json document for a run record (the parsed run.json): one row per provider and
    market, its cheapest offer that holds the run; with `every_offer`, a row for each such offer."""
    now = now or datetime.now(timezone.utc)
    match = run_hardware(run.get("hardware") or {})
    outcome = run.get("outcome") or {}
    reached = outcome.get("reached", outcome.get("time_to_target_s") is not None)
    time_to_target_s = _seconds(outcome.get("time_to_target_s")) if reached else None
    sessions = billed_sessions(run)
    cost = _cost_header(run, snapshot, match, max_age_days, now)
    for provider in sorted(set(snapshot.providers()) | set(ALWAYS_LISTED)):
        for market in MARKETS:
            offers = matching_offers(snapshot, match, provider, market)
            if not offers:
                cost["unmatched"].append({"provider": provider, "market": market,
                                          "reason": unmatched_reason(snapshot, match, provider, market)})
                continue
            for offer in offers if every_offer else offers[:1]:
                cost["rows"].append(_offer_row(offer, match, time_to_target_s, sessions, reached))
    return cost


def _offer_row(offer: Offer, match: dict[str, Any], time_to_target_s: float | None,
               sessions: tuple[list[float], list[str]], reached: bool) -> dict[str, Any]:
    row = cost_row(offer, time_to_target_s, sessions, match["nodes"])
    if reached and time_to_target_s is None:
        row["notes"] = ["run.json says the target was reached but records no usable time_to_target_s: "
                        "no benchmark cost" if n.startswith("target not reached") else n for n in row["notes"]]
    if match["gpu_count"] == 0 and offer.vcpus != match["vcpus"]:
        row["notes"].append(f"no {match['vcpus']}-vCPU {offer.provider} instance: priced on the smallest "
                            f"that holds the run ({offer.vcpus} vCPUs)")
    return row


def price_run(run_dir: str | Path, snapshot: Snapshot | None = None, *,
              max_age_days: float = DEFAULT_MAX_AGE_DAYS, now: datetime | None = None) -> dict[str, Any]:
    """Price the run in `run_dir`, write `cost.json` there atomically and return its content."""
    run_dir = Path(run_dir)
    run = read_json(run_dir / RUN_FILE)
    snapshot = snapshot or load_snapshot()
    cost = cost_for_run(run, snapshot, max_age_days=max_age_days, now=now)
    atomic_write_json(run_dir / COST_FILE, cost)
    return cost


def format_cost_lines(cost: dict) -> list[str]:
    """One human line per provider × market, priced rows first, then what could not be matched."""
    lines = []
    for row in cost.get("rows", []):
        rate = Decimal(row["usd_per_hour"])
        where = (row.get("region") or "") + (f"/{row['zone']}" if row.get("zone") else "")
        nodes = row.get("nodes") or 1
        instance = f"{nodes} x {row['instance_type']}" if nodes > 1 else row["instance_type"]
        parts = [f"{row['provider']:<10} {row['market']:<9} {instance}{f' ({where})' if where else ''} "
                 f"{format_usd(rate, exact=True)}/h"]
        if row.get("benchmark_usd") is not None:
            parts.append(f"benchmark {format_usd(row['benchmark_usd'])} "
                         f"({row['benchmark_seconds']:.1f} s to target)")
        if row.get("billed_usd") is not None:
            parts.append(f"billed {format_usd(row['billed_usd'])} "
                         f"({row['billed_seconds']} s billed: {row['billing_rule']})")
        parts.extend(row.get("notes", []))
        lines.append("  ".join(parts[:1]) + ": " + "; ".join(parts[1:]) if len(parts) > 1 else parts[0])
    for item in cost.get("unmatched", []):
        lines.append(f"{item['provider']:<10} {item['market']:<9} no matching offer: {item['reason']}")
    if cost.get("stale"):
        lines = [f"{line}  [stale prices: snapshot {cost['snapshot_id']}]" for line in lines]
    return lines
