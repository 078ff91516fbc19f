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

from collections.abc import Iterable

from offerctl.checks.context import Context
from offerctl.core.model import OPEN_STATUSES, Finding, Severity

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
    offers = budgets.offer_data(ctx.repo, book)
    ledger = budgets.Ledger.build(book, offers)
    paths = {o.id: o.path for o in ctx.offers if o.id}
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
            currency = (data.get("compensation") or {}).get("currency")
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
    return out
