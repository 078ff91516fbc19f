"""Offer history from git, mined in one pass over commit trailers.

Every commit offerctl makes carries ``Offer-Id``, ``Offer-Action`` and (for approvals)
``Offer-Role`` trailers, so one metadata-only ``git log`` reads the whole audit trail:
about 1 s for 58k commits, against ~30 s to learn the same from tree diffs (DESIGN.md).
Only commits *without* trailers that touched ``offers/`` (hand edits, merges of hand edits
excluded) get their changed paths listed, in one further ``git log --stdin --name-only``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from offerctl import git
from offerctl.repo import OFFERS_DIR, Repo

_FIELD = "\x00"
_RECORD = "\x1e"
_FORMAT = "%x00".join(
    [
        "%H",
        "%ae",
        "%at",
        "%(trailers:key=Offer-Id,valueonly,separator=%x1f)",
        "%(trailers:key=Offer-Action,valueonly,separator=%x1f)",
        "%(trailers:key=Offer-Role,valueonly,separator=%x1f)",
        "%P",
    ]
)
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
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first(value: str) -> str | None:
    value = value.strip().split("\x1f")[0].strip()
    return value or None


def scan(
    repo: Repo, *, since: str | None = None, progress: Callable[[int], None] | None = None
) -> list[CommitRecord]:
    """Every offer-related commit reachable from HEAD, newest first.

    ``since`` is passed to ``git log --since`` (a date or any git approxidate).
    ``progress`` is called with the number of commits read so far, every
    ``PROGRESS_EVERY`` commits and once at the end; the core never prints.
    """
    root = repo.root
    if not git.has_commits(root):
        return []
    args = ["log", f"--format={_FORMAT}%x1e"]
    if since:
        args.append(f"--since={since}")
    records: list[CommitRecord] = []
    untagged: dict[str, tuple[str, str]] = {}
    order: list[str] = []
    seen = 0
    for raw in git.stream_records(args, root, _RECORD):
        raw = raw.lstrip("\n")
        if not raw:
            continue
        parts = raw.split(_FIELD)
        if len(parts) < 7:
            continue
        commit, email, epoch, offer_id, action, role, parents = parts[:7]
        seen += 1
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen)
        date = _utc(epoch) if epoch.strip().isdigit() else ""
        oid, act = _first(offer_id), _first(action)
        if oid is None and act is None:
            if len(parents.split()) <= 1:
                untagged[commit] = (email, date)
            order.append(commit)
            continue
        order.append(commit)
        records.append(CommitRecord(commit, email, date, oid, act, _first(role)))
    if progress is not None:
        progress(seen)
    if untagged:
        touching = git.log_commits_touching(root, f"{OFFERS_DIR}/", since=since) & untagged.keys()
        changed = git.paths_changed(root, sorted(touching), f"{OFFERS_DIR}/")
        position = {c: i for i, c in enumerate(order)}
        for commit in sorted(changed, key=lambda c: position.get(c, 0)):
            email, date = untagged[commit]
            for path in sorted(set(changed[commit])):
                if path.endswith(".yaml"):
                    stem = path.rsplit("/", 1)[-1][: -len(".yaml")]
                    records.append(CommitRecord(commit, email, date, stem, None, None))
        records.sort(key=lambda r: position.get(r.commit, 0))
    return records
