"""Price offers and dated snapshots of them.

An `Offer` is one published hourly price: provider, instance, what hardware it holds, region,
market (on-demand or spot), USD per hour as a Decimal, and where and when the number was read.
A `Snapshot` is a set of offers taken together, stored as two files side by side:

    <id>.csv    one offer per row, columns `CSV_COLUMNS`, every row citing its source and date
    <id>.json   {"schema_version", "id", "fetched_at", "description", "sources": [...],
                 "csv": {"file", "rows", "sha256"}}

The sidecar holds the CSV's row count and sha256, so a truncated or edited table is an error, never
a smaller price list. The package ships snapshots (`repro.pricing.locations`) so pricing works
offline; `repro prices update` writes newer ones and makes the newest the default. A missing or
corrupt snapshot raises `PriceSnapshotError`, naming file and line.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Sequence

from repro.pricing.locations import (  # noqa: F401 - re-exported: where snapshots live
    SHIPPED_SNAPSHOT_ID, SNAPSHOT_DIR, SNAPSHOT_ENV, SnapshotLocationError, default_snapshot_path, resolve,
    shipped_ids,
)

SNAPSHOT_SCHEMA_VERSION = 2
DEFAULT_MAX_AGE_DAYS = 30
MARKETS = ("on-demand", "spot")

CSV_COLUMNS = (
    "provider", "instance_type", "gpu_model", "gpu_count", "vcpus", "memory_gib", "region",
    "zone", "market", "usd_per_hour", "source", "fetched_at", "note",
)


class PriceSnapshotError(ValueError):
    """A price snapshot is missing, unreadable or malformed; the message names file and line."""


@dataclass(frozen=True)
class Offer:
    provider: str
    instance_type: str
    gpu_model: str | None
    gpu_count: int
    vcpus: int
    memory_gib: Decimal | None
    region: str
    market: str
    usd_per_hour: Decimal
    source: str
    fetched_at: date
    zone: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.market not in MARKETS:
            raise ValueError(f"market must be one of {MARKETS}, got {self.market!r}")
        if not isinstance(self.usd_per_hour, Decimal):
            raise TypeError(f"usd_per_hour must be a Decimal, got {type(self.usd_per_hour).__name__}")
        if self.usd_per_hour <= 0:
            raise ValueError(f"usd_per_hour must be positive, got {self.usd_per_hour}")
        if not self.source:
            raise ValueError(f"offer {self.provider}/{self.instance_type} has no source")

    def to_row(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "instance_type": self.instance_type,
            "gpu_model": self.gpu_model or "",
            "gpu_count": str(self.gpu_count),
            "vcpus": str(self.vcpus),
            "memory_gib": "" if self.memory_gib is None else str(self.memory_gib),
            "region": self.region,
            "zone": self.zone or "",
            "market": self.market,
            "usd_per_hour": str(self.usd_per_hour),
            "source": self.source,
            "fetched_at": self.fetched_at.isoformat(),
            "note": self.note,
        }


@dataclass
class Snapshot:
    id: str
    fetched_at: datetime
    offers: list[Offer]
    path: Path | None = None
    description: str = ""
    sources: list[str] = field(default_factory=list)

    def age_days(self, now: datetime | None = None) -> float:
        now = now or datetime.now(timezone.utc)
        return (now - self.fetched_at).total_seconds() / 86400.0

    def stale(self, max_age_days: float = DEFAULT_MAX_AGE_DAYS, now: datetime | None = None) -> bool:
        """True when the snapshot is older than `max_age_days` (prices move; say so)."""
        return self.age_days(now) > max_age_days

    def providers(self) -> list[str]:
        return sorted({o.provider for o in self.offers})

    def find(self, *, gpu_model: str | None = None, gpu_count: int | None = None,
             vcpus: int | None = None, provider: str | None = None,
             market: str | None = None) -> list[Offer]:
        """Offers matching every given criterion exactly, cheapest first."""
        hits = [
            o for o in self.offers
            if (provider is None or o.provider == provider)
            and (market is None or o.market == market)
            and (gpu_count is None or o.gpu_count == gpu_count)
            and (gpu_model is None or (o.gpu_model or "").upper() == gpu_model.upper())
            and (vcpus is None or o.vcpus == vcpus)
        ]
        return sorted(hits, key=lambda o: (o.usd_per_hour, o.provider, o.instance_type))

    def inventory(self) -> dict[str, list[int]]:
        """What the snapshot offers at all: GPU model -> GPU counts per instance, and "CPU" -> vCPU sizes."""
        found: dict[str, set[int]] = {}
        for o in self.offers:
            key, size = (o.gpu_model, o.gpu_count) if o.gpu_count else ("CPU", o.vcpus)
            found.setdefault(key or "GPU", set()).add(size)
        return {k: sorted(v) for k, v in sorted(found.items())}


def _parse_date(text: str) -> date:
    return date.fromisoformat(text.strip()[:10])


def _parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def offer_from_row(row: dict[str, str], where: str) -> Offer:
    """Build an Offer from one CSV row; `where` ("file:line") goes into every error."""
    missing = [c for c in ("provider", "instance_type", "market", "usd_per_hour", "source", "fetched_at")
               if not (row.get(c) or "").strip()]
    if missing:
        raise PriceSnapshotError(f"{where}: empty {', '.join(missing)}; every offer needs them")
    try:
        price = Decimal(row["usd_per_hour"].strip())
    except InvalidOperation:
        raise PriceSnapshotError(
            f"{where}: usd_per_hour {row['usd_per_hour']!r} is not a number") from None
    try:
        memory = (row.get("memory_gib") or "").strip()
        return Offer(
            provider=row["provider"].strip(),
            instance_type=row["instance_type"].strip(),
            gpu_model=(row.get("gpu_model") or "").strip() or None,
            gpu_count=int(float((row.get("gpu_count") or "0").strip() or "0")),
            vcpus=int(float((row.get("vcpus") or "0").strip() or "0")),
            memory_gib=Decimal(memory) if memory else None,
            region=(row.get("region") or "").strip(),
            zone=(row.get("zone") or "").strip() or None,
            market=row["market"].strip(),
            usd_per_hour=price,
            source=row["source"].strip(),
            fetched_at=_parse_date(row["fetched_at"]),
            note=(row.get("note") or "").strip(),
        )
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise PriceSnapshotError(f"{where}: {exc}") from None


def read_offers_csv(path: Path, text: str | None = None) -> list[Offer]:
    path = Path(path)
    if text is None:
        text = _read_csv_bytes(path).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    absent = [c for c in CSV_COLUMNS if c not in header and c not in ("zone", "note")]
    if absent:
        raise PriceSnapshotError(
            f"{path}:1: header lacks column(s) {', '.join(absent)}; expected {','.join(CSV_COLUMNS)}")
    offers = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if None in row or any(v is None for v in row.values()):
            raise PriceSnapshotError(f"{where}: wrong number of fields; expected {len(header)}")
        offers.append(offer_from_row(row, where))
    if not offers:
        raise PriceSnapshotError(f"{path}: snapshot holds no offers; run `repro prices update`")
    return offers


def _read_csv_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PriceSnapshotError(
            f"{path}: price snapshot not found; pass --snapshot with an existing CSV or one of the shipped "
            f"ids ({', '.join(shipped_ids())}), or run `repro prices update`") from None
    except OSError as exc:
        raise PriceSnapshotError(f"{path}: cannot read price snapshot ({exc}); "
                                 f"restore it or run `repro prices update`") from None


def _metadata_path(csv_path: Path) -> Path:
    return csv_path.with_suffix(".json")


def _read_metadata(meta_path: Path) -> dict:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PriceSnapshotError(
            f"{meta_path}: snapshot metadata not found (expected beside {meta_path.with_suffix('.csv').name}); "
            f"run `repro prices update` to write a complete snapshot") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceSnapshotError(f"{meta_path}: cannot read snapshot metadata ({exc})") from None
    except json.JSONDecodeError as exc:
        raise PriceSnapshotError(
            f"{meta_path}:{exc.lineno}: snapshot metadata is not valid JSON ({exc.msg}); "
            f"restore the file or run `repro prices update`") from None
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if version != SNAPSHOT_SCHEMA_VERSION:
        raise PriceSnapshotError(
            f"{meta_path}: schema_version {version!r} is not {SNAPSHOT_SCHEMA_VERSION} (version 2 added the CSV's "
            f"row count and sha256); run `repro prices update` for a current snapshot")
    for key in ("id", "fetched_at", "csv"):
        if not meta.get(key):
            raise PriceSnapshotError(f"{meta_path}: metadata lacks {key!r}")
    return meta


def _count_rows(data: bytes) -> int | None:
    try:
        return max(0, sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1)
    except (UnicodeDecodeError, csv.Error):
        return None


def _check_integrity(csv_path: Path, data: bytes, meta: dict, meta_path: Path) -> None:
    """The CSV must be exactly the one the metadata describes: same sha256, same row count."""
    expected = meta["csv"] if isinstance(meta["csv"], dict) else {}
    digest = hashlib.sha256(data).hexdigest()
    rows = _count_rows(data)
    if expected.get("sha256") != digest or expected.get("rows") != rows:
        raise PriceSnapshotError(
            f"{csv_path}: holds {rows} offer rows (sha256 {digest[:12]}…) but {meta_path.name} records "
            f"{expected.get('rows')!r} rows (sha256 {str(expected.get('sha256'))[:12]}…); the table was truncated "
            f"or edited: restore both files or run `repro prices update`")


def load_snapshot(path: str | os.PathLike | None = None) -> Snapshot:
    """Load a snapshot from its CSV path, its .json sidecar or a shipped id; None: the default
    (`repro.pricing.locations.default_snapshot_path`)."""
    if path is None:
        try:
            csv_path = default_snapshot_path()[0]
        except SnapshotLocationError as exc:
            raise PriceSnapshotError(str(exc)) from None
    else:
        csv_path = resolve(path)
    meta_path = _metadata_path(csv_path)
    meta = _read_metadata(meta_path)
    data = _read_csv_bytes(csv_path)
    _check_integrity(csv_path, data, meta, meta_path)
    try:
        fetched_at = _parse_datetime(str(meta["fetched_at"]))
    except ValueError:
        raise PriceSnapshotError(
            f"{meta_path}: fetched_at {meta['fetched_at']!r} is not an ISO date-time") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PriceSnapshotError(f"{csv_path}: not UTF-8 text ({exc})") from None
    return Snapshot(
        id=str(meta["id"]), fetched_at=fetched_at, offers=read_offers_csv(csv_path, text),
        path=csv_path, description=str(meta.get("description", "")),
        sources=[str(s) for s in meta.get("sources", [])],
    )


def snapshot_files_text(snapshot: Snapshot) -> tuple[str, str]:
    """The (csv, json) texts a snapshot is stored as."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for offer in sorted(snapshot.offers, key=lambda o: (o.provider, o.market, o.gpu_model or "",
                                                        o.gpu_count, o.vcpus, o.instance_type,
                                                        o.region, o.zone or "")):
        writer.writerow(offer.to_row())
    csv_text = buffer.getvalue()
    meta = {
        "schema_version": SNAPSHOT_SCHEMA_VERSION,
        "id": snapshot.id,
        "fetched_at": snapshot.fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "description": snapshot.description,
        "sources": sorted(set(snapshot.sources) | {o.source for o in snapshot.offers}),
        "offers": len(snapshot.offers),
        "csv": {"file": f"{snapshot.id}.csv", "rows": len(snapshot.offers),
                "sha256": hashlib.sha256(csv_text.encode("utf-8")).hexdigest()},
    }
    return csv_text, json.dumps(meta, indent=2) + "\n"


def write_snapshot(snapshot: Snapshot, out_dir: str | os.PathLike) -> Path:
    """Write `<id>.csv` and `<id>.json` atomically; returns the CSV path. Each file is replaced whole,
    and a crash between the two leaves a pair whose row count or sha256 disagree, which loading
    refuses, never a silently shorter table."""
    from repro.harness.store import atomic_write_text

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", snapshot.id):
        raise PriceSnapshotError(f"snapshot id {snapshot.id!r} must be letters, digits, '.', '_' or '-'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_text, meta_text = snapshot_files_text(snapshot)
    csv_path = out / f"{snapshot.id}.csv"
    atomic_write_text(csv_path, csv_text)
    atomic_write_text(_metadata_path(csv_path), meta_text)
    snapshot.path = csv_path
    return csv_path


def merge_offers(*groups: Iterable[Offer]) -> list[Offer]:
    """Concatenate offer lists; a later group replaces an earlier offer with the same key
    (provider, instance, region, zone, market), so a user override file wins."""
    merged: dict[tuple, Offer] = {}
    for group in groups:
        for offer in group:
            merged[(offer.provider, offer.instance_type, offer.region, offer.zone, offer.market)] = offer
    return list(merged.values())


def offers_summary(offers: Sequence[Offer]) -> str:
    counts: dict[tuple[str, str], int] = {}
    for o in offers:
        counts[(o.provider, o.market)] = counts.get((o.provider, o.market), 0) + 1
    return ", ".join(f"{p} {m}: {n}" for (p, m), n in sorted(counts.items()))

