"""Money as people read it: the one USD formatter of the terminal, the HTML report and the exports.

Amounts are Decimal (or the Decimal strings cost.json stores) and never pass through a float.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_decimal(value: str | Decimal | int | None) -> Decimal | None:
    """A Decimal from what a file holds; None for nothing; ValueError for anything not a finite amount."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        raise ValueError(f"not a decimal amount: {value!r}; cost.json stores USD as strings such as \"0.0340\"")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}; cost.json stores USD as strings "
                         "such as \"0.0340\"") from None
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount


def format_usd(value: str | Decimal | int | None, *, exact: bool = False) -> str:
    """`$72.40` from a cent up (`$1,234.50` with a thousands separator); below a cent two significant
    digits (`$0.0054`), so a 4-second CPU run never reads as `$0.00`; `$0` only for zero; `—` for none.
    `exact` writes every digit the amount has, at least to the cent (hourly rates: `$0.0326`, `$2.30`)."""
    amount = to_decimal(value)
    if amount is None:
        return "—"
    if amount == 0:
        return "$0"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if exact:
        digits = max(2, -amount.normalize().as_tuple().exponent)
        return f"{sign}${amount.quantize(Decimal(1).scaleb(-digits)):,}"
    if amount >= CENT:
        return f"{sign}${amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"
    rounded = amount.quantize(Decimal(1).scaleb(amount.adjusted() - 1), rounding=ROUND_HALF_UP)
    if rounded >= CENT:   # 0.00999 rounds up to a whole cent
        return f"{sign}${rounded.quantize(CENT)}"
    return f"{sign}${rounded:f}"
