"""`offerctl export`: the onboarding / HRIS handoff — accepted offers as rows.

Candidate and compensation are read through ``Offer.candidate()`` / ``Offer.compensation()``;
this command exists to hand them over, so they appear in its output and nowhere else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from offerctl.core import isolation
from offerctl.core.errors import UsageError
from offerctl.core.model import Finding, Offer, Status, to_jsonable, unreadable_in
from offerctl.store import loader
from offerctl.store.repo import Repo

COLUMNS = (
    "offer_id",
    "status",
    "accepted_on",
    "start_date",
    "candidate_name",
    "candidate_email",
    "title",
    "department",
    "job_family",
    "level",
    "employment_type",
    "hiring_manager",
    "recruiter",
    "country",
    "region",
    "city",
    "work_mode",
    "currency",
    "base_salary",
    "pay_period",
    "bonus_target_pct",
    "sign_on_bonus",
    "relocation",
    "equity_type",
    "equity_units",
    "equity_vesting",
)
"""Export columns, in order (documented in the README)."""


@dataclass(frozen=True)
class ExportResult:
    rows: tuple[Mapping[str, Any], ...]
    findings: tuple[Finding, ...]


def _accepted_event(offer: Offer) -> Mapping[str, Any] | None:
    for event in reversed(offer.get("events") or []):
        if isinstance(event, Mapping) and event.get("type") == "accepted":
            return event
    return None


def row(offer: Offer) -> dict[str, Any]:
    candidate, comp = offer.candidate(), offer.compensation()
    hidden = unreadable_in(candidate) or unreadable_in(comp)
    if hidden is not None:  # never hand an HRIS a marker where a value belongs
        raise hidden.refuse()
    accepted = _accepted_event(offer)
    accepted_on = None
    if accepted is not None:
        accepted_on = accepted.get("signed_on") or str(accepted.get("at", ""))[:10] or None
    raw_equity = comp.get("equity")
    equity: Mapping[str, Any] = raw_equity if isinstance(raw_equity, Mapping) else {}
    values = {
        "offer_id": offer.id,
        "status": offer.status,
        "accepted_on": accepted_on,
        "start_date": offer.get("start_date"),
        "candidate_name": candidate.get("name"),
        "candidate_email": candidate.get("email"),
        "title": offer.get("role.title"),
        "department": offer.get("role.department"),
        "job_family": offer.get("role.job_family"),
        "level": offer.get("role.level"),
        "employment_type": offer.get("role.employment_type"),
        "hiring_manager": offer.get("role.hiring_manager"),
        "recruiter": offer.get("recruiter"),
        "country": offer.get("role.location.country"),
        "region": offer.get("role.location.region"),
        "city": offer.get("role.location.city"),
        "work_mode": offer.get("role.location.work_mode"),
        "currency": comp.get("currency"),
        "base_salary": comp.get("base_salary"),
        "pay_period": comp.get("pay_period"),
        "bonus_target_pct": comp.get("bonus_target_pct"),
        "sign_on_bonus": comp.get("sign_on_bonus"),
        "relocation": comp.get("relocation"),
        "equity_type": equity.get("type"),
        "equity_units": equity.get("units"),
        "equity_vesting": equity.get("vesting"),
    }
    return {column: values[column] for column in COLUMNS}


def _offers_in(repo: Repo, status: str, *, cache: bool) -> tuple[list[Offer], list[Finding]]:
    """What ``loader.load_offers`` gives for every offer file, as far as offers in ``status``
    go: from the per-offer cards (``store.summaries``) rather than parsing all 10,000 files.
    Cards of accepted (and open) offers hold the whole document; offers in another status
    are read in full, and only those."""
    if not cache:
        return loader.load_offers(repo, loader.offer_files(repo))
    from offerctl.store import summaries

    offers, findings = summaries.load(repo, statuses={status})
    if summaries.is_open(status):  # kept whole in the cards
        return offers, findings
    return loader.load_offers(repo, [o.path for o in offers if o.status == status])


def collect(
    repo: Repo, *, status: str = "accepted", since: str | None = None, cache: bool = True
) -> ExportResult:
    """Offers in ``status`` (default accepted), accepted on or after ``since``, by id.
    ``cache``: read through the per-offer cards; False parses every offer file (the result
    is the same)."""
    if status not in {s.value for s in Status}:
        raise UsageError(f"--status {status!r}: not a status; one of {', '.join(s.value for s in Status)}")
    since_date = None
    if since is not None:
        try:
            since_date = dt.date.fromisoformat(since)
        except ValueError:
            raise UsageError(f"--since {since!r} is not a date (YYYY-MM-DD)") from None
    offers, loaded = _offers_in(repo, status, cache=cache)
    wanted = {o.path for o in offers if o.status == status}
    findings = isolation.skipped(f for f in loaded if f.path in wanted)
    rows = []
    for offer in sorted(offers, key=lambda o: o.id):
        if offer.status != status or not offer.extra.get("valid"):
            continue
        values, problem = isolation.guarded(offer, row)
        if values is None:
            findings.extend([problem] if problem else [])
            continue
        if since_date is not None:
            accepted_on = values["accepted_on"]
            if not accepted_on or dt.date.fromisoformat(str(accepted_on)) < since_date:
                continue
        rows.append(values)
    return ExportResult(tuple(rows), tuple(findings))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection")."""


def neutralise(cell: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (``=HYPERLINK(…)``,
    ``+cmd|…``, ``@SUM(…)``) gets a leading ``'``, the OWASP rule: the app then shows it as
    text. Numbers are written as numbers (they are never formulas)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def to_csv(rows: tuple[Mapping[str, Any], ...]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for values in rows:
        writer.writerow({k: "" if v is None else neutralise(to_jsonable(v)) for k, v in values.items()})
    return buffer.getvalue()
