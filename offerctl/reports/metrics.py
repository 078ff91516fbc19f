"""Offer metrics: pure functions from offers, approval lines, events and commit records to
numbers. Every definition here is written out in ``docs/metrics.md``; keep the two in step.

Nothing in this module reads files, calls git or prints: ``report.build`` gathers the inputs.
Results are plain JSON-ready values (dicts, lists, int, float rounded to 4 places, str).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from offerctl.core.bizdays import BusinessCalendar
from offerctl.core.model import Offer, records, to_decimal
from offerctl.policy.bands import BandTable
from offerctl.reports.history import CommitRecord

SEGMENTS = ("department", "level", "job_family", "location", "source", "recruiter")
"""Fields acceptance can be broken down by (``report --by``)."""

DECLINE_CROSS = ("source", "department", "level")
DELAY_BUCKETS = ("<=1", "2-3", ">3")
EXTENDED_STATUSES = frozenset(
    {"sent", "negotiating", "accepted", "started", "declined", "reneged", "expired"}
)
ACCEPTED_STATUSES = frozenset({"accepted", "started", "reneged"})
FALL_THROUGH_STATUSES = frozenset({"declined", "expired", "rescinded"})
REOPENING_EVENTS = frozenset({"submitted", "revised", "edited", "reopened"})

OFFER_FIELDS: dict[str, Any] = {
    "id": True,
    "status": True,
    "recruiter": True,
    "clauses": True,
    "verbal": {"date": True},
    "role": {
        "department": True,
        "level": True,
        "job_family": True,
        "location": {"country": True, "region": True, "city": True},
    },
    "candidate": {"source": True},
    "compensation": {"base_salary": True, "pay_period": True, "currency": True},
    "events": [
        {
            "type": True,
            "at": True,
            "written_on": True,
            "reason": True,
            "employer": True,
            "competing_employer": True,
            "stage": True,
            "deadline": True,
        }
    ],
    "approvals": [
        {"at": True, "role": True, "rules": True, "by": True, "digest": True, "sig": True}
    ],
}
"""Every offer field the metrics (and ``policy.bands`` lookups) read: ``report`` loads and
caches only these (``offer_reader.project``). Reading a new field? Add it here, or the
report sees it missing (the report tests compare against the full documents)."""


@dataclass(frozen=True)
class Inputs:
    """Everything the metrics need, already loaded."""

    offers: Sequence[Offer]
    commits: Sequence[CommitRecord] = ()
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    sla: Mapping[str, int] = field(default_factory=dict)
    bands: BandTable = field(default_factory=BandTable)
    routing: Mapping[str, Any] = field(default_factory=dict)
    standard_clauses: frozenset[str] = frozenset()
    decline_reasons: Sequence[str] = ()
    contact_cadence: int = 2


# --- small helpers -------------------------------------------------------------------------


class BusinessDays(Protocol):
    """What the metrics ask of a business calendar."""

    def between(self, start: dt.date, end: dt.date) -> int: ...

    def is_business_day(self, day: dt.date) -> bool: ...


_EDGE = 800  # days kept away from the ends of the calendar
_SPAN = 40 * 366  # widest stretch of days counted in advance


class _CountedDays:
    """A calendar's ``between`` for one report from a running count of business days: the
    metrics ask ~40k times on 10k offers, and walking day by day cost ~1 s. Same answers:
    ``between(a, b)`` counts the business days in (a, b], negative when b is before a."""

    def __init__(self, calendar: BusinessDays) -> None:
        self._calendar = calendar
        self._first = 0  # ordinal of the first day counted
        self._upto: list[int] = []  # business days in [first, first + i], for each i

    def _cover(self, low: int, high: int) -> None:
        if self._upto and self._first <= low and high < self._first + len(self._upto):
            return
        if self._upto:
            low, high = min(low, self._first), max(high, self._first + len(self._upto) - 1)
        low, high = low - 366, high + 366  # room for neighbouring questions
        upto, count = [], 0
        for ordinal in range(low, high + 1):
            count += self._calendar.is_business_day(dt.date.fromordinal(ordinal))
            upto.append(count)
        self._first, self._upto = low, upto

    def is_business_day(self, day: dt.date) -> bool:
        return self._calendar.is_business_day(day)

    def between(self, start: dt.date, end: dt.date) -> int:
        a, b = start.toordinal(), end.toordinal()
        low, high = min(a, b, self._first or a), max(a, b, self._first + len(self._upto) - 1)
        if low <= _EDGE or high >= dt.date.max.toordinal() - _EDGE or high - low > _SPAN:
            return self._calendar.between(start, end)  # odd dates: count day by day
        self._cover(min(a, b), max(a, b))
        sign = 1 if a <= b else -1
        a, b = min(a, b) - self._first, max(a, b) - self._first
        return sign * (self._upto[b] - self._upto[a])


def parse_ts(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return _parse_ts(value)


@functools.lru_cache(maxsize=65536)
def _parse_ts(value: str) -> dt.datetime | None:
    """Memoised: the same timestamps are read by several metrics (datetimes are immutable)."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": round(numerator / denominator, 4) if denominator else None,
    }


def median(values: Sequence[float]) -> float | None:
    """The middle value (mean of the two middle values for an even count)."""
    return round(statistics.median(values), 2) if values else None


def p90(values: Sequence[float]) -> float | None:
    """90th percentile by the nearest-rank method: the ceil(0.9·n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)], 2)


def _days(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 86400


# --- one offer's facts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What happened to one offer, read from its events, approvals and commits."""

    offer: Offer
    created: dt.datetime | None
    submitted: dt.datetime | None
    approvals_complete: dt.datetime | None
    sent: dt.datetime | None
    written_on: dt.date | None
    decided: dt.datetime | None
    extended: bool
    accepted: bool
    declined_reason: str | None
    declined: bool
    reneged: bool
    reneged_reason: str | None
    revisions: int
    verbal: dt.date | None
    segments: Mapping[str, str]

    @property
    def cohort_date(self) -> dt.date | None:
        return self.created.date() if self.created else self.verbal


def _events(offer: Offer) -> list[Mapping[str, Any]]:
    return records(offer.data, "events")


def _approvals(offer: Offer) -> list[Mapping[str, Any]]:
    return records(offer.data, "approvals")


def _first_event(events: Iterable[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    for event in events:
        if event.get("type") == kind:
            return event
    return None


def _last_event(events: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    found: Mapping[str, Any] | None = None
    for event in events:
        if event.get("type") == kind:
            found = event
    return found


def segments_of(offer: Offer) -> dict[str, str]:
    country = offer.get("role.location.country")
    city = offer.get("role.location.city")
    location = f"{city}, {country}" if city and country else str(country or "unknown")
    return {
        "department": str(offer.get("role.department") or "unknown"),
        "level": str(offer.get("role.level") or "unknown"),
        "job_family": str(offer.get("role.job_family") or "unknown"),
        "location": location,
        "source": str(offer.candidate().get("source") or "unknown"),
        "recruiter": str(offer.get("recruiter") or "unknown"),
    }


@dataclass(frozen=True)
class _Clock:
    """When things happened to one offer: its events first, else its commits' trailers."""

    events: list[Mapping[str, Any]]
    by_action: Mapping[str, list[dt.datetime]]

    @classmethod
    def of(cls, events: list[Mapping[str, Any]], commits: Sequence[CommitRecord]) -> _Clock:
        by_action: dict[str, list[dt.datetime]] = defaultdict(list)
        for record in commits:
            stamp = parse_ts(record.author_date)
            if stamp is not None:
                by_action[record.action or "edit"].append(stamp)
        return cls(events, by_action)

    def first_commit(self) -> dt.datetime | None:
        return min((t for times in self.by_action.values() for t in times), default=None)

    def at(self, kind: str, action: str | None = None) -> dt.datetime | None:
        """The first ``kind`` event's time, else the first commit with ``Offer-Action: action``."""
        event = _first_event(self.events, kind)
        stamp = parse_ts(event.get("at")) if event else None
        if stamp is None and action and self.by_action.get(action):
            stamp = min(self.by_action[action])
        return stamp


def facts_of(offer: Offer, commits: Sequence[CommitRecord]) -> Facts:
    """What the metrics need of one offer: its milestones (created, submitted, approved,
    sent, decided), its outcome and its segments."""
    events = _events(offer)
    clock = _Clock.of(events, commits)
    status = offer.status
    sent_event = _first_event(events, "sent")
    sent = clock.at("sent", "send")
    extended = sent_event is not None or status in EXTENDED_STATUSES or bool(clock.by_action.get("send"))
    declined_event = _last_event(events, "declined")
    reneged_event = _last_event(events, "reneged")
    return Facts(
        offer=offer,
        created=clock.at("created", "create") or clock.first_commit(),
        submitted=clock.at("submitted", "submit"),
        approvals_complete=_approvals_complete(offer, clock, sent, extended),
        sent=sent,
        written_on=_written_on(sent_event, sent),
        decided=_decided(clock) if extended else None,
        extended=extended,
        accepted=status in ACCEPTED_STATUSES or _first_event(events, "accepted") is not None,
        declined=status == "declined" or declined_event is not None,
        declined_reason=_reason(declined_event),
        reneged=status == "reneged" or reneged_event is not None,
        reneged_reason=_reason(reneged_event),
        revisions=sum(1 for e in events if e.get("type") == "revised"),
        verbal=parse_date(offer.get("verbal.date")),
        segments=segments_of(offer),
    )


def _written_on(sent_event: Mapping[str, Any] | None, sent: dt.datetime | None) -> dt.date | None:
    """The written-offer date: the first ``sent`` event's ``written_on`` (else its day)."""
    if sent_event is not None:
        return parse_date(sent_event.get("written_on")) or parse_date(sent_event.get("at"))
    return sent.date() if sent is not None else None


def _decided(clock: _Clock) -> dt.datetime | None:
    """The earliest of accepted, declined, expired, rescinded."""
    stamps = [
        clock.at(kind, action)
        for kind, action in (
            ("accepted", "accept"),
            ("declined", "decline"),
            ("expired", "expire"),
            ("rescinded", "rescind"),
        )
    ]
    return min((s for s in stamps if s is not None), default=None)


def _approvals_complete(
    offer: Offer, clock: _Clock, sent: dt.datetime | None, extended: bool
) -> dt.datetime | None:
    """The last approval given before sending (from the lines, else from approve commits),
    for offers that reached approval."""
    if not (extended or offer.status in {"approved", "rescinded"}):
        return None
    approval_times = sorted(t for t in (parse_ts(a.get("at")) for a in _approvals(offer)) if t is not None)
    if not approval_times:
        approval_times = sorted(clock.by_action.get("approve") or [])
    before_send = [t for t in approval_times if sent is None or t <= sent]
    return before_send[-1] if before_send else None


def _reason(event: Mapping[str, Any] | None) -> str | None:
    return str(event.get("reason")) if event and event.get("reason") else None


# --- pay bands --------------------------------------------------------------------------------


def band_position(bands: BandTable, offer: Offer) -> str:
    """``below``, ``within`` or ``above`` the offer's band (``offerctl.policy.bands`` lookup:
    job family x level x the most specific zone); ``unknown`` when no band applies (no zone or
    band, another currency, or a non-annual pay period)."""
    comp = offer.compensation()
    band = bands.lookup(offer).band
    base = to_decimal(comp.get("base_salary"))
    if band is None or base is None:
        return "unknown"
    if comp.get("pay_period", "annual") != "annual" or comp.get("currency") != band.currency:
        return "unknown"
    if base < band.min:
        return "below"
    if base > band.max:
        return "above"
    return "within"


# --- metrics -------------------------------------------------------------------------------


def acceptance(facts: Sequence[Facts], by: Sequence[str] = SEGMENTS) -> dict[str, Any]:
    def row(group: Sequence[Facts]) -> dict[str, Any]:
        extended = [f for f in group if f.extended]
        accepted = sum(1 for f in extended if f.accepted)
        declined = sum(1 for f in extended if f.declined and not f.accepted)
        open_ = sum(1 for f in extended if f.decided is None and f.offer.status in {"sent", "negotiating"})
        return {
            "offers": len(group),
            "extended": len(extended),
            "accepted": accepted,
            "declined": declined,
            "open": open_,
            **rate(accepted, len(extended)),
        }

    breakdown: dict[str, list[dict[str, Any]]] = {}
    for dim in by:
        groups: dict[str, list[Facts]] = defaultdict(list)
        for f in facts:
            groups[f.segments[dim]].append(f)
        rows = [{"segment": name, **row(group)} for name, group in groups.items()]
        rows.sort(key=lambda r: (-r["extended"], r["segment"]))
        breakdown[dim] = rows
    return {"overall": row(facts), "by": breakdown}


def delay_bucket(business_days: int) -> str:
    if business_days <= 1:
        return "<=1"
    if business_days <= 3:
        return "2-3"
    return ">3"


def verbal_to_written(facts: Sequence[Facts], calendar: BusinessDays) -> dict[str, Any]:
    measured: list[tuple[Facts, int, int]] = []
    for f in facts:
        if f.verbal is not None and f.written_on is not None and f.extended:
            measured.append((f, calendar.between(f.verbal, f.written_on), (f.written_on - f.verbal).days))
    histogram = Counter(business for _, business, _ in measured)
    buckets = []
    for bucket in DELAY_BUCKETS:
        group = [f for f, business, _ in measured if delay_bucket(business) == bucket]
        accepted = sum(1 for f in group if f.accepted)
        buckets.append(
            {"bucket": bucket, "extended": len(group), "accepted": accepted, **rate(accepted, len(group))}
        )
    hist_rows = []
    for days in sorted(histogram):
        group = [f for f, business, _ in measured if business == days]
        hist_rows.append(
            {
                "business_days": days,
                "offers": len(group),
                "accepted": sum(1 for f in group if f.accepted),
            }
        )
    return {
        "offers": len(measured),
        "median_business_days": median([b for _, b, _ in measured]),
        "median_calendar_days": median([c for _, _, c in measured]),
        "p90_business_days": p90([b for _, b, _ in measured]),
        "histogram": hist_rows,
        "buckets": buckets,
        "without_verbal": sum(1 for f in facts if f.extended and f.verbal is None),
    }


CYCLE_STAGES = (
    ("created_to_approved", "created", "approvals_complete"),
    ("approved_to_sent", "approvals_complete", "sent"),
    ("created_to_sent", "created", "sent"),
    ("sent_to_decided", "sent", "decided"),
    ("created_to_decided", "created", "decided"),
)


def cycle_times(facts: Sequence[Facts]) -> list[dict[str, Any]]:
    rows = []
    for name, start_attr, end_attr in CYCLE_STAGES:
        values = []
        for f in facts:
            start, end = getattr(f, start_attr), getattr(f, end_attr)
            if start is not None and end is not None and end >= start:
                values.append(_days(start, end))
        rows.append(
            {"stage": name, "offers": len(values), "median_days": median(values), "p90_days": p90(values)}
        )
    return rows


def funnel(facts: Sequence[Facts]) -> list[dict[str, Any]]:
    steps: tuple[tuple[str, Callable[[Facts], bool]], ...] = (
        ("created", lambda f: True),
        ("submitted", lambda f: f.submitted is not None or f.offer.status != "draft"),
        (
            "approved",
            lambda f: f.extended or f.offer.status == "approved" or f.approvals_complete is not None,
        ),
        ("sent", lambda f: f.extended),
        ("accepted", lambda f: f.accepted),
        ("started", lambda f: f.offer.status == "started"),
    )
    return [{"step": name, "offers": sum(1 for f in facts if test(f))} for name, test in steps]


def _stage_index(routing: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Stage position of each rule id and (first) of each role/person alias."""
    stages = [str(s) for s in routing.get("stages", []) or []]
    position = {name: i for i, name in enumerate(stages)}
    by_rule: dict[str, int] = {}
    by_role: dict[str, int] = {}
    for rule in routing.get("rules", []) or []:
        if not isinstance(rule, Mapping):
            continue
        index = position.get(str(rule.get("stage")), len(stages))
        by_rule[str(rule.get("id"))] = index
        require = rule.get("require") or {}
        for key in ("role", "as"):
            if require.get(key):
                by_role.setdefault(str(require[key]), index)
    return by_rule, by_role


def approval_latencies(
    offers: Sequence[Offer],
    routing: Mapping[str, Any],
    calendar: BusinessDays,
    sla: Mapping[str, int],
) -> list[dict[str, Any]]:
    """One row per approval line: role, business days from its stage opening, SLA verdict."""
    by_rule, by_role = _stage_index(routing)
    rows = []
    for offer in offers:
        events = _events(offer)
        lines = []
        for line in _approvals(offer):
            at = parse_ts(line.get("at"))
            if at is None:
                continue
            role = str(line.get("role") or "unknown")
            rule_stages = [by_rule[r] for r in line.get("rules") or [] if r in by_rule]
            stage = min(rule_stages) if rule_stages else by_role.get(role, 0)
            lines.append((at, role, stage))
        reopened = [
            t
            for t in (parse_ts(e.get("at")) for e in events if e.get("type") in REOPENING_EVENTS)
            if t is not None
        ]
        created = _first_event(events, "created") if lines else None
        created_at = parse_ts(created.get("at")) if created else None
        for at, role, stage in lines:
            openings = [t for t in reopened if t <= at]
            start = max(openings) if openings else created_at
            if start is None:
                continue
            earlier = [t for t, _, s in lines if s < stage and start <= t <= at]
            opened = max([start, *earlier])
            business = calendar.between(opened.date(), at.date())
            limit = sla.get(role)
            rows.append(
                {
                    "offer": offer.id,
                    "role": role,
                    "opened": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "business_days": business,
                    "sla_business_days": limit,
                    "within_sla": None if limit is None else business <= limit,
                }
            )
    return rows


def approval_summary(latencies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    roles: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in latencies:
        roles[str(row["role"])].append(row)
    summary = []
    for role in sorted(roles):
        group = roles[role]
        days = [float(r["business_days"]) for r in group]
        judged = [r for r in group if r["within_sla"] is not None]
        within = sum(1 for r in judged if r["within_sla"])
        summary.append(
            {
                "role": role,
                "approvals": len(group),
                "median_business_days": median(days),
                "p90_business_days": p90(days),
                "sla_business_days": group[0]["sla_business_days"],
                "within_sla": within,
                "sla_adherence": rate(within, len(judged))["rate"],
            }
        )
    return summary


def revisions(facts: Sequence[Facts]) -> dict[str, Any]:
    counts = [f.revisions for f in facts]
    distribution = Counter(min(c, 3) for c in counts)
    return {
        "offers": len(counts),
        "revisions": sum(counts),
        "mean_per_offer": round(sum(counts) / len(counts), 2) if counts else None,
        "revised_offers": rate(sum(1 for c in counts if c > 0), len(counts)),
        "distribution": [
            {"revisions": label, "offers": distribution.get(k, 0)}
            for k, label in ((0, "0"), (1, "1"), (2, "2"), (3, "3+"))
        ],
    }


def exceptions(facts: Sequence[Facts], bands: BandTable, standard_clauses: frozenset[str]) -> dict[str, Any]:
    """Offers outside their pay band or carrying a clause that is not standard."""
    positions: Counter[str] = Counter()
    out_of_band = nonstandard = either = 0
    offers = []
    for f in facts:
        if f.offer.status == "draft":
            continue
        position = band_position(bands, f.offer)
        positions[position] += 1
        clauses = [str(c) for c in f.offer.get("clauses") or []]
        odd = sorted({c for c in clauses if c not in standard_clauses})
        band_exception = position in {"below", "above"}
        out_of_band += band_exception
        nonstandard += bool(odd)
        if band_exception or odd:
            either += 1
            offers.append({"offer": f.offer.id, "band": position, "nonstandard_clauses": odd})
    considered = sum(positions.values())
    return {
        "offers": considered,
        "exceptions": rate(either, considered),
        "out_of_band": rate(out_of_band, considered),
        "nonstandard_clauses": rate(nonstandard, considered),
        "band_position": {k: positions.get(k, 0) for k in ("below", "within", "above", "unknown")},
        "standard_clauses": sorted(standard_clauses),
        "list": offers,
    }


def declines(facts: Sequence[Facts], taxonomy: Sequence[str]) -> dict[str, Any]:
    declined = [f for f in facts if f.declined and not f.accepted]
    reasons = Counter(f.declined_reason or "unspecified" for f in declined)
    order = [r for r in taxonomy if reasons.get(r)] + sorted(r for r in reasons if r not in taxonomy)
    cross: dict[str, list[dict[str, Any]]] = {}
    for dim in DECLINE_CROSS:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for f in declined:
            table[f.segments[dim]][f.declined_reason or "unspecified"] += 1
        cross[dim] = [
            {
                "segment": seg,
                "declined": sum(table[seg].values()),
                "reasons": {r: table[seg][r] for r in order if table[seg][r]},
            }
            for seg in sorted(table)
        ]
    return {
        "declined": len(declined),
        "by_reason": [{"reason": r, "offers": reasons[r]} for r in order],
        "by": cross,
    }


def _outcome_row(group: Sequence[Facts]) -> dict[str, Any]:
    accepted = sum(1 for f in group if f.accepted)
    declined = sum(1 for f in group if f.declined and not f.accepted)
    open_ = sum(1 for f in group if f.decided is None and f.offer.status in {"sent", "negotiating"})
    return {
        "extended": len(group),
        "accepted": accepted,
        "declined": declined,
        "open": open_,
        **rate(accepted, len(group)),
    }


def competition(facts: Sequence[Facts]) -> dict[str, Any]:
    """Acceptance of extended offers whose candidate had a competing offer (a
    ``competing_offer`` event) against those without; and the employers candidates declined
    for — the ``declined`` event's ``competing_employer``, else the competing employers
    recorded on the offer — with the decline reasons."""
    from offerctl.core.workflow import competing_offers

    extended = [f for f in facts if f.extended]
    known = {f.offer.id: competing_offers(f.offer.data) for f in extended}

    def had(f: Facts) -> bool:
        declined_event = _last_event(_events(f.offer), "declined")
        return bool(known[f.offer.id]) or bool(declined_event and declined_event.get("competing_employer"))

    with_ = [f for f in extended if had(f)]
    without = [f for f in extended if not had(f)]
    employers: dict[str, Counter[str]] = defaultdict(Counter)
    names: dict[str, str] = {}
    for f in extended:
        if not (f.declined and not f.accepted):
            continue
        declined_event = _last_event(_events(f.offer), "declined")
        chosen = declined_event.get("competing_employer") if declined_event else None
        candidates = [str(chosen)] if chosen else [c.employer for c in known[f.offer.id]]
        for name in candidates:
            key = name.strip().casefold()
            names.setdefault(key, name.strip())
            employers[key][f.declined_reason or "unspecified"] += 1
    ranked = sorted(employers.items(), key=lambda kv: (-sum(kv[1].values()), names[kv[0]].casefold()))
    declined_for = [
        {"employer": names[k], "declined": sum(c.values()), "reasons": dict(sorted(c.items()))}
        for k, c in ranked
    ]
    stages = Counter(c.stage for offers in known.values() for c in offers)
    return {
        "with_competing_offer": _outcome_row(with_),
        "without_competing_offer": _outcome_row(without),
        "competing_offers_recorded": sum(len(v) for v in known.values()),
        "by_stage": dict(sorted(stages.items())),
        "declined_for": declined_for,
    }


CONTACT_OUTCOMES = ("accepted", "declined", "expired")


def contact_gaps(facts: Sequence[Facts], calendar: BusinessDays, cadence: int) -> dict[str, Any]:
    """For offers extended and concluded (accepted, declined, expired): the longest stretch
    in business days without contact between the letter going out and the candidate's
    answer. Contact = ``core.workflow.CONTACT_EVENTS`` (touch, sent, revised, competing offer
    learned). Grouped by outcome: was the candidate who declined left alone for longer?"""
    from offerctl.core.workflow import CONTACT_EVENTS

    rows: dict[str, list[int]] = {k: [] for k in CONTACT_OUTCOMES}
    for f in facts:
        if not f.extended or f.sent is None or f.decided is None:
            continue
        outcome = "accepted" if f.accepted else ("declined" if f.declined else f.offer.status)
        if outcome not in rows:
            continue
        moments = sorted(
            t.date()
            for t in (parse_ts(e.get("at")) for e in _events(f.offer) if e.get("type") in CONTACT_EVENTS)
            if t is not None and f.sent <= t <= f.decided
        )
        points = [f.sent.date(), *moments, f.decided.date()]
        longest = max((calendar.between(a, b) for a, b in itertools.pairwise(points)), default=0)
        rows[outcome].append(max(0, longest))
    return {
        "cadence_business_days": cadence,
        "by_outcome": [
            {
                "outcome": outcome,
                "offers": len(gaps),
                "median_longest_gap": median([float(g) for g in gaps]),
                "max_longest_gap": max(gaps) if gaps else None,
                "over_cadence": sum(1 for g in gaps if g > cadence),
                **rate(sum(1 for g in gaps if g > cadence), len(gaps)),
            }
            for outcome, gaps in rows.items()
        ],
    }


def reneges(facts: Sequence[Facts]) -> dict[str, Any]:
    accepted = [f for f in facts if f.accepted]
    reneged = [f for f in accepted if f.reneged]
    reasons = Counter(f.reneged_reason or "unspecified" for f in reneged)
    return {
        **rate(len(reneged), len(accepted)),
        "reneged": len(reneged),
        "accepted": len(accepted),
        "by_reason": [{"reason": r, "offers": n} for r, n in sorted(reasons.items())],
    }


def fall_through(facts: Sequence[Facts]) -> dict[str, Any]:
    verbal = [f for f in facts if f.verbal is not None]
    fell = [f for f in verbal if not f.accepted and f.offer.status in FALL_THROUGH_STATUSES]
    accepted = [f for f in verbal if f.accepted]
    return {
        "verbal_offers": len(verbal),
        "fell_through": len(fell),
        "accepted": len(accepted),
        "open": len(verbal) - len(fell) - len(accepted),
        **rate(len(fell), len(fell) + len(accepted)),
        "by_outcome": {s: sum(1 for f in fell if f.offer.status == s) for s in sorted(FALL_THROUGH_STATUSES)},
    }


def history_summary(commits: Sequence[CommitRecord], offer_ids: Iterable[str]) -> dict[str, Any]:
    ids = set(offer_ids)
    mine = [c for c in commits if c.offer_id in ids]
    return {
        "commits": len({c.commit for c in mine}),
        "offers_with_history": len({c.offer_id for c in mine}),
        "hand_edits": len({c.commit for c in mine if c.hand_edit}),
        "by_action": dict(sorted(Counter(c.action or "hand_edit" for c in mine).items())),
    }


def compute(inputs: Inputs, facts: Sequence[Facts], by: Sequence[str] = SEGMENTS) -> dict[str, Any]:
    """Every metric for one cohort of offers (``facts``)."""
    offers = [f.offer for f in facts]
    calendar = _CountedDays(inputs.calendar)
    latencies = approval_latencies(offers, inputs.routing, calendar, inputs.sla)
    judged = [r for r in latencies if r["within_sla"] is not None]
    return {
        "offers": len(facts),
        "status": dict(sorted(Counter(f.offer.status for f in facts).items())),
        "acceptance": acceptance(facts, by),
        "verbal_to_written": verbal_to_written(facts, calendar),
        "funnel": funnel(facts),
        "cycle_time": cycle_times(facts),
        "approval_latency": {
            "approvals": len(latencies),
            "sla_adherence": rate(sum(1 for r in judged if r["within_sla"]), len(judged)),
            "by_role": approval_summary(latencies),
        },
        "revisions": revisions(facts),
        "exceptions": exceptions(facts, inputs.bands, inputs.standard_clauses),
        "declines": declines(facts, inputs.decline_reasons),
        "reneges": reneges(facts),
        "fall_through": fall_through(facts),
        "competition": competition(facts),
        "contact": contact_gaps(facts, calendar, inputs.contact_cadence),
        "history": history_summary(inputs.commits, (f.offer.id for f in facts)),
    }


HEADLINES: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    ("offers", ("offers",)),
    ("offers extended", ("acceptance", "overall", "extended")),
    ("acceptance rate", ("acceptance", "overall", "rate")),
    ("median verbal→written (business days)", ("verbal_to_written", "median_business_days")),
    ("median created→sent (days)", ("cycle_time", 2, "median_days")),
    ("approval SLA adherence", ("approval_latency", "sla_adherence", "rate")),
    ("exception rate", ("exceptions", "exceptions", "rate")),
    ("declines", ("declines", "declined")),
    ("reneges", ("reneges", "reneged")),
    ("fall-through after verbal", ("fall_through", "rate")),
)


def headline(metrics: Mapping[str, Any], path: Sequence[str | int]) -> Any:
    node: Any = metrics
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and len(node) > part else None
        elif isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return node


def comparison(current: Mapping[str, Any], previous: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, path in HEADLINES:
        now, before = headline(current, path), headline(previous, path)
        change = None
        if isinstance(now, int | float) and isinstance(before, int | float):
            change = round(now - before, 4)
        rows.append({"metric": name, "current": now, "previous": before, "change": change})
    return rows
