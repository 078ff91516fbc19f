"""The offer family of checks: ids, organisation references, people, money, dates, status
history (per offer), duplicate ids and closed offers left unchanged (repository)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from offerctl.checks.context import Context
from offerctl.core.model import (
    OPEN_STATUSES,
    Finding,
    Offer,
    Severity,
    to_decimal,
)
from offerctl.store import loader
from offerctl.store.repo import Repo


def check_id_matches_file(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S110: the ``id`` must equal the file name (``offers/OFF-2026-7K3QXM2B.yaml``)."""
    stem = Path(offer.path).stem
    if offer.id != stem:
        yield ctx.finding(
            offer,
            "id",
            "S110",
            f"id {offer.id!r} differs from the file name {stem!r}; rename the file or fix the id",
        )


def check_org_references(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S112 unknown department, S113 unknown level, S114 unknown job family
    (against the lists in offerctl.yaml; skipped when a list is not configured)."""
    for code, field_path, key in (
        ("S112", "role.department", "departments"),
        ("S113", "role.level", "levels"),
        ("S114", "role.job_family", "job_families"),
    ):
        known = ctx.repo.config.get(key)
        value = offer.get(field_path)
        if isinstance(known, list) and value is not None and value not in known:
            yield ctx.finding(
                offer,
                field_path,
                code,
                f"unknown {field_path.split('.')[-1].replace('_', ' ')} {value!r}; "
                f"known: {', '.join(map(str, known))} (offerctl.yaml {key})",
            )


def check_people(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S115: the hiring manager and the recruiter must be people in policies/approvers.yaml."""
    if not ctx.people:
        return
    for field_path in ("role.hiring_manager", "recruiter"):
        email = offer.get(field_path)
        if isinstance(email, str) and email.lower() not in ctx.people:
            yield ctx.finding(
                offer,
                field_path,
                "S115",
                f"{field_path} {email} is not a person in policies/approvers.yaml; add them under people:",
            )
    hm, rec = offer.get("role.hiring_manager"), offer.get("recruiter")
    if isinstance(hm, str) and isinstance(rec, str) and hm.lower() == rec.lower():
        yield ctx.finding(
            offer,
            "recruiter",
            "S120",
            "the recruiter is also the hiring manager; separation of duties needs two people",
        )


def check_money(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S106: money has at most two decimal places; S118 (warning): the currency differs
    from the country's default currency in offerctl.yaml."""
    comp = offer.compensation()
    for key in ("base_salary", "sign_on_bonus", "relocation"):
        amount = to_decimal(comp.get(key))
        if amount is not None and amount != amount.quantize(Decimal("0.01")):
            yield ctx.finding(
                offer,
                f"compensation.{key}",
                "S106",
                f"compensation.{key} has more than two decimal places",
            )
    country = offer.get("role.location.country")
    expected = ctx.repo.currency_for(str(country)) if country else None
    currency = comp.get("currency")
    if expected and currency and currency != expected:
        yield ctx.finding(
            offer,
            "compensation.currency",
            "S118",
            f"currency {currency} differs from {expected}, the usual currency for {country}; "
            "check it is intended",
            Severity.WARNING,
        )


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check_dates(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S116: the offer must expire before the start date; S119 (warning): an open offer
    whose expiry has passed (run `offerctl expire`); S121: the verbal offer cannot be dated
    after the written offer expires; S140 (warning): an open offer (draft to negotiating)
    whose start date has passed.

    Passing: a sent offer starting 2027-01-11, checked on 2026-11-23.
    Failing (S140): a draft starting 2026-11-02, checked on 2026-11-23."""
    start, expires = _date(offer.get("start_date")), _date(offer.get("expires_on"))
    if start and expires and expires > start:
        yield ctx.finding(
            offer,
            "expires_on",
            "S116",
            f"expires_on {expires} is after start_date {start}; the candidate must answer before starting",
        )
    if expires and offer.status in OPEN_STATUSES and offer.status != "draft" and expires < ctx.as_of:
        yield ctx.finding(
            offer,
            "expires_on",
            "S119",
            f"offer expired on {expires} but is still {offer.status}; "
            "run `offerctl expire` or extend expires_on",
            Severity.WARNING,
        )
    if start and offer.status in OPEN_STATUSES and start < ctx.as_of:
        yield ctx.finding(
            offer,
            "start_date",
            "S140",
            f"start_date {start} has passed but the offer is still {offer.status}; "
            "agree a new start date (`offerctl revise` once sent)",
            Severity.WARNING,
        )
    verbal = _date(offer.get("verbal.date"))
    if verbal and expires and verbal > expires:
        yield ctx.finding(offer, "verbal.date", "S121", f"verbal.date {verbal} is after expires_on {expires}")


def check_status_history(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S122: a declined offer records its reason (a ``declined`` event with ``reason`` from
    the configured taxonomy); S123: an unknown decline reason."""
    events = offer.get("events") or []
    declines = [(i, e) for i, e in enumerate(events) if e.get("type") == "declined"]
    if offer.status == "declined" and not declines:
        yield ctx.finding(
            offer,
            "status",
            "S122",
            "status is declined but no declined event records the reason; "
            "use `offerctl decline ID --reason …`",
        )
    for index, event in declines:
        reason = event.get("reason")
        if reason not in ctx.repo.decline_reasons:
            yield ctx.finding(
                offer,
                f"events.{index}.reason",
                "S123",
                f"decline reason {reason!r} is not one of: {', '.join(ctx.repo.decline_reasons)}",
            )


# --- repository checks -------------------------------------------------------------------


def check_duplicate_ids(ctx: Context) -> Iterator[Finding]:
    """S111: two files must not carry the same offer id."""
    seen: dict[str, list[Offer]] = defaultdict(list)
    for offer in ctx.offers:
        if offer.id:
            seen[offer.id].append(offer)
    for offer_id, offers in seen.items():
        if len(offers) > 1:
            others = ", ".join(o.path for o in offers)
            for offer in offers:
                yield ctx.finding(offer, "id", "S111", f"offer id {offer_id} appears in {others}")


def check_closed_offers_unchanged(ctx: Context) -> Iterator[Finding]:
    """G501: a closed offer must equal its version at the commit that closed it."""
    from offerctl.lifecycle.transitions import closed_offer_edits

    yield from closed_offer_edits(ctx.repo, ctx.offers)


# --- drafts ----------------------------------------------------------------------------------


def reference_checks(repo: Repo, policies: loader.Policies) -> Callable[[Offer], Iterable[Finding]]:
    """The checks ``offerctl new`` runs on a draft besides the schema: organisation
    references, people and dates."""
    ctx = Context(repo, policies, [])

    def run(offer: Offer) -> Iterable[Finding]:
        for offer_check in (check_org_references, check_people, check_dates):
            yield from offer_check(ctx, offer)

    return run


def draft_warnings(repo: Repo, policies: loader.Policies) -> Callable[[Offer], list[Finding]]:
    """The warnings ``offerctl new`` shows for a draft before and after writing it: a draft
    the policy cannot carry through (P240 no band, P241 nobody to approve) and a currency
    other than the country's (S118)."""
    from offerctl.checks.approvals import check_submittable

    ctx = Context(repo, policies, [])

    def run(offer: Offer) -> list[Finding]:
        found = [f for f in check_money(ctx, offer) if f.severity == Severity.WARNING]
        return found + list(check_submittable(ctx, offer))

    return run
