"""Build a new price snapshot from live sources, or leave everything as it was.

Each named source is fetched under its own deadline (`timeout_s`, retries and slow servers
included). The fresh offers are merged into the current snapshot's offer by offer: a fresh offer
replaces the one with the same provider, instance, region and market; every other offer is kept
with its own source and date, so an update that returns a few SKUs never drops the rest. Only
when every source answered is the new snapshot written (atomically, under a new id) and made the
default (`repro.pricing.locations`). A source that times out or answers garbage stops the update
with `UpdateFailed`, naming the source and the snapshot that was left as it was.

Source URLs: the CLI flag, else the environment (`REPRO_AWS_URL`, `REPRO_AWS_SPOT_URL`,
`REPRO_AZURE_URL`), else the providers' public endpoints.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from repro.pricing.catalog import Offer, Snapshot, load_snapshot, offers_summary, write_snapshot
from repro.pricing.locations import prices_dir, write_current
from repro.pricing.sources import aws_ondemand, aws_spot, azure, paperspace, skypilot
from repro.pricing.sources.http import SourceError, SourceUnavailable, bounded

SOURCE_NAMES = ("aws", "aws-spot", "azure", "paperspace", "skypilot")
DEFAULT_SOURCES = ("aws", "aws-spot", "paperspace")
# Seconds each source may take in all unless --timeout says otherwise: the AWS Price List's region
# offer file is several GB to download and stream twice; the others are a few pages or one file.
DEFAULT_TIMEOUTS_S = {"aws": 1800.0, "aws-spot": 120.0, "azure": 300.0, "paperspace": 60.0, "skypilot": 300.0}
URL_ENV = {"aws": "REPRO_AWS_URL", "aws-spot": "REPRO_AWS_SPOT_URL", "azure": "REPRO_AZURE_URL"}


class UpdateFailed(ValueError):
    """A source failed; nothing was written."""


def source_url(name: str, flag: str | None = None) -> str | None:
    """The URL a source reads: the flag, else its environment variable, else None (the default)."""
    return flag or os.environ.get(URL_ENV[name]) or None


@dataclass
class UpdateOptions:
    sources: tuple[str, ...] = DEFAULT_SOURCES
    aws_regions: tuple[str, ...] = ("us-east-1",)
    azure_regions: tuple[str, ...] = ("eastus",)
    skypilot_clouds: tuple[str, ...] = ("aws",)
    skypilot_catalog: str | None = None           # path or URL of one vms.csv (with one cloud)
    paperspace_override: str | None = None
    aws_url: str | None = None                    # Price List root holding offers/v1.0/aws/index.json
    aws_spot_url: str | None = None               # one spot feed (plain JSON or JSONP)
    azure_url: str | None = None                  # Retail Prices API endpoint
    aws_spot_client_factory: Callable | None = None
    timeout_s: float | None = None                # per source, everything included; None: DEFAULT_TIMEOUTS_S
    quiet: bool = False
    make_default: bool = True

    def resolved(self) -> "UpdateOptions":
        """These options with every unset URL taken from the environment."""
        return UpdateOptions(**{**self.__dict__, "aws_url": source_url("aws", self.aws_url),
                                "aws_spot_url": source_url("aws-spot", self.aws_spot_url),
                                "azure_url": source_url("azure", self.azure_url)})


def _fetch(name: str, opts: UpdateOptions, fresh: list[Offer], base: Snapshot,
           log: Callable[[str], None]) -> list[Offer]:
    today = datetime.now(timezone.utc).date()
    if name == "aws":
        return aws_ondemand.fetch(opts.aws_regions, base_url=opts.aws_url or aws_ondemand.BASE_URL,
                                  quiet=opts.quiet, today=today)
    if name == "aws-spot":
        on_demand = [o for o in fresh if o.provider == "aws" and o.market == "on-demand"]
        hardware = aws_spot.hardware_from(on_demand or base.offers)
        feeds = (opts.aws_spot_url,) if opts.aws_spot_url else aws_spot.FEED_URLS
        return aws_spot.fetch(hardware=hardware, regions=opts.aws_regions, feed_urls=feeds,
                              client_factory=opts.aws_spot_client_factory, today=today, log=log)
    if name == "azure":
        return azure.fetch(opts.azure_regions, base_url=opts.azure_url or azure.BASE_URL, today=today)
    if name == "paperspace":
        return paperspace.fetch(opts.paperspace_override)
    offers: list[Offer] = []
    for cloud in opts.skypilot_clouds:
        offers.extend(skypilot.fetch(cloud, opts.skypilot_catalog, regions=None, today=today, quiet=opts.quiet))
    return offers


def offer_key(offer: Offer) -> tuple[str, str, str, str]:
    """One instance in one region on one market (a spot offer's cheapest zone can change)."""
    return offer.provider, offer.instance_type, offer.region, offer.market


def merge_fresh(base: list[Offer], fresh: list[Offer]) -> list[Offer]:
    """`base` with every fresh offer put in: same key replaced, new key added, the rest kept."""
    merged = {offer_key(o): o for o in base}
    merged.update((offer_key(o), o) for o in fresh)
    return list(merged.values())


def update_snapshot(out_dir: str | Path | None = None, opts: UpdateOptions | None = None, *,
                    base: Snapshot | None = None, now: datetime | None = None,
                    log: Callable[[str], None] = lambda line: None) -> Snapshot:
    """Fetch `opts.sources`, merge into `base` (default: the current snapshot), write to `out_dir`
    (default: the prices folder) and make it the default snapshot."""
    opts = (opts or UpdateOptions()).resolved()
    base = base or load_snapshot()
    unknown = [s for s in opts.sources if s not in SOURCE_NAMES]
    if unknown:
        raise UpdateFailed(f"unknown price source(s) {', '.join(unknown)}; choose from {', '.join(SOURCE_NAMES)}")
    untouched = f"previous snapshot {base.id} ({base.path or 'in memory'}) left untouched, nothing written"
    fresh: list[Offer] = []
    for name in opts.sources:
        log(f"fetching {name} ...")
        try:
            with bounded(opts.timeout_s or DEFAULT_TIMEOUTS_S[name], f"price source {name}"):
                got = _fetch(name, opts, fresh, base, log)
        except SourceUnavailable as exc:
            raise UpdateFailed(f"price source {name} did not answer: {exc}; {untouched}") from None
        except SourceError as exc:
            raise UpdateFailed(f"price source {name} failed: {exc}; {untouched}") from None
        if not got:
            raise UpdateFailed(f"price source {name} returned no usable offers; {untouched}")
        log(f"  {name}: {len(got)} offers ({offers_summary(got)})")
        fresh.extend(got)
    old_keys, fresh_keys = {offer_key(o) for o in base.offers}, {offer_key(o) for o in fresh}
    merged = merge_fresh(base.offers, fresh)
    now = now or datetime.now(timezone.utc)
    snapshot = Snapshot(
        id=f"prices-{now:%Y%m%dT%H%M%SZ}", fetched_at=now, offers=merged,
        description=(f"sources fetched {now:%Y-%m-%d}: {', '.join(opts.sources)} ({len(fresh)} offers, "
                     f"{len(fresh_keys & old_keys)} replacing older ones); {len(old_keys - fresh_keys)} offers "
                     f"carried over unchanged from {base.id}, each with its own source and date"))
    write_snapshot(snapshot, out_dir or prices_dir())
    if opts.make_default:
        write_current(snapshot.path)
    return snapshot
