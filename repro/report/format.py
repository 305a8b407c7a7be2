"""Formatting of the values a page shows: durations, accuracy, dates, links, escaped text.

Pure functions of plain values; FILTERS registers them with Jinja (repro.report.environment). Money
and hardware have one formatter each for the whole project, repro.pricing.money.format_usd and
repro.harness.hardware.label, which the pages use too.
"""
from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from markupsafe import escape

from repro.pricing.money import format_usd


def duration(seconds: float | None) -> str:
    """`4.21 s`, `2 min 54 s`, `2 h 57 min 27 s` (the DAWNBench way of writing times)."""
    if seconds is None or not math.isfinite(seconds):   # NaN / Infinity from a damaged record
        return "—"
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min {secs} s"
    return f"{minutes} min {secs} s"


def hms(seconds: float | None) -> str:
    """`0:00:03.95`, `0:02:54`, `2:57:27`: DAWNBench's h:mm:ss, with hundredths under a minute,
    where whole seconds would make most recent CIFAR-10 results tie."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 59.995:
        return f"0:00:{seconds:05.2f}"
    hours, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def usd_rate(value) -> str:
    """An hourly rate with every digit it has (`$0.0326`, `$24.48`): what the offer charged."""
    return format_usd(value, exact=True)


def percent(fraction: float | None, digits: int = 1) -> str:
    if fraction is None:
        return "—"
    return f"{fraction * 100:.{digits}f} %"


def day(timestamp: str | None) -> str:
    """The UTC date of an ISO-8601 timestamp as written by repro.harness.store.iso."""
    return timestamp[:10] if timestamp else "—"


def safe_url(url: str | None) -> str | None:
    """A link target only when it is an absolute http(s) URL: a `javascript:` source in a run.json
    must not become a clickable script."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:   # "http://[oops": not a URL urlsplit can take apart, so no link
        return None
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
    "hms": hms,
    "usd": format_usd,
    "usd_rate": usd_rate,
    "percent": percent,
    "day": day,
    "safe_url": safe_url,
}
