"""Formatting of the numbers a leaderboard shows: durations, money, accuracy, hardware.

Pure functions of plain values, registered as Jinja filters by `repro.report.build`. Money arrives as
the Decimal strings that cost.json stores and is never turned into a float.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from markupsafe import escape


def duration(seconds: float | None) -> str:
    """`4.21 s`, `2 min 54 s`, `2 h 57 min 27 s` (the DAWNBench way of writing times)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min {secs} s"
    return f"{minutes} min {secs} s"


def to_decimal(value: str | Decimal | None) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}; cost.json stores USD as strings "
                         "such as \"0.0340\"") from None


def usd(value: str | Decimal | None) -> str:
    """Dollars: two decimals from $1 up, two significant digits below (a 4-second CPU run costs
    fractions of a cent, and `$0.00` would read as free)."""
    amount = to_decimal(value)
    if amount is None:
        return "—"
    if amount == 0:
        return "$0"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    places = -amount.adjusted() + 1
    return f"${amount.quantize(Decimal(1).scaleb(-places))}"


def percent(fraction: float | None, digits: int = 1) -> str:
    if fraction is None:
        return "—"
    return f"{fraction * 100:.{digits}f} %"


def hardware_label(hardware: dict | None) -> str:
    """`8 × V100` for GPU runs, `2 vCPU CPU` for CPU runs."""
    hardware = hardware or {}
    count = hardware.get("gpu_count") or 0
    if hardware.get("accelerator") == "cuda" or count:
        model = hardware.get("gpu_model") or hardware.get("gpu_name") or "GPU"
        return f"{max(count, 1)} × {model}"
    vcpus = hardware.get("vcpus")
    return f"{vcpus} vCPU CPU" if vcpus else "CPU"


def day(timestamp: str | None) -> str:
    """The UTC date of an ISO-8601 timestamp as written by repro.harness.store.iso."""
    return timestamp[:10] if timestamp else "—"


def safe_url(url: str | None) -> str | None:
    """A link target only when it is an absolute http(s) URL: a `javascript:` source in a run.json
    must not become a clickable script."""
    if not url or not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and parts.netloc:
        return url.strip()
    return None


_SPECIAL = re.compile(r"[&<>\"']")


def html_text(value) -> str:
    """str(value), HTML-escaped as Jinja's autoescape would (None → "None"), for table rows the
    report formats in Python; most values have nothing to escape and skip markupsafe's round trip."""
    text = value if type(value) is str else str(value)
    return str(escape(text)) if _SPECIAL.search(text) else text


FILTERS = {
    "duration": duration,
    "usd": usd,
    "percent": percent,
    "day": day,
    "safe_url": safe_url,
}
