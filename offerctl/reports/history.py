"""Offer history from git, mined in one pass over commit trailers.

Every commit offerctl makes carries ``Offer-Id``, ``Offer-Action`` and (for approvals)
``Offer-Role`` trailers, so one metadata-only ``git log`` reads the whole audit trail:
about 1 s for 58k commits, against ~30 s to learn the same from tree diffs (docs/design.md,
Measurements).
Only commits *without* trailers (hand edits) get their changed paths listed, in one further
``git log --no-walk --stdin --name-only`` over just those commits; merges are skipped.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from offerctl.core import clock
from offerctl.store import git
from offerctl.store.repo import OFFERS_DIR, Repo

_FIELD = "\x00"
_RECORD = "\x1e"
# One field for all trailers: git parses a commit's trailer block once for ``trailers:only``
# but once per key for ``trailers:key=…`` (measured: 0.25 s less per 60k commits).
_FORMAT = "%H%x00%ae%x00%at%x00%(trailers:only,unfold)"
_KEYS = {"offer-id": 0, "offer-action": 1, "offer-role": 2}
PROGRESS_EVERY = 2000
"""Commits between two progress callbacks."""


@dataclass(frozen=True)
class CommitRecord:
    """One commit's meaning for one offer.

    ``action`` is the ``Offer-Action`` trailer (``create``, ``approve``, ``send`` …), or
    None for a commit without trailers that changed the offer's file by hand (one record
    per offer file such a commit touched).
    """

    commit: str
    author_email: str
    author_date: str
    offer_id: str | None
    action: str | None
    role: str | None

    @property
    def hand_edit(self) -> bool:
        return self.action is None


def _utc(epoch: str) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch))) if epoch.isdigit() else ""


def _trailers(block: str) -> list[str | None]:
    """Offer-Id, Offer-Action, Offer-Role from a commit's trailer lines (keys are
    case-insensitive, as in git; the first occurrence of a key wins)."""
    found: list[str | None] = [None, None, None]
    if not block:
        return found
    for line in block.split("\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        index = _KEYS.get(key.strip().lower())
        if index is not None and found[index] is None:
            found[index] = value.strip() or None
    return found


def scan(
    repo: Repo, *, since: dt.date | str | None = None, progress: Callable[[int], None] | None = None
) -> list[CommitRecord]:
    """Every offer-related commit reachable from HEAD, newest first.

    ``since`` is a whole UTC day (a date or ``YYYY-MM-DD``): commits from its first second
    on. git's approxidate would fill in the current time of day, dropping that morning's
    commits whenever it runs later in the day, so the time is always passed explicitly.
    ``progress`` is called with the number of commits read so far, every
    ``PROGRESS_EVERY`` commits and once at the end; the core never prints.
    """
    if not git.has_commits(repo.root):
        return []
    return _parse(repo, git.stream_records(_args(since), repo.root, _RECORD), progress)


class PendingScan:
    """A ``scan`` whose ``git log`` runs while the caller does other work (``start``)."""

    def __init__(self, repo: Repo, since: dt.date | str | None) -> None:
        self.repo = repo
        self._capture = git.Capture(_args(since), repo.root) if git.has_commits(repo.root) else None

    def result(self, progress: Callable[[int], None] | None = None) -> list[CommitRecord]:
        """What ``scan`` returns (waits for git, then parses its output)."""
        if self._capture is None:
            return []
        return _parse(self.repo, self._capture.records(_RECORD), progress)


def start(repo: Repo, *, since: dt.date | str | None = None) -> PendingScan:
    """Start ``scan``'s ``git log`` in the background; ``.result()`` parses it. ``report``
    reads offer files meanwhile, so git's work runs on another core."""
    return PendingScan(repo, since)


def _args(since: dt.date | str | None) -> list[str]:
    args = ["log", f"--format={_FORMAT}%x1e"]
    if since is not None:
        day = since if isinstance(since, dt.date) else clock.parse_day(since, what="--since")
        args.append(f"--since={clock.start_of_day(day)}")
    return args


def _parse(
    repo: Repo, raw_records: Iterable[str], progress: Callable[[int], None] | None
) -> list[CommitRecord]:
    records: list[CommitRecord] = []
    untagged: dict[str, tuple[str, str]] = {}
    position: dict[str, int] = {}
    seen = 0
    for raw in raw_records:
        parts = raw.split(_FIELD)
        if len(parts) < 4:
            continue
        commit, email, epoch, block = parts[0].lstrip("\n"), parts[1], parts[2], parts[3].strip()
        seen += 1
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen)
        oid, act, role = _trailers(block)
        position[commit] = seen
        if oid is None and act is None:
            untagged[commit] = (email, _utc(epoch))
            continue
        records.append(CommitRecord(commit, email, _utc(epoch), oid, act, role))
    if progress is not None:
        progress(seen)
    if untagged:
        hand_edits = _hand_edits(repo, untagged, position)
        if hand_edits:
            records.extend(hand_edits)
            records.sort(key=lambda r: position[r.commit])
    return records


def _hand_edits(
    repo: Repo, untagged: dict[str, tuple[str, str]], position: dict[str, int]
) -> list[CommitRecord]:
    """Records for commits without trailers that changed offer files (merges excluded):
    one ``git log --no-walk --stdin --name-only`` over just those commits."""
    changed = git.paths_changed(repo.root, sorted(untagged, key=position.__getitem__), f"{OFFERS_DIR}/")
    found = []
    for commit, paths in changed.items():
        email, date = untagged[commit]
        for path in sorted(set(paths)):
            if path.endswith(".yaml"):
                stem = path.rsplit("/", 1)[-1][: -len(".yaml")]
                found.append(CommitRecord(commit, email, date, stem, None, None))
    return found
