"""Cell rules: primary suppression, rounding of counts and rates from rounded figures.

Pure functions on one value (or one numerator and denominator) and a
:class:`~tasks.privacy.disclosure.policy.Policy`; docs/methods.md section 5.
Decimal arithmetic, so no float artefact decides a rounding.  They never look
at a table: complementary suppression is :mod:`tasks.privacy.disclosure.secondary`.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from tasks.privacy.disclosure.policy import Policy


def is_missing(x: Any) -> bool:
    """None or NaN: a cell with no value (shown empty, never suppressed)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def round_count(x: float | int | None, base: int = 5, mode: str = "half_up") -> int | None:
    """Round to the nearest multiple of ``base``.

    ``half_up`` sends exact halves away from zero (12.5 -> 15, 17.5 -> 20);
    ``half_even`` is banker's rounding of the multiple (12.5 -> 10, 17.5 -> 20).
    Integers never tie for base 5.  Decimal arithmetic avoids float artefacts.
    """
    if is_missing(x):
        return None
    q = Decimal(str(x)) / Decimal(base)
    rounding = ROUND_HALF_UP if mode == "half_up" else ROUND_HALF_EVEN
    return int(q.quantize(Decimal(1), rounding=rounding)) * base


def is_primary(x: float | int | None, policy: Policy) -> bool:
    """A count that must be suppressed on its own (1..7 by default; 0 is shown)."""
    if is_missing(x):
        return False
    return policy.suppress_min <= abs(float(x)) <= policy.suppress_max or (
        0 < abs(float(x)) < policy.suppress_min
    )


def publish_count(x: float | int | None, suppressed: bool, policy: Policy) -> str | None:
    """The text a published count cell shows: '*', a rounded integer, or None (missing)."""
    if is_missing(x):
        return None
    if suppressed:
        return policy.symbol
    return str(round_count(x, policy.round_to, policy.rounding))


def round_rate(x: float | None, decimals: int) -> float | None:
    if is_missing(x):
        return None
    return float(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def publish_rate(
    numerator: float | None,
    denominator: float | None,
    num_suppressed: bool,
    den_suppressed: bool,
    policy: Policy,
) -> float | None:
    """A rate computed from the rounded figures, or None when it must be withheld."""
    if is_missing(numerator) or is_missing(denominator) or num_suppressed or den_suppressed:
        return None
    rn = round_count(numerator, policy.round_to, policy.rounding)
    rd = round_count(denominator, policy.round_to, policy.rounding)
    if rd is None or rd <= 0 or rd < policy.min_denominator:
        return None
    return round_rate(rn / rd, policy.rate_decimals)

