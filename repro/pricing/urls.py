"""Price-source URLs as they are stored and shown: secrets stripped, and a short label for tables."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def public_url(url: str) -> str:
    """A URL as it may be stored and printed: no user:password@, no query string or fragment (where
    tokens live). Paths and hosts stay, so the source can still be found."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


_SKYPILOT_BLOB = re.compile(r"github\.com/skypilot-org/skypilot-catalog/blob/([0-9a-f]{7,40})/catalogs/(v\d+)/([^/]+)/")
_GITHUB_BLOB = re.compile(r"github\.com/([^/]+)/([^/]+)/blob/([0-9a-f]{7,40})/")


def source_label(url: str) -> str:
    """A short name for a price source, for tables (`skypilot@9602371:aws`); the full URL stays in
    cost.json and `--json` output."""
    hit = _SKYPILOT_BLOB.search(url)
    if hit:
        return f"skypilot@{hit.group(1)[:7]}:{hit.group(3)}"
    hit = _GITHUB_BLOB.search(url)
    if hit:
        return f"{hit.group(2)}@{hit.group(3)[:7]}"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "file":
        return f"file:{Path(parts.path).name}"
    if host.startswith("pricing.") and host.endswith("amazonaws.com"):
        return "aws-price-list"
    if "spot" in host and ("amazonaws.com" in host or "a2z.com" in host):
        return "aws-spot-feed"
    if host.startswith("ec2.") and "DescribeSpotPriceHistory" in url:
        return "aws-ec2-api"
    if host == "prices.azure.com":
        return "azure-retail-api"
    return host or url[:24]
