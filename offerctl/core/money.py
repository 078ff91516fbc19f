"""Money: Decimal amounts formatted with Babel for a locale (imported lazily)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from offerctl.core.model import to_decimal


def format_money(amount: Any, currency: str, locale: Any = "en_US", *, cents: bool = False) -> str:
    """``$185,000`` (en_US) or ``185.000 €`` (de_DE); exact, from a Decimal, never a float.
    ``locale``: a name or a parsed ``babel.Locale``."""
    value = to_decimal(amount)
    if value is None:
        return str(amount)
    from babel.numbers import format_currency

    whole = value == value.to_integral_value()
    fmt_digits = cents or not whole
    formatted: str = format_currency(
        value,
        currency,
        locale=locale,
        currency_digits=fmt_digits,
        format=None if fmt_digits else _no_decimals_pattern(locale),
    )
    return formatted


def _no_decimals_pattern(locale: Any) -> str:
    from babel import Locale

    pattern: str = Locale.parse(locale).currency_formats["standard"].pattern
    # Drop the fraction part of the locale's own pattern ("¤#,##0.00" -> "¤#,##0").
    return pattern.replace(".00", "").replace(",00", "")


def percent(value: Any) -> str:
    number = to_decimal(value)
    return f"{number.normalize():f}%" if number is not None else str(value)


ZERO = Decimal(0)
