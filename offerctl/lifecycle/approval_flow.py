"""The approval commands' core: submit, approve, reject, status and inbox (returns values).

Each mutating command is a decide step (``decide_submit``, ``decide_approve``,
``decide_reject``: policy + the offer as it is on disk + actor → an ``ApprovalChange``) run
through ``change.apply``/``change.run`` — the path every change to an offer takes, with the
one ``--no-commit``/``--push`` contract. A refusal raises ``errors.Refused`` before anything
is written.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offerctl.approvals import binding, verify
from offerctl.core import isolation, timestamps, workflow
from offerctl.core.bizdays import BusinessCalendar
from offerctl.core.clock import latest_now, now
from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import OPEN_STATUSES, Finding, Offer, Status
from offerctl.lifecycle import change, sync
from offerctl.lifecycle.change import Actor
from offerctl.policy.load import load_policy_set
from offerctl.policy.routing import (
    PolicySet,
    RouteResult,
    RuleOutcome,
    Waiting,
    reset_at,
    route,
    route_data,
    snapshots,
)
from offerctl.store import git, loader, summaries
from offerctl.store.repo import Repo

AWAITING_STATUSES = frozenset({Status.PENDING_APPROVAL, Status.APPROVED, Status.SENT, Status.NEGOTIATING})
"""Statuses in which a missing or stale approval is someone's work (status, inbox, remind)."""

# Policy findings that make routing untrustworthy: approvals are refused until they are fixed.
BLOCKING_CODES = frozenset({"P202", "P203", "P204", "P205", "P206", "P209"})


def approval_policy(repo: Repo) -> PolicySet:
    """The routing policy, refused while it has problems that make routing untrustworthy."""
    policy, findings = load_policy_set(repo)
    blocking = [f for f in findings if f.code in BLOCKING_CODES or f.path == "policies/routing.yaml"]
    if blocking:
        first = blocking[0]
        raise Refused(
            f"the routing policy has {len(blocking)} problem(s), first: {first.message}",
            path=first.path,
            line=first.line,
            hint="fix the policy (`offerctl check` lists every problem); nothing was written",
        )
    return policy


@dataclass(frozen=True)
class ActionResult:
    offer_id: str
    action: str
    by: str
    at: str
    status: str
    role: str | None = None
    rules: tuple[str, ...] = ()
    on_behalf_of: str | None = None
    signed: bool = False
    commit: str | None = None
    waiting: tuple[Waiting, ...] = ()
    pushed: sync.Pushed | None = None

    def as_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "offer": self.offer_id,
            "action": self.action,
            "by": self.by,
            "at": self.at,
            "status": self.status,
            "role": self.role,
            "rules": list(self.rules),
            "on_behalf_of": self.on_behalf_of,
            "signed": self.signed,
            "commit": self.commit,
            "waiting": [waiting_json(w) for w in self.waiting],
        }
        if self.pushed is not None:
            payload["pushed"] = self.pushed.as_json()
        return payload


@dataclass(frozen=True)
class ApprovalChange:
    """What submit, approve or reject decided (a ``change.Change``) and what to report."""

    offer_id: str
    action: str
    subject: str
    by: str
    at: str
    status: str
    sets: tuple[tuple[str, Any], ...] = ()
    appends: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    trailers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    readers: Mapping[str, list[str]] = field(default_factory=dict)
    role: str | None = None
    rules: tuple[str, ...] = ()
    on_behalf_of: str | None = None
    signed: bool = False
    waiting: tuple[Waiting, ...] = ()

    def result(self, commit: str | None, pushed: sync.Pushed | None = None) -> ActionResult:
        return ActionResult(
            self.offer_id,
            self.action,
            self.by,
            self.at,
            self.status,
            self.role,
            self.rules,
            self.on_behalf_of,
            self.signed,
            commit,
            self.waiting,
            pushed,
        )


def _run(
    repo: Repo,
    offer_id: str,
    decide: Callable[[PolicySet], change.Decide[ApprovalChange]],
    *,
    actor: git.Identity | None,
    commit: bool,
    push: bool,
    retries: int | None,
) -> ActionResult:
    """Load the policy (refusing while it has blocking problems), then run the decision
    through the one change path; with ``--push`` both happen again on the remote tip."""

    def work(author: git.Identity, at: str, do_commit: bool) -> change.Applied[ApprovalChange]:
        return change.apply(
            repo, offer_id, decide(approval_policy(repo)), author=author, at=at, commit=do_commit
        )

    ran = change.run(repo, work, commit=commit, push=push, retries=retries, author=actor)
    return ran.value.change.result(ran.value.commit, ran.pushed)


def waiting_json(w: Waiting) -> dict[str, Any]:
    return {
        "stage": w.stage,
        "rule": w.rule_id,
        "role": w.role,
        "people": list(w.people),
        "escalation": w.escalation,
        "since": w.since,
        "stale": list(w.stale),
    }


def _describe_waiting(result: RouteResult) -> str:
    items = result.waiting()
    if not items:
        return "nothing (every triggered rule is satisfied)"
    return "; ".join(f"{w.role} ({', '.join(w.people) or 'nobody'}) for rule {w.rule_id}" for w in items)


def _fillable(
    policy: PolicySet, result: RouteResult, data: Mapping[str, Any], actor: str, on: dt.date
) -> tuple[list[tuple[RuleOutcome, str | None]], list[str]]:
    """Open, unsatisfied rules the actor may fill (with the principal they act for), and
    the reasons the others are closed to them."""
    reasons: list[str] = []
    roles_given = {
        str(a.get("role"))
        for a in data.get("approvals") or []
        if isinstance(a, Mapping)
        and str(a.get("by", "")).lower() == actor
        and (not reset_at(data) or str(a.get("at", "")) > reset_at(data))
    }
    out: list[tuple[RuleOutcome, str | None]] = []
    for r in result.rules:
        if r.triggered and any(a.by == actor and a.state == "valid" for a in r.approvals):
            reasons.append(f"you already approved rule {r.rule_id} as {r.role}")
            continue
        if not r.triggered or r.satisfied:
            continue
        behalf: str | None = None
        if actor not in r.principals:
            behalf = next((p for p in r.principals if policy.approvers.delegate_of(p, on) == actor), None)
            if behalf is None:
                continue
        if not r.open:
            reasons.append(f"rule {r.rule_id} is in stage {r.stage}, which is not open yet")
            continue
        if any((a.on_behalf_of or a.by) in (actor, behalf) and a.state == "valid" for a in r.approvals):
            reasons.append(f"you already approved rule {r.rule_id} as {r.role}")
            continue
        if not policy.allow_multiple_roles and roles_given - {r.role}:
            reasons.append(
                f"you already approved this offer as {', '.join(sorted(roles_given))}; "
                f"one person may not also approve as {r.role} (separation of duties)"
            )
            continue
        out.append((r, behalf))
    return out, reasons


CLOSED_FOR_APPROVAL = frozenset(
    {Status.ACCEPTED, Status.STARTED, Status.DECLINED, Status.RENEGED, Status.RESCINDED, Status.EXPIRED}
)


def approve(
    repo: Repo,
    offer_id: str,
    actor: git.Identity | None = None,
    *,
    role: str | None = None,
    comment: str | None = None,
    sign_key: Path | None = None,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
) -> ActionResult:
    """Append one approval line for the actor (default: the git identity) and commit it as them."""
    return _run(
        repo,
        offer_id,
        lambda policy: decide_approve(repo, policy, role=role, comment=comment, sign_key=sign_key),
        actor=actor,
        commit=commit,
        push=push,
        retries=retries,
    )


def decide_approve(
    repo: Repo,
    policy: PolicySet,
    *,
    role: str | None = None,
    comment: str | None = None,
    sign_key: Path | None = None,
) -> change.Decide[ApprovalChange]:
    """approve's decide step: which open requirements the actor fills, the approval line
    (digest over the covered fields, signature) and whether the offer is now approved."""

    def decide(offer: Offer, actor: Actor) -> ApprovalChange:
        _approvable(policy, offer, actor)
        who, day = actor.email.lower(), actor.day
        result = route(repo, policy, offer, as_of=day)
        chosen_role, chosen = _chosen_requirements(policy, result, offer, who, day, role)
        behalf = next((b for _, b in chosen if b), None)
        rule_ids = tuple(r.rule_id for r, _ in chosen)
        covers = sorted({c for r, _ in chosen for c in r.covers})
        _require_readable(repo, offer, covers)
        digest = binding.approval_digest(offer.data, covers)
        line: dict[str, Any] = {
            "role": chosen_role,
            "by": who,
            "at": actor.at,
            "digest": digest,
            "rules": list(rule_ids),
        }
        if offer.extra.get("raw") is not None:  # confidential: also bind the ciphertexts
            from offerctl.store.privacy import raw_of

            line["sealed"] = binding.sealed_digest(raw_of(offer), covers)
        if comment:
            line["comment"] = comment
        if behalf:
            line["on_behalf_of"] = behalf
        signed = _sign(repo, policy, offer, line, sign_key)
        new_data = copy.deepcopy(dict(offer.data))
        new_data["approvals"] = [*(new_data.get("approvals") or []), line]
        after = route_data(policy, offer, new_data, as_of=day, snapshot=snapshots(repo, offer))
        approved = after.complete and offer.status == Status.PENDING_APPROVAL
        status = Status.APPROVED.value if approved else offer.status
        return ApprovalChange(
            offer.id,
            "approve",
            f"offer {offer.id}: approved as {chosen_role}" + (f" on behalf of {behalf}" if behalf else ""),
            who,
            actor.at,
            str(status),
            sets=(("status", status),) if approved else (),
            appends=(("approvals", line),),
            trailers={"Offer-Role": chosen_role},
            body=comment or "",
            role=chosen_role,
            rules=rule_ids,
            on_behalf_of=behalf,
            signed=signed,
            waiting=tuple(after.waiting()),
        )

    return decide


def _require_readable(repo: Repo, offer: Offer, covers: Sequence[str]) -> None:
    """An approver must see what they approve: refuse when none of their keys decrypts a
    field the approval covers (or the offer's approval-digest key)."""
    unopened = tuple(offer.extra.get("sealed") or ())
    sealed = [p for p in unopened if any(p == c or p.startswith(c + ".") for c in covers)]
    if not sealed and "privacy.digest_key" not in unopened:
        return
    from offerctl.store.privacy import raw_of, session

    what = ", ".join(sorted({p.split(".")[0] for p in sealed})) or "the approval digest key"
    raise Refused(
        f"cannot approve {offer.id}: none of your keys decrypts what this approval covers ({what}); "
        "an approver must see what they approve",
        hint=f"readers: {session(repo).readers_text(raw_of(offer))}; if you should be one, add your "
        "age_key or ssh-ed25519 ssh_key to policies/approvers.yaml and ask a reader to run "
        "`offerctl rekey`",
    )


def approvers_of(result: RouteResult) -> dict[str, list[str]]:
    """Everyone routing may ask to approve (email -> why): readers of a confidential offer,
    because an approver sees what they approve."""
    out: dict[str, list[str]] = {}
    for outcome in result.rules:
        if outcome.triggered:
            for email in (*outcome.principals, *outcome.acting):
                out.setdefault(email.lower(), []).append(f"approver: rule {outcome.rule_id} ({outcome.role})")
    return out


def _approvable(policy: PolicySet, offer: Offer, actor: Actor) -> None:
    """Refuse approving a closed offer, a draft, or one's own offer as its recruiter."""
    if offer.status in CLOSED_FOR_APPROVAL:
        raise Refused(f"offer {offer.id} is {offer.status}: it is closed and takes no approvals")
    if offer.status == Status.DRAFT:
        raise Refused(
            f"offer {offer.id} is a draft", hint=f"the recruiter submits it first: offerctl submit {offer.id}"
        )
    who = actor.email.lower()
    too_early = timestamps.time_problem(actor.at, timestamps.created_at(offer.data), latest_now())
    if too_early:
        raise Refused(
            f"cannot approve {offer.id} now: {too_early}",
            hint="check the clock (OFFERCTL_NOW / OFFERCTL_TODAY); nothing was written",
        )
    if not policy.allow_recruiter and who == str(offer.get("recruiter", "")).lower():
        raise Refused(
            f"{who} is the recruiter of {offer.id} and may not approve it (separation of duties)",
            hint="ask the approvers `offerctl route` lists",
        )


def _chosen_requirements(
    policy: PolicySet,
    result: RouteResult,
    offer: Offer,
    who: str,
    day: dt.date,
    role: str | None,
) -> tuple[str, list[tuple[RuleOutcome, str | None]]]:
    """The role the actor approves as and the open rules (with principal) it fills; refuses
    when there is none, and asks which when the actor could approve in several roles."""
    fillable, reasons = _fillable(policy, result, offer.data, who, day)
    if role is not None:
        fillable = [(r, b) for r, b in fillable if r.role == role]
    if not fillable:
        why = "; ".join(dict.fromkeys(reasons)) or f"{who} may not fill any open requirement" + (
            f" as {role}" if role else ""
        )
        raise Refused(f"cannot approve {offer.id}: {why}", hint=f"waiting on: {_describe_waiting(result)}")
    roles = sorted({r.role for r, _ in fillable})
    if len(roles) > 1:
        raise UsageError(
            f"{who} may approve {offer.id} as {', '.join(roles)}; say which",
            hint=f"offerctl approve {offer.id} --role {roles[0]}",
        )
    return roles[0], [(r, b) for r, b in fillable if r.role == roles[0]]


def _sign(repo: Repo, policy: PolicySet, offer: Offer, line: dict[str, Any], sign_key: Path | None) -> bool:
    """Add ``sig`` to the approval line when the policy wants signatures and a key is at
    hand (``--sign-key``, else git's SSH signing key); refuses when they are required and
    there is none, or when the approver has no public key to verify it with."""
    if policy.signatures == "off":
        return False
    key = sign_key if sign_key is not None else git_signing_key(repo)
    if key is None:
        if policy.signatures == "required":
            raise Refused(
                "the policy requires signed approvals",
                hint="pass --sign-key PATH (or set OFFERCTL_SIGNING_KEY)",
            )
        return False
    who = str(line["by"])
    person = policy.approvers.person(who)
    if person is None or not person.ssh_key:
        raise Refused(
            f"{who} has no ssh_key in policies/approvers.yaml, so a signature could not be verified",
            hint="add the public key under the person's ssh_key, or approve without --sign-key",
        )
    payload = binding.signing_payload(offer.id, str(line["role"]), who, str(line["at"]), str(line["digest"]))
    line["sig"] = binding.sign(payload, key)
    # The signature must verify exactly as every other command and CI will verify it: an
    # unlisted or revoked key is refused here, before anything is written.
    verdict = verify.signature_verdict(offer.id, line, policy.keyring)
    if not verdict.ok:
        raise Refused(
            f"cannot sign with {key}: {verdict.reason}",
            hint=f"sign with the key policies/approvers.yaml lists for {who} "
            "(or ask the policy owners to list your current public key); nothing was written",
        )
    return True


def git_signing_key(repo: Repo) -> Path | None:
    """The key git signs commits with, when git is set up for SSH signing
    (``gpg.format=ssh`` and ``user.signingkey`` naming a key file)."""
    if (git.config_get(repo.root, "gpg.format") or "").lower() != "ssh":
        return None
    value = git.config_get(repo.root, "user.signingkey")
    if not value or value.startswith(("ssh-", "key::")):
        return None  # a literal public key: ssh-keygen needs a file (or the agent) to sign
    path = Path(value).expanduser()
    return path if path.is_file() else None


def reject(
    repo: Repo,
    offer_id: str,
    actor: git.Identity | None = None,
    *,
    comment: str,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
) -> ActionResult:
    """An approver sends the offer back to draft with the reason (event ``rejected``)."""
    if not comment or not comment.strip():
        raise UsageError("reject needs --comment: say why, so the recruiter can fix it")
    return _run(
        repo,
        offer_id,
        lambda policy: decide_reject(repo, policy, comment),
        actor=actor,
        commit=commit,
        push=push,
        retries=retries,
    )


def decide_reject(repo: Repo, policy: PolicySet, comment: str) -> change.Decide[ApprovalChange]:
    """reject's decide step: the actor must be an approver of a triggered rule; the role
    recorded is theirs in the earliest open stage."""

    def decide(offer: Offer, actor: Actor) -> ApprovalChange:
        if offer.status not in (Status.PENDING_APPROVAL, Status.APPROVED):
            raise Refused(
                f"offer {offer.id} is {offer.status}; only offers awaiting approval "
                "(or approved, not yet sent) can be rejected"
            )
        who, day = actor.email.lower(), actor.day
        result = route(repo, policy, offer, as_of=day)
        mine = [
            r
            for r in result.rules
            if r.triggered
            and (
                who in r.principals or any(policy.approvers.delegate_of(p, day) == who for p in r.principals)
            )
        ]
        if not mine:
            raise Refused(
                f"{who} is not an approver of {offer.id}", hint=f"waiting on: {_describe_waiting(result)}"
            )
        open_first = sorted(
            mine, key=lambda r: (not r.open, result.stages.index(r.stage) if r.stage in result.stages else 0)
        )
        role = open_first[0].role
        event = {
            "type": "rejected",
            "at": actor.at,
            "by": who,
            "from": offer.status,
            "to": "draft",
            "role": role,
            "comment": comment,
        }
        return ApprovalChange(
            offer.id,
            "reject",
            f"offer {offer.id}: sent back to draft by {role}",
            who,
            actor.at,
            "draft",
            sets=(("status", "draft"),),
            appends=(("events", event),),
            trailers={"Offer-Role": role},
            body=comment,
            role=role,
        )

    return decide


def submit(
    repo: Repo,
    offer_id: str,
    actor: git.Identity | None = None,
    *,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
) -> ActionResult:
    """draft → pending_approval; returns who must act first (the first open stage)."""
    return _run(
        repo,
        offer_id,
        lambda policy: decide_submit(repo, policy),
        actor=actor,
        commit=commit,
        push=push,
        retries=retries,
    )


def decide_submit(repo: Repo, policy: PolicySet) -> change.Decide[ApprovalChange]:
    """submit's decide step: a draft with a pay band becomes pending (or approved at once
    when no rule needs an approval)."""

    def decide(offer: Offer, actor: Actor) -> ApprovalChange:
        if offer.status != Status.DRAFT:
            raise Refused(f"offer {offer.id} is {offer.status}; only a draft can be submitted")
        match = policy.bands.lookup(offer)
        if match.band is None and policy.bands.bands:
            raise Refused(
                f"offer {offer.id} has no pay band: {match.explanation}",
                path=offer.path,
                line=None,
                hint="add the band to policies/bands.yaml "
                "or correct the offer's job family, level or location",
            )
        who = actor.email.lower()
        event = {"type": "submitted", "at": actor.at, "by": who, "from": "draft", "to": "pending_approval"}
        new_data = copy.deepcopy(dict(offer.data))
        new_data["events"] = [*(new_data.get("events") or []), event]
        new_data["status"] = "pending_approval"
        after = route_data(policy, offer, new_data, as_of=actor.day, snapshot=snapshots(repo, offer))
        status = "approved" if after.complete else "pending_approval"
        return ApprovalChange(
            offer.id,
            "submit",
            f"offer {offer.id}: submitted for approval",
            who,
            actor.at,
            status,
            sets=(("status", status),),
            appends=(("events", event),),
            readers=approvers_of(after),  # a confidential offer is encrypted for its approvers
            waiting=tuple(after.waiting()),
        )

    return decide


@dataclass(frozen=True)
class Needed:
    """One approval an offer needs (again): which rule, whose, and why."""

    rule: str
    stage: str
    role: str
    people: tuple[str, ...]
    open: bool
    """The rule's stage is open: its approvers can act now (later stages wait their turn)."""
    stale: tuple[str, ...]
    """``who: what changed`` for each approval that went stale; empty for a new requirement."""
    why: str
    """The rule's condition as evaluated (for a requirement the change newly triggered)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "stage": self.stage,
            "role": self.role,
            "people": list(self.people),
            "open": self.open,
            "reason": "stale" if self.stale else "newly_required",
            "stale": list(self.stale),
            "why": self.why,
        }


def approvals_needed(repo: Repo, offer_id: str) -> list[Needed]:
    """Every triggered rule the offer does not satisfy now, in stage order: what `revise`
    reports after changing terms (who must re-approve, and why)."""
    policy, _ = load_policy_set(repo)
    offer = loader.load_offer(repo, offer_id)
    result = route(repo, policy, offer)
    return [
        Needed(r.rule_id, r.stage, r.role, r.acting, r.open, r.stale, r.explanation)
        for r in result.rules
        if r.triggered and not r.satisfied
    ]


# --- status and inbox -----------------------------------------------------------------------


@dataclass(frozen=True)
class WaitItem:
    role: str
    rule: str
    people: tuple[str, ...]
    escalation: str | None
    sla_days: int | None
    breached: bool
    stale: tuple[str, ...] = ()
    """``who: what changed`` for each approval of this rule that went stale: a re-approval."""

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"people": list(self.people), "stale": list(self.stale)}


@dataclass(frozen=True)
class StatusRow:
    offer_id: str
    status: str
    candidate: str
    title: str
    stage: str | None
    since: str | None
    business_days: int | None
    waiting: tuple[WaitItem, ...] = field(default=())
    blockers: tuple[str, ...] = ()
    last_contact: str | None = None
    """When the candidate was last contacted (touch, send, revision, competing offer learned)."""
    contact_days: int | None = None
    """Business days since then (or since approval), for offers that need contact."""
    contact_due: bool = False
    """More business days than offerctl.yaml contact.cadence_business_days."""
    competing_deadlines: tuple[Any, ...] = ()
    """``core.workflow.DeadlineRisk``: competing deadlines before our expires_on."""
    contingencies: tuple[Any, ...] = ()
    """``core.workflow.Contingency`` not cleared (pending or failed)."""
    path: str = field(default="", compare=False, repr=False)
    """The offer's file (what ``inbox`` reads the pay from); not part of the output."""

    @property
    def breached(self) -> bool:
        return any(w.breached for w in self.waiting)

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer_id,
            "status": self.status,
            "candidate": self.candidate,
            "title": self.title,
            "stage": self.stage,
            "since": self.since,
            "business_days": self.business_days,
            "sla_breached": self.breached,
            "waiting": [w.as_json() for w in self.waiting],
            "blockers": list(self.blockers),
            "last_contact": self.last_contact,
            "contact_business_days": self.contact_days,
            "contact_due": self.contact_due,
            "competing_deadlines": [r.as_json() for r in self.competing_deadlines],
            "contingencies": [c.as_json() for c in self.contingencies],
        }


def status_rows(repo: Repo, *, as_of: dt.date | None = None) -> list[StatusRow]:
    """Every open offer (and accepted offers with contingencies not cleared): status, current
    stage, who it waits on, business days waiting, SLA, candidate contact, competing
    deadlines sooner than ours, contingencies."""
    return status_table(repo, as_of=as_of)[0]


def status_table(repo: Repo, *, as_of: dt.date | None = None) -> tuple[list[StatusRow], list[Finding]]:
    """``status_rows`` plus the files it skipped: S130 for a file that fails the schema,
    S131 for one whose routing raised (one bad file never hides the others).

    Each row is cached by the offer file's content id, the policy, ``offerctl.yaml`` and the
    date (``store.derived``), so a run over an unchanged repository routes nothing and loads
    neither the policy set nor the holiday calendars. Not cached: offers opened with a key,
    and rows whose routing read git history (a stale approval not explained by revisions)."""
    from offerctl.store.derived import DerivedCache

    day = as_of or now().date()
    ids: dict[str, str] = {}
    cache = DerivedCache(repo, "status-rows", day.isoformat(), ROW_FORMAT, ids)
    rows: list[StatusRow] = []
    kept: list[str] = []

    def known(rel: str) -> bool:  # a cached row (or "not listed"): the data need not be decoded
        value = cache.get(rel)
        row = None if value == _NOT_LISTED else row_from_json(value)
        if row is not None:
            rows.append(row)
        if row is not None or value == _NOT_LISTED:
            kept.append(rel)
            return True
        return False

    offers, findings = summaries.load(
        repo, statuses=summaries.WHOLE_STATUSES, content_ids=ids, known=known
    )  # the open index
    problems = isolation.skipped(f for f in findings if _is_open_file(offers, f.path))
    context: list[tuple[PolicySet, BusinessCalendar]] = []  # built at the first miss

    def compute(offer: Offer) -> StatusRow:
        if not context:
            context.append((load_policy_set(repo)[0], BusinessCalendar.for_repo(repo)))
        policy, calendar = context[0]
        history: list[str] = []
        row = _row(repo, policy, offer, day, calendar, history)
        if not history and "raw" not in offer.extra:  # no history read, no key used
            ledger = policy.budgets is not None and policy.uses_budget  # reads every offer
            cache.put(offer.path, row_json(row), every_offer=ledger)
        return row

    for offer in offers:
        if not offer.extra.get("valid"):
            continue
        # Accepted offers stay listed while a contingency is not cleared (start needs them).
        pending = offer.status == Status.ACCEPTED and workflow.open_contingencies(offer.data)
        if offer.status not in OPEN_STATUSES and not pending:
            if "raw" not in offer.extra:
                cache.put(offer.path, _NOT_LISTED)  # e.g. accepted, every contingency cleared
                kept.append(offer.path)
            continue
        kept.append(offer.path)
        row, problem = isolation.guarded(offer, compute, "routing")
        if row is not None:
            rows.append(row)
        if problem is not None:
            problems.append(problem)
    cache.save(kept)
    rows.sort(key=lambda r: (r.since or "9999", r.offer_id))
    return rows, problems


ROW_FORMAT = 1
_NOT_LISTED: dict[str, Any] = {"listed": False}
"""Cached for an offer kept whole that ``status`` does not list (accepted, nothing pending)."""
"""The shape of a cached ``StatusRow`` (``row_json``): bump it when the row changes."""


def row_json(row: StatusRow) -> dict[str, Any]:
    """A status row as plain JSON values, read back by ``row_from_json``."""
    return {
        "offer": row.offer_id,
        "status": row.status,
        "candidate": row.candidate,
        "title": row.title,
        "stage": row.stage,
        "since": row.since,
        "days": row.business_days,
        "waiting": [
            [w.role, w.rule, list(w.people), w.escalation, w.sla_days, w.breached, list(w.stale)]
            for w in row.waiting
        ],
        "blockers": list(row.blockers),
        "contact": [row.last_contact, row.contact_days, row.contact_due],
        "deadlines": [r.as_json() for r in row.competing_deadlines],
        "contingencies": [
            [c.kind, c.status, c.added_at, c.added_by, c.updated_at, c.updated_by, c.note]
            for c in row.contingencies
        ],
        "path": row.path,
    }


def row_from_json(value: Any) -> StatusRow | None:
    """The row ``row_json`` gave, or None for anything else (a damaged entry is a miss)."""
    if type(value) is not dict:
        return None
    try:
        last_contact, contact_days, contact_due = value["contact"]
        return StatusRow(
            str(value["offer"]),
            str(value["status"]),
            str(value["candidate"]),
            str(value["title"]),
            value["stage"],
            value["since"],
            value["days"],
            tuple(
                WaitItem(role, rule, tuple(people), escalation, sla, bool(breached), tuple(stale))
                for role, rule, people, escalation, sla, breached, stale in value["waiting"]
            ),
            tuple(value["blockers"]),
            last_contact,
            contact_days,
            bool(contact_due),
            tuple(
                workflow.DeadlineRisk(
                    r["employer"],
                    dt.date.fromisoformat(r["deadline"]),
                    dt.date.fromisoformat(r["expires_on"]) if r["expires_on"] else None,
                    r["days_left"],
                )
                for r in value["deadlines"]
            ),
            tuple(workflow.Contingency(*c) for c in value["contingencies"]),
            str(value["path"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _is_open_file(offers: list[Offer], path: str) -> bool:
    """A skipped file matters to ``status`` unless it is readable and plainly closed."""
    for offer in offers:
        if offer.path == path:
            return offer.status in OPEN_STATUSES or offer.status not in {s.value for s in Status}
    return True


def _row(
    repo: Repo,
    policy: PolicySet,
    offer: Offer,
    day: dt.date,
    calendar: BusinessCalendar,
    history: list[str] | None = None,
) -> StatusRow:
    result = route(repo, policy, offer, as_of=day, history=history)
    # Approvals are work while the offer awaits them, and again after its terms changed
    # (revise, or an edit of a covered field): stale approvals wait on their approvers.
    waiting = result.waiting() if offer.status in AWAITING_STATUSES else []
    since = result.since if waiting else None
    days = max(0, calendar.between(dt.date.fromisoformat(since[:10]), day)) if since else None
    items = []
    for w in waiting:
        sla = repo.sla_days(w.role)
        items.append(
            WaitItem(
                w.role,
                w.rule_id,
                w.people,
                w.escalation,
                sla,
                sla is not None and days is not None and days > sla,
                w.stale,
            )
        )
    blockers = tuple(result.blockers()) if offer.status in OPEN_STATUSES - {Status.DRAFT} else ()
    contact = contact_state(repo, offer.data, day, calendar)
    return StatusRow(
        offer.id,
        offer.status,
        str(offer.candidate().get("name", "")),
        str(offer.get("role.title", "")),
        result.current_stage if waiting else None,
        since,
        days,
        tuple(items),
        blockers,
        *contact,
        tuple(workflow.deadline_risks(offer.data, day)),
        tuple(workflow.open_contingencies(offer.data)),
        offer.path,
    )


def contact_state(
    repo: Repo, data: Mapping[str, Any], day: dt.date, calendar: BusinessCalendar
) -> tuple[str | None, int | None, bool]:
    """(last contact, business days since the cadence started, due?) for one offer. Only
    offers in ``workflow.CONTACT_STATUSES`` can be due."""
    last = workflow.last_contact(data)
    last_at = str(last.get("at")) if last is not None and last.get("at") else None
    if not isinstance(data.get("status"), str) or data.get("status") not in workflow.CONTACT_STATUSES:
        return last_at, None, False
    since = workflow.contact_since(data)
    if since is None:
        return last_at, None, False
    days = max(0, calendar.between(dt.date.fromisoformat(since[:10]), day))
    return last_at, days, days > repo.contact_cadence


def offer_contact(
    repo: Repo, data: Mapping[str, Any], *, as_of: dt.date | None = None
) -> tuple[int | None, bool]:
    """(business days since the contact cadence started, due?) for one offer (``show``)."""
    _, days, due = contact_state(repo, data, as_of or now().date(), BusinessCalendar.for_repo(repo))
    return days, due


def inbox(repo: Repo, email: str, *, as_of: dt.date | None = None) -> list[StatusRow]:
    """What awaits ``email`` (directly or as a delegate), oldest first."""
    return inbox_table(repo, email, as_of=as_of)[0]


def inbox_table(
    repo: Repo, email: str, *, as_of: dt.date | None = None
) -> tuple[list[StatusRow], list[Finding]]:
    """``inbox`` plus the files skipped on the way (see ``status_table``)."""
    who = email.lower()
    rows = []
    table, problems = status_table(repo, as_of=as_of)
    for row in table:
        mine = tuple(w for w in row.waiting if who in w.people)
        if mine:
            rows.append(
                StatusRow(
                    row.offer_id,
                    row.status,
                    row.candidate,
                    row.title,
                    row.stage,
                    row.since,
                    row.business_days,
                    mine,
                    path=row.path,
                )
            )
    rows.sort(key=lambda r: (r.since or "9999", r.offer_id))
    return rows, problems


def inbox_offers(repo: Repo, rows: Sequence[StatusRow]) -> dict[str, Offer]:
    """The offers of ``inbox`` rows by id (for their pay), read from their cards rather than
    parsed and validated one by one."""
    paths = [r.path for r in rows if r.path]
    loaded = {o.path: o for o in summaries.load(repo, paths)[0]} if paths else {}
    offers: dict[str, Offer] = {}
    for row in rows:
        offer = loaded.get(row.path)
        offers[row.offer_id] = offer if offer is not None else loader.load_offer(repo, row.offer_id)
    return offers


__all__ = [
    "ActionResult",
    "ApprovalChange",
    "Needed",
    "StatusRow",
    "approvals_needed",
    "approve",
    "decide_approve",
    "decide_reject",
    "decide_submit",
    "inbox",
    "inbox_offers",
    "inbox_table",
    "reject",
    "status_rows",
    "status_table",
    "submit",
]
