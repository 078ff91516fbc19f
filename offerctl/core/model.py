"""Immutable values shared by every part of the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found in the repository. Collected, never raised."""

    path: str
    line: int | None
    code: str
    message: str
    severity: Severity = Severity.ERROR
    offer: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "offer": self.offer,
            "path": self.path,
            "line": self.line,
            "message": self.message,
        }

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.code)


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    NEGOTIATING = "negotiating"
    ACCEPTED = "accepted"
    STARTED = "started"
    DECLINED = "declined"
    RENEGED = "reneged"
    RESCINDED = "rescinded"
    EXPIRED = "expired"


OPEN_STATUSES = frozenset(
    {Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED, Status.SENT, Status.NEGOTIATING}
)
CLOSED_STATUSES = frozenset(set(Status) - OPEN_STATUSES - {Status.ACCEPTED})
"""Statuses after which an offer file is immutable (accepted may still become reneged/started)."""

# Statuses in which the offer's terms must be fully and freshly approved.
APPROVED_STATUSES = frozenset({Status.APPROVED, Status.SENT, Status.ACCEPTED, Status.STARTED})


class Unreadable:
    """A value the loader could not decrypt (``offerctl.privacy.values.Sealed``): it prints
    as a marker; ``refuse()`` raises the exit-2 error naming who can read it. Core code that
    needs a number (``to_decimal``) refuses instead of treating it as missing."""

    def refuse(self) -> Exception:
        raise NotImplementedError


class Secret(str):
    """Key material a reader's data carries for offerctl's own use (the approval-digest root
    of a confidential offer): usable as text in code, never printed in output."""

    def __repr__(self) -> str:
        return "Secret(\u2039redacted\u203a)"


def unreadable_in(value: Any) -> Unreadable | None:
    """The first unreadable value inside ``value`` (None when everything is readable)."""
    if isinstance(value, Unreadable):
        return value
    if isinstance(value, Mapping):
        for child in value.values():
            found = unreadable_in(child)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for child in value:
            found = unreadable_in(child)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class Offer:
    """An offer as loaded from its file: the plain data plus where it came from.

    ``data`` is the parsed document (dicts, lists, str, int, Decimal, bool, None).
    Dates are ISO strings; money is int or Decimal, never float.
    """

    path: str
    data: Mapping[str, Any]
    blob: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        value = self.data.get("id")
        return value if isinstance(value, str) else ""

    @property
    def status(self) -> str:
        value = self.data.get("status")
        return value if isinstance(value, str) else ""

    def get(self, dotted: str, default: Any = None) -> Any:
        return get_path(self.data, dotted, default)

    # Confidential subtrees: the loader opens encrypted offers in one place
    # (offerctl.store.privacy.open_offer); a value no key opened is an ``Unreadable``.
    def candidate(self) -> Mapping[str, Any]:
        value = self.data.get("candidate")
        return value if isinstance(value, Mapping) else {}

    def compensation(self) -> Mapping[str, Any]:
        value = self.data.get("compensation")
        return value if isinstance(value, Mapping) else {}


_MISSING = object()


def get_path(data: Any, dotted: str, default: Any = None) -> Any:
    """Read ``a.b.c`` (list items by index: ``a.0.b``) from nested mappings."""
    node: Any = data
    for part in dotted.split("."):
        if type(node) is dict or isinstance(node, Mapping):  # dict first: the ABC check is slow
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
        if node is _MISSING:
            return default
    return node


def records(data: Any, key: str) -> list[Mapping[str, Any]]:
    """The mapping items of the list ``data[key]`` (``approvals``, ``events``): for readers
    of unvalidated data (reports, history, CI), where a hand-edited ``events: 5`` or a
    stray scalar item must be skipped, not iterated."""
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, list):
        return []
    return [item for item in value if type(item) is dict or isinstance(item, Mapping)]


def set_path(
    data: dict[str, Any], dotted: str, value: Any, *, mapping: Callable[[], dict[str, Any]] = dict
) -> Any:
    """Set ``a.b.c`` in nested dicts, creating missing (or non-mapping) parents with
    ``mapping()`` (``yamlio.set_in`` passes ruamel's ``CommentedMap``); returns the value it
    replaced (None when there was none). The one dotted-path setter."""
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = mapping()
            node[part] = child
        node = child
    old = node.get(parts[-1])
    node[parts[-1]] = value
    return old


def to_decimal(value: Any) -> Decimal | None:
    """Money and percentages as Decimal; None for anything that is not a number. An
    encrypted value nobody could decrypt is not "missing": it raises (exit 2)."""
    if isinstance(value, Unreadable):
        raise value.refuse()
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    return None


def to_jsonable(value: Any) -> Any:
    """Data for JSON output: Decimal becomes int when whole, else its exact string; an
    unreadable (encrypted) value becomes its marker text."""
    if isinstance(value, Unreadable):
        return str(value)
    if isinstance(value, Secret):
        return "\u2039redacted\u203a"
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value
