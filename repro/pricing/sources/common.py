"""What every source shares: reading a price string safely, and reporting what was skipped."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

SHOWN_SKIPS = 10  # individual warnings per source; the rest are counted in one summary line


class PriceSkipped(UserWarning):
    """A published price was missing, blank, zero, N/A or negative and was left out."""


@dataclass
class Skips:
    """Collects skipped prices of one source; `report()` warns about them (a few lines, then a count)."""
    source: str
    items: list[str] = field(default_factory=list)

    def add(self, where: str, raw: object, why: str) -> None:
        self.items.append(f"{where}: {why} ({raw!r})")

    def report(self) -> None:
        for item in self.items[:SHOWN_SKIPS]:
            warnings.warn(f"{self.source}: skipped price at {item}", PriceSkipped, stacklevel=2)
        if len(self.items) > SHOWN_SKIPS:
            warnings.warn(f"{self.source}: skipped {len(self.items) - SHOWN_SKIPS} more prices "
                          f"(missing, zero, N/A or negative)", PriceSkipped, stacklevel=2)


def parse_price(raw: object, where: str, skips: Skips) -> Decimal | None:
    """A positive Decimal, or None (recorded in `skips`) for missing, blank, "N/A", zero or negative.

    Floats from JSON APIs are converted through `repr` so 3.06 stays 3.06, not 3.0600000000000000532.
    """
    if raw is None:
        skips.add(where, raw, "missing")
        return None
    text = repr(raw) if isinstance(raw, float) else str(raw).strip()
    if not text or text.upper().rstrip("*") in ("N/A", "NA", "NONE", "NULL", "-"):
        skips.add(where, raw, "no price")
        return None
    try:
        price = Decimal(text.lstrip("$"))
    except InvalidOperation:
        skips.add(where, raw, "not a number")
        return None
    if not price.is_finite() or price <= 0:
        skips.add(where, raw, "zero or negative" if price.is_finite() else "not finite")
        return None
    return price
