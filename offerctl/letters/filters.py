"""Jinja filters for letters: money, dates, numbers, percentages and spelled-out durations.

Every filter formats for the letter's locale (``letter.locale`` in the template context) with
Babel, imported lazily. A filter given nothing to format raises ``FilterProblem`` instead of
printing a blank: a letter must never show an empty space where a number belongs.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from offerctl.core.model import to_decimal


class FilterProblem(Exception):
    """A filter could not format its input; the message says why (and the renderer adds where)."""

    def __init__(self, message: str, code: str = "L412") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _letter(context: Any) -> Mapping[str, Any]:
    letter = context.get("letter")
    return letter if isinstance(letter, Mapping) else {}


def _locale(context: Any) -> str:
    return str(_letter(context).get("locale") or "en_US")


@functools.lru_cache(maxsize=64)
def babel_locale(name: str) -> Any:
    """``babel.Locale.parse(name)``, parsed once per process (Babel's format functions take
    the parsed locale as is; parsing the string again cost ~4 % of a cold ``check``)."""
    from babel import Locale

    return Locale.parse(name)


def _number(value: Any, what: str) -> Decimal:
    number = to_decimal(value)
    if number is None:
        # The value itself is not echoed: it may be compensation data, and check runs in CI logs.
        shown = "nothing (the field is empty)" if value is None else f"a {type(value).__name__}"
        raise FilterProblem(f"{what} needs a number but got {shown}; guard optional fields with {{% if … %}}")
    return number


def money(context: Any, amount: Any, currency: str | None = None, cents: bool = True) -> str:
    """``{{ compensation.base_salary | money }}`` → ``$185,000.00`` / ``185.000,00 €``."""
    from offerctl.core.money import format_money

    number = _number(amount, "money")
    code = currency or _letter(context).get("currency")
    if not isinstance(code, str) or not is_known_currency(code):
        raise FilterProblem(f"money: {code!r} is not a currency Babel knows (ISO 4217)", "L409")
    return format_money(number, code, babel_locale(_locale(context)), cents=cents)


@functools.lru_cache(maxsize=512)
def is_known_currency(code: str) -> bool:
    from babel.numbers import is_currency

    return bool(is_currency(code))


def number(context: Any, value: Any) -> str:
    """``{{ compensation.equity.units | number }}`` → ``2,500`` / ``2.500``."""
    from babel.numbers import format_decimal

    return str(format_decimal(_number(value, "number"), locale=babel_locale(_locale(context))))


def percent(context: Any, value: Any) -> str:
    """``{{ compensation.bonus_target_pct | percent }}`` (10 means 10 %) → ``10%`` / ``10 %``."""
    from babel.numbers import format_percent

    return str(format_percent(_number(value, "percent") / 100, locale=babel_locale(_locale(context))))


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    shown = "nothing (the field is empty)" if value is None else repr(value)
    raise FilterProblem(f"date needs an ISO date (YYYY-MM-DD) but got {shown}")


def date(context: Any, value: Any, format: str = "long") -> str:
    """``{{ start_date | date }}`` → ``January 11, 2027`` / ``11. Januar 2027``."""
    from babel.dates import format_date

    return str(format_date(_as_date(value), format=format, locale=babel_locale(_locale(context))))


_UNITS = {"y": "year", "m": "month", "w": "week", "d": "day"}
_UNIT_NAMES = {
    "year": "year",
    "years": "year",
    "month": "month",
    "months": "month",
    "week": "week",
    "weeks": "week",
    "day": "day",
    "days": "day",
}
_ISO = re.compile(r"^P(\d+)([YMWD])$", re.I)
_SHORT = re.compile(r"^(\d+)\s*([ymwd])$", re.I)
# German needs the article for "one" (ein Jahr, eine Woche); num2words gives "eins".
_ONE = {"de": {"year": "ein", "month": "ein", "week": "eine", "day": "ein"}}
SPELL_UP_TO = 12


def parse_duration(value: Any, unit: str | None = None) -> tuple[int, str]:
    """``P6M``, ``6m``, ``4y`` or a number with ``unit`` → (count, unit)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if unit is None or unit.lower() not in _UNIT_NAMES:
            raise FilterProblem(f"duration of {value}: say the unit, e.g. {{{{ 6 | duration('months') }}}}")
        return value, _UNIT_NAMES[unit.lower()]
    if isinstance(value, str):
        match = _ISO.match(value.strip()) or _SHORT.match(value.strip())
        if match:
            return int(match.group(1)), _UNITS[match.group(2).lower()]
    shown = "nothing (the field is empty)" if value is None else repr(value)
    raise FilterProblem(f"duration needs e.g. 'P6M', '6m' or '4y', got {shown}")


@functools.lru_cache(maxsize=1024)
def spell_duration(count: int, unit: str, locale: str) -> str:
    """``six months`` / ``sechs Monate``: numbers up to twelve are written out (a pure
    function of its arguments, so remembered per process: letters repeat a few durations)."""
    from babel.numbers import format_decimal
    from babel.units import format_unit

    text = str(format_unit(count, f"duration-{unit}", length="long", locale=babel_locale(locale)))
    if count > SPELL_UP_TO:
        return text
    language = locale.split("_")[0]
    word = _ONE.get(language, {}).get(unit) if count == 1 else None
    if word is None:
        from num2words import num2words

        try:
            word = str(num2words(count, lang=language))
        except NotImplementedError:
            return text
    digits = str(format_decimal(count, locale=babel_locale(locale)))
    return text.replace(digits, word, 1)


def duration(context: Any, value: Any, unit: str | None = None) -> str:
    """``{{ 'P6M' | duration }}`` → ``six months`` / ``sechs Monate``."""
    count, name = parse_duration(value, unit)
    return spell_duration(count, name, _locale(context))


def vesting(value: Any) -> Mapping[str, str | None]:
    """``'4y-1y-cliff'`` → ``{'total': 'P4Y', 'cliff': 'P1Y'}`` (for ``duration``)."""
    if not isinstance(value, str):
        raise FilterProblem(f"vesting needs a schedule like '4y-1y-cliff', got {value!r}")
    match = re.match(r"^(\d+)([ymwd])(?:-(\d+)([ymwd])-cliff)?$", value.strip(), re.I)
    if not match:
        raise FilterProblem(f"vesting schedule {value!r} is not like '4y-1y-cliff' or '4y'")
    total = f"P{match.group(1)}{match.group(2).upper()}"
    cliff = f"P{match.group(3)}{match.group(4).upper()}" if match.group(3) else None
    return {"total": total, "cliff": cliff}


def words(context: Any, value: Any) -> str:
    """``{{ 3 | words }}`` → ``three`` / ``drei``."""
    from num2words import num2words

    count = _number(value, "words")
    try:
        return str(num2words(count, lang=_locale(context).split("_")[0]))
    except NotImplementedError:
        return str(count)


def context_filters() -> dict[str, Callable[..., Any]]:
    """Filters that need the locale: registered with ``jinja2.pass_context``."""
    return {
        "money": money,
        "number": number,
        "percent": percent,
        "date": date,
        "duration": duration,
        "words": words,
    }


def plain_filters() -> dict[str, Callable[..., Any]]:
    return {"vesting": vesting}
