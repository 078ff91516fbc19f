"""The approval commands' core: submit, approve, reject, status and inbox (returns values).

Each mutating function decides first (pure: policy + offer + actor), then writes one change
through ``OfferEdit`` — a refusal raises ``errors.Refused`` before anything is written.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offerctl.approvals import binding
from offerctl.core import workflow
from offerctl.core.bizdays import BusinessCalendar
from offerctl.core.clock import now
from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import OPEN_STATUSES, Offer, Status
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
from offerctl.store import git, loader
from offerctl.store.edit import OfferEdit
from offerctl.store.repo import Repo

# Policy findings that make routing untrustworthy: approvals are refused until they are fixed.
BLOCKING_CODES = frozenset({"P202", "P203", "P204", "P205", "P206", "P209"})


def _policy(repo: Repo) -> PolicySet:
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


def _stamp() -> tuple[str, dt.date]:
    moment = now().replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.date()


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

    def as_json(self) -> dict[str, Any]:
        return {
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


def waiting_json(w: Waiting) -> dict[str, Any]:
    return {
        "stage": w.stage,
        "rule": w.rule_id,
        "role": w.role,
        "people": list(w.people),
        "escalation": w.escalation,
        "since": w.since,
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
    actor: git.Identity,
    *,
    role: str | None = None,
    comment: str | None = None,
    sign_key: Path | None = None,
    commit: bool = True,
) -> ActionResult:
    """Append one approval line for the actor (the git identity) and commit it as them."""
    policy = _policy(repo)
    offer = loader.load_offer(repo, offer_id)
    if offer.status in CLOSED_FOR_APPROVAL:
        raise Refused(f"offer {offer.id} is {offer.status}: it is closed and takes no approvals")
    if offer.status == Status.DRAFT:
        raise Refused(
            f"offer {offer.id} is a draft", hint=f"the recruiter submits it first: offerctl submit {offer.id}"
        )
    at, day = _stamp()
    who = actor.email.lower()
    if not policy.allow_recruiter and who == str(offer.get("recruiter", "")).lower():
        raise Refused(
            f"{who} is the recruiter of {offer.id} and may not approve it (separation of duties)",
            hint="ask the approvers `offerctl route` lists",
        )
    result = route(repo, policy, offer, as_of=day)
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
    chosen = [(r, b) for r, b in fillable if r.role == roles[0]]
    behalf = next((b for _, b in chosen if b), None)
    rule_ids = tuple(r.rule_id for r, _ in chosen)
    covers = sorted({c for r, _ in chosen for c in r.covers})
    unopened = tuple(offer.extra.get("sealed") or ())
    sealed = [p for p in unopened if any(p == c or p.startswith(c + ".") for c in covers)]
    if sealed or "privacy.digest_key" in unopened:
        from offerctl.store.privacy import raw_of, session

        what = ", ".join(sorted({p.split(".")[0] for p in sealed})) or "the approval digest key"
        raise Refused(
            f"cannot approve {offer.id}: none of your keys decrypts what this approval covers ({what}); "
            "an approver must see what they approve",
            hint=f"readers: {session(repo).readers_text(raw_of(offer))}; if you should be one, add your "
            "age_key or ssh-ed25519 ssh_key to policies/approvers.yaml and ask a reader to run "
            "`offerctl rekey`",
        )
    digest = binding.digest(offer.data, covers)
    line: dict[str, Any] = {"role": roles[0], "by": who, "at": at, "digest": digest, "rules": list(rule_ids)}
    if offer.extra.get("raw") is not None:
        from offerctl.store.privacy import raw_of

        line["sealed"] = binding.sealed_digest(raw_of(offer), covers)
    if comment:
        line["comment"] = comment
    if behalf:
        line["on_behalf_of"] = behalf
    signed = False
    if sign_key is None and policy.signatures != "off":
        sign_key = git_signing_key(repo)
    if policy.signatures != "off" and sign_key is not None:
        person = policy.approvers.person(who)
        if person is None or not person.ssh_key:
            raise Refused(
                f"{who} has no ssh_key in policies/approvers.yaml, so a signature could not be verified",
                hint="add the public key under the person's ssh_key, or approve without --sign-key",
            )
        line["sig"] = binding.sign(binding.signing_payload(offer.id, roles[0], who, at, digest), sign_key)
        signed = True
    elif policy.signatures == "required":
        raise Refused(
            "the policy requires signed approvals", hint="pass --sign-key PATH (or set OFFERCTL_SIGNING_KEY)"
        )
    new_data = copy.deepcopy(dict(offer.data))
    new_data["approvals"] = [*(new_data.get("approvals") or []), line]
    after = route_data(policy, offer, new_data, as_of=day, snapshot=snapshots(repo, offer))
    status = offer.status
    edit = OfferEdit.open(repo, offer.id)
    edit.append("approvals", _line_for_yaml(line))
    if after.complete and offer.status == Status.PENDING_APPROVAL:
        status = Status.APPROVED.value
        edit.set("status", status)
    subject = f"offer {offer.id}: approved as {roles[0]}" + (f" on behalf of {behalf}" if behalf else "")
    commit_id = edit.save(
        subject,
        author=actor,
        body=comment or "",
        trailers={"Offer-Id": offer.id, "Offer-Action": "approve", "Offer-Role": roles[0]},
        commit=commit,
    )
    return ActionResult(
        offer.id,
        "approve",
        who,
        at,
        str(status),
        roles[0],
        rule_ids,
        behalf,
        signed,
        commit_id,
        tuple(after.waiting()),
    )


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


def _line_for_yaml(line: Mapping[str, Any]) -> dict[str, Any]:
    """Lists inside an approval line stay inline (``rules: [a, b]``), one line per approval."""
    from ruamel.yaml.comments import CommentedSeq

    out = dict(line)
    if "rules" in out:
        seq = CommentedSeq(out["rules"])
        seq.fa.set_flow_style()
        out["rules"] = seq
    return out


def reject(
    repo: Repo, offer_id: str, actor: git.Identity, *, comment: str, commit: bool = True
) -> ActionResult:
    """An approver sends the offer back to draft with the reason (event ``rejected``)."""
    if not comment or not comment.strip():
        raise UsageError("reject needs --comment: say why, so the recruiter can fix it")
    policy = _policy(repo)
    offer = loader.load_offer(repo, offer_id)
    if offer.status not in (Status.PENDING_APPROVAL, Status.APPROVED):
        raise Refused(
            f"offer {offer.id} is {offer.status}; only offers awaiting approval "
            "(or approved, not yet sent) can be rejected"
        )
    at, day = _stamp()
    who = actor.email.lower()
    result = route(repo, policy, offer, as_of=day)
    mine = [
        r
        for r in result.rules
        if r.triggered
        and (who in r.principals or any(policy.approvers.delegate_of(p, day) == who for p in r.principals))
    ]
    if not mine:
        raise Refused(
            f"{who} is not an approver of {offer.id}", hint=f"waiting on: {_describe_waiting(result)}"
        )
    open_first = sorted(
        mine, key=lambda r: (not r.open, result.stages.index(r.stage) if r.stage in result.stages else 0)
    )
    role = open_first[0].role
    edit = OfferEdit.open(repo, offer.id)
    edit.append(
        "events",
        {
            "type": "rejected",
            "at": at,
            "by": who,
            "from": offer.status,
            "to": "draft",
            "role": role,
            "comment": comment,
        },
    )
    edit.set("status", "draft")
    commit_id = edit.save(
        f"offer {offer.id}: sent back to draft by {role}",
        author=actor,
        body=comment,
        trailers={"Offer-Id": offer.id, "Offer-Action": "reject", "Offer-Role": role},
        commit=commit,
    )
    return ActionResult(offer.id, "reject", who, at, "draft", role, (), None, False, commit_id)


def approvers_of(result: RouteResult) -> dict[str, list[str]]:
    """Everyone routing may ask to approve (email -> why): readers of a confidential offer,
    because an approver sees what they approve."""
    out: dict[str, list[str]] = {}
    for outcome in result.rules:
        if outcome.triggered:
            for email in (*outcome.principals, *outcome.acting):
                out.setdefault(email.lower(), []).append(f"approver: rule {outcome.rule_id} ({outcome.role})")
    return out


def submit(repo: Repo, offer_id: str, actor: git.Identity, *, commit: bool = True) -> ActionResult:
    """draft → pending_approval; returns who must act first (the first open stage)."""
    policy = _policy(repo)
    offer = loader.load_offer(repo, offer_id)
    if offer.status != Status.DRAFT:
        raise Refused(f"offer {offer.id} is {offer.status}; only a draft can be submitted")
    match = policy.bands.lookup(offer)
    if match.band is None and policy.bands.bands:
        raise Refused(
            f"offer {offer.id} has no pay band: {match.explanation}",
            path=offer.path,
            line=None,
            hint="add the band to policies/bands.yaml or correct the offer's job family, level or location",
        )
    at, day = _stamp()
    who = actor.email.lower()
    event = {"type": "submitted", "at": at, "by": who, "from": "draft", "to": "pending_approval"}
    new_data = copy.deepcopy(dict(offer.data))
    new_data["events"] = [*(new_data.get("events") or []), event]
    new_data["status"] = "pending_approval"
    after = route_data(policy, offer, new_data, as_of=day, snapshot=snapshots(repo, offer))
    status = "approved" if after.complete else "pending_approval"
    edit = OfferEdit.open(repo, offer.id)
    edit.readers.update(approvers_of(after))  # a confidential offer is encrypted for its approvers
    edit.append("events", event)
    edit.set("status", status)
    commit_id = edit.save(
        f"offer {offer.id}: submitted for approval",
        author=actor,
        trailers={"Offer-Id": offer.id, "Offer-Action": "submit"},
        commit=commit,
    )
    return ActionResult(offer.id, "submit", who, at, status, commit=commit_id, waiting=tuple(after.waiting()))


# --- status and inbox -----------------------------------------------------------------------


@dataclass(frozen=True)
class WaitItem:
    role: str
    rule: str
    people: tuple[str, ...]
    escalation: str | None
    sla_days: int | None
    breached: bool

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"people": list(self.people)}


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
    policy, _ = load_policy_set(repo)
    day = as_of or now().date()
    offers, _ = loader.load_offers(repo, loader.offer_files(repo))
    calendar = BusinessCalendar.for_repo(repo)
    rows: list[StatusRow] = []
    for offer in offers:
        if not offer.extra.get("valid"):
            continue
        # Accepted offers stay listed while a contingency is not cleared (start needs them).
        pending = offer.status == Status.ACCEPTED and workflow.open_contingencies(offer.data)
        if offer.status not in OPEN_STATUSES and not pending:
            continue
        rows.append(_row(repo, policy, offer, day, calendar))
    rows.sort(key=lambda r: (r.since or "9999", r.offer_id))
    return rows


def _row(repo: Repo, policy: PolicySet, offer: Offer, day: dt.date, calendar: BusinessCalendar) -> StatusRow:
    result = route(repo, policy, offer, as_of=day)
    waiting = result.waiting() if offer.status == Status.PENDING_APPROVAL else []
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
    )


def contact_state(
    repo: Repo, data: Mapping[str, Any], day: dt.date, calendar: BusinessCalendar
) -> tuple[str | None, int | None, bool]:
    """(last contact, business days since the cadence started, due?) for one offer. Only
    offers in ``workflow.CONTACT_STATUSES`` can be due."""
    last = workflow.last_contact(data)
    last_at = str(last.get("at")) if last is not None and last.get("at") else None
    if data.get("status") not in workflow.CONTACT_STATUSES:
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
    who = email.lower()
    rows = []
    for row in status_rows(repo, as_of=as_of):
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
                )
            )
    rows.sort(key=lambda r: (r.since or "9999", r.offer_id))
    return rows


__all__ = [
    "ActionResult",
    "StatusRow",
    "approve",
    "inbox",
    "reject",
    "status_rows",
    "submit",
]
