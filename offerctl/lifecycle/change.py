"""The one path every change to an offer takes.

    load once → decide (pure) → edit → validate → commit with trailers → optionally push

``apply`` does the first five for one offer: it finds and reads the file once (a file that
cannot be parsed is an input error), refuses unless the file is clean (working tree and
index equal HEAD for it, so offerctl never commits a change it did not make), asks the
command's ``decide`` function what to do with the offer as it is on disk, applies that
``Change`` to the round-trip text, validates the result and commits it as the actor with
``Offer-Id``/``Offer-Action`` trailers (``store.edit`` rolls the file back when the commit
fails). ``run`` wraps a command's work with the
``--no-commit``/``--push`` contract: commit locally, stage only, or (``sync.run_and_push``)
re-decide on the remote tip, commit and push, retrying when someone pushed first.

`submit`, `approve`, `reject` (``approval_flow``), every state-machine transition
(``transitions``: send, revise, accept, decline, rescind, renege, start, expire) and `edit`
(``drafts``) go through here; their ``decide`` steps are the only command-specific part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import Offer
from offerctl.lifecycle import sync
from offerctl.store import git, loader
from offerctl.store.edit import OfferEdit
from offerctl.store.repo import Repo


@dataclass(frozen=True)
class Actor:
    """Who acts and when: the git identity's email and the UTC time of the action."""

    email: str
    at: str
    """UTC timestamp (``clock.utc_now()``: ``YYYY-MM-DDTHH:MM:SSZ``)."""

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.at[:10])


class Change(Protocol):
    """What a command's decide step returns: what to do to one offer file."""

    @property
    def offer_id(self) -> str: ...

    @property
    def action(self) -> str:
        """The ``Offer-Action`` trailer (submit, approve, revise, edit …)."""
        ...

    @property
    def subject(self) -> str: ...

    @property
    def sets(self) -> tuple[tuple[str, Any], ...]:
        """Fields to set, as (dotted path, plain value)."""
        ...

    @property
    def appends(self) -> tuple[tuple[str, Mapping[str, Any]], ...]:
        """Lines to append, as (``approvals`` | ``events``, plain mapping)."""
        ...

    @property
    def trailers(self) -> Mapping[str, str]:
        """Trailers besides ``Offer-Id`` and ``Offer-Action`` (e.g. ``Offer-Role``)."""
        ...

    @property
    def body(self) -> str: ...

    @property
    def readers(self) -> Mapping[str, list[str]]:
        """Extra readers of a confidential offer (email -> why), e.g. the approvers that
        routing asks once the offer is submitted: an approver sees what they approve."""
        ...


C = TypeVar("C", bound=Change)
T = TypeVar("T")

Decide = Callable[[Offer, Actor], C]
"""The pure step of a command: the offer as it is on disk + the actor → a change (or
``errors.Refused`` / ``errors.UsageError`` saying why not)."""


@dataclass(frozen=True)
class Applied(Generic[C]):
    """A change made to one offer file: what was decided, where, and the commit (None when
    left staged with ``--no-commit``)."""

    change: C
    path: str
    commit: str | None


def require_clean(repo: Repo, rel: str) -> None:
    """Refuse (exit 1) unless the offer file's working tree and index both equal HEAD.

    A change offerctl did not make — a hand edit, or the write of a command killed before
    it committed — would otherwise be committed by the next command under its actor's name
    and action."""
    state = git.uncommitted(repo.root, rel)
    if state is None:
        return
    if state == "untracked":
        raise Refused(
            "the offer file is not committed yet, so offerctl will not change it",
            path=rel,
            hint=f"commit it first (`git add {rel} && git commit`), then retry",
        )
    raise Refused(
        f"the offer file has uncommitted changes ({state}) that this command did not make; "
        "offerctl will not commit them under your name",
        path=rel,
        hint=(
            f"see them with `git diff HEAD -- {rel}`; keep them with `offerctl edit` or a commit of "
            f"your own, or discard them with `git checkout HEAD -- {rel}`; then retry"
        ),
    )


def apply(
    repo: Repo,
    offer_id: str,
    decide: Decide[C],
    *,
    author: git.Identity,
    at: str,
    commit: bool = True,
    path: Path | None = None,
    repair: bool = False,
) -> Applied[C]:
    """Load the offer once, decide on exactly that text, apply, validate, write, commit.

    ``path``: the file when the caller already knows it (no second lookup by id).
    ``repair``: decide even when the file as it is does not validate (``edit``, which is how
    such a file is fixed); every other command needs a valid offer to decide on. The result
    must validate either way. A refusal raises before anything is written."""
    file = path if path is not None else loader.find_offer_path(repo, offer_id)
    edit = OfferEdit.open_path(repo, file)  # an unreadable file is an input error (exit 2) first
    require_clean(repo, edit.rel)
    if not repair:
        edit.require_valid()
    change = decide(edit.offer, Actor(author.email, at))
    for dotted, value in change.sets:
        edit.set(dotted, value)
    for key, item in change.appends:
        edit.append(key, item)
    edit.readers.update(change.readers)
    trailers = {"Offer-Id": change.offer_id, "Offer-Action": change.action, **change.trailers}
    commit_id = edit.save(change.subject, author=author, trailers=trailers, body=change.body, commit=commit)
    return Applied(change, edit.rel, commit_id)


@dataclass(frozen=True)
class Ran(Generic[T]):
    """What ``run`` gives back: the work's value and, with ``--push``, where it went."""

    value: T
    pushed: sync.Pushed | None = None


Work = Callable[[git.Identity, str, bool], T]
"""A command's work: ``(author, at, commit) -> value``; it must (re-)read the offer from disk
on every call (``apply`` does), since ``--push`` calls it again on the remote tip."""


def run(
    repo: Repo,
    work: Work[T],
    *,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
    author: git.Identity | None = None,
) -> Ran[T]:
    """Run ``work`` as ``author`` (default: the current git identity) with the one
    ``--no-commit``/``--push`` contract: commit (default), stage only (``commit=False``),
    or commit on the remote tip and push (``push``, retried up to ``retries`` times)."""
    from offerctl.core.clock import utc_now

    check_push_options(commit=commit, push=push)
    actor = author or git.identity(repo.root)
    if not push:
        return Ran(work(actor, utc_now(), commit))
    value, pushed = sync.run_and_push(
        repo, lambda: work(actor, utc_now(), True), retries=retries or sync.DEFAULT_RETRIES
    )
    return Ran(value, pushed)


def check_push_options(*, commit: bool, push: bool) -> None:
    """``--push`` commits and pushes; it cannot leave the change staged."""
    if push and not commit:
        raise UsageError(
            "--push and --no-commit cannot be combined", hint="--push commits and pushes: drop --no-commit"
        )


__all__ = [
    "Actor",
    "Applied",
    "Change",
    "Decide",
    "Ran",
    "apply",
    "check_push_options",
    "require_clean",
    "run",
]
