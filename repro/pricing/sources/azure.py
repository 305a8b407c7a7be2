"""Azure on-demand and spot prices from the public Retail Prices API (no credentials needed).

Format (https://learn.microsoft.com/en-us/rest/api/cost-management/retail-prices/azure-retail-prices):
`GET https://prices.azure.com/api/retail/prices?$filter=...` answers

    {"BillingCurrency": "USD", "Items": [{"retailPrice": 3.06, "unitOfMeasure": "1 Hour",
      "armRegionName": "eastus", "armSkuName": "Standard_NC6s_v3", "skuName": "NC6s v3 Spot",
      "productName": "Virtual Machines NCSv3 Series", "type": "Consumption", ...}],
     "NextPageLink": "https://prices.azure.com/api/retail/prices?...&$skip=100", "Count": 100}

and pages through `NextPageLink` until it is null. The link is absolute in the API's answers and
relative in some proxies' (`/api/retail/prices?...&$skip=100`, `?$skip=100`): both are resolved
against the page that gave it, and a link seen twice is an error rather than a loop. Spot SKUs are the ones whose skuName ends in
"Spot"; Windows and Low Priority meters are left out. The API gives no hardware, so only the sizes
in `AZURE_SIZES` (from the Azure VM size pages) are priced.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from urllib.parse import urlencode, urljoin

from repro.pricing.catalog import Offer
from repro.pricing.sources import http
from repro.pricing.sources.common import Skips, parse_price
from repro.pricing.urls import public_url

BASE_URL = "https://prices.azure.com/api/retail/prices"
SIZES_SOURCE = "https://learn.microsoft.com/en-us/azure/virtual-machines/sizes/overview"
MAX_PAGES = 200

# armSkuName -> (gpu_model, gpu_count, vcpus, memory_gib)
AZURE_SIZES: dict[str, tuple[str | None, int, int, int]] = {
    "Standard_D2s_v5": (None, 0, 2, 8), "Standard_D4s_v5": (None, 0, 4, 16),
    "Standard_D8s_v5": (None, 0, 8, 32), "Standard_D16s_v5": (None, 0, 16, 64),
    "Standard_F2s_v2": (None, 0, 2, 4), "Standard_F4s_v2": (None, 0, 4, 8),
    "Standard_F8s_v2": (None, 0, 8, 16), "Standard_F16s_v2": (None, 0, 16, 32),
    "Standard_NC6s_v3": ("V100", 1, 6, 112), "Standard_NC12s_v3": ("V100", 2, 12, 224),
    "Standard_NC24s_v3": ("V100", 4, 24, 448), "Standard_ND40rs_v2": ("V100-32GB", 8, 40, 672),
    "Standard_NC4as_T4_v3": ("T4", 1, 4, 28), "Standard_NC8as_T4_v3": ("T4", 1, 8, 56),
    "Standard_NC16as_T4_v3": ("T4", 1, 16, 110), "Standard_NC64as_T4_v3": ("T4", 4, 64, 440),
    "Standard_NC24ads_A100_v4": ("A100-80GB", 1, 24, 220), "Standard_NC48ads_A100_v4": ("A100-80GB", 2, 48, 440),
    "Standard_NC96ads_A100_v4": ("A100-80GB", 4, 96, 880), "Standard_ND96asr_v4": ("A100", 8, 96, 900),
    "Standard_ND96amsr_A100_v4": ("A100-80GB", 8, 96, 1900), "Standard_ND96isr_H100_v5": ("H100", 8, 96, 1900),
}


def default_filter(region: str) -> str:
    skus = " or ".join(f"armSkuName eq '{sku}'" for sku in AZURE_SIZES)
    return (f"serviceName eq 'Virtual Machines' and priceType eq 'Consumption' "
            f"and armRegionName eq '{region}' and ({skus})")


def offers_from_items(items: list[dict], *, source: str, today: date, skips: Skips) -> list[Offer]:
    offers = []
    for item in items:
        sku, sku_name = item.get("armSkuName", ""), item.get("skuName", "")
        if sku not in AZURE_SIZES or item.get("type", "Consumption") != "Consumption":
            continue
        if item.get("unitOfMeasure") != "1 Hour" or "Windows" in item.get("productName", ""):
            continue
        if "Low Priority" in sku_name or item.get("currencyCode", "USD") != "USD":
            continue
        price = parse_price(item.get("retailPrice"), f"{sku} {item.get('armRegionName')} {sku_name!r}", skips)
        if price is None:
            continue
        gpu_model, gpus, vcpus, memory = AZURE_SIZES[sku]
        spot = sku_name.endswith("Spot")
        offers.append(Offer(
            provider="azure", instance_type=sku, gpu_model=gpu_model, gpu_count=gpus, vcpus=vcpus,
            memory_gib=Decimal(memory), region=item.get("armRegionName", ""),
            market="spot" if spot else "on-demand", usd_per_hour=price.normalize(), source=source,
            fetched_at=today, note=f"Azure Retail Prices API, Linux, meter {sku_name!r}; sizes: {SIZES_SOURCE}"))
    return offers


def _pages(first_url: str, timeout) -> list[dict]:
    pages, seen, url = [], set(), first_url
    while url:
        if url in seen:
            raise http.SourceError(f"{public_url(url)}: NextPageLink repeats a page already read; the API is looping")
        if len(seen) >= MAX_PAGES:
            raise http.SourceError(f"{public_url(first_url)}: more than {MAX_PAGES} pages; narrow the filter")
        seen.add(url)
        body = http.get_json(url, timeout=timeout)
        if not isinstance(body, dict) or not isinstance(body.get("Items"), list):
            raise http.SourceError(f"{public_url(url)}: no 'Items' list; is this the Azure Retail Prices API?")
        pages.append(body)
        link = body.get("NextPageLink")
        if link is not None and not isinstance(link, str):
            raise http.SourceError(f"{public_url(url)}: NextPageLink is {type(link).__name__}, not a URL")
        url = urljoin(url, link) if link else None
    return pages


def fetch(regions: tuple[str, ...] = ("eastus",), *, base_url: str = BASE_URL, today: date | None = None,
          timeout=http.DEFAULT_TIMEOUT_S, quiet: bool = True) -> list[Offer]:
    today = today or datetime.now(timezone.utc).date()
    offers: list[Offer] = []
    skips = Skips("Azure Retail Prices API")
    source = public_url(base_url)
    for region in regions:
        joiner = "&" if "?" in base_url else "?"
        first = f"{base_url}{joiner}{urlencode({'$filter': default_filter(region)})}"
        for body in _pages(first, timeout):
            offers.extend(offers_from_items(body["Items"], source=source, today=today, skips=skips))
    skips.report()
    return offers
