"""The offer state machine, as data, and the transitions that move offers through it.

Every transition is a row of ``TRANSITIONS`` (action, from, to). A command runs in two steps:

* **decide** (pure): the offer's current data + the command's parameters → a ``Plan`` (the
  fields to set and the one event line to append), or ``errors.Refused`` with the reason;
* **apply**: ``change.apply`` (the path every change to an offer takes) opens the file,
  the plan is decided *on that fresh text*, applied, validated, written atomically and
  committed with trailers.

Because the decide step is pure and re-run on the file as it is at apply time, ``sync``
can re-apply a command on the latest remote version instead of rebasing text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import CLOSED_STATUSES, Finding, Offer, Status, get_path
from offerctl.lifecycle import change, sync
from offerctl.lifecycle.change import Actor
from offerctl.store import git
from offerctl.store.repo import Repo


@dataclass(frozen=True)
class Transition:
    action: str
    source: Status
    target: Status
    owner: str = "lifecycle"
    """The team/command group that performs it (submit/approve belong to approvals)."""


def _rows(
    action: str, sources: Iterable[Status], target: Status, owner: str = "lifecycle"
) -> list[Transition]:
    return [Transition(action, s, target, owner) for s in sources]


S = Status
_OPEN_BEFORE_SEND = (S.DRAFT, S.PENDING_APPROVAL, S.APPROVED)
TRANSITIONS: tuple[Transition, ...] = (
    *_rows("submit", [S.DRAFT], S.PENDING_APPROVAL, "approvals"),
    # edit before sending (drafts.py): an approved offer goes back to pending_approval when
    # the edit leaves an approval missing or stale (it stays approved otherwise).
    *_rows("edit", [S.DRAFT], S.DRAFT),
    *_rows("edit", [S.PENDING_APPROVAL, S.APPROVED], S.PENDING_APPROVAL),
    *_rows("approve", [S.PENDING_APPROVAL], S.APPROVED, "approvals"),
    # send is guarded by the approvals engine (every required approval present and fresh),
    # so the approval lines, not the status field, decide: an offer whose last approval
    # arrived through a merge of two branches is still `pending_approval` but sendable.
    *_rows("send", [S.PENDING_APPROVAL, S.APPROVED, S.NEGOTIATING], S.SENT),
    *_rows("revise", [S.SENT, S.NEGOTIATING], S.NEGOTIATING),
    *_rows("accept", [S.SENT], S.ACCEPTED),
    *_rows("decline", [S.SENT, S.NEGOTIATING], S.DECLINED),
    *_rows("rescind", [*_OPEN_BEFORE_SEND, S.SENT, S.NEGOTIATING], S.RESCINDED),
    # After acceptance only for a failed contingency (background check, right to work…):
    # `records.decide_rescind` refuses it otherwise.
    *_rows("rescind", [S.ACCEPTED], S.RESCINDED),
    *_rows("expire", [S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.NEGOTIATING], S.EXPIRED),
    *_rows("renege", [S.ACCEPTED], S.RENEGED),
    *_rows("start", [S.ACCEPTED], S.STARTED),
)
"""The whole state machine. `docs`/README's Mermaid diagram is generated from it (a test
keeps them equal)."""

EVENT_TYPE = {
    "submit": "submitted",
    "edit": "edited",
    "send": "sent",
    "revise": "revised",
    "accept": "accepted",
    "decline": "declined",
    "rescind": "rescinded",
    "expire": "expired",
    "renege": "reneged",
    "start": "started",
}
CLOSING_ACTIONS = frozenset(t.action for t in TRANSITIONS if t.target in CLOSED_STATUSES)
"""Commit ``Offer-Action`` values after which an offer file is immutable."""
CORRECT_ACTION = "correct"
"""A commit with ``Offer-Action: correct`` and the offer's ``Offer-Id`` declares an edit of a
closed offer deliberate (a misspelt name, backfilled approvals): the closed offer is then
compared with that commit's version. The correction stays visible in history and review."""

PRIVACY_ACTIONS = frozenset({"erase", "rekey"})
"""``offerctl erase`` and ``offerctl rekey`` change closed offers deliberately (erasure of
candidate data, re-encryption): the closed offer is then compared with that commit's version."""

PROTECTED_FIELDS = frozenset({"id", "status", "approvals", "events"})
"""Fields `revise` never sets: identity and the append-only records."""


def targets(action: str) -> dict[Status, Status]:
    return {t.source: t.target for t in TRANSITIONS if t.action == action}


def allowed_actions(status: str) -> list[str]:
    return sorted({t.action for t in TRANSITIONS if t.source == status})


def check_transition(offer: Offer, action: str) -> tuple[Status, Status]:
    """(from, to) for ``action`` on ``offer``, or ``Refused`` saying why not and what is possible."""
    moves = targets(action)
    try:
        current = Status(offer.status)
    except ValueError:
        raise Refused(f"{offer.id} has an unknown status {offer.status!r}", path=offer.path) from None
    if current not in moves:
        possible = allowed_actions(current)
        closed = current in CLOSED_STATUSES
        hint = (
            f"{current} is final: the offer is closed and immutable"
            if closed
            else f"from {current} offerctl can: {', '.join(possible) or 'nothing'}"
        )
        sources = ", ".join(sorted(moves))
        raise Refused(
            f"cannot {action} {offer.id}: it is {current}; {action} is allowed only from {sources}",
            hint=hint,
            path=offer.path,
        )
    return current, moves[current]


# --- plans --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What one transition does to one offer: fields to set and the event line to append."""

    offer_id: str
    action: str
    source: Status
    target: Status
    event: Mapping[str, Any]
    sets: tuple[tuple[str, Any], ...] = ()

    @property
    def subject(self) -> str:
        return f"{self.action} {self.offer_id}: {self.source} → {self.target}"

    @property
    def appends(self) -> tuple[tuple[str, Mapping[str, Any]], ...]:
        return (("events", self.event),)

    @property
    def trailers(self) -> Mapping[str, str]:
        return {}

    @property
    def readers(self) -> Mapping[str, list[str]]:
        return {}

    @property
    def body(self) -> str:
        return ""


Decide = Callable[[Offer, Actor], Plan]
"""The pure step of a command: current offer + actor → plan (or ``Refused``)."""


def _plan(
    offer: Offer, action: str, actor: Actor, extra: Mapping[str, Any], sets: Sequence[tuple[str, Any]] = ()
) -> Plan:
    source, target = check_transition(offer, action)
    event: dict[str, Any] = {
        "type": EVENT_TYPE[action],
        "at": actor.at,
        "by": actor.email,
        "from": str(source),
        "to": str(target),
    }
    event.update({k: v for k, v in extra.items() if v is not None})
    status_set = (("status", str(target)),) if source != target else ()
    return Plan(offer.id, action, source, target, event, (*status_set, *sets))


def check_text(value: str | None, what: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise UsageError(f"{what} must not be empty")
    if len(value) > limit:
        raise UsageError(f"{what} is {len(value)} characters; at most {limit}")
    return value


def _iso_date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def decide_accept(signed_on: str | None, document_sha256: str | None) -> Decide:
    signed = _iso_date(signed_on, "--signed-on")

    def decide(offer: Offer, actor: Actor) -> Plan:
        from offerctl.core import clock, timestamps

        if signed is not None:
            why = timestamps.day_problem(signed, timestamps.created_at(offer.data), clock.latest_now().date())
            if why:
                raise Refused(
                    f"--signed-on {why}",
                    path=offer.path,
                    hint="give the day the candidate signed: between the offer's creation and today",
                )
        return _plan(
            offer,
            "accept",
            actor,
            {"signed_on": signed or actor.at[:10], "document_sha256": document_sha256},
        )

    return decide


def decide_decline(repo: Repo, reason: str, detail: str | None, competing_employer: str | None) -> Decide:
    taxonomy = repo.decline_reasons
    if reason not in taxonomy:
        raise UsageError(
            f"--reason {reason!r} is not a decline reason",
            hint=f"use one of: {', '.join(taxonomy)} (offerctl.yaml decline_reasons)",
        )
    extra = {
        "reason": reason,
        "detail": check_text(detail, "--detail", 4000),
        "competing_employer": check_text(competing_employer, "--competing-employer"),
    }

    def decide(offer: Offer, actor: Actor) -> Plan:
        return _plan(offer, "decline", actor, extra)

    return decide


def decide_with_reason(action: str, reason: str | None) -> Decide:
    """rescind / renege / start: a transition that records a free-text reason (or none)."""
    text = check_text(reason, "--reason") if reason is not None else None

    def decide(offer: Offer, actor: Actor) -> Plan:
        return _plan(offer, action, actor, {"reason": text})

    return decide


def decide_revise(assignments: Mapping[str, Any], reason: str) -> Decide:
    if not assignments:
        raise UsageError("nothing to revise", hint="give at least one --set path=value")
    bad = [p for p in assignments if p.split(".")[0] in PROTECTED_FIELDS]
    if bad:
        raise UsageError(
            f"revise cannot set {', '.join(bad)}",
            hint="id, status, approvals and events are changed only by offerctl's own commands",
        )
    why = check_text(reason, "--reason")

    def decide(offer: Offer, actor: Actor) -> Plan:
        changes = []
        for path, new in assignments.items():
            old = get_path(offer.data, path)
            if same_value(old, new):
                continue
            changes.append({"field": path, "old": old, "new": new})
        if not changes:
            raise Refused(
                f"revise {offer.id}: every --set value equals the current one; nothing changed",
                path=offer.path,
            )
        return _plan(
            offer,
            "revise",
            actor,
            {"reason": why, "changes": changes},
            tuple((c["field"], c["new"]) for c in changes),
        )

    return decide


def same_value(old: Any, new: Any) -> bool:
    from offerctl.core.model import to_decimal

    if isinstance(old, bool) or isinstance(new, bool):
        return old is new
    a, b = to_decimal(old), to_decimal(new)
    if a is not None and b is not None and not isinstance(old, str) and not isinstance(new, str):
        return a == b
    return bool(old == new) and type(old) is type(new)


def decide_send(channel: str, letter_sha256: str, template: str, written_on: str) -> Decide:
    """The record step of `send` (the letter is rendered and delivered before it runs)."""

    def decide(offer: Offer, actor: Actor) -> Plan:
        sends = [e for e in offer.get("events") or [] if isinstance(e, Mapping) and e.get("type") == "sent"]
        return _plan(
            offer,
            "send",
            actor,
            {
                "channel": channel,
                "letter_sha256": letter_sha256,
                "template": template,
                "letter_version": len(sends) + 1,
                "written_on": written_on,
            },
        )

    return decide


def decide_expire(as_of: dt.date) -> Decide:
    def decide(offer: Offer, actor: Actor) -> Plan:
        expires = offer.get("expires_on")
        if not isinstance(expires, str) or dt.date.fromisoformat(expires) >= as_of:
            raise Refused(f"{offer.id} has not expired on {as_of} (expires_on {expires})", path=offer.path)
        return _plan(offer, "expire", actor, {"as_of": as_of.isoformat()})

    return decide


def sha256_file(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Largest signed document ``accept --document`` hashes (a scanned, signed letter is a few MB)."""


def sha256_path(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> str:
    """sha256 of a file, streamed, refusing one over ``limit`` (``/dev/zero`` ends, too)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise UsageError(
                    f"--document {path}: larger than {limit // (1024 * 1024)} MiB (reading stopped there)",
                    hint="give the signed letter itself (a PDF or a scan)",
                )
            digest.update(chunk)
    return digest.hexdigest()


# --- applying plans -----------------------------------------------------------------------


Applied = change.Applied[Plan]


def apply(
    repo: Repo,
    offer_id: str,
    decide: Decide,
    *,
    author: git.Identity,
    at: str,
    commit: bool = True,
    path: Path | None = None,
) -> Applied:
    """One transition through ``change.apply``: decide on the file as it is, apply, validate,
    write, commit. A refusal (state machine, validation) raises before anything is written."""
    return change.apply(repo, offer_id, decide, author=author, at=at, commit=commit, path=path)


@dataclass(frozen=True)
class ExpireResult:
    as_of: str
    expired: tuple[Applied, ...]
    skipped: tuple[Finding, ...] = field(default=())


def expire_all(
    repo: Repo, as_of: dt.date, *, author: git.Identity, at: str, commit: bool = True
) -> ExpireResult:
    """Close every open offer whose ``expires_on`` is before ``as_of``; one commit each.

    Idempotent: a second run finds nothing to do. Files that cannot be read are skipped and
    reported (``check`` says why)."""
    from offerctl.store import loader

    offers, findings = loader.load_offers(repo, loader.offer_files(repo))
    due = [offer for offer in sorted(offers, key=lambda o: o.id) if _expired(offer, as_of)]
    for offer in due:  # refuse before the first commit, not halfway through
        change.require_clean(repo, offer.path)
    done = [
        apply(
            repo,
            offer.id,
            decide_expire(as_of),
            author=author,
            at=at,
            commit=commit,
            path=repo.root / offer.path,
        )
        for offer in due
    ]
    return ExpireResult(as_of.isoformat(), tuple(done), tuple(findings))


def _expired(offer: Offer, as_of: dt.date) -> bool:
    """An open offer whose ``expires_on`` lies before ``as_of``."""
    expires = offer.get("expires_on")
    if offer.status not in targets("expire") or not isinstance(expires, str):
        return False
    try:
        return dt.date.fromisoformat(expires) < as_of
    except ValueError:
        return False


# --- diagram ------------------------------------------------------------------------------


def mermaid() -> str:
    """The state machine as a Mermaid state diagram, generated from ``TRANSITIONS``."""
    lines = ["stateDiagram-v2", "    [*] --> draft: new"]
    grouped: dict[tuple[str, str], list[str]] = {}
    for t in TRANSITIONS:
        grouped.setdefault((t.source, t.target), []).append(t.action)
    for (source, target), actions in grouped.items():
        lines.append(f"    {source} --> {target}: {' / '.join(actions)}")
    for status in sorted(CLOSED_STATUSES):
        lines.append(f"    {status} --> [*]")
    return "\n".join(lines) + "\n"


# --- running a command: local, or on the remote tip with --push (change.run) ---------------


@dataclass(frozen=True)
class Outcome:
    """What a lifecycle command did: the applied plans and, with ``--push``, where they went."""

    applied: tuple[Applied, ...]
    pushed: sync.Pushed | None = None
    as_of: str | None = None


def transition(
    repo: Repo,
    offer_id: str,
    decide: Decide,
    *,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
) -> Outcome:
    """One transition on one offer (accept, decline, revise, rescind, renege, start)."""

    def work(author: git.Identity, at: str, do_commit: bool) -> tuple[Applied, ...]:
        return (apply(repo, offer_id, decide, author=author, at=at, commit=do_commit),)

    ran = change.run(repo, work, commit=commit, push=push, retries=retries)
    return Outcome(ran.value, ran.pushed)


def expire(
    repo: Repo,
    as_of: dt.date,
    *,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
) -> Outcome:
    def work(author: git.Identity, at: str, do_commit: bool) -> tuple[Applied, ...]:
        return expire_all(repo, as_of, author=author, at=at, commit=do_commit).expired

    ran = change.run(repo, work, commit=commit, push=push, retries=retries)
    return Outcome(ran.value, ran.pushed, as_of.isoformat())


# --- check: closed offers are immutable ---------------------------------------------------


def closed_offer_edits(repo: Repo, offers: Sequence[Offer]) -> list[Finding]:
    """G501: a closed offer (declined, reneged, rescinded, expired, started) whose file
    differs from its version at the commit that closed it.

    The closing commit is the newest commit whose trailers say ``Offer-Id: <id>`` and a
    closing ``Offer-Action`` (or ``correct``, a declared correction); for offers closed
    without offerctl (imported files), the newest ``correct`` commit, else the first commit
    in the file's history whose version has a closed status. Blob ids are compared
    first; only files whose bytes changed are parsed, and data is compared (a change that
    reads the same, such as a comment, is not an edit of the offer). ``offers`` need carry
    only ``id`` and ``status`` (check's repository pass gives summaries).
    """
    from offerctl.store import yamlio

    closed = [o for o in offers if o.status in CLOSED_STATUSES and o.id]
    if not closed or not git.has_commits(repo.root):
        return []
    closing: dict[str, tuple[str, str | None]] = {}
    wanted = {o.id for o in closed}
    for commit, offer_id, action in git.trailer_log(repo.root):
        if (
            offer_id in wanted
            and offer_id not in closing
            and action
            in {
                *CLOSING_ACTIONS,
                CORRECT_ACTION,
                *PRIVACY_ACTIONS,
            }
        ):
            closing[offer_id] = (commit, None)
    imported = [o for o in closed if o.id not in closing]
    if imported:
        closing.update(_first_closed_versions(repo, imported))
    pending = [o for o in closed if o.id in closing]
    if not pending:
        return []
    unknown = [o for o in pending if closing[o.id][1] is None]
    for offer, blob in zip(
        unknown, git.blob_ids(repo.root, [f"{closing[o.id][0]}:{o.path}" for o in unknown]), strict=True
    ):
        closing[offer.id] = (closing[offer.id][0], blob)
    now = git.hash_files(repo.root, [o.path for o in pending])
    changed_offers = [
        o for o, current in zip(pending, now, strict=True) if closing[o.id][1] not in (None, current)
    ]
    then = git.read_blobs(repo.root, [str(closing[o.id][1]) for o in changed_offers])
    findings: list[Finding] = []
    for offer, raw in zip(changed_offers, then, strict=True):
        if raw is None:
            continue
        try:
            old = yamlio.load(raw)
            # ``offers`` may carry only id and status (check's repository pass): read the file.
            current = yamlio.load((repo.root / offer.path).read_bytes())
        except (yamlio.YamlProblem, OSError):
            continue
        if old == current:
            continue
        changed = sorted(_changed_fields(old, current))
        shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
        commit = closing[offer.id][0]
        try:
            text = (repo.root / offer.path).read_text("utf-8")
            line = yamlio.line_of(text, changed[0].split(".")) if changed else 1
        except (OSError, UnicodeDecodeError):
            line = 1
        findings.append(
            Finding(
                offer.path,
                line,
                "G501",
                f"offer is {offer.status} (closed in commit {commit[:12]}) but was edited since: {shown}; "
                "closed offers are immutable — restore it with "
                f"`git checkout {commit[:12]} -- {offer.path}`, "
                "or commit a deliberate correction with the trailers "
                f"`Offer-Id: {offer.id}` and `Offer-Action: correct`",
                offer=offer.id,
            )
        )
    return findings


_STATUS_LINE = re.compile(rb"^status:[ \t]*['\"]?([a-z_]+)['\"]?[ \t]*(?:#.*)?$", re.M)


def _first_closed_versions(repo: Repo, offers: Sequence[Offer]) -> dict[str, tuple[str, str | None]]:
    """For offers closed without offerctl: (commit, blob) of the first version with a closed
    status — one ``git log --raw`` pass and one ``cat-file --batch`` for the candidate blobs.
    A top-level ``status:`` line is read directly; only versions without one are parsed."""
    from offerctl.store import yamlio

    history = git.file_versions(repo.root, "offers")
    wanted = [(o, history.get(o.path, [])) for o in offers]
    blobs = list(dict.fromkeys(blob for _, versions in wanted for _, blob in versions))
    contents = dict(zip(blobs, git.read_blobs(repo.root, blobs), strict=True))
    found: dict[str, tuple[str, str | None]] = {}
    for offer, versions in wanted:
        for commit, blob in versions:
            raw = contents.get(blob)
            if raw is None:
                continue
            match = _STATUS_LINE.search(raw)
            if match is not None:
                status: Any = match.group(1).decode()
            else:
                try:
                    data = yamlio.load(raw)
                except yamlio.YamlProblem:
                    continue
                status = data.get("status") if isinstance(data, Mapping) else None
            if status in CLOSED_STATUSES:
                found[offer.id] = (commit, blob)
                break
    return found


def _changed_fields(old: Any, new: Any, prefix: str = "") -> set[str]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: set[str] = set()
        for key in set(old) | set(new):
            if old.get(key) != new.get(key):
                if isinstance(old.get(key), Mapping) and isinstance(new.get(key), Mapping):
                    out |= _changed_fields(old[key], new[key], f"{prefix}{key}.")
                else:
                    out.add(f"{prefix}{key}")
        return out
    return {prefix[:-1] or "(document)"}
