"""Facts recorded on an offer without moving it through the state machine: competing offers
(``offerctl competing``), contact with the candidate (``offerctl touch``) and contingencies
(``offerctl contingency``); plus the contingency guards of ``start`` and ``rescind``.

Each command appends one event through ``transitions.apply`` (the same open → decide →
validate → atomic write → commit path as every transition), with a ``Plan`` whose source and
target status are the same. They are not rows of ``TRANSITIONS``: they do not change the
status, so they do not belong in the state diagram. Which statuses accept which record is
the table ``RECORDS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import Offer, Status
from offerctl.core.workflow import CONTINGENCY_KINDS, contingencies, open_contingencies
from offerctl.lifecycle import transitions
from offerctl.lifecycle.change import Actor
from offerctl.lifecycle.transitions import Decide, Plan, check_text

S = Status
_IN_FLIGHT = (S.DRAFT, S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.NEGOTIATING)
RECORDS: Mapping[str, tuple[Status, ...]] = {
    # Learned about a competing offer: any time before the candidate decided.
    "competing": _IN_FLIGHT,
    # Contact with the candidate: until they start (accepted candidates need contact too).
    "touch": (*_IN_FLIGHT, S.ACCEPTED),
    # Contingencies are added before the offer goes out or while it is open, and cleared
    # (or fail) up to the start date.
    "contingency": (*_IN_FLIGHT, S.ACCEPTED),
}
"""Record action → the statuses that accept it. Closed offers are immutable (G501)."""

COMPETING_STAGES = ("interviewing", "offer_in_hand", "deadline")
TOUCH_CHANNELS = ("call", "email", "message", "meeting")
CONTINGENCY_ACTIONS = {"add": "pending", "clear": "cleared", "fail": "failed"}


@dataclass(frozen=True)
class RecordPlan(Plan):
    """A plan that appends a fact and leaves the status as it is."""

    what: str = ""

    @property
    def subject(self) -> str:
        return (
            f"{self.action} {self.offer_id}: {self.what}" if self.what else f"{self.action} {self.offer_id}"
        )


def _check_status(offer: Offer, action: str) -> Status:
    try:
        current = Status(offer.status)
    except ValueError:
        raise Refused(f"{offer.id} has an unknown status {offer.status!r}", path=offer.path) from None
    allowed = RECORDS[action]
    if current not in allowed:
        raise Refused(
            f"cannot record {action} on {offer.id}: it is {current}",
            hint=f"{action} is recorded on offers that are {', '.join(allowed)}",
            path=offer.path,
        )
    return current


def _plan(offer: Offer, action: str, actor: Actor, event: Mapping[str, Any], what: str) -> RecordPlan:
    current = _check_status(offer, action)
    line: dict[str, Any] = {"type": event["type"], "at": actor.at, "by": actor.email}
    line.update({k: v for k, v in event.items() if k != "type" and v is not None})
    return RecordPlan(offer.id, action, current, current, line, (), what)


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise UsageError(f"{what} {value!r} is not one of {', '.join(choices)}")
    return value


def parse_money(value: str | None, what: str) -> int | Decimal | None:
    """A money amount from the command line: exact Decimal, never a float; ``185000``,
    ``185,000`` and ``185000.50`` are accepted, at most two decimals, not negative."""
    if value is None:
        return None
    text = value.strip().replace(",", "").replace("_", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise UsageError(
            f"{what} {value!r} is not an amount", hint="write it like 185000 or 185000.50"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise UsageError(f"{what} {value!r} must be a positive amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise UsageError(f"{what} {value!r} has more than two decimals")
    return int(amount) if amount == amount.to_integral_value() else amount


def _date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def decide_competing(
    employer: str,
    stage: str,
    *,
    deadline: str | None = None,
    base: str | None = None,
    base_max: str | None = None,
    currency: str | None = None,
    note: str | None = None,
) -> Decide:
    """``offerctl competing ID --employer X --stage …``: one ``competing_offer`` event. A
    later event for the same employer updates what is known (stage, deadline, package)."""
    name = check_text(employer, "--employer")
    kind = _choice(stage, COMPETING_STAGES, "--stage")
    due = _date(deadline, "--deadline")
    if kind == "deadline" and due is None:
        raise UsageError("--stage deadline needs --deadline YYYY-MM-DD")
    low, high = parse_money(base, "--base"), parse_money(base_max, "--base-max")
    if high is not None and low is None:
        raise UsageError("--base-max needs --base (the lower end of the range)")
    if low is not None and high is not None and high < low:
        raise UsageError(f"--base-max {high} is below --base {low}")
    code = None
    if currency is not None:
        code = currency.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise UsageError(f"--currency {currency!r} is not an ISO 4217 code (USD, EUR)")
    text = check_text(note, "--note", 4000)

    def decide(offer: Offer, actor: Actor) -> Plan:
        return _plan(
            offer,
            "competing",
            actor,
            {
                "type": "competing_offer",
                "employer": name,
                "stage": kind,
                "deadline": due,
                "base": low,
                "base_max": high,
                "currency": code or (offer.get("compensation.currency") if low is not None else None),
                "comment": text,
            },
            f"competing offer from {name} ({kind}{', deadline ' + due if due else ''})",
        )

    return decide


def decide_touch(via: str, note: str | None = None) -> Decide:
    """``offerctl touch ID --via call``: one ``touch`` event (contact with the candidate)."""
    channel = _choice(via, TOUCH_CHANNELS, "--via")
    text = check_text(note, "--note", 4000)

    def decide(offer: Offer, actor: Actor) -> Plan:
        return _plan(
            offer,
            "touch",
            actor,
            {"type": "touch", "via": channel, "comment": text},
            f"candidate contacted ({channel})",
        )

    return decide


def decide_contingency(action: str, kind: str, note: str | None = None) -> Decide:
    """``offerctl contingency ID add|clear|fail KIND``: one ``contingency`` event.

    ``add`` opens a contingency (pending); ``clear`` and ``fail`` need it pending; a
    cleared one cannot fail later and a failed one is final (``rescind --contingency``)."""
    if action not in CONTINGENCY_ACTIONS:
        raise UsageError(f"{action!r} is not one of {', '.join(CONTINGENCY_ACTIONS)}")
    what = _choice(kind, CONTINGENCY_KINDS, "KIND")
    status = CONTINGENCY_ACTIONS[action]
    text = check_text(note, "--note", 4000)
    if action == "fail" and text is None:
        raise UsageError("contingency fail needs --note saying what failed (it becomes the rescind reason)")

    def decide(offer: Offer, actor: Actor) -> Plan:
        current = {c.kind: c for c in contingencies(offer.data)}.get(what)
        if action == "add" and current is not None and current.status == "pending":
            raise Refused(f"{offer.id} already has a pending {what} contingency", path=offer.path)
        if action == "add" and current is not None and current.status == "failed":
            raise Refused(
                f"{offer.id}: the {what} contingency failed; it cannot be re-opened", path=offer.path
            )
        if action != "add" and (current is None or current.status != "pending"):
            state = "no" if current is None else f"a {current.status}"
            raise Refused(
                f"cannot {action} {what} on {offer.id}: it has {state} {what} contingency",
                hint=f"add it first: offerctl contingency {offer.id} add {what}" if current is None else None,
                path=offer.path,
            )
        return _plan(
            offer,
            "contingency",
            actor,
            {"type": "contingency", "kind": what, "status": status, "comment": text},
            f"contingency {what} {status}",
        )

    return decide


def decide_start(reason: str | None = None) -> Decide:
    """``start``, refused while any contingency is pending or failed."""
    inner = transitions.decide_with_reason("start", reason)

    def decide(offer: Offer, actor: Actor) -> Plan:
        blocking = open_contingencies(offer.data)
        if blocking:
            listed = ", ".join(f"{c.kind} ({c.status})" for c in blocking)
            failed = [c for c in blocking if c.status == "failed"]
            hint = (
                "a failed contingency ends the offer: "
                f"offerctl rescind {offer.id} --contingency {failed[0].kind}"
                if failed
                else f"clear them first: offerctl contingency {offer.id} clear KIND"
            )
            raise Refused(
                f"cannot start {offer.id}: contingencies not cleared: {listed}", hint=hint, path=offer.path
            )
        return inner(offer, actor)

    return decide


def decide_rescind(reason: str | None, contingency: str | None) -> Decide:
    """``rescind``: a free-text reason, or ``--contingency KIND`` naming a failed
    contingency (the reason then says so, with the note recorded when it failed). An
    accepted offer can be rescinded only for a failed contingency."""
    if reason is None and contingency is None:
        raise UsageError("rescind needs --reason TEXT or --contingency KIND (a failed contingency)")
    kind = _choice(contingency, CONTINGENCY_KINDS, "--contingency") if contingency else None
    own = check_text(reason, "--reason") if reason is not None else None

    def decide(offer: Offer, actor: Actor) -> Plan:
        failed = {c.kind: c for c in contingencies(offer.data) if c.status == "failed"}
        if kind is not None and kind not in failed:
            raise Refused(
                f"cannot rescind {offer.id} for {kind}: that contingency has not failed",
                hint=f"record it first: offerctl contingency {offer.id} fail {kind} --note TEXT",
                path=offer.path,
            )
        if offer.status == S.ACCEPTED and kind is None:
            raise Refused(
                f"cannot rescind {offer.id}: it is accepted; an accepted offer is rescinded only "
                "for a failed contingency",
                hint="offerctl rescind ID --contingency KIND (after offerctl contingency ID fail KIND)",
                path=offer.path,
            )
        text = own
        if kind is not None:
            item = failed[kind]
            text = own or f"contingency failed: {item.label}" + (f" — {item.note}" if item.note else "")
            text = text[:200]
        return transitions.decide_with_reason("rescind", text)(offer, actor)

    return decide


def record(repo: Any, offer_id: str, decide: Decide, **options: Any) -> transitions.Outcome:
    """Run one record command (commit, optional ``--push``) like a transition."""
    return transitions.transition(repo, offer_id, decide, **options)


__all__ = [
    "RECORDS",
    "RecordPlan",
    "decide_competing",
    "decide_contingency",
    "decide_rescind",
    "decide_start",
    "decide_touch",
    "parse_money",
    "record",
]
