"""What an offer's events say about the candidate side of the workflow: competing offers,
contact with the candidate and contingencies.

All three are recorded as append-only events (``competing_offer``, ``touch``,
``contingency``), never as fields edited in place: history then shows when each fact was
learned and by whom, and ``check``'s history verification (approvals and events are
append-only, authored by the person named) covers them like every other event. The
functions here are pure readers of ``offer.events``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from offerctl.core.model import to_decimal

CONTACT_STATUSES = frozenset({"approved", "sent", "negotiating"})
"""Open offers whose candidate a recruiter should be in touch with (``remind``)."""
FOLLOW_UP_STATUSES = frozenset({"pending_approval", "approved", "sent", "negotiating"})
"""Open offers for which a competing deadline matters (``status``, ``remind``)."""
CONTINGENCY_KINDS = ("background_check", "references", "right_to_work", "visa", "other")
CONTINGENCY_LABELS = {
    "background_check": "background check",
    "references": "reference checks",
    "right_to_work": "right to work",
    "visa": "visa / work permit",
    "other": "other",
}
DEFAULT_CADENCE = 2


def _events(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    events = data.get("events")
    return [e for e in events if isinstance(e, Mapping)] if isinstance(events, list) else []


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


# --- competing offers ------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetingOffer:
    """The latest known state of one competing employer (events for the same employer,
    compared case-insensitively, update each other: a later event wins field by field)."""

    employer: str
    stage: str
    learned_at: str
    """When the first event about this employer was recorded."""
    updated_at: str
    by: str
    deadline: dt.date | None = None
    base: Decimal | None = None
    base_max: Decimal | None = None
    currency: str | None = None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "employer": self.employer,
            "stage": self.stage,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "base": self.base,
            "base_max": self.base_max,
            "currency": self.currency,
            "learned_at": self.learned_at,
            "updated_at": self.updated_at,
            "by": self.by,
            "note": self.note,
        }


def competing_offers(data: Mapping[str, Any], until: dt.date | None = None) -> list[CompetingOffer]:
    """Every competing employer the offer's events name, in the order first learned (only
    events recorded on or before ``until``, when given)."""
    known: dict[str, CompetingOffer] = {}
    for event in _events(data):
        if event.get("type") != "competing_offer" or not isinstance(event.get("employer"), str):
            continue
        if until is not None and str(event.get("at", ""))[:10] > until.isoformat():
            continue
        employer = str(event["employer"]).strip()
        key = employer.casefold()
        before = known.get(key)
        at, by = str(event.get("at", "")), str(event.get("by", ""))
        base = to_decimal(event.get("base"))
        base_max = to_decimal(event.get("base_max"))
        known[key] = CompetingOffer(
            employer=before.employer if before else employer,
            stage=str(event.get("stage") or (before.stage if before else "interviewing")),
            learned_at=before.learned_at if before else at,
            updated_at=at,
            by=by,
            deadline=_date(event.get("deadline")) or (before.deadline if before else None),
            base=base if base is not None else (before.base if before else None),
            base_max=base_max if base_max is not None else (before.base_max if before else None),
            currency=str(event["currency"])
            if event.get("currency")
            else (before.currency if before else None),
            note=str(event["comment"]) if event.get("comment") else (before.note if before else None),
        )
    return list(known.values())


@dataclass(frozen=True)
class DeadlineRisk:
    """A competing deadline that falls before our offer's ``expires_on`` (or already passed
    while our offer is still open): the candidate must answer them before they must answer us."""

    employer: str
    deadline: dt.date
    expires_on: dt.date | None
    days_left: int
    """Calendar days from ``as_of`` to the competing deadline (negative: passed)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "employer": self.employer,
            "deadline": self.deadline.isoformat(),
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "days_left": self.days_left,
        }


def deadline_risks(data: Mapping[str, Any], as_of: dt.date) -> list[DeadlineRisk]:
    """Competing deadlines sooner than the offer's ``expires_on`` (earliest first). Only for
    offers still in flight (``FOLLOW_UP_STATUSES``)."""
    if not isinstance(data.get("status"), str) or data.get("status") not in FOLLOW_UP_STATUSES:
        return []
    expires = _date(data.get("expires_on"))
    risks = []
    for competitor in competing_offers(data, until=as_of):
        if competitor.deadline is None:
            continue
        if expires is None or competitor.deadline < expires:
            risks.append(
                DeadlineRisk(
                    competitor.employer, competitor.deadline, expires, (competitor.deadline - as_of).days
                )
            )
    return sorted(risks, key=lambda r: (r.deadline, r.employer))


# --- contact cadence -------------------------------------------------------------------------


@dataclass(frozen=True)
class Touch:
    at: str
    by: str
    via: str
    note: str | None

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at, "by": self.by, "via": self.via, "note": self.note}


def touches(data: Mapping[str, Any]) -> list[Touch]:
    return [
        Touch(str(e.get("at", "")), str(e.get("by", "")), str(e.get("via", "")), e.get("comment"))
        for e in _events(data)
        if e.get("type") == "touch"
    ]


CONTACT_EVENTS = frozenset({"touch", "sent", "revised", "competing_offer"})
"""Events that mean the recruiter spoke with the candidate: a logged touch, sending the
letter, a revision (negotiation happens in conversation) and learning of a competing offer
(which only the candidate can tell)."""


def last_contact(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The latest event that counts as contact with the candidate (``CONTACT_EVENTS``)."""
    found: Mapping[str, Any] | None = None
    for event in _events(data):
        if event.get("type") in CONTACT_EVENTS and (
            found is None or str(event.get("at", "")) >= str(found.get("at", ""))
        ):
            found = event
    return found


def contact_since(data: Mapping[str, Any]) -> str | None:
    """The timestamp from which the contact cadence runs: the last contact, else the moment
    the offer became approved (the last approval), else its creation."""
    contact = last_contact(data)
    if contact is not None:
        return str(contact.get("at", "")) or None
    approvals = [a for a in data.get("approvals") or [] if isinstance(a, Mapping)]
    times = sorted(str(a.get("at", "")) for a in approvals if a.get("at"))
    if times:
        return times[-1]
    created = next((e for e in _events(data) if e.get("type") == "created"), None)
    return str(created.get("at")) if created and created.get("at") else None


# --- contingencies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Contingency:
    kind: str
    status: str
    """pending | cleared | failed (the latest event's)."""
    added_at: str
    added_by: str
    updated_at: str
    updated_by: str
    note: str | None = None

    @property
    def label(self) -> str:
        return CONTINGENCY_LABELS.get(self.kind, self.kind.replace("_", " "))

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "status": self.status,
            "added_at": self.added_at,
            "added_by": self.added_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "note": self.note,
        }


def contingencies(data: Mapping[str, Any], until: dt.date | None = None) -> list[Contingency]:
    """One entry per contingency kind, in the order added, with its latest status (as of
    ``until``, when given: later events are ignored)."""
    found: dict[str, Contingency] = {}
    for event in _events(data):
        if event.get("type") != "contingency" or not isinstance(event.get("kind"), str):
            continue
        if until is not None and str(event.get("at", ""))[:10] > until.isoformat():
            continue
        kind = str(event["kind"])
        before = found.get(kind)
        at, by = str(event.get("at", "")), str(event.get("by", ""))
        note = str(event["comment"]) if event.get("comment") else (before.note if before else None)
        found[kind] = Contingency(
            kind,
            str(event.get("status", "pending")),
            before.added_at if before else at,
            before.added_by if before else by,
            at,
            by,
            note,
        )
    return list(found.values())


def open_contingencies(data: Mapping[str, Any], until: dt.date | None = None) -> list[Contingency]:
    return [c for c in contingencies(data, until) if c.status != "cleared"]


__all__ = [
    "CONTACT_STATUSES",
    "CONTINGENCY_KINDS",
    "CompetingOffer",
    "Contingency",
    "DeadlineRisk",
    "Touch",
    "competing_offers",
    "contact_since",
    "contingencies",
    "deadline_risks",
    "last_contact",
    "open_contingencies",
    "touches",
]
