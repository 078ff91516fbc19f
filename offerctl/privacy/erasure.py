"""Erasure and retention, as values: what ``offerctl erase`` changes in an offer file, when a
closed offer is due for erasure, and which covered fields changed between two stored
versions without needing any key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from offerctl.privacy import document, values
from offerctl.privacy.config import PrivacyConfig

ERASE_ACTION = "erase"
"""``Offer-Action`` of an erasure commit: history verification accepts the change it makes."""
REKEY_ACTION = "rekey"
"""``Offer-Action`` of a ``rekey`` commit (re-encryption without a change of any value)."""


def erase_values(raw: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``raw`` with every erasable value replaced by ``ERASED``; and the dotted paths erased.
    Plaintext left in an erasable field (written before privacy was enabled) is replaced too."""
    erased: list[str] = []

    def walk(node: Any, pos: tuple[str, ...]) -> Any:
        if isinstance(node, Mapping):
            return {str(k): walk(v, (*pos, str(k))) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*pos, str(i))) for i, v in enumerate(node)]
        if values.is_erasable_token(node):
            erased.append(".".join(pos))
            return values.ERASED
        return node

    return walk(raw, ()), tuple(erased)


def erase_plain_fields(
    raw: Mapping[str, Any], config: PrivacyConfig
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Like ``erase_values`` and also for erasable *paths* still holding plaintext (an offer
    written before privacy was enabled): the current file then holds no personal data, but
    its history does (``erase`` says so)."""
    out, erased = erase_values(raw)
    found = list(erased)
    layout = config.layout()

    def walk(node: Any, keys: tuple[str, ...], pos: tuple[str, ...]) -> Any:
        if isinstance(node, Mapping):
            return {str(k): walk(v, (*keys, str(k)), (*pos, str(k))) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, keys, (*pos, str(i))) for i, v in enumerate(node)]
        if layout.tier(keys) == "erasable" and node is not None and node != values.ERASED:
            found.append(".".join(pos))
            return values.ERASED
        return node

    return walk(out, (), ()), tuple(dict.fromkeys(found))


def closed_on(raw: Mapping[str, Any]) -> dt.date | None:
    """The day an offer reached its current (closed) status: its newest event of that type."""
    status = raw.get("status")
    for event in reversed(raw.get("events") or []):
        if isinstance(event, Mapping) and (event.get("type") == status or event.get("to") == status):
            at = event.get("at")
            if isinstance(at, str) and len(at) >= 10:
                try:
                    return dt.date.fromisoformat(at[:10])
                except ValueError:
                    return None
    return None


def retention_due(raw: Mapping[str, Any], config: PrivacyConfig) -> dt.date | None:
    """When a closed offer's erasable data is due for erasure (None: no period applies, or
    nothing left to erase)."""
    status = raw.get("status")
    if not isinstance(status, str) or status not in config.retention_days:
        return None
    if not any(True for _ in _erasable_left(raw, config)):
        return None
    closed = closed_on(raw)
    return None if closed is None else config.retention_due(status, closed)


def _erasable_left(raw: Mapping[str, Any], config: PrivacyConfig) -> Iterable[str]:
    layout = config.layout()

    def walk(node: Any, keys: tuple[str, ...]) -> Iterable[str]:
        if isinstance(node, Mapping):
            for k, v in node.items():
                yield from walk(v, (*keys, str(k)))
        elif isinstance(node, list):
            for v in node:
                yield from walk(v, keys)
        elif values.is_erasable_token(node) or (
            layout.tier(keys) == "erasable" and node is not None and node != values.ERASED
        ):
            yield ".".join(keys)

    return walk(raw, ())


def covered_ciphertext_changes(
    approved: Mapping[str, Any], current: Mapping[str, Any], covers: Iterable[str]
) -> list[str]:
    """Covered paths whose *stored* value differs between the approved version and now —
    decidable without a key because unchanged values keep their ciphertext. An erasure
    (token -> ``ERASED``) is not a change of the approved terms."""
    changed: list[str] = []
    for path in sorted(set(covers)):
        before, after = document.tokens_at(approved, path), document.tokens_at(current, path)
        if _strip_erased(before, after) != _strip_erased(after, after):
            changed.append(path)
    return changed


def _strip_erased(value: Any, reference: Any) -> Any:
    if isinstance(value, Mapping):
        ref = reference if isinstance(reference, Mapping) else {}
        return {k: _strip_erased(v, ref.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        ref_list = reference if isinstance(reference, list) else []
        return [_strip_erased(v, ref_list[i] if i < len(ref_list) else None) for i, v in enumerate(value)]
    if reference == values.ERASED:
        return values.ERASED
    return value
