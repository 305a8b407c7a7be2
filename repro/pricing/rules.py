"""Provider billing rules: how a session's seconds turn into billed seconds, and seconds into USD.

A rule is an increment (bill in whole multiples of it) and a minimum (bill at least this much),
each with the public page that states it. Money is Decimal throughout; seconds may be float.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

USD_QUANTUM = Decimal("0.000001")  # a millionth of a dollar: a 4 s CPU run must not print $0
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class BillingRule:
    provider: str
    increment_s: int
    minimum_s: int
    description: str
    source: str

    def billed_seconds(self, session_s: float) -> int:
        """Seconds the provider charges for a session of `session_s` seconds."""
        if session_s is None or not math.isfinite(session_s) or session_s < 0:
            raise ValueError(f"session length must be a finite number of seconds >= 0, got {session_s!r}")
        increments = math.ceil(round(session_s, 6) / self.increment_s)
        return max(self.minimum_s, increments * self.increment_s)


RULES: dict[str, BillingRule] = {
    "aws": BillingRule(
        provider="aws", increment_s=1, minimum_s=60,
        description="per-second, 60 s minimum (Linux on-demand and spot)",
        source="https://aws.amazon.com/ec2/pricing/on-demand/",
    ),
    "paperspace": BillingRule(
        provider="paperspace", increment_s=1, minimum_s=0,
        description="per-second, advertised hourly, no minimum stated",
        source="https://www.paperspace.com/pricing",
    ),
    "azure": BillingRule(
        provider="azure", increment_s=1, minimum_s=0,
        description="per-second for Linux virtual machines",
        source="https://azure.microsoft.com/en-us/pricing/details/virtual-machines/linux/",
    ),
    "gcp": BillingRule(
        provider="gcp", increment_s=1, minimum_s=60,
        description="per-second, 1 minute minimum",
        source="https://cloud.google.com/compute/vm-instance-pricing",
    ),
}


def rule_for(provider: str) -> BillingRule | None:
    return RULES.get(provider.lower())


def usd_for_seconds(usd_per_hour: Decimal, seconds: float | int) -> Decimal:
    """Cost of `seconds` at an hourly rate, rounded half-up to a millionth of a dollar."""
    if not isinstance(usd_per_hour, Decimal):
        raise TypeError("usd_per_hour must be a Decimal")
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be finite and >= 0, got {seconds!r}")
    return (usd_per_hour * Decimal(repr(float(seconds))) / SECONDS_PER_HOUR).quantize(
        USD_QUANTUM, rounding=ROUND_HALF_UP)
