"""Changing one offer file: the shared path of every mutating command.

read (round trip) → change → validate the result with the same reader and schema `check`
uses → atomic write → git commit as the actor, with trailers. A change whose result would
not validate is refused before anything is written, so a refused command leaves the
repository exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offerctl.core.errors import InputError
from offerctl.core.model import Offer, Severity, get_path
from offerctl.store import git, loader, yamlio
from offerctl.store.repo import Repo

_MISSING = object()


@dataclass
class OfferEdit:
    """An offer file opened for editing. ``doc`` is ruamel's round-trip tree."""

    repo: Repo
    path: Path
    original: str
    doc: Any
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    readers: dict[str, list[str]] = field(default_factory=dict)
    """Extra readers of a confidential offer (email -> why), e.g. the approvers routing asks."""

    @classmethod
    def open(cls, repo: Repo, offer_id: str) -> OfferEdit:
        path = loader.find_offer_path(repo, offer_id)
        text = path.read_text("utf-8")
        return cls(repo, path, text, yamlio.RoundTrip().load(text))

    @property
    def rel(self) -> str:
        return self.repo.rel(self.path)

    def append(self, key: str, item: Mapping[str, Any]) -> None:
        """Append one line (a flow mapping) to ``approvals`` or ``events``."""
        from ruamel.yaml.comments import CommentedSeq

        seq = self.doc.get(key)
        if seq is None:
            seq = CommentedSeq()
            self.doc[key] = seq
        elif not isinstance(seq, list):
            raise InputError(f"'{key}' must be a list", path=self.rel)
        if len(seq) == 0 and getattr(seq, "fa", None) is not None and seq.fa.flow_style():
            # `approvals: []` becomes a block list so that each entry is one line.
            seq.fa.set_block_style()
        seq.append(yamlio.flow_map(dict(item)))

    def set(self, dotted: str, value: Any) -> tuple[Any, Any]:
        """Set a field (creating parent mappings); returns (old, new) as plain values."""
        from ruamel.yaml.comments import CommentedMap

        parts = dotted.split(".")
        node = self.doc
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = CommentedMap()
                node[part] = child
            node = child
        old = node.get(parts[-1], None)
        node[parts[-1]] = value
        self.changes.append((dotted, _plain(old), _plain(value)))
        return _plain(old), _plain(value)

    def delete(self, dotted: str) -> Any:
        parts = dotted.split(".")
        parent = get_path(self.doc, ".".join(parts[:-1])) if len(parts) > 1 else self.doc
        if isinstance(parent, dict) and parts[-1] in parent:
            old = parent.pop(parts[-1])
            self.changes.append((dotted, _plain(old), None))
            return _plain(old)
        return None

    def text(self) -> str:
        """The file to write. A confidential offer is sealed here — the one write path —
        reusing every unchanged ciphertext (``offerctl.store.privacy.seal_into``)."""
        from offerctl.store.privacy import seal_into

        seal_into(self.repo, self.offer_id, self.doc, self.original, self.readers)
        return yamlio.RoundTrip().dump(self.doc)

    @property
    def offer_id(self) -> str:
        value = self.doc.get("id") if isinstance(self.doc, Mapping) else None
        return str(value) if value else self.path.stem

    def validated(self) -> tuple[str, Offer]:
        """The new text and the offer it reads as; refuses a result that would not validate."""
        text = self.text()
        doc = loader.read_document("offer", self.rel, text.encode("utf-8"))
        errors = [f for f in doc.findings if f.severity == Severity.ERROR]
        if doc.data is None or errors:
            first = errors[0]
            raise InputError(
                f"the change would make the offer invalid: {first.message}",
                path=self.rel,
                line=first.line,
                hint="nothing was written",
            )
        from offerctl.store.privacy import open_offer

        return text, open_offer(self.repo, self.rel, doc.data)

    def save(
        self,
        subject: str,
        *,
        author: git.Identity,
        trailers: Mapping[str, str],
        body: str = "",
        commit: bool = True,
    ) -> str | None:
        """Write atomically and commit only this file; returns the commit id (None with
        ``commit=False``, when the change is left staged)."""
        text, _ = self.validated()
        yamlio.atomic_write(self.path, text)
        if not commit:
            git.add(self.repo.root, [self.rel])
            return None
        try:
            return git.commit(
                self.repo.root, [self.rel], subject, author=author, body=body, trailers=trailers
            )
        except Exception:
            # Keep the promise "a refused command leaves the repository as it was".
            yamlio.atomic_write(self.path, self.original)
            git.run(["reset", "-q", "--", self.rel], self.repo.root, check=False)
            raise


def _plain(value: Any) -> Any:
    """ruamel's round-trip values as plain Python values (for events and digests)."""
    import datetime as dt
    from decimal import Decimal

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
