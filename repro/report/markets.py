"""The three markets a board prices in, as the fast.ai DAWNBench post compared them: the cheapest
spot offer, the cheapest on-demand offer of a cloud, and Paperspace (on-demand; it sells no spot).

Pricing gives one cost per provider × market ("aws spot", "paperspace on-demand", …); a market
column shows the cheapest of the costs that belong to it, and names the provider and instance.
"""
from __future__ import annotations

from decimal import Decimal

from repro.pricing.money import to_decimal

MARKETS = ("spot", "on-demand", "paperspace")
LABELS = {"spot": "Spot", "on-demand": "On-demand", "paperspace": "Paperspace"}


def amount_of(usd) -> Decimal:
    """A cost's USD as a Decimal: the strings pricing and the report write parse directly (a
    leaderboard holds thousands), anything else goes through to_decimal's checks."""
    if type(usd) is str:
        try:
            return Decimal(usd)
        except ArithmeticError:
            pass
    return to_decimal(usd)


def market_of(key: str) -> str | None:
    """The board market of a pricing key "provider market"; None for one no column shows."""
    provider, _, market = key.partition(" ")
    if provider == "paperspace":
        return "paperspace" if market == "on-demand" else None
    return market if market in ("spot", "on-demand") else None


def cheapest(costs: dict[str, dict]) -> dict[str, dict]:
    """market → {"usd", "key", "instance_type"} of the cheapest cost in it.

    `costs` maps a pricing key to at least {"usd": Decimal string, "instance_type"}."""
    best: dict[str, tuple[Decimal, str, dict]] = {}
    for key, cost in costs.items():
        market = market_of(key)
        if market is None or cost.get("usd") is None:
            continue
        amount = amount_of(cost["usd"])
        if market not in best or (amount, key) < best[market][:2]:
            best[market] = (amount, key, cost)
    return {market: {"usd": cost["usd"], "key": key, "instance_type": cost.get("instance_type")}
            for market, (_, key, cost) in best.items()}


def missing_reasons(no_offer: dict[str, str], priced: dict[str, dict]) -> dict[str, str]:
    """market → why it has no cost, from pricing's reasons per provider × market (joined when
    several providers had none), for the markets `priced` lacks."""
    reasons: dict[str, list[str]] = {}
    for key, reason in sorted(no_offer.items()):
        market = market_of(key)
        if market is not None and market not in priced and reason:
            reasons.setdefault(market, []).append(reason)
    return {market: "; ".join(texts) for market, texts in reasons.items()}
