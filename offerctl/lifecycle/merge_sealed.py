"""The merge driver for confidential offers (docs/privacy.md, "Concurrent edits").

Two branches that each changed encrypted values of one offer both rewrite ``sops.mac`` and
``sops.lastmodified``: the MAC covers every encrypted value, so neither side's MAC is right
for the merge. This module merges such files like any offer (``sync.merge_offer``: fields
per value, approvals and events as a union) with the two derived fields left out, then:

* the merged encrypted values are exactly one side's: that side's MAC and ``lastmodified``
  are kept (the usual case: one branch changed terms, the other appended approvals/events);
* they mix both sides' changes: with a key that reads the offer (found as every command
  finds it: ``OFFERCTL_AGE_KEY_FILE``, …) the MAC is recomputed over the merged values and
  ``lastmodified`` set to now; without one it is a conflict that says who can finish it;
* the same encrypted value changed on both branches: with a key, equal plaintexts are no
  conflict (ours is kept: fresh nonces make equal values differ as ciphertext); different
  ones are a conflict that names the field, never a value. Erasable values changed on both
  branches are a conflict too.

A merge never writes a file whose MAC does not match its values.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from offerctl.lifecycle import sync
from offerctl.privacy import document, values
from offerctl.privacy import keys as keymod

DERIVED = ("lastmodified", "mac")
"""``sops.*`` fields computed from the encrypted values: never merged as values."""


def is_encrypted(doc: Any) -> bool:
    return isinstance(doc, Mapping) and document.metadata(doc) is not None


def _without_derived(doc: Any) -> Any:
    if not isinstance(doc, Mapping) or not isinstance(doc.get(document.METADATA_KEY), Mapping):
        return doc
    out = dict(doc)
    out[document.METADATA_KEY] = {k: v for k, v in doc[document.METADATA_KEY].items() if k not in DERIVED}
    return out


def _tokens(doc: Any) -> dict[str, str]:
    """Every SOPS value of a stored offer's fields by dotted path (lists whole, as ``sync``
    merges them; approvals and events left out)."""
    flat = sync._flatten(doc) if isinstance(doc, Mapping) else {}
    return {
        path: value
        for path, value in flat.items()
        if not path.startswith(document.METADATA_KEY + ".") and values.is_sops_token(value)
    }


def _mac_input(doc: Any) -> list[str]:
    """Every SOPS value of a stored offer in document order, events included: what its MAC
    covers. Two documents with the same list have the same MAC."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key != document.METADATA_KEY:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif values.is_sops_token(node):
            out.append(node)

    walk(doc)
    return out


def _default_identities() -> tuple[keymod.Identity, ...]:
    try:
        return keymod.discover_identities(os.environ, Path.home(), sys.platform).identities
    except keymod.KeyProblem:
        return ()


def merge_encrypted(
    base: Any,
    ours: Mapping[str, Any],
    theirs: Mapping[str, Any],
    ours_text: str,
    *,
    identities: Callable[[], tuple[keymod.Identity, ...]] = _default_identities,
    now: Callable[[], str] | None = None,
) -> sync.MergeOutcome:
    base = base if isinstance(base, Mapping) else {}
    key_memo: list[bytes | None] = []

    def data_key() -> bytes | None:
        if not key_memo:
            found = identities()
            key_memo.append(document.data_key_of(ours, found) if found else None)
        return key_memo[0]

    b, o, t = (_without_derived(d) for d in (base, ours, theirs))
    # The same SOPS value changed on both sides: equal plaintexts (read with a key) are one change.
    flat_b, flat_o, flat_t = sync._flatten(b), sync._flatten(o), sync._flatten(t)
    t = copy.deepcopy(t)
    both: list[str] = []
    for path, o_value in flat_o.items():
        t_value, b_value = flat_t.get(path), flat_b.get(path)
        if not (values.is_sops_token(o_value) and values.is_sops_token(t_value)):
            continue
        if o_value == t_value or b_value in (o_value, t_value):
            continue
        key = data_key()
        aad = values.sops_path(path.split("."))
        try:
            same = key is not None and sync._same(
                values.decrypt_sops(o_value, key, aad), values.decrypt_sops(str(t_value), key, aad)
            )
        except values.CipherProblem:
            same = False
        if same:
            _set(t, path, o_value)
        else:
            both.append(path)
    outcome = sync._merge_plain(b, o, t, ours_text)
    if not outcome.clean or outcome.text is None:
        hint = (
            "each branch changed it; the values are encrypted, so open both versions with a reader's key "
            "(`git show :2:FILE`, `:3:FILE` then `offerctl show`), keep one, and re-apply the other with "
            "`offerctl revise`"
        )
        conflicts = [
            f"{c.split(':', 1)[0]}: an encrypted value changed on both branches ({hint})"
            if c.split(":", 1)[0] in both or _is_token_conflict(c)
            else c
            for c in outcome.conflicts
        ]
        return sync.MergeOutcome(False, tuple(conflicts), None)
    from offerctl.store import yamlio

    merged = yamlio.load(outcome.text.encode("utf-8"))
    assert isinstance(merged, Mapping)
    merged_tokens = _mac_input(merged)
    for side in (ours, theirs):
        if merged_tokens == _mac_input(side):
            meta = document.metadata(side) or {}
            sets = {f"{document.METADATA_KEY}.{k}": meta[k] for k in DERIVED if k in meta}
            return sync.MergeOutcome(True, (), _set_text(outcome.text, sets))
    changed_ours = _changed(base, ours)
    changed_theirs = _changed(base, theirs)
    key = data_key()
    if key is None:
        return sync.MergeOutcome(
            False,
            (
                "sops.mac: both branches changed encrypted values "
                f"(ours: {', '.join(changed_ours) or '-'}; theirs: {', '.join(changed_theirs) or '-'}); "
                "the merged file needs a new MAC, which only a reader of the offer can compute: "
                "abort (`git merge --abort`) and merge again with your key "
                "(OFFERCTL_AGE_KEY_FILE=… git merge …), or keep one side's version and "
                "re-apply the other side's change with `offerctl revise`",
            ),
            None,
        )
    from offerctl.core.clock import utc_now

    try:
        lastmodified, mac = document.recompute_mac(merged, key, (now or utc_now)())
    except values.CipherProblem as exc:
        return sync.MergeOutcome(
            False, (f"sops: the merged encrypted values do not open with the offer's key ({exc})",), None
        )
    sets = {f"{document.METADATA_KEY}.lastmodified": lastmodified, f"{document.METADATA_KEY}.mac": mac}
    return sync.MergeOutcome(True, (), _set_text(outcome.text, sets))


def _changed(base: Any, side: Any) -> list[str]:
    before = _tokens(base)
    fields = sorted(p for p, v in _tokens(side).items() if before.get(p) != v)
    for name in sync.APPEND_ONLY:
        old = [yamlio_key(i) for i in (base.get(name) or [])] if isinstance(base, Mapping) else []
        if any(yamlio_key(i) not in old and _mac_input(i) for i in side.get(name) or []):
            fields.append(f"{name} (new lines with encrypted values)")
    return fields


def yamlio_key(item: Any) -> str:
    from offerctl.store import yamlio

    return yamlio.line_key(item)


def _is_token_conflict(conflict: str) -> bool:
    return "ENC[AES256_GCM," in conflict or "ENC[OFFERCTL_ERASABLE," in conflict


def _set(doc: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = doc
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _set_text(text: str, sets: Mapping[str, Any]) -> str:
    from offerctl.store import yamlio

    doc = yamlio.RoundTrip().load(text)
    for path, value in sets.items():
        yamlio.set_in(doc, path, yamlio.round_trip_value(value))
    return str(yamlio.RoundTrip().dump(doc))
