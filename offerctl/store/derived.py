"""Values derived from one offer file, cached by the file's content id.

``status`` and ``inbox`` route every open offer on every run (CEL rules, approval digests,
business-day counts: ~0.4 ms an offer, plus loading the policy set and the holiday
calendars); the result changes only when the offer file, the policy, ``offerctl.yaml``,
offerctl itself or the date changes. A ``DerivedCache`` keeps one JSON value per offer file
under the same cache class, directory and atomic write as ``check``'s
(``offerctl.store.cache``), keyed by

* the file's content id (``git.content_ids``: the index for unmodified tracked files, a
  hash of the bytes otherwise — so hand edits, checkouts and pulls are seen), and
* a fingerprint of everything else: offerctl's version and source, ``offerctl.yaml``,
  ``policies/``, ``letter_templates/``, the ``holidays`` package, the date (``as_of``) and a
  format number the caller bumps when the value's shape changes;
* for a value that read other offers too (routing whose rules read the budget ledger),
  every offer file's path and content id (``put(..., every_offer=True)``).

The caller decides what may be cached: nothing read with a decryption key (the values
would be plaintext at rest) and nothing that read git history.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from offerctl.store.repo import Repo


def _holidays_key() -> str:
    """Where the ``holidays`` package lives and when it was written (an upgrade changes the
    calendars) — without importing it (~0.1 s)."""
    from importlib.util import find_spec

    spec = find_spec("holidays")
    origin = spec.origin if spec is not None else None
    try:
        stat = os.stat(origin) if origin else None
    except OSError:
        stat = None
    return f"holidays={origin}:{stat.st_size if stat else '-'}:{stat.st_mtime_ns if stat else '-'}"


def _listing(ids: Mapping[str, str]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for rel in sorted(ids):
        digest.update(f"{rel}\0{ids[rel]}\n".encode())
    return digest.hexdigest()


class DerivedCache:
    """``rel -> JSON value`` for one kind of derived value, valid for one fingerprint."""

    def __init__(self, repo: Repo, kind: str, as_of: str, version: int, ids: Mapping[str, str]) -> None:
        """``ids``: every offer file's content id; read at the first ``get`` or ``put``, so
        it may be filled after construction (``summaries.load(content_ids=...)``)."""
        self.ids = ids
        self._repo = repo
        self._key = (kind, as_of, version)
        self._cache: Any = None
        self._opened = False
        self._every: str | None = None

    def _open(self) -> Any:
        if self._opened:
            return self._cache
        self._opened = True
        repo, (kind, as_of, version) = self._repo, self._key
        if not self.ids or repo.policy_root is not None:  # no content ids, or policy read elsewhere
            return None
        from offerctl.core.errors import GitError
        from offerctl.store import git
        from offerctl.store.cache import CACHE_DIR, CheckCache, cache_file, fingerprint

        try:
            location = cache_file(git.git_path(repo.root, CACHE_DIR), repo.root, kind)
        except GitError:
            return None
        if location is None:
            return None
        extra = [f"{kind}={version}", _holidays_key()]
        self._cache = CheckCache(location, fingerprint(repo.root, as_of, [], extra))
        return self._cache

    def get(self, rel: str) -> Any:
        """The value stored for ``rel`` at its current content, or None."""
        content = self.ids.get(rel)
        cache = self._open() if content is not None else None
        if cache is None:
            return None
        summary = cache.raw_summary(rel, content)
        if type(summary) is not dict:
            return None
        every = summary.get("offers")
        if every is not None and every != self._listing():
            return None  # it read other offers, and one of them changed
        from offerctl.store.cache import decode

        try:
            return decode(summary.get("value"))  # Decimals come back as Decimals
        except (TypeError, ValueError, ArithmeticError):
            return None

    def _listing(self) -> str:
        if self._every is None:
            self._every = _listing(self.ids)
        return self._every

    def put(self, rel: str, value: Any, *, every_offer: bool = False) -> None:
        """Store ``value`` for ``rel`` at its current content; ``every_offer``: the value
        also depends on every other offer file (valid until any of them changes)."""
        content = self.ids.get(rel)
        cache = self._open() if content is not None else None
        if cache is None:
            return
        from offerctl.store.cache import FileResult

        summary = {"value": value, "offers": self._listing() if every_offer else None}
        cache.put(rel, content, FileResult((), summary))

    def save(self, keep: Iterable[str]) -> None:
        """Forget files not in ``keep`` and write (atomically; a failure is not an error)."""
        if self._cache is not None:
            self._cache.prune(keep)
            self._cache.save()
