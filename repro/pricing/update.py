"""Build a new price snapshot from live sources, or leave the previous one untouched.

Each named source is fetched in turn; the fresh offers replace the previous snapshot's offers of
the same provider, market and region, everything else is carried over. Only when every source
answered is the new snapshot written (atomically, under a new id). A source that times out or
answers garbage stops the update with `UpdateFailed`, naming the source and the snapshot that
was left as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from repro.pricing.catalog import Offer, Snapshot, load_snapshot, offers_summary, write_snapshot
from repro.pricing.sources import aws_ondemand, aws_spot, azure, paperspace, skypilot
from repro.pricing.sources.http import SourceError, SourceUnavailable

SOURCE_NAMES = ("aws", "aws-spot", "azure", "paperspace", "skypilot")
DEFAULT_SOURCES = ("aws", "aws-spot", "paperspace")


class UpdateFailed(ValueError):
    """A source failed; nothing was written."""


@dataclass
class UpdateOptions:
    sources: tuple[str, ...] = DEFAULT_SOURCES
    aws_regions: tuple[str, ...] = ("us-east-1",)
    azure_regions: tuple[str, ...] = ("eastus",)
    skypilot_clouds: tuple[str, ...] = ("aws",)
    skypilot_catalog: str | None = None           # path or URL of one vms.csv (with one cloud)
    paperspace_override: str | None = None
    aws_base_url: str = aws_ondemand.BASE_URL
    aws_spot_feed_url: str = aws_spot.SPOT_JS_URL
    azure_base_url: str = azure.BASE_URL
    aws_spot_client_factory: Callable | None = None
    timeout_s: float | tuple[float, float] = (10.0, 60.0)
    quiet: bool = False
    extra: dict = field(default_factory=dict)


def _fetch(name: str, opts: UpdateOptions, fresh: list[Offer], base: Snapshot) -> list[Offer]:
    today = datetime.now(timezone.utc).date()
    if name == "aws":
        return aws_ondemand.fetch(opts.aws_regions, base_url=opts.aws_base_url, quiet=opts.quiet,
                                  today=today, timeout=opts.timeout_s)
    if name == "aws-spot":
        on_demand = [o for o in fresh if o.provider == "aws" and o.market == "on-demand"]
        hardware = aws_spot.hardware_from(on_demand or base.offers)
        return aws_spot.fetch(hardware=hardware, regions=opts.aws_regions, feed_url=opts.aws_spot_feed_url,
                              client_factory=opts.aws_spot_client_factory, today=today, timeout=opts.timeout_s)
    if name == "azure":
        return azure.fetch(opts.azure_regions, base_url=opts.azure_base_url, today=today, timeout=opts.timeout_s)
    if name == "paperspace":
        return paperspace.fetch(opts.paperspace_override)
    if name == "skypilot":
        offers: list[Offer] = []
        for cloud in opts.skypilot_clouds:
            offers.extend(skypilot.fetch(cloud, opts.skypilot_catalog, regions=None, today=today,
                                         quiet=opts.quiet, timeout=opts.timeout_s))
        return offers
    raise UpdateFailed(f"unknown price source {name!r}; choose from {', '.join(SOURCE_NAMES)}")


def update_snapshot(out_dir: str | Path, opts: UpdateOptions | None = None, *, base: Snapshot | None = None,
                    now: datetime | None = None, log: Callable[[str], None] = lambda line: None) -> Snapshot:
    """Fetch `opts.sources`, merge over `base` (default: the current snapshot), write to `out_dir`."""
    opts = opts or UpdateOptions()
    base = base or load_snapshot()
    unknown = [s for s in opts.sources if s not in SOURCE_NAMES]
    if unknown:
        raise UpdateFailed(f"unknown price source(s) {', '.join(unknown)}; choose from {', '.join(SOURCE_NAMES)}")
    untouched = f"previous snapshot {base.id} ({base.path or 'in memory'}) left untouched, nothing written"
    fresh: list[Offer] = []
    for name in opts.sources:
        log(f"fetching {name} ...")
        try:
            got = _fetch(name, opts, fresh, base)
        except SourceUnavailable as exc:
            raise UpdateFailed(f"price source {name} did not answer: {exc}; {untouched}") from None
        except SourceError as exc:
            raise UpdateFailed(f"price source {name} failed: {exc}; {untouched}") from None
        if not got:
            raise UpdateFailed(f"price source {name} returned no usable offers; {untouched}")
        log(f"  {name}: {len(got)} offers ({offers_summary(got)})")
        fresh.extend(got)
    replaced = {(o.provider, o.market, o.region) for o in fresh}
    kept = [o for o in base.offers if (o.provider, o.market, o.region) not in replaced]
    now = now or datetime.now(timezone.utc)
    snapshot = Snapshot(
        id=f"prices-{now:%Y%m%dT%H%M%SZ}", fetched_at=now, offers=kept + fresh,
        description=(f"sources fetched {now:%Y-%m-%d}: {', '.join(opts.sources)}; "
                     f"{len(kept)} offers carried over from {base.id}"))
    write_snapshot(snapshot, out_dir)
    return snapshot
