"""AWS spot prices: boto3 `describe_spot_price_history` when boto3 is installed (`pip install
'repro[aws]'`) and credentials exist, else the keyless public feed behind
https://aws.amazon.com/ec2/spot/pricing/.

The feed is plain JSON today (`spot.json`); the older JSONP `spot.js` (`callback({...})`) has been
frozen since 2024-05-13 according to trackers that read both (e.g. the cloud-pricing tools found by
searching for website.spot.ec2.aws.a2z.com), so it is only a fallback, and its offers say so.
Both carry the same document:

    {"vers": 0.01, "config": {"rate": "perhr", "valueColumns": ["linux", "mswin"],
      "currencies": ["USD"], "regions": [{"region": "us-east-1", "instanceTypes": [{"type": "...",
        "sizes": [{"size": "p3.16xlarge", "valueColumns": [{"name": "linux",
                   "prices": {"USD": "7.3440"}}, ...]}]}]}]}}

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
from repro.pricing.urls import public_url

SPOT_JSON_URL = "https://website.spot.ec2.aws.a2z.com/spot.json"
SPOT_JS_URL = "https://spot-price.s3.amazonaws.com/spot.js"   # legacy JSONP, frozen since 2024-05-13
FEED_URLS = (SPOT_JSON_URL, SPOT_JS_URL)
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


def feed_document(text: str, source: str) -> list:
    """The feed's region list, from plain JSON or from the JSONP wrapper `callback({...});`."""
    body = text.strip()
    if body.startswith("callback"):
        start, end = body.find("("), body.rfind(")")
        if start < 0 or end < start:
            raise http.SourceError(f"{source}: JSONP feed without a closing ')'")
        body = body[start + 1:end]
    try:
        data = json.loads(body)
        feed_regions = data["config"]["regions"]
    except ValueError:
        raise http.SourceError(f"{source}: neither the plain-JSON spot feed nor the JSONP spot.js format "
                               f"(starts {text[:40]!r})") from None
    except (KeyError, TypeError) as exc:
        raise http.SourceError(f"{source}: spot feed without config.regions ({exc})") from None
    if not isinstance(feed_regions, list):
        raise http.SourceError(f"{source}: config.regions is not a list")
    return feed_regions


def parse_feed(text: str, *, hardware: Hardware, regions: Iterable[str] | None, source: str,
               today: date, note: str = "AWS public spot price feed (Linux), regional price") -> list[Offer]:
    wanted = set(regions) if regions else None
    skips, unknown = Skips(f"AWS spot feed {source}"), set()
    offers = []
    for entry in feed_document(text, source):
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
                offers.append(_offer(instance, region, None, price, hardware, source, today, note))
    skips.report()
    if unknown:
        warnings.warn(f"{source}: {len(unknown)} spot instance types have no on-demand hardware record "
                      f"and were skipped (e.g. {', '.join(sorted(unknown)[:5])})", stacklevel=2)
    return offers


parse_spot_js = parse_feed  # the JSONP form is read by the same parser


def fetch_feed(*, hardware: Hardware, regions: Iterable[str] | None = ("us-east-1",),
               urls: tuple[str, ...] = FEED_URLS, today: date | None = None,
               timeout=http.DEFAULT_TIMEOUT_S) -> list[Offer]:
    """The first feed in `urls` that answers with a usable document; the legacy JSONP one only when
    the current feed fails, with a warning."""
    today = today or datetime.now(timezone.utc).date()
    failures = []
    for url in urls:
        shown = public_url(url)
        try:
            text = http.read_text(url, timeout=timeout)
            legacy = url == SPOT_JS_URL
            note = ("legacy JSONP spot.js feed, frozen since 2024-05-13: prices may be old" if legacy
                    else "AWS public spot price feed (Linux), regional price")
            offers = parse_feed(text, hardware=hardware, regions=regions, source=shown, today=today, note=note)
        except http.SourceError as exc:
            failures.append(exc)
            continue
        if failures:
            warnings.warn(f"{failures[0]}; used {shown} instead", stacklevel=2)
        return offers
    if all(isinstance(f, http.SourceUnavailable) for f in failures):
        raise http.SourceUnavailable("; ".join(map(str, failures)))
    raise http.SourceError("; ".join(map(str, failures)))


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


def boto3_available() -> bool:
    try:
        import boto3  # noqa: F401
    except ImportError:
        return False
    return True


def have_credentials() -> bool:
    """True when boto3 is installed and finds credentials; False (never an ImportError) otherwise."""
    if not boto3_available():
        return False
    import boto3

    return boto3.Session().get_credentials() is not None


def _client_factory(timeout) -> Callable[[str], Any]:
    import boto3
    from botocore.config import Config

    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    config = Config(connect_timeout=connect, read_timeout=read, retries={"max_attempts": 2, "mode": "standard"})
    return lambda region: boto3.client("ec2", region_name=region, config=config)


def fetch(*, hardware: Hardware, regions: tuple[str, ...] = ("us-east-1",), feed_urls: tuple[str, ...] = FEED_URLS,
          client_factory: Callable[[str], Any] | None = None, today: date | None = None,
          timeout=http.DEFAULT_TIMEOUT_S, log: Callable[[str], None] = lambda line: None) -> list[Offer]:
    """boto3 when credentials (or a client factory) exist, else the keyless public feed, said via `log`."""
    if client_factory is None and have_credentials():
        client_factory = _client_factory(timeout)
    if client_factory is None:
        why = ("boto3 is not installed (pip install 'repro[aws]')" if not boto3_available()
               else "no AWS credentials found")
        log(f"  aws-spot: {why}; using the keyless public spot feed")
        return fetch_feed(hardware=hardware, regions=regions, urls=feed_urls, today=today, timeout=timeout)
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
