"""Changing one offer file: reading it once, editing it, writing and committing it.

``OfferEdit.open`` finds the file (once), reads its bytes (once) and gives both the
validated data (``offer``, what a command decides on) and ruamel's round-trip tree of the
same text (``doc``, what the change is made to, keeping comments and layout). ``save``
validates the result with the same reader and schema `check` uses, writes atomically and
commits as the actor with trailers. A change whose result would not validate is refused
before anything is written, and ``write_and_commit`` — the one rollback — puts the file back
when the commit fails, so a refused command leaves the repository exactly as it was.

The command-level path (load → decide → edit → validate → commit → push) is
``offerctl.lifecycle.change``; this module is its storage half.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from offerctl.core.errors import InputError
from offerctl.core.model import Finding, Offer, Severity
from offerctl.store import git, loader, yamlio
from offerctl.store.repo import Repo


@dataclass
class OfferEdit:
    """An offer file opened for editing: ``document`` is the file as read (data and
    findings), ``doc`` ruamel's round-trip tree of the same text (built on first use)."""

    repo: Repo
    path: Path
    original: str
    document: loader.Document
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    readers: dict[str, list[str]] = field(default_factory=dict)
    """Extra readers of a confidential offer (email -> why), e.g. the approvers routing asks."""

    @classmethod
    def open(cls, repo: Repo, offer_id: str) -> OfferEdit:
        """Find the offer by id and read it (see ``open_path``)."""
        return cls.open_path(repo, loader.find_offer_path(repo, offer_id))

    @classmethod
    def open_path(cls, repo: Repo, path: Path) -> OfferEdit:
        """Read the file once. A file that cannot be parsed at all (YAML syntax, encoding,
        limits) is refused here with its line; schema problems are kept in ``problems``
        (``require_valid`` refuses on them)."""
        rel = repo.rel(path)
        try:
            raw = yamlio.read_capped(path)
        except OSError as exc:
            raise InputError(f"cannot read the offer file: {exc.strerror}", path=rel) from None
        document = loader.read_document("offer", rel, raw)
        if document.data is None:
            first = document.findings[0]
            raise InputError(first.message, path=rel, line=first.line, hint="fix the file, then retry")
        return cls(repo, path, raw.decode("utf-8"), document)

    @property
    def rel(self) -> str:
        return self.repo.rel(self.path)

    @cached_property
    def offer(self) -> Offer:
        """The offer as it is on disk now (the fast reader's values, as `check` sees them),
        opened with the user's keys where they can: a confidential value no key opens stays
        a marker that refuses computation (``offerctl.store.privacy.open_offer``)."""
        from offerctl.store.privacy import open_offer

        opened: Offer = open_offer(self.repo, self.rel, self.document.data)
        return opened

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.document.findings if f.severity == Severity.ERROR]

    def require_valid(self) -> None:
        """Refuse a file that does not validate: commands decide only on valid offers."""
        errors = self.problems
        if errors:
            first = errors[0]
            more = (
                f" (and {len(errors) - 1} more; run `offerctl check {self.rel}`)" if len(errors) > 1 else ""
            )
            raise InputError(
                first.message + more, path=self.rel, line=first.line, hint="fix the file, then retry"
            )

    @cached_property
    def doc(self) -> Any:
        return yamlio.RoundTrip().load(self.original)

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
        seq.append(yamlio.flow_line(item))

    def set(self, dotted: str, value: Any) -> tuple[Any, Any]:
        """Set a field (creating parent mappings); returns (old, new) as plain values."""
        old = yamlio.set_in(self.doc, dotted, yamlio.round_trip_value(value))
        self.changes.append((dotted, yamlio.plain(old), yamlio.plain(value)))
        return yamlio.plain(old), yamlio.plain(value)

    def delete(self, dotted: str) -> Any:
        old = yamlio.plain(yamlio.delete_in(self.doc, dotted))
        if old is not None:
            self.changes.append((dotted, old, None))
        return old

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
        return write_and_commit(
            self.repo,
            self.path,
            text,
            original=self.original,
            subject=subject,
            author=author,
            trailers=trailers,
            body=body,
            commit=commit,
        )


def write_and_commit(
    repo: Repo,
    path: Path,
    text: str,
    *,
    original: str | None,
    subject: str,
    author: git.Identity,
    trailers: Mapping[str, str],
    body: str = "",
    commit: bool = True,
) -> str | None:
    """Write ``text`` to ``path`` atomically and commit only that file as ``author``; with
    ``commit=False`` stage it instead. Returns the commit id (None when staged).

    The one rollback: when the commit fails (a hook, a held ``index.lock``, an interrupt),
    the file is put back as it was (``original``; None: the file was new and is removed) and
    unstaged — unless the commit landed after all (HEAD moved), when the change stays."""
    rel = repo.rel(path)
    before = git.head(repo.root) if commit else None
    # A hard link to the old version: undoing is then a rename, which needs no free space —
    # on a full disk, rewriting the old text could fail just like the commit did.
    undo: Path | None = None
    if original is not None:
        link = path.with_name(f".{path.name}.offerctl-undo")
        try:
            link.unlink(missing_ok=True)
            os.link(path, link)
            undo = link
        except OSError:
            undo = None
    try:
        yamlio.atomic_write(path, text)
        if not commit:
            git.add(repo.root, [rel])
            return None
        return git.commit(repo.root, [rel], subject, author=author, body=body, trailers=trailers)
    except BaseException:
        # Keep the promise "a refused command leaves the repository as it was".
        if not commit or git.head(repo.root) == before:
            if original is None:
                path.unlink(missing_ok=True)
            elif undo is not None:
                # (when the write itself failed, the path still is the old file: nothing to do)
                if not path.exists() or not os.path.samefile(undo, path):
                    os.replace(undo, path)
            else:
                yamlio.atomic_write(path, original)
            git.run(["reset", "-q", "--", rel], repo.root, check=False)
        raise
    finally:
        if undo is not None:
            undo.unlink(missing_ok=True)
