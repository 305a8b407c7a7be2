"""AWS spot prices: boto3 `describe_spot_price_history` when credentials exist, else the keyless
public feed that backs aws.amazon.com/ec2/spot/pricing (`spot.js`, JSONP):

    callback({"vers": 0.01, "config": {"rate": "perhr", "valueColumns": ["linux", "mswin"],
      "currencies": ["USD"], "regions": [{"region": "us-east-1", "instanceTypes": [{"type": "...",
        "sizes": [{"size": "p3.16xlarge", "valueColumns": [{"name": "linux",
                   "prices": {"USD": "7.3440"}}, ...]}]}]}]}})

Neither gives vCPUs or GPUs, so spot offers borrow the hardware of the on-demand offer with the
same instance type (`hardware`); an instance type without one is skipped, never guessed.
"""
from __future__ import annotations

import json
import warnings
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable

from repro.pricing.catalog import Offer
from repro.pricing.sources import http
from repro.pricing.sources.common import Skips, parse_price

SPOT_JS_URL = "https://spot-price.s3.amazonaws.com/spot.js"
# spot.js still names some regions by their pre-2014 labels
LEGACY_REGIONS = {
    "us-east": "us-east-1", "us-west": "us-west-1", "eu-ireland": "eu-west-1",
    "apac-sin": "ap-southeast-1", "apac-syd": "ap-southeast-2", "apac-tokyo": "ap-northeast-1",
}

Hardware = dict[str, Offer]  # instance type -> an offer describing its hardware


def hardware_from(offers: Iterable[Offer]) -> Hardware:
    return {o.instance_type: o for o in offers if o.provider == "aws"}


def _offer(instance: str, region: str, zone: str | None, price, hardware: Hardware, source: str,
           today: date, note: str) -> Offer:
    hw = hardware[instance]
    return Offer(provider="aws", instance_type=instance, gpu_model=hw.gpu_model, gpu_count=hw.gpu_count,
                 vcpus=hw.vcpus, memory_gib=hw.memory_gib, region=region, zone=zone, market="spot",
                 usd_per_hour=price.normalize(), source=source, fetched_at=today, note=note)


def parse_spot_js(text: str, *, hardware: Hardware, regions: Iterable[str] | None, source: str,
                  today: date) -> list[Offer]:
    body = text.strip()
    start, end = body.find("("), body.rfind(")")
    if not body.startswith("callback") or start < 0 or end < start:
        raise http.SourceError(f"{source}: not the spot.js JSONP format (expected 'callback({{...}})')")
    try:
        data = json.loads(body[start + 1:end])
        feed_regions = data["config"]["regions"]
    except (ValueError, KeyError, TypeError) as exc:
        raise http.SourceError(f"{source}: malformed spot.js body ({exc})") from None
    wanted = set(regions) if regions else None
    skips, unknown = Skips(f"AWS spot feed {source}"), set()
    offers = []
    for entry in feed_regions:
        region = LEGACY_REGIONS.get(entry.get("region"), entry.get("region"))
        if wanted and region not in wanted:
            continue
        for family in entry.get("instanceTypes", []):
            for size in family.get("sizes", []):
                instance = size.get("size")
                linux = next((c for c in size.get("valueColumns", []) if c.get("name") == "linux"), None)
                if not instance or linux is None:
                    continue
                price = parse_price((linux.get("prices") or {}).get("USD"), f"{region} {instance}", skips)
                if price is None:
                    continue
                if instance not in hardware:
                    unknown.add(instance)
                    continue
                offers.append(_offer(instance, region, None, price, hardware, source, today,
                                     "AWS public spot price feed (Linux), regional price"))
    skips.report()
    if unknown:
        warnings.warn(f"{source}: {len(unknown)} spot instance types have no on-demand hardware record "
                      f"and were skipped (e.g. {', '.join(sorted(unknown)[:5])})", stacklevel=2)
    return offers


def fetch_feed(*, hardware: Hardware, regions: Iterable[str] | None = ("us-east-1",), url: str = SPOT_JS_URL,
               today: date | None = None, timeout=http.DEFAULT_TIMEOUT_S) -> list[Offer]:
    today = today or datetime.now(timezone.utc).date()
    text = http.get(url, timeout=timeout).text
    return parse_spot_js(text, hardware=hardware, regions=regions, source=url, today=today)


def fetch_boto3(client: Any, region: str, *, hardware: Hardware, instance_types: Iterable[str] | None = None,
                today: date | None = None, now: datetime | None = None) -> list[Offer]:
    """Latest Linux spot price per availability zone, cheapest zone per instance type."""
    today = today or datetime.now(timezone.utc).date()
    types = sorted(instance_types if instance_types is not None else hardware)
    source = f"https://ec2.{region}.amazonaws.com/?Action=DescribeSpotPriceHistory"
    latest: dict[tuple[str, str], tuple[datetime, Any]] = {}
    skips = Skips(f"AWS DescribeSpotPriceHistory {region}")
    paginator = client.get_paginator("describe_spot_price_history")
    for page in paginator.paginate(InstanceTypes=types, ProductDescriptions=["Linux/UNIX"],
                                   StartTime=now or datetime.now(timezone.utc)):
        for item in page.get("SpotPriceHistory", []):
            key = (item["InstanceType"], item["AvailabilityZone"])
            stamp = item.get("Timestamp") or datetime.min.replace(tzinfo=timezone.utc)
            if key not in latest or stamp > latest[key][0]:
                latest[key] = (stamp, item.get("SpotPrice"))
    cheapest: dict[str, tuple[Any, str]] = {}
    for (instance, zone), (_, raw) in sorted(latest.items()):
        price = parse_price(raw, f"{instance} {zone}", skips)
        if price is not None and instance in hardware and (instance not in cheapest or price < cheapest[instance][0]):
            cheapest[instance] = (price, zone)
    skips.report()
    return [_offer(i, region, zone, price, hardware, source, today,
                   f"DescribeSpotPriceHistory Linux/UNIX; cheapest zone ({zone})")
            for i, (price, zone) in sorted(cheapest.items())]


def have_credentials() -> bool:
    import boto3

    return boto3.Session().get_credentials() is not None


def fetch(*, hardware: Hardware, regions: tuple[str, ...] = ("us-east-1",), feed_url: str = SPOT_JS_URL,
          client_factory: Callable[[str], Any] | None = None, today: date | None = None,
          timeout=http.DEFAULT_TIMEOUT_S) -> list[Offer]:
    """boto3 when credentials (or a client factory) exist, else the public feed."""
    if client_factory is None and have_credentials():
        import boto3

        client_factory = lambda region: boto3.client("ec2", region_name=region)  # noqa: E731
    if client_factory is None:
        return fetch_feed(hardware=hardware, regions=regions, url=feed_url, today=today, timeout=timeout)
    from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError, \
        ReadTimeoutError

    offers: list[Offer] = []
    for region in regions:
        try:
            offers.extend(fetch_boto3(client_factory(region), region, hardware=hardware, today=today))
        except (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError) as exc:
            raise http.SourceUnavailable(f"EC2 DescribeSpotPriceHistory in {region}: {exc}") from None
        except (ClientError, BotoCoreError) as exc:
            raise http.SourceError(f"EC2 DescribeSpotPriceHistory in {region}: {exc}; check the AWS "
                                   f"credentials' ec2:DescribeSpotPriceHistory permission") from None
    return offers
