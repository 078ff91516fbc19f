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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from offerctl.core.bizdays import BusinessCalendar
from offerctl.core.clock import today
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
    sla: int
    escalated: bool
    holidays: tuple[str, ...] = ()

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
        }


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
        if limit is None or not item.since:
            continue
        opened = dt.datetime.fromisoformat(item.since.replace("Z", "+00:00")).astimezone(dt.UTC).date()
        elapsed = calendar.between(opened, as_of)
        if elapsed <= limit:
            continue
        skipped = tuple(f"{day.isoformat()} {name}" for day, name in calendar.holidays_between(opened, as_of))
        found.append(
            Overdue(
                offer_id=offer_id,
                title=title,
                stage=item.stage,
                rule_id=item.rule_id,
                role=item.role,
                people=tuple(item.people),
                escalation=item.escalation,
                since=item.since,
                business_days=elapsed,
                sla=limit,
                escalated=elapsed > 2 * limit,
                holidays=skipped,
            )
        )
    found.sort(key=lambda o: (-o.business_days, o.offer_id, o.rule_id))
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


def digests(items: Sequence[Overdue], *, company: str, as_of: dt.date) -> list[Digest]:
    per_person: dict[str, list[Overdue]] = defaultdict(list)
    for item in items:
        for person in item.recipients:
            per_person[person.lower()].append(item)
    out = []
    for person in sorted(per_person):
        mine = per_person[person]
        noun = "approval" if len(mine) == 1 else "approvals"
        lines = [
            "Hello,",
            "",
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
            lines.append(
                f"    see: offerctl route {item.offer_id}   approve: offerctl approve {item.offer_id}"
            )
        lines += ["", "— offerctl remind"]
        out.append(
            Digest(
                to=person,
                subject=f"[offerctl] {len(mine)} offer {noun} waiting past SLA",
                body="\n".join(lines) + "\n",
                items=tuple(mine),
            )
        )
    return out


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
class RemindResult:
    as_of: dt.date
    overdue: tuple[Overdue, ...]
    digests: tuple[Digest, ...]
    sent: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "overdue": [o.as_json() for o in self.overdue],
            "digests": [d.as_json() for d in self.digests],
            "sent": list(self.sent),
        }


def collect(repo: Repo, *, as_of: dt.date) -> list[Overdue]:
    """Overdue approvals of every valid ``pending_approval`` offer, from the approvals
    team's routing (``route(...).waiting()``: who can act now, since when, escalation)."""
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route
    from offerctl.store import summaries

    policy, _ = load_policy_set(repo)
    offers, _ = summaries.load(repo, statuses={"pending_approval"})  # the open index
    waiting: list[tuple[str, str, WaitingLike]] = []
    for offer in sorted(offers, key=lambda o: o.id):
        if not offer.extra.get("valid") or offer.status != "pending_approval":
            continue
        title = str(offer.get("role.title") or "")
        waiting.extend((offer.id, title, item) for item in route(repo, policy, offer, as_of=as_of).waiting())
    sla = {str(k): int(v) for k, v in (repo.setting("sla") or {}).items() if isinstance(v, int)}
    return overdue(waiting, BusinessCalendar.for_repo(repo), sla, as_of)


def run(repo: Repo, *, as_of: dt.date | None = None, send: bool = False) -> RemindResult:
    """The one core call of ``offerctl remind``: what is overdue, the digests, and (with
    ``send``) their delivery. Nothing is written to the repository."""
    day = as_of or today()
    company = str(repo.setting("company.name") or "")
    items = collect(repo, as_of=day)
    mails = digests(items, company=company, as_of=day)
    sent: list[str] = []
    if send and mails:
        sent = send_digests(SmtpSettings.from_config(repo.setting("smtp")), mails, company=company)
    return RemindResult(day, tuple(items), tuple(mails), tuple(sent))
