"""Published results beside the measured ones, each priced today.

Records come from data files, never typed into code: those shipped in repro/report/published/
(written by `repro import dawnbench` from a named commit of the entries repository, and one from
the airbench README at a named commit), then those a user imported into `<results>/_published/`;
a record imported later replaces a shipped one with the same id. Each is priced twice: as its
authors reported it (hours × their costPerHour, when they gave one), and the same hours on the
snapshot's spot, on-demand and Paperspace offers for the same hardware (repro.pricing.reprice),
with pricing's reason wherever there is no offer.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from repro.harness.store import StoreError, read_json
from repro.pricing.billing import StalePriceWarning
from repro.pricing.catalog import Snapshot
from repro.pricing.reprice import price_seconds
from repro.report.markets import cheapest, missing_reasons

SHIPPED_DIR = Path(__file__).resolve().parent / "published"
IMPORTED_DIR = "_published"       # under a results folder; no recipe name starts with "_"
SCHEMA_VERSION = 1
REQUIRED_TEXT = ("id", "task", "source")


def imported_path(results_dir: Path, kind: str) -> Path:
    """Where `repro import <kind>` writes its records for the reports of `results_dir`."""
    return Path(results_dir) / IMPORTED_DIR / f"{kind}.json"


def _check_entry(entry: Any) -> str | None:
    """What is wrong with one record, or None."""
    if not isinstance(entry, dict):
        return "an entry is not an object"
    for key in REQUIRED_TEXT:
        if not isinstance(entry.get(key), str) or not entry[key]:
            return f"entry {entry.get('id')!r} has no {key}"
    seconds = entry.get("time_to_target_s")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or seconds <= 0:
        return f"entry {entry['id']!r}: time_to_target_s {seconds!r} is not a positive number"
    hardware = entry.get("hardware")
    if hardware is not None and not (isinstance(hardware, dict) and _hardware_ok(hardware)):
        return f"entry {entry['id']!r}: hardware {hardware!r} is not {{gpu_model, gpu_count, nodes}} or {{vcpus, nodes}}"
    return None


def _positive_int(value: Any) -> bool:
    return type(value) is int and value > 0


def _hardware_ok(hardware: dict) -> bool:
    nodes = hardware.get("nodes", 1)
    if hardware.get("gpu_count") is not None:
        return (isinstance(hardware.get("gpu_model"), str) and _positive_int(hardware["gpu_count"])
                and _positive_int(nodes))
    return _positive_int(hardware.get("vcpus")) and _positive_int(nodes)


def read_document(path: Path) -> list[dict]:
    """The records of one published-records file, each marked with where it came from
    (StoreError / ValueError naming the file and what is wrong)."""
    doc = read_json(path, expect_schema=False)
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION \
            or not isinstance(doc.get("entries"), list):
        raise ValueError(f"{path}: not a published-records file (schema_version {SCHEMA_VERSION} with "
                         "entries); write it with `repro import dawnbench PATH`")
    entries = []
    for entry in doc["entries"]:
        problem = _check_entry(entry)
        if problem:
            raise ValueError(f"{path}: {problem}")
        entries.append({**entry, "origin": {"repository": doc.get("repository"), "commit": doc.get("commit"),
                                            "dirty": doc.get("dirty"), "file": path.name}})
    return entries


def load_published(results_dir: Path | None) -> tuple[list[dict], list[str]]:
    """(records, one message per file that could not be read): shipped first, then imported."""
    paths = sorted(SHIPPED_DIR.glob("*.json"))
    if results_dir is not None and (Path(results_dir) / IMPORTED_DIR).is_dir():
        paths += sorted((Path(results_dir) / IMPORTED_DIR).glob("*.json"))
    by_id: dict[str, dict] = {}
    errors = []
    for path in paths:
        try:
            for entry in read_document(path):
                by_id[entry["id"]] = entry
        except (StoreError, ValueError, OSError) as exc:
            errors.append(f"{exc} (its published results are not shown)")
    return list(by_id.values()), errors


def _costs(entry: dict, snapshot: Snapshot) -> tuple[dict[str, dict], dict[str, str]]:
    """(pricing key → {"usd", "instance_type", "usd_per_hour"}, key → why no offer) for the
    entry's hours on the snapshot; several nodes are that many instances for the same time."""
    hardware = dict(entry["hardware"])
    nodes = hardware.pop("nodes", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StalePriceWarning)   # shown once for the page, not per row
        cost = price_seconds(hardware, entry["time_to_target_s"] * nodes, snapshot)
    costs = {f"{row['provider']} {row['market']}": {
        "usd": row["benchmark_usd"], "usd_per_hour": row["usd_per_hour"],
        "instance_type": row["instance_type"] if nodes == 1 else f"{nodes} × {row['instance_type']}"}
        for row in cost["rows"] if row.get("benchmark_usd") is not None}
    no_offer = {f"{u['provider']} {u['market']}": str(u.get("reason") or "") for u in cost["unmatched"]}
    return costs, no_offer


def price_published(entries: list[dict], snapshot: Snapshot | None) -> list[dict]:
    """Board rows: each record with `costs` per provider × market, `market_costs` (the cheapest
    per board market), `no_offer` (market → reason) and the snapshot it was priced on."""
    rows = []
    for entry in entries:
        row = {**entry, "costs": {}, "market_costs": {}, "no_offer": {},
               "snapshot_id": snapshot.id if snapshot else None}
        if snapshot is None:
            row["not_priced"] = "no price snapshot could be read"
        elif entry.get("hardware") is None:
            row["not_priced"] = f"hardware {entry.get('hardware_text')!r}: {entry.get('hardware_read')}"
        else:
            costs, no_offer = _costs(entry, snapshot)
            row["costs"], row["market_costs"] = costs, cheapest(costs)
            row["no_offer"] = missing_reasons(no_offer, row["market_costs"])
            row["not_priced"] = None
        rows.append(row)
    rows.sort(key=lambda r: (r["task"], r["time_to_target_s"], r["id"]))
    return rows


def published_by_task(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["task"], []).append(row)
    return grouped
