"""Budget checks (``policies/budgets.yaml``): a repository check, because what is left of a
budget depends on every other offer.

* **W701** (warning): an offer in flight (pending approval … negotiating) would take its
  budget below zero — the budget's amount minus the other consuming offers (for an offer
  that already consumes: those that consumed before it) minus this one. Drafts are left to
  ``route``/``headroom`` and the budget rules.
  Passing: Engineering FY27 1,200,000; committed 1,000,000; a draft at 180,000.
  Failing: the same draft at 210,000 (10,000 over).
* **W703** (warning): an offer that consumes a budget (approved … started) is in a currency
  the stated table has no rate for, so the budget's total — and every offer's position in
  it — is incomplete. (A draft in such a currency only has an unknown position: `route` says so.)
* **W704** (error): ``budgets.yaml`` is inconsistent: duplicate ids, a period that ends
  before it starts, two budgets for the same scope whose periods overlap.
  Schema problems of the file are reported like any policy file's (S1xx).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from offerctl.checks.context import Context
from offerctl.core.model import OPEN_STATUSES, Finding, Severity, Unreadable

PROPOSED = OPEN_STATUSES - {"draft"}
"""W701 is for offers proposed to approvers or candidates; a draft over budget is shown by
``route``/``headroom`` and routed by budget rules, not a finding in CI."""


def check_budgets(ctx: Context) -> Iterable[Finding]:
    """W701, W703, W704 (see the module docstring)."""
    from offerctl.policy import budgets

    book, findings = budgets.read(ctx.repo)
    if book is None:
        return []
    out = list(findings)
    if ctx.budget_offers is not None:  # `check` built the ledger once from its summaries
        offers: Sequence[tuple[str, Mapping[str, Any]]] = ctx.budget_offers
    else:
        offers = budgets.offer_data(ctx.repo, book)
    ledger = budgets.Ledger.build(book, offers)
    paths = {o.id: o.path for o in ctx.offers if o.id}
    sealed: list[str] = []
    for offer_id, data in offers:
        status = budgets.status_of(data)
        if status not in OPEN_STATUSES and status not in budgets.CONSUMING_STATUSES:
            continue
        position = ledger.position(offer_id, data)
        if position is None:
            continue
        path = paths.get(offer_id, f"offers/{offer_id}.yaml")
        b = position.budget
        if position.offer_amount is None:
            if status not in budgets.CONSUMING_STATUSES:
                continue  # a draft's position is unknown (route says so); the ledger is whole
            compensation = data.get("compensation") or {}
            currency = compensation.get("currency")
            pay = (compensation, currency, compensation.get("base_salary"))
            if any(isinstance(v, Unreadable) for v in pay):
                sealed.append(offer_id)  # encrypted, and no key here opens it: not a missing rate
                continue
            out.append(
                Finding(
                    path,
                    ctx.line_in(path, ["compensation", "currency"]),
                    "W703",
                    f"counts against budget {b.id} ({b.currency}) but {budgets.PATH} has no rate "
                    f"for {currency}; add rates.to.{b.currency}.{currency}",
                    Severity.WARNING,
                    offer_id,
                )
            )
            continue
        after = position.remaining_after
        if status in PROPOSED and after is not None and after < 0:
            out.append(
                Finding(
                    path,
                    ctx.line_in(path, ["compensation", "base_salary"]),
                    "W701",
                    f"would exceed budget {b.id} ({b.scope}, {b.start}..{b.end}) "
                    f"by {budgets.amount_text(-after)} "
                    f"{b.currency}: {budgets.amount_text(b.amount)} budgeted, "
                    f"{budgets.amount_text(position.committed)} committed by {len(position.counted)} "
                    f"other offer(s), this offer {budgets.amount_text(position.offer_amount)}",
                    Severity.WARNING,
                    offer_id,
                )
            )
    if sealed:
        some = ", ".join(sealed[:3]) + (" …" if len(sealed) > 3 else "")
        out.append(
            Finding(
                budgets.PATH,
                None,
                "V701",
                f"skipped the budget check for {len(sealed)} offer(s) whose pay is encrypted and "
                f"opened by none of this run's keys ({some}): "
                "the budgets' totals and W701/W703 are not verified; readers: run check with a key that "
                "reads them (`offerctl readers ID`)",
                Severity.WARNING,
            )
        )
    return out


# --- what the ledger reads of an offer (kept in check's per-file summary) -----------------


def projection(data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an offer that the budget ledger and W701/W703 read
    (``policy.budgets.projection``); ``check`` keeps it in the per-file cache instead of
    reading every offer again."""
    from offerctl.policy import budgets

    return budgets.projection(data)


def offers_for_ledger(
    rels: Sequence[str],
    summary_of: Any,
    read: Any,
) -> list[tuple[str, Mapping[str, Any]]]:
    """(id, projection) of every offer file in ``rels`` (in that order, as
    ``policy.budgets.offer_data`` lists them): ``summary_of(rel)`` is the projection cached by
    content, or None; ``read(rel)`` reads the file (opened with this run's keys when it is
    confidential) and returns its data or None. A confidential offer's cached summary holds
    ciphertexts (``encrypted``), so it is always read and opened here."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    for rel in rels:
        data = summary_of(rel)
        if data is None or data.get("encrypted"):
            data = read(rel)
            if isinstance(data, Mapping):
                data = projection(data)
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
            continue
        out.append((str(data["id"]), data))
    return out


def ledger_key(ledger: Any) -> str:
    """What every offer's routing depends on besides its own file when a rule reads
    ``budget``: each consuming offer's budget, amount and first-come time."""
    digest = hashlib.sha256()
    for budget_id, entries in sorted(ledger.entries.items()):
        for offer_id, amount in sorted(entries.items()):
            since = ledger.since.get(offer_id, ("", ""))[0]
            digest.update(f"{budget_id}\0{offer_id}\0{amount}\0{since}\0".encode())
    return digest.hexdigest()


def seed(policy_set: Any, ledger: Any) -> None:
    """Give the routing policy the ledger ``check`` built, so routing (in this process or a
    worker) never reads every offer again."""
    source = getattr(policy_set, "budgets", None)
    if source is not None and ledger is not None:
        source._ledger = ledger
