"""`offerctl check`: load everything, run every check, collect every finding.

Checks are small functions in a registry. An offer check takes the context and one offer
that passed schema validation and yields findings; a repository check sees all offers.
Each check's docstring documents its codes (the catalogue in docs/findings.md lists them).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offerctl import approval_checks, loader, yamlio
from offerctl.letter_checks import check_letters
from offerctl.model import APPROVED_STATUSES, OPEN_STATUSES, Finding, Offer, Severity, to_decimal
from offerctl.repo import Repo, today

if TYPE_CHECKING:
    from offerctl.policy.routing import PolicySet


@dataclass
class Context:
    repo: Repo
    policies: loader.Policies
    offers: list[Offer]
    as_of: dt.date = field(default_factory=today)
    _texts: dict[str, str | None] = field(default_factory=dict)

    def line(self, offer: Offer, dotted: str | Sequence[str | int]) -> int | None:
        """Line of a field in the offer's file (read again only for files with findings)."""
        path = dotted.split(".") if isinstance(dotted, str) else list(dotted)
        typed: list[str | int] = [int(p) if isinstance(p, str) and p.isdigit() else p for p in path]
        return self.line_in(offer.path, typed)

    def line_in(self, rel: str, path: Sequence[str | int]) -> int | None:
        if rel not in self._texts:
            try:
                self._texts[rel] = (self.repo.root / rel).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[rel] = None
        text = self._texts[rel]
        return yamlio.line_of(text, path) if text is not None else None

    def finding(
        self,
        offer: Offer,
        field_path: str,
        code: str,
        message: str,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        return Finding(offer.path, self.line(offer, field_path), code, message, severity, offer.id)

    @functools.cached_property
    def people(self) -> dict[str, Any]:
        return self.policies.people()

    @functools.cached_property
    def policy_set(self) -> PolicySet:
        """The routing/bands/approvers policy, parsed and CEL-compiled once per run."""
        from offerctl.policy import load_policy_set

        return load_policy_set(self.repo)[0]


OfferCheck = Callable[[Context, Offer], Iterable[Finding]]
RepoCheck = Callable[[Context], Iterable[Finding]]


# --- offer checks ------------------------------------------------------------------------


def check_id_matches_file(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S110: the ``id`` must equal the file name (``offers/OFF-2026-7K3QXM.yaml``)."""
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
    after the written offer expires."""
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


OFFER_CHECKS: list[OfferCheck] = [
    check_id_matches_file,
    check_org_references,
    check_people,
    check_money,
    check_dates,
    check_status_history,
    approval_checks.check_band,
    approval_checks.check_approvals,
]


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


REPO_CHECKS: list[RepoCheck] = [check_duplicate_ids, check_letters]


def register_extensions() -> None:
    """Checks contributed by other modules (approvals, letters, history) register here."""


@dataclass(frozen=True)
class CheckResult:
    checked: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity == Severity.ERROR for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "findings": [f.as_json() for f in self.findings],
        }


def run(repo: Repo, paths: Sequence[Path] = (), as_of: dt.date | None = None) -> CheckResult:
    findings: list[Finding] = list(repo.config_findings)
    policies = loader.load_policies(repo)
    findings.extend(policies.findings)
    rels = loader.offer_files(repo, paths)
    offers, offer_findings = loader.load_offers(repo, rels)
    findings.extend(offer_findings)
    ctx = Context(repo, policies, offers, as_of or today())
    from offerctl.policy import load_policy_set

    policy_set, policy_findings = load_policy_set(repo, policies)
    ctx.policy_set = policy_set  # seeds the cached_property: compiled once per run
    findings.extend(policy_findings)
    valid = [o for o in offers if o.extra.get("valid")]
    for offer in valid:
        for offer_check in OFFER_CHECKS:
            findings.extend(offer_check(ctx, offer))
    for repo_check in REPO_CHECKS:
        findings.extend(repo_check(ctx))
    unique = sorted(set(findings), key=Finding.sort_key)
    return CheckResult(len(rels), tuple(unique))


__all__ = ["APPROVED_STATUSES", "CheckResult", "Context", "run"]
