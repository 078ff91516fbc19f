"""SLA reminders: who has let an approval wait past its SLA, and one digest mail per person.

``overdue`` and ``digests`` are pure: waiting requirements (the approvals team's
``route(...).waiting()``), a business calendar and the SLAs in, reminders out. An approval is
**overdue** when more business days than the role's ``offerctl.yaml`` ``sla`` have passed
since its stage opened, and **escalated** when more than twice the SLA have passed: the
escalation contact (the person's or the role's) then gets it in their digest too. Roles
without an SLA are never reminded.

``send_digests`` delivers through ``offerctl.lifecycle.mailer`` (the same ``smtp:`` settings, connection
and ``DeliveryError`` as ``send``), all digests over one connection.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from offerctl.core import isolation
from offerctl.core.bizdays import BusinessCalendar
from offerctl.core.clock import today
from offerctl.core.model import Finding
from offerctl.lifecycle import mailer
from offerctl.lifecycle.mailer import SmtpSettings
from offerctl.store.repo import Repo


class WaitingLike(Protocol):
    """The shape of ``offerctl.policy.routing.Waiting``."""

    @property
    def stage(self) -> str: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def people(self) -> tuple[str, ...]: ...
    @property
    def escalation(self) -> str | None: ...
    @property
    def since(self) -> str | None: ...
    @property
    def stale(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Overdue:
    offer_id: str
    title: str
    stage: str
    rule_id: str
    role: str
    people: tuple[str, ...]
    escalation: str | None
    since: str
    business_days: int
    sla: int | None
    """The role's SLA in business days (None: the role has none)."""
    escalated: bool
    holidays: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    """``who: what changed`` when the approval is wanted again because the terms changed."""

    @property
    def recipients(self) -> tuple[str, ...]:
        extra = (self.escalation,) if self.escalated and self.escalation else ()
        return tuple(dict.fromkeys((*self.people, *extra)))

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer_id,
            "title": self.title,
            "stage": self.stage,
            "rule": self.rule_id,
            "role": self.role,
            "people": list(self.people),
            "since": self.since,
            "business_days": self.business_days,
            "sla_business_days": self.sla,
            "escalated": self.escalated,
            "escalation": self.escalation if self.escalated else None,
            "holidays_skipped": list(self.holidays),
            "recipients": list(self.recipients),
            "stale": list(self.stale),
        }


def _waited(
    offer_id: str,
    title: str,
    item: WaitingLike,
    calendar: BusinessCalendar,
    limit: int | None,
    as_of: dt.date,
) -> Overdue | None:
    if not item.since:
        return None
    opened = dt.datetime.fromisoformat(item.since.replace("Z", "+00:00")).astimezone(dt.UTC).date()
    elapsed = calendar.between(opened, as_of)
    skipped = tuple(f"{day.isoformat()} {name}" for day, name in calendar.holidays_between(opened, as_of))
    return Overdue(
        offer_id=offer_id,
        title=title,
        stage=item.stage,
        rule_id=item.rule_id,
        role=item.role,
        people=tuple(item.people),
        escalation=item.escalation,
        since=item.since,
        business_days=max(0, elapsed),
        sla=limit,
        escalated=limit is not None and elapsed > 2 * limit,
        holidays=skipped,
        stale=tuple(getattr(item, "stale", ())),
    )


def overdue(
    waiting: Iterable[tuple[str, str, WaitingLike]],
    calendar: BusinessCalendar,
    sla: Mapping[str, int],
    as_of: dt.date,
) -> list[Overdue]:
    """``waiting``: (offer id, role title, waiting requirement) triples."""
    found = []
    for offer_id, title, item in waiting:
        limit = sla.get(item.role)
        if limit is None:
            continue
        waited = _waited(offer_id, title, item, calendar, limit, as_of)
        if waited is not None and waited.business_days > limit:
            found.append(waited)
    found.sort(key=lambda o: (-o.business_days, o.offer_id, o.rule_id))
    return found


def reapprovals(
    waiting: Iterable[tuple[str, str, WaitingLike]],
    calendar: BusinessCalendar,
    sla: Mapping[str, int],
    as_of: dt.date,
) -> list[Overdue]:
    """Approvals wanted again because the terms changed after they were given (stale), not
    yet past their SLA (those are in ``overdue``): listed whatever their age, since the
    approver may not know their approval no longer counts."""
    found = []
    for offer_id, title, item in waiting:
        if not getattr(item, "stale", ()):
            continue
        limit = sla.get(item.role)
        waited = _waited(offer_id, title, item, calendar, limit, as_of)
        if waited is None or waited.since[:10] > as_of.isoformat():
            continue  # not stale yet on that day
        if limit is None or waited.business_days <= limit:
            found.append(waited)
    found.sort(key=lambda o: (o.since, o.offer_id, o.rule_id))
    return found


@dataclass(frozen=True)
class Digest:
    """One mail to one person: everything overdue that they can act on or were escalated."""

    to: str
    subject: str
    body: str
    items: tuple[Overdue, ...]

    def as_json(self) -> dict[str, Any]:
        return {"to": self.to, "subject": self.subject, "offers": [o.offer_id for o in self.items]}


def _days(n: int) -> str:
    return f"{n} business day" + ("" if n == 1 else "s")


def _escalation_note(item: Overdue, person: str) -> str:
    """What the digest says about escalation: to whom (unless to the reader, whose line
    already says "escalated to you"), or that there is nobody to escalate to."""
    if not item.escalated:
        return ""
    if not item.escalation:
        return "; past twice the SLA, but there is no escalation contact to tell"
    if item.escalation.lower() == person:
        return "; past twice the SLA"
    return f"; past twice the SLA, escalated to {item.escalation}"


def digests(
    items: Sequence[Overdue],
    *,
    company: str,
    as_of: dt.date,
    again: Sequence[Overdue] = (),
) -> list[Digest]:
    """One mail per person: their approvals past SLA (``items``, and escalations), then the
    approvals they gave that went stale and are wanted again (``again``)."""
    per_person: dict[str, list[Overdue]] = defaultdict(list)
    stale_for: dict[str, list[Overdue]] = defaultdict(list)
    for item in items:
        for person in item.recipients:
            per_person[person.lower()].append(item)
    for item in again:
        for person in item.people:
            stale_for[person.lower()].append(item)
    out = []
    for person in sorted({*per_person, *stale_for}):
        mine = per_person.get(person, [])
        redo = stale_for.get(person, [])
        noun = "approval" if len(mine) == 1 else "approvals"
        lines = ["Hello,", ""]
        if mine:
            lines += [
                f"{len(mine)} offer {noun} at {company or 'your company'} waited longer than the agreed "
                f"time as of {as_of.isoformat()} (business days; weekends and public holidays skipped):",
                "",
            ]
        for item in mine:
            escalated = person not in {p.lower() for p in item.people}
            who = "escalated to you" if escalated else f"your {item.role} approval"
            lines.append(
                f"- {item.offer_id} ({item.title}): {who}, stage {item.stage}, rule {item.rule_id}; "
                f"waiting since {item.since[:10]}, {_days(item.business_days)} (SLA {item.sla})"
                + _escalation_note(item, person)
            )
            if item.stale:
                lines.append(f"    needed again: the terms changed ({_changed_fields(item.stale)})")
            lines.append(
                f"    see: offerctl route {item.offer_id}   approve: offerctl approve {item.offer_id}"
            )
        if redo:
            if mine:
                lines.append("")
            lines += [
                "The terms of these offers changed after they were approved, so the approval no "
                "longer counts and is needed again:",
                "",
            ]
        for item in redo:
            lines.append(
                f"- {item.offer_id} ({item.title}): your {item.role} approval (rule {item.rule_id}) "
                f"is stale since {item.since[:10]}"
            )
            lines.append(f"    changed since you approved: {_changed_fields(item.stale)}")
            lines.append(
                f"    see: offerctl route {item.offer_id}   approve: offerctl approve {item.offer_id}"
            )
        lines += ["", "— offerctl remind"]
        if mine:
            subject = f"[offerctl] {len(mine)} offer {noun} waiting past SLA"
            if redo:
                subject += f", {len(redo)} to approve again"
        else:
            subject = f"[offerctl] {len(redo)} offer approval{'' if len(redo) == 1 else 's'} to give again"
        out.append(Digest(to=person, subject=subject, body="\n".join(lines) + "\n", items=(*mine, *redo)))
    return out


_CHANGED = re.compile(r"([a-z_][a-z0-9_.]*) changed\b")


def _changed_fields(stale: Sequence[str]) -> str:
    """The field names in stale-approval details, never their values: a mail may travel
    further than the repository, and compensation stays in it."""
    names = dict.fromkeys(m.group(1) for detail in stale for m in _CHANGED.finditer(detail))
    return ", ".join(names) or "a covered field"


def message(settings: SmtpSettings, digest: Digest, *, company: str) -> EmailMessage:
    return mailer.text_message(
        settings, to=digest.to, subject=digest.subject, body=digest.body, sender_name=company or "offerctl"
    )


def send_digests(settings: SmtpSettings, items: Sequence[Digest], *, company: str) -> list[str]:
    """Send every digest over one SMTP connection (``mailer.deliver_all``); returns the
    addresses mailed. Nothing is sent (and no connection opened) when there is nothing to send.
    """
    if not items:
        return []
    return mailer.deliver_all(
        settings,
        [message(settings, digest, company=company) for digest in items],
        password=settings.password(),
        instead="",
    )


@dataclass(frozen=True)
class FollowUp:
    """Something a recruiter should do about a candidate: ``contact`` (not contacted within
    the cadence), ``competing_deadline`` (a competing deadline sooner than our expiry) or
    ``contingency`` (one still pending, or failed and the offer not yet rescinded)."""

    offer_id: str
    title: str
    recruiter: str
    kind: str
    detail: str
    business_days: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer_id,
            "title": self.title,
            "recruiter": self.recruiter,
            "kind": self.kind,
            "detail": self.detail,
            "business_days": self.business_days,
        }


FOLLOW_UP_ORDER = {"competing_deadline": 0, "contingency": 1, "contact": 2}


def follow_ups(
    repo: Repo, offers: Iterable[Any], calendar: BusinessCalendar, as_of: dt.date
) -> list[FollowUp]:
    """Per open offer: contact overdue (approved, sent, negotiating: no contact within
    ``contact.cadence_business_days``), competing deadlines before our ``expires_on``, and
    contingencies not cleared (up to the start). Pure over the offers' events."""
    from offerctl.core import workflow
    from offerctl.lifecycle.approval_flow import contact_state

    found: list[FollowUp] = []
    for offer in offers:
        data = offer.data
        title = str(offer.get("role.title") or "")
        recruiter = str(data.get("recruiter") or "").lower()
        for risk in workflow.deadline_risks(data, as_of):
            ours = f"our offer expires {risk.expires_on}" if risk.expires_on else "our offer has no expiry"
            found.append(
                FollowUp(
                    offer.id,
                    title,
                    recruiter,
                    "competing_deadline",
                    f"{risk.employer} needs an answer by {risk.deadline} ({risk.days_left} day(s)); {ours}",
                )
            )
        if offer.status in workflow.CONTACT_STATUSES or offer.status == "accepted":
            for item in workflow.open_contingencies(data, as_of):
                found.append(
                    FollowUp(
                        offer.id,
                        title,
                        recruiter,
                        "contingency",
                        f"{item.label} {item.status} since {item.updated_at[:10]}",
                    )
                )
        last, days, due = contact_state(repo, data, as_of, calendar)
        if due:
            since = f"last contact {last[:10]}" if last else "no contact logged since approval"
            found.append(
                FollowUp(
                    offer.id,
                    title,
                    recruiter,
                    "contact",
                    f"not contacted for {days} business day(s) ({since}; cadence {repo.contact_cadence})",
                    days,
                )
            )
    found.sort(key=lambda f: (f.recruiter, FOLLOW_UP_ORDER[f.kind], f.offer_id))
    return found


def follow_up_digests(items: Sequence[FollowUp], *, as_of: dt.date) -> dict[str, list[str]]:
    """recruiter → the lines of their follow-up section."""
    per: dict[str, list[FollowUp]] = defaultdict(list)
    for item in items:
        if item.recruiter:
            per[item.recruiter].append(item)
    out: dict[str, list[str]] = {}
    labels = {"competing_deadline": "COMPETING DEADLINE", "contingency": "contingency", "contact": "contact"}
    for person, mine in sorted(per.items()):
        lines = [f"{len(mine)} candidate follow-up(s) on your offers as of {as_of.isoformat()}:", ""]
        for item in mine:
            lines.append(f"- {item.offer_id} ({item.title}): {labels[item.kind]}: {item.detail}")
        lines.append("    log contact: offerctl touch ID --via call --note ...")
        out[person] = lines
    return out


def merge_digests(approvals: Sequence[Digest], follow: Mapping[str, list[str]]) -> list[Digest]:
    """One mail per person: their approvals digest and their follow-up section together."""
    by_person = {d.to: d for d in approvals}
    out: list[Digest] = []
    for person in sorted(set(by_person) | set(follow)):
        digest = by_person.get(person)
        section = follow.get(person)
        if digest is None and section is not None:
            body = "\n".join(["Hello,", "", *section, "", "— offerctl remind"]) + "\n"
            out.append(Digest(person, f"[offerctl] {section[0].split(' on your')[0]} to do", body, ()))
        elif digest is not None and section is not None:
            head, _, tail = digest.body.rpartition("\n— offerctl remind")
            body = head + "\n" + "\n".join(section) + "\n\n— offerctl remind" + tail
            out.append(Digest(person, digest.subject + " and candidate follow-ups", body, digest.items))
        elif digest is not None:
            out.append(digest)
    return out


@dataclass(frozen=True)
class RemindResult:
    as_of: dt.date
    overdue: tuple[Overdue, ...]
    digests: tuple[Digest, ...]
    sent: tuple[str, ...] = ()
    reapprovals: tuple[Overdue, ...] = ()
    """Stale approvals wanted again and not (yet) past their SLA."""
    skipped: tuple[Finding, ...] = ()
    """Files left out (S130/S131): printed on stderr, never hidden."""
    follow_ups: tuple[FollowUp, ...] = ()
    """Candidate follow-ups per recruiter (contact due, competing deadlines, contingencies)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "overdue": [o.as_json() for o in self.overdue],
            "reapprovals": [o.as_json() for o in self.reapprovals],
            "follow_ups": [f.as_json() for f in self.follow_ups],
            "digests": [d.as_json() for d in self.digests],
            "sent": list(self.sent),
        }


def waiting(repo: Repo, *, as_of: dt.date) -> list[tuple[str, str, WaitingLike]]:
    """(offer id, role title, requirement) for every approval some valid offer waits on:
    offers awaiting approval, and sent or negotiating offers whose changed terms need an
    approval again — from the approvals team's routing (``route(...).waiting()``: who can
    act now, since when, escalation, stale approvals)."""
    return waiting_checked(repo, as_of=as_of)[0]


def waiting_checked(
    repo: Repo, *, as_of: dt.date
) -> tuple[list[tuple[str, str, WaitingLike]], list[Finding]]:
    """``waiting`` plus the awaiting offers it had to skip (S130 invalid file, S131 routing
    raised): one bad file never hides the others' reminders."""
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route
    from offerctl.store import summaries

    policy, _ = load_policy_set(repo)
    offers, findings = summaries.load(repo, statuses=_AWAITING)  # the open index
    awaiting = {o.path for o in offers if o.status in _AWAITING}
    problems = isolation.skipped(f for f in findings if f.path in awaiting)
    found: list[tuple[str, str, WaitingLike]] = []
    for offer in sorted(offers, key=lambda o: o.id):
        if not offer.extra.get("valid") or offer.status not in _AWAITING:
            continue
        title = str(offer.get("role.title") or "")
        items, problem = isolation.guarded(
            offer, lambda o: route(repo, policy, o, as_of=as_of).waiting(), "routing"
        )
        found.extend((offer.id, title, item) for item in items or [])
        if problem is not None:
            problems.append(problem)
    return found, problems


_AWAITING = frozenset({"pending_approval", "approved", "sent", "negotiating"})


def _sla(repo: Repo) -> dict[str, int]:
    return {str(k): int(v) for k, v in (repo.setting("sla") or {}).items() if isinstance(v, int)}


def _valid_offers(repo: Repo) -> list[Any]:
    from offerctl.store import loader

    offers, _ = loader.load_offers(repo, loader.offer_files(repo))
    return sorted((o for o in offers if o.extra.get("valid")), key=lambda o: o.id)


def collect(repo: Repo, *, as_of: dt.date) -> list[Overdue]:
    """Overdue approvals of every valid offer that waits on one."""
    return collect_checked(repo, as_of=as_of)[0]


def collect_checked(repo: Repo, *, as_of: dt.date) -> tuple[list[Overdue], list[Finding]]:
    """``collect`` plus the offers it had to skip (S130/S131)."""
    items, problems = waiting_checked(repo, as_of=as_of)
    return overdue(items, BusinessCalendar.for_repo(repo), _sla(repo), as_of), problems


def run(repo: Repo, *, as_of: dt.date | None = None, send: bool = False) -> RemindResult:
    """The one core call of ``offerctl remind``: what is overdue, which stale approvals are
    wanted again, the digests, and (with ``send``) their delivery. Nothing is written to
    the repository."""
    day = as_of or today()
    company = str(repo.setting("company.name") or "")
    items, problems = waiting_checked(repo, as_of=day)
    calendar, sla = BusinessCalendar.for_repo(repo), _sla(repo)
    late = overdue(items, calendar, sla, day)
    again = reapprovals(items, calendar, sla, day)
    follow = follow_ups(repo, _valid_offers(repo), calendar, day)
    mails = merge_digests(
        digests(late, company=company, as_of=day, again=again), follow_up_digests(follow, as_of=day)
    )
    sent: list[str] = []
    if send and mails:
        sent = send_digests(SmtpSettings.from_config(repo.setting("smtp")), mails, company=company)
    return RemindResult(
        day, tuple(late), tuple(mails), tuple(sent), tuple(again), tuple(problems), tuple(follow)
    )
