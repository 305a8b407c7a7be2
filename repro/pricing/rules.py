"""Provider billing rules: how a session's seconds turn into billed seconds, and seconds into USD.

A rule is an increment (bill in whole multiples of it) and a minimum (bill at least this much),
each with the public page that states it and the day it was read. A rule no page states is
`verified=False`, and every cost it touches says so. Money is Decimal throughout; seconds may be
float. Each resumed segment of a run is a separate session on the provider's bill, so each pays
its own minimum (`billed_seconds_for_segments`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

USD_QUANTUM = Decimal("0.000001")  # a millionth of a dollar: a 4 s CPU run must not print $0
SECONDS_PER_HOUR = Decimal(3600)
READ_ON = date(2026, 11, 29)


@dataclass(frozen=True)
class BillingRule:
    provider: str
    increment_s: int
    minimum_s: int
    description: str
    source: str
    read_on: date = READ_ON
    verified: bool = True

    def billed_seconds(self, session_s: float) -> int:
        """Seconds the provider charges for one session of `session_s` seconds."""
        if session_s is None or not math.isfinite(session_s) or session_s < 0:
            raise ValueError(f"session length must be a finite number of seconds >= 0, got {session_s!r}")
        increments = math.ceil(round(session_s, 6) / self.increment_s)
        return max(self.minimum_s, increments * self.increment_s)

    def billed_seconds_for_segments(self, sessions_s: Iterable[float]) -> int:
        """A resumed run is several sessions: each one is billed, minimum included."""
        return sum(self.billed_seconds(s) for s in sessions_s)

    @property
    def caveat(self) -> str | None:
        if self.verified:
            return None
        return (f"{self.provider} billing rule unverified ({self.description}); no public page states the "
                f"increment, checked {self.read_on.isoformat()} at {self.source}")


RULES: dict[str, BillingRule] = {
    "aws": BillingRule(
        provider="aws", increment_s=1, minimum_s=60,
        description="per-second, 60 s minimum (Linux on-demand, reserved and spot)",
        source="https://aws.amazon.com/about-aws/whats-new/2017/10/announcing-amazon-ec2-per-second-billing/",
    ),
    "gcp": BillingRule(
        provider="gcp", increment_s=1, minimum_s=60,
        description="per-second after a 1 minute minimum (vCPUs, GPUs and memory; spot VMs alike)",
        source="https://cloud.google.com/compute/vm-instance-pricing",
    ),
    "azure": BillingRule(
        provider="azure", increment_s=1, minimum_s=0,
        description="per-second for Linux virtual machines (pay-as-you-go and spot)",
        source="https://azure.microsoft.com/en-us/pricing/details/virtual-machines/linux/",
    ),
    "lambda": BillingRule(
        provider="lambda", increment_s=60, minimum_s=60,
        description="hourly prices billed in one-minute increments (On-Demand Cloud)",
        source="https://docs.lambda.ai/public-cloud/billing",
    ),
    "paperspace": BillingRule(
        provider="paperspace", increment_s=1, minimum_s=0,
        description="per-second assumed; Paperspace publishes hourly rates only",
        source="https://support.paperspace.com/hc/en-us/articles/360057895553-Virtual-Machine-Billing-Overview",
        verified=False,
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
