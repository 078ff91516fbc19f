"""What every check sees: the repository, its policies, all offers, the as-of date, and
how to point a finding at a line (``Context``); the two check signatures."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from offerctl.core.clock import today
from offerctl.core.model import Finding, Offer, Severity
from offerctl.store import loader, yamlio
from offerctl.store.repo import Repo

if TYPE_CHECKING:
    from offerctl.letters.render import Letters
    from offerctl.policy.routing import PolicySet


@dataclass
class Context:
    repo: Repo
    policies: loader.Policies
    offers: list[Offer]
    as_of: dt.date = field(default_factory=today)
    _texts: dict[str, str | None] = field(default_factory=dict)
    budget_offers: list[tuple[str, Any]] | None = None
    """(id, budget projection) of every offer, when ``check`` built the budget ledger from
    its per-file summaries (``checks.budgets``); None: read the offers."""
    budget_ledger: Any = None
    """That ledger (``policy.budgets.Ledger``), seeded into the routing policy's budgets."""

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
        from offerctl.policy.load import load_policy_set

        policy_set = load_policy_set(self.repo)[0]
        if self.budget_ledger is not None and policy_set.budgets is not None:
            policy_set.budgets._ledger = self.budget_ledger
        return policy_set

    @functools.cached_property
    def letters(self) -> Letters:
        """Letter templates, clause library and selection rules, loaded once per run."""
        from offerctl.letters.render import Letters

        return Letters.for_repo(self.repo)


OfferCheck = Callable[[Context, Offer], Iterable[Finding]]
RepoCheck = Callable[[Context], Iterable[Finding]]
