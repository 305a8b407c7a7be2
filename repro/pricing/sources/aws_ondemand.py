"""AWS on-demand prices from the public Price List bulk API (no credentials needed).

Format (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-the-aws-price-list-bulk-api.html):
the Price List root holds the service index `offers/v1.0/aws/index.json`, whose
`offers.AmazonEC2.currentRegionIndexUrl` names the region index; that maps each region code to
`currentVersionUrl`, a region offer file of several hundred MB:

    {"formatVersion": "v1.0", "publicationDate": "...",
     "products": {SKU: {"productFamily": "Compute Instance", "attributes": {"instanceType",
                  "vcpu", "memory": "488 GiB", "gpu", "operatingSystem", "tenancy",
                  "preInstalledSw", "capacitystatus", "regionCode", ...}}},
     "terms": {"OnDemand": {SKU: {TERM: {"priceDimensions": {RATE: {"unit": "Hrs",
                                          "pricePerUnit": {"USD": "24.4800000000"}}}}}}, ...}}

The file is streamed twice with ijson (products, then terms.OnDemand), keeping only the SKUs that
pass the filter, so memory stays bounded whatever the file size.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from tqdm import tqdm

from repro.pricing.catalog import Offer
from repro.pricing.sources import http
from repro.pricing.sources.common import Skips, parse_price
from repro.pricing.sources.streamjson import kvitems
from repro.pricing.urls import public_url

BASE_URL = "https://pricing.us-east-1.amazonaws.com/"
OFFERS_INDEX_PATH = "offers/v1.0/aws/index.json"
SERVICE = "AmazonEC2"

# What a Linux on-demand run is billed at: shared tenancy, no licensed software, a used (running)
# instance rather than a capacity reservation.
FILTER = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}
PRODUCT_FAMILIES = ("Compute Instance", "Compute Instance (bare metal)")

# The Price List gives a GPU count but not the model; the model per instance family is from
# https://aws.amazon.com/ec2/instance-types/ (accelerated computing), named as in SkyPilot's catalog.
AWS_GPU_MODELS = {
    "p2": "K80", "p3": "V100", "p3dn": "V100-32GB", "p4d": "A100", "p4de": "A100-80GB",
    "p5": "H100", "p5e": "H200", "p5en": "H200", "g3": "M60", "g3s": "M60", "g4dn": "T4",
    "g5": "A10G", "g6": "L4", "g6e": "L40S",
}


def gpu_model_for(instance_type: str) -> str | None:
    return AWS_GPU_MODELS.get(instance_type.split(".")[0])


def _number(text: object) -> Decimal | None:
    match = re.match(r"\s*([0-9.,]+)", str(text or ""))
    if not match:
        return None
    try:
        return Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        return None


def _keep(product: dict) -> bool:
    attrs = product.get("attributes") or {}
    if product.get("productFamily") not in PRODUCT_FAMILIES:
        return False
    if any(attrs.get(k) != v for k, v in FILTER.items()):
        return False
    return attrs.get("marketoption", "OnDemand") == "OnDemand"


def parse_offer_file(path: Path | BinaryIO, *, source: str, fetched_on: date, region: str | None = None,
                     quiet: bool = True, name: str | None = None) -> list[Offer]:
    """Offers from one AWS region offer file (a path or a seekable binary file), streamed."""
    name = name or (Path(path).name if isinstance(path, (str, Path)) else "AWS offer file")
    hardware: dict[str, tuple] = {}
    with tqdm(desc="AWS products", unit=" sku", disable=quiet, leave=False) as bar:
        for sku, product in kvitems(path, "products", name):
            bar.update()
            if not isinstance(product, dict) or not _keep(product):
                continue
            attrs = product["attributes"]
            vcpus = _number(attrs.get("vcpu"))
            gpus = _number(attrs.get("gpu")) or Decimal(0)
            instance = attrs.get("instanceType")
            if not instance or vcpus is None:
                continue
            hardware[sku] = (instance, attrs.get("regionCode") or region or "", int(vcpus),
                             _number(attrs.get("memory")), int(gpus))
    skips = Skips(f"AWS offer file {name}")
    offers: list[Offer] = []
    with tqdm(desc="AWS on-demand terms", unit=" sku", disable=quiet, leave=False) as bar:
        for sku, terms in kvitems(path, "terms.OnDemand", name):
            bar.update()
            if sku not in hardware or not isinstance(terms, dict):
                continue
            instance, region_code, vcpus, memory, gpus = hardware[sku]
            for term in terms.values():
                for dimension in (term.get("priceDimensions") or {}).values():
                    if dimension.get("unit") != "Hrs":
                        continue
                    price = parse_price((dimension.get("pricePerUnit") or {}).get("USD"),
                                        f"{instance} {region_code} (sku {sku})", skips)
                    if price is None:
                        continue
                    offers.append(Offer(
                        provider="aws", instance_type=instance, gpu_model=gpu_model_for(instance) if gpus else None,
                        gpu_count=gpus, vcpus=vcpus, memory_gib=memory, region=region_code,
                        market="on-demand", usd_per_hour=price.normalize(), source=source,
                        fetched_at=fetched_on, note="AWS Price List: Linux, shared tenancy, no pre-installed software"))
    skips.report()
    return offers


def _under_root(root: str, here: str, href: str) -> str:
    """Resolve an index link: absolute URLs as they are, "/offers/..." under the Price List root
    (so a mirror in a sub-folder works), anything else relative to the document that named it."""
    if urlsplit(href).scheme:
        return href
    if href.startswith("/"):
        return urljoin(root, href.lstrip("/"))
    return urljoin(here, href)


def region_index_url(root: str, timeout=http.DEFAULT_TIMEOUT_S) -> str:
    """The AmazonEC2 region index named by the Price List's service index."""
    index_url = urljoin(root, OFFERS_INDEX_PATH)
    index = http.get_json(index_url, timeout=timeout)
    offers = index.get("offers") if isinstance(index, dict) else None
    entry = offers.get(SERVICE) if isinstance(offers, dict) else None
    href = entry.get("currentRegionIndexUrl") if isinstance(entry, dict) else None
    if not isinstance(href, str) or not href:
        raise http.SourceError(f"{public_url(index_url)}: no offers.{SERVICE}.currentRegionIndexUrl; is "
                               f"--aws-url the Price List root (the folder that holds {OFFERS_INDEX_PATH})?")
    return _under_root(root, index_url, href)


def fetch(regions: tuple[str, ...] = ("us-east-1",), *, base_url: str = BASE_URL, quiet: bool = False,
          today: date | None = None, timeout: float | tuple[float, float] = http.DEFAULT_TIMEOUT_S) -> list[Offer]:
    """On-demand offers for `regions`: service index -> region index -> each region's offer file."""
    today = today or datetime.now(timezone.utc).date()
    root = base_url if base_url.endswith("/") else base_url + "/"
    index_url = region_index_url(root, timeout)
    index = http.get_json(index_url, timeout=timeout)
    known = (index or {}).get("regions") if isinstance(index, dict) else None
    if not isinstance(known, dict):
        raise http.SourceError(f"{public_url(index_url)}: no 'regions' object; is this an AWS region index?")
    offers: list[Offer] = []
    for region in regions:
        entry = known.get(region)
        if not isinstance(entry, dict) or not entry.get("currentVersionUrl"):
            raise http.SourceError(f"{public_url(index_url)}: region {region!r} not listed "
                                   f"(known: {', '.join(sorted(known)[:8])}, ...); check --region")
        url = _under_root(root, index_url, entry["currentVersionUrl"])
        with http.fetched_file(url, quiet=quiet, desc=f"AWS {region}", timeout=timeout) as fh:
            offers.extend(parse_offer_file(fh, source=public_url(url), fetched_on=today, region=region,
                                           quiet=quiet, name=public_url(url)))
    return offers
