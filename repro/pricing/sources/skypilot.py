"""Prices from SkyPilot's public catalogs (https://github.com/skypilot-org/skypilot-catalog),
`catalogs/v*/<cloud>/vms.csv`, read from a path or a URL. Columns (order varies by cloud):

    InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone

`Price` is on-demand per region (repeated per zone); `SpotPrice` is per zone, and the cheapest
zone of a region is kept, with the zone named.

GCP's catalog prices a GPU machine in two rows, the host VM (`a2-highgpu-1g`, no accelerator
columns) and the attached GPUs (a row with an empty InstanceType); neither alone is a price anyone
pays, so this source reads only GCP's CPU machines. The shipped snapshot composes GCP's GPU offers
from both rows (docs/pricing.md).
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from repro.pricing.catalog import Offer
from repro.pricing.sources import http
from repro.pricing.sources.common import Skips, parse_price
from repro.pricing.urls import public_url

REQUIRED = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "Price", "Region")
GCP_GPU_HOST_FAMILIES = ("a2", "a3", "a4", "a4x", "g2", "g4")
CATALOG_URL = "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v6/{cloud}/vms.csv"


def _int(text: str | None) -> int:
    try:
        return int(Decimal((text or "0").strip() or "0"))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None


def parse_vms_csv(path: Path | BinaryIO, *, cloud: str, source: str, today: date,
                  regions: tuple[str, ...] | None = None, name: str | None = None) -> list[Offer]:
    """Offers from a vms.csv given as a path or a binary file; errors name `name` (default: the path)."""
    skips = Skips(f"SkyPilot catalog {source}")
    on_demand: dict[tuple[str, str], Offer] = {}
    spot: dict[tuple[str, str], Offer] = {}
    if isinstance(path, (str, Path)):
        name = name or str(path)
        raw: BinaryIO = open(path, "rb")
    else:
        raw = path
    name = name or source
    with io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise http.SourceError(f"{name}:1: not a SkyPilot vms.csv, missing column(s) {', '.join(missing)}")
        for row in reader:
            where = f"{name}:{reader.line_num}"
            if None in row:
                raise http.SourceError(f"{where}: more fields than the header has")
            region = (row.get("Region") or "").strip()
            if regions and region not in regions:
                continue
            instance = row["InstanceType"].strip()
            if cloud == "gcp" and (not instance or instance.split("-")[0] in GCP_GPU_HOST_FAMILIES):
                continue   # a host without its GPUs, or GPUs without a host: not an offer on its own
            try:
                gpus = _int(row.get("AcceleratorCount"))
                vcpus = _int(row.get("vCPUs"))
                memory = Decimal(row["MemoryGiB"]) if (row.get("MemoryGiB") or "").strip() else None
            except (ValueError, InvalidOperation) as exc:
                raise http.SourceError(f"{where}: {exc}") from None
            common = dict(provider=cloud, instance_type=instance,
                          gpu_model=(row.get("AcceleratorName") or "").strip() or None if gpus else None,
                          gpu_count=gpus, vcpus=vcpus, memory_gib=memory, region=region,
                          source=source, fetched_at=today)
            price = parse_price(row.get("Price"), f"{where} {instance} on-demand", skips)
            if price is not None and (instance, region) not in on_demand:
                on_demand[(instance, region)] = Offer(market="on-demand", usd_per_hour=price.normalize(),
                                                      note="SkyPilot catalog 'Price'", **common)
            if "SpotPrice" in row and (row.get("SpotPrice") or "").strip():
                zone = (row.get("AvailabilityZone") or "").strip() or None
                spot_price = parse_price(row.get("SpotPrice"), f"{where} {instance} spot", skips)
                best = spot.get((instance, region))
                if spot_price is not None and (best is None or spot_price < best.usd_per_hour):
                    spot[(instance, region)] = Offer(
                        market="spot", usd_per_hour=spot_price.normalize(), zone=zone,
                        note=f"SkyPilot catalog 'SpotPrice', cheapest zone ({zone})", **common)
    skips.report()
    return list(on_demand.values()) + list(spot.values())


def fetch(cloud: str, location: str | None = None, *, regions: tuple[str, ...] | None = None,
          today: date | None = None, quiet: bool = True, timeout=http.DEFAULT_TIMEOUT_S) -> list[Offer]:
    """Offers for `cloud` from a vms.csv at `location` (path or URL; default SkyPilot's master)."""
    today = today or datetime.now(timezone.utc).date()
    location = location or CATALOG_URL.format(cloud=cloud)
    remote = location.startswith(("http://", "https://"))
    source = public_url(location) if remote else Path(location).resolve().as_uri()
    with http.fetched_file(location, quiet=quiet, desc=f"SkyPilot {cloud}", timeout=timeout) as fh:
        return parse_vms_csv(fh, cloud=cloud, source=source, today=today, regions=regions,
                             name=source if remote else location)
