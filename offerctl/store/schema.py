"""JSON Schemas (Draft 2020-12) shipped as package data, and schema errors as findings."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, localcontext
from importlib import resources
from typing import TYPE_CHECKING, Any

from offerctl.core.model import Finding, Severity, to_jsonable

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

SCHEMA_NAMES = ("offer", "routing", "bands", "approvers", "config", "budgets")

# Values under these subtrees are confidential: messages name the field, never the value.
_CONFIDENTIAL = ("candidate", "compensation")

# The schemas' patterns for text: one line (anything printed in a header, a table cell or
# a subject line: names, titles, cities) and free text (notes, comments, addresses).
ONE_LINE = "^[^\\x00-\\x1f\\x7f\\u0085\\u2028\\u2029]*$"
MULTI_LINE = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"


@functools.cache
def schema_text(name: str) -> str:
    if name not in SCHEMA_NAMES:
        raise KeyError(name)
    return resources.files("offerctl.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")


@functools.cache
def schema(name: str) -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = json.loads(schema_text(name))
    return loaded


@functools.cache
def validator(name: str) -> Validator:
    from jsonschema import Draft202012Validator, validators

    # ``multipleOf`` decided in exact decimal arithmetic: the stock keyword divides a
    # Decimal by the schema's float (TypeError) and cannot say "at most 2 decimals" exactly.
    exact = validators.extend(Draft202012Validator, {"multipleOf": _multiple_of})  # type: ignore[no-untyped-call]
    checker: Validator = exact(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return checker


def _multiple_of(validator: Any, step: Any, instance: Any, _schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "number"):
        return
    if not is_multiple(instance, step):
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


def is_multiple(value: int | float | Decimal, step: int | float | Decimal) -> bool:
    """``value`` is a whole multiple of ``step``, decided exactly (``0.07`` of ``0.01``:
    yes; ``12.345``: no). NaN and infinities are not; amounts beyond 10^40 count as
    multiples (the range keywords reject those, with a clearer message)."""
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        unit = Decimal(str(step))
        if not number.is_finite() or unit <= 0:
            return False
        if number.adjusted() > 40:
            return True
        with localcontext(prec=100):
            return bool(number % unit == 0)
    except ArithmeticError:  # pragma: no cover - prec 100 divides anything below 10^41
        return False


@functools.cache
def fast_validator(name: str) -> Any:
    """A jsonschema-rs validator for the schema (formats checked), or None if unavailable."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a declared dependency; python jsonschema still decides
        return None
    return jsonschema_rs.Draft202012Validator(dict(schema(name)), validate_formats=True)


def _integral(number: Decimal) -> bool:
    return not number.is_finite() or number == number.to_integral_value()


def _integral_decimal(data: Any) -> bool:
    """True when ``data`` holds a Decimal with an integral value (``5.0``, ``1e3``).

    jsonschema-rs counts those as integers; python jsonschema does not (a Decimal is a
    number, never an integer). For such files the fast verdict is not trusted.
    """
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, Decimal) and (_integral(node) or not _plain(node)):
            return True
    return False


def _plain(number: Decimal) -> bool:
    """A decimal the fast validator judges exactly like python does: finite, below 10^15,
    at most 4 places (jsonschema-rs may compare and divide as binary floats)."""
    exponent = number.as_tuple().exponent
    return isinstance(exponent, int) and number.adjusted() < 15 and exponent >= -4


def surely_valid(name: str, data: Any, decimals: Sequence[Decimal] | None = None) -> bool:
    """True only when the fast validator proves ``data`` valid under schema ``name``.

    False means "not proven": python jsonschema then decides and explains (it is the
    reference; the fast validator only skips it for the many files that are valid).
    Decimals are passed as they are (jsonschema-rs compares them exactly); files holding
    an integral Decimal are left to python jsonschema, whose ``integer`` differs.
    ``decimals``: every Decimal in ``data`` when the reader tracked them (saves a walk).
    """
    validator = fast_validator(name)
    if validator is None:
        return False
    if decimals is None:
        if _integral_decimal(data):
            return False
    elif any(_integral(d) or not _plain(d) for d in decimals):
        return False
    try:
        return bool(validator.is_valid(data))
    except (ValueError, TypeError, OverflowError):  # a value it cannot represent
        return False


def subschema(name: str, path: Sequence[str]) -> Mapping[str, Any] | None:
    """The schema of one field (``role.location.country``), for validating a single answer."""
    node: Mapping[str, Any] = schema(name)
    for part in path:
        props = node.get("properties")
        if not isinstance(props, Mapping) or part not in props:
            return None
        node = props[part]
    return node


def field_names(name: str, path: Sequence[str] = ()) -> list[str]:
    node = subschema(name, path) if path else schema(name)
    props = node.get("properties", {}) if node else {}
    return list(props)


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(document)"


def _describe_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float) or type(value).__name__ == "Decimal":
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty (null)"
    return type(value).__name__


_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


def _any(value: object) -> Any:
    """jsonschema's stubs type error attributes as ``X | Unset``; they are set on real errors."""
    return value


def explain_all(error: ValidationError) -> list[tuple[str, str, list[str | int]]]:
    """Like ``explain``, but one entry per missing field of a ``required`` error."""
    if error.validator == "required" and isinstance(error.instance, dict):
        path: list[str | int] = list(error.absolute_path)
        return [
            ("S103", f"missing required field '{_dotted([*path, field])}'; add it", [*path, field])
            for field in _any(error.validator_value)
            if field not in error.instance
        ]
    return [explain(error)]


def explain(error: ValidationError) -> tuple[str, str, list[str | int]]:
    """(code, message, path to point at) for one jsonschema error."""
    path: list[str | int] = list(error.absolute_path)
    where = _dotted(path)
    confidential = bool(path) and path[0] in _CONFIDENTIAL
    shown = "" if confidential else f" (got {json.dumps(to_jsonable(error.instance))[:60]})"
    keyword = str(error.validator)
    value: Any = error.validator_value
    if keyword == "required":
        missing = [p for p in value if isinstance(error.instance, dict) and p not in error.instance]
        field = missing[0] if missing else "?"
        return (
            "S103",
            f"missing required field '{_dotted([*path, field])}'; add it",
            path,
        )
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(_any(error.schema).get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        extra = extras[0] if extras else "?"
        close = difflib.get_close_matches(str(extra), allowed, n=1)
        suggestion = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
        return ("S102", f"unknown field '{_dotted([*path, extra])}'{suggestion}", [*path, extra])
    if keyword == "type":
        wanted = value if isinstance(value, list) else [value]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        got = _describe_type(error.instance)
        hint = ""
        if isinstance(error.instance, str) and error.instance[:1] == "0" and error.instance.isdigit():
            hint = "; remove the leading zero (YAML 1.2 does not read it as a number)"
        elif isinstance(error.instance, str) and "number" in wanted:
            hint = "; write digits only, without currency symbols or thousands separators"
        return ("S104", f"'{where}' must be {words}, not {got}{hint}", path)
    if keyword == "enum":
        options = ", ".join(str(v) for v in value)
        return ("S105", f"'{where}' must be one of: {options}{shown}", path)
    if keyword == "const":
        return ("S105", f"'{where}' must be {json.dumps(value)}{shown}", path)
    if keyword == "format":
        formats = {
            "date": "a date as YYYY-MM-DD that exists",
            "date-time": "a UTC timestamp like 2026-11-20T17:02:11Z",
            "email": "an email address",
        }
        return ("S105", f"'{where}' must be {formats.get(str(value), str(value))}{shown}", path)
    if keyword == "pattern":
        explain_pattern = _PATTERN_WORDS.get(str(value), f"match {value}")
        return ("S105", f"'{where}' must be {explain_pattern}{shown}", path)
    if keyword in {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}:
        op = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<"}[keyword]
        bound = f"{value:,}" if isinstance(value, int) and abs(value) >= 10**6 else str(value)
        return ("S105", f"'{where}' must be {op} {bound}{shown}", path)
    if keyword == "multipleOf":
        exponent = Decimal(str(value)).as_tuple().exponent
        places = -exponent if isinstance(exponent, int) else 0
        if places > 0:  # S106: the code `check` has always used for sub-cent amounts
            return ("S106", f"'{where}' must have at most {places} decimal place(s){shown}", path)
        return ("S105", f"'{where}' must be a multiple of {value}{shown}", path)
    if keyword in {"minLength", "minItems"}:
        return ("S105", f"'{where}' must not be empty", path)
    if keyword in {"maxLength", "maxItems"}:
        return ("S105", f"'{where}' is too long (at most {value})", path)
    if keyword == "uniqueItems":
        return ("S105", f"'{where}' lists the same item twice", path)
    if keyword in {"oneOf", "anyOf"} and error.context:
        from jsonschema.exceptions import best_match

        return explain(best_match(error.context))
    if keyword == "propertyNames":
        return ("S105", f"'{where}' has a key that is not allowed: {error.message}", path)
    return (
        "S101",
        f"'{where}': {error.message if not confidential else keyword + ' failed'}",
        path,
    )


_PATTERN_WORDS = {
    "^[A-Z]{2}$": "a two-letter ISO 3166-1 country code in capitals (US, DE, NO)",
    "^[A-Z]{3}$": "a three-letter ISO 4217 currency code (USD, EUR)",
    r"^[A-Z0-9]{1,3}$": "an ISO 3166-2 subdivision code without the country (CA, NY, BE)",
    r"^\d{4}-\d{2}-\d{2}$": "a date as YYYY-MM-DD",
    "Z$": "a UTC timestamp ending in Z",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "an email address",
    r"^[a-z0-9][a-z0-9_.-]*$": "a lower-case identifier (letters, digits, _ . -)",
    r"^sha256:[0-9a-f]{64}$": "'sha256:' followed by 64 hex digits",
    r"^[0-9a-f]{64}$": "64 hex digits (a sha256)",
    r"^[A-Z]+-[0-9]+$": "a requisition like REQ-1234",
    ONE_LINE: "one line of text without control characters (no line breaks or tabs)",
    MULTI_LINE: "text without control characters (line breaks and tabs are allowed)",
}


def iter_findings(
    name: str,
    data: Any,
    path: str,
    text: str | None,
    offer: str | None = None,
    decimals: Sequence[Decimal] | None = None,
    *,
    sealed: Callable[[Sequence[str | int]], bool] | None = None,
) -> Iterator[Finding]:
    """Every schema violation of ``data`` as a finding with a line number.

    jsonschema-rs proves most files valid in microseconds; python jsonschema (the
    reference, which explains errors) runs only on the others (``surely_valid``).
    ``sealed(path)``: True for a value that is encrypted (a confidential offer read without
    its key): violations there are not reported — the ciphertext is not the value.
    """
    from offerctl.store import yamlio

    if surely_valid(name, data, decimals):
        return

    errors = sorted(validator(name).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if sealed is not None:
        errors = [e for e in errors if not sealed(list(e.absolute_path))]
    seen: set[tuple[str, str, tuple[str | int, ...]]] = set()
    for error in errors:
        for code, message, point in explain_all(error):
            key = (code, message if code == "S103" else "", tuple(point))
            if key in seen:  # e.g. `format` and `pattern` both rejecting one timestamp
                continue
            seen.add(key)
            line = yamlio.line_of(text, point) if text is not None else None
            yield Finding(path, line, code, message, Severity.ERROR, offer)
