"""Paperspace: no public price API, so a maintained table (each row citing its source and date)
plus a user override file for prices the table lacks or that have changed.

Override file (CSV, header required; region/note optional):

    instance_type,gpu_model,gpu_count,vcpus,memory_gib,usd_per_hour,source,fetched_at
    P5000,P5000,1,8,30,0.78,https://www.paperspace.com/pricing,2026-11-20

A row with the instance type of a table row replaces it; a new instance type is added.
"""
from __future__ import annotations

import csv
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from repro.pricing.catalog import Offer, PriceSnapshotError, merge_offers, offer_from_row
from repro.pricing.sources.common import Skips, parse_price
from repro.pricing.sources.http import SourceError

TABLE_SOURCE = ("https://github.com/skypilot-org/skypilot-catalog/blob/"
                "e520054145d1bce6748bcf18c9a25ddd6ea9a348/catalogs/v6/paperspace/vms.csv")
TABLE_DATE = date(2026, 11, 25)  # the day the table was read from TABLE_SOURCE
REGION = "East Coast (NY2)"
OVERRIDE_ENV = "REPRO_PAPERSPACE_PRICES"
OVERRIDE_COLUMNS = ("instance_type", "gpu_model", "gpu_count", "vcpus", "memory_gib", "usd_per_hour",
                    "source", "fetched_at")

# instance type, GPU model, GPUs, vCPUs, memory GiB, USD per hour (on-demand)
TABLE: tuple[tuple[str, str | None, int, int, str, str], ...] = (
    ("H100", "H100", 1, 15, "80", "5.95"), ("H100x8", "H100", 8, 128, "640", "47.60"),
    ("A100-80G", "A100-80GB", 1, 12, "80", "3.18"), ("A100-80Gx8", "A100-80GB", 8, 96, "640", "25.44"),
    ("V100", "V100", 1, 8, "32", "2.29"), ("V100-32G", "V100-32GB", 1, 8, "32", "2.30"),
    ("V100-32Gx2", "V100-32GB", 2, 16, "64", "4.60"), ("V100-32Gx4", "V100-32GB", 4, 32, "128", "9.20"),
    ("GPU+", "M4000", 1, 8, "32", "0.45"), ("P4000", "P4000", 1, 8, "32", "0.51"),
    ("P4000x2", "P4000", 2, 16, "64", "1.02"), ("A4000", "A4000", 1, 8, "32", "0.76"),
    ("A4000x2", "A4000", 2, 16, "92", "1.52"), ("A4000x4", "A4000", 4, 32, "193", "3.04"),
    ("C5", None, 0, 4, "8.59", "0.08"), ("C6", None, 0, 8, "17.2", "0.16"),
    ("C7", None, 0, 12, "32.2", "0.30"), ("C8", None, 0, 16, "64.4", "0.60"),
    ("C9", None, 0, 24, "129", "0.90"),
)


def table_offers() -> list[Offer]:
    return [Offer(provider="paperspace", instance_type=name, gpu_model=gpu, gpu_count=count, vcpus=vcpus,
                  memory_gib=Decimal(memory), region=REGION, market="on-demand", usd_per_hour=Decimal(price),
                  source=TABLE_SOURCE, fetched_at=TABLE_DATE,
                  note="maintained table (Paperspace publishes no price API)")
            for name, gpu, count, vcpus, memory, price in TABLE]


def read_override(path: Path) -> list[Offer]:
    path = Path(path)
    try:
        fh = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: Paperspace override file not found; fix the path or unset {OVERRIDE_ENV}") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in OVERRIDE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceError(f"{path}:1: override header lacks {', '.join(missing)}; "
                              f"expected {','.join(OVERRIDE_COLUMNS)}")
        offers, skips = [], Skips(f"Paperspace override {path}")
        for row in reader:
            row = {k: (v or "") for k, v in row.items() if k is not None}
            where = f"{path}:{reader.line_num}"
            if parse_price(row.get("usd_per_hour"), f"{where} {row.get('instance_type')}", skips) is None:
                continue
            row.update(provider="paperspace", market="on-demand", region=row.get("region") or REGION,
                       note=row.get("note") or f"user override file {path.name}")
            try:
                offers.append(offer_from_row(row, where))
            except PriceSnapshotError as exc:
                raise SourceError(str(exc)) from None
    skips.report()
    return offers


def fetch(override: str | os.PathLike | None = None, **_ignored) -> list[Offer]:
    """The maintained table, with the override file (argument or $REPRO_PAPERSPACE_PRICES) applied."""
    override = override or os.environ.get(OVERRIDE_ENV)
    offers = table_offers()
    if override:
        offers = merge_offers(offers, read_override(Path(override)))
    return offers
