"""The registry: every offer check and repository check ``offerctl check`` runs, in order,
and which repository checks a warm run may answer from the cache (with their cache keys).

A new check is a function in the module of its family (``offer``, ``approvals``, ``letters``,
``trust``) added to one list here; its docstring names its codes (docs/findings.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from offerctl.checks import approvals, budgets, letters, offer, trust
from offerctl.checks.context import Context, OfferCheck, RepoCheck

OFFER_CHECKS: list[OfferCheck] = [
    offer.check_id_matches_file,
    offer.check_org_references,
    offer.check_people,
    offer.check_money,
    offer.check_dates,
    offer.check_status_history,
    approvals.check_band,
    approvals.check_submittable,
    approvals.check_approvals,
    trust.check_signatures,
    trust.check_times,
    trust.check_pending_approvals,
    letters.check_offer_letter,
]


VALUE_CHECKS: frozenset[OfferCheck] = frozenset(
    {
        offer.check_money,
        approvals.check_band,
        approvals.check_approvals,
        trust.check_pending_approvals,
        letters.check_offer_letter,
    }
)
"""Offer checks that read encrypted values (compensation, candidate, promises) or route on
them. On a confidential offer they run only with a reader's key, outside the cache, and
their messages are redacted; without a key ``check`` reports each as skipped (V701)."""


REPO_CHECKS: list[RepoCheck] = [
    offer.check_duplicate_ids,
    letters.check_letters,
    offer.check_closed_offers_unchanged,
    budgets.check_budgets,
]


def _closed_offers_key(ctx: Context, ids: Mapping[str, str]) -> str | None:
    """What G501 depends on besides the fingerprint: the history (the commit at HEAD; not
    cached in a shallow clone, whose history can grow under the same HEAD) and the path, id,
    status and content of every closed offer. None: do not cache."""
    import hashlib

    from offerctl.core.model import CLOSED_STATUSES
    from offerctl.store import git

    closed = sorted((o.path, o.id or "", o.status or "") for o in ctx.offers if o.status in CLOSED_STATUSES)
    if any(path not in ids for path, _, _ in closed):
        return None
    head = git.history_key(ctx.repo.root)
    if head is None:
        return None
    digest = hashlib.sha256(head.encode() + b"\0")
    for path, offer_id, status in closed:
        digest.update(f"{path}\0{offer_id}\0{status}\0{ids[path]}\0".encode())
    return digest.hexdigest()


RepoCacheKey = Callable[[Context, Mapping[str, str]], "str | None"]


def _fingerprint_only(ctx: Context, ids: Mapping[str, str]) -> str:
    """For checks that depend only on what the cache fingerprint covers (the tool,
    ``offerctl.yaml``, ``policies/``, ``letter_templates/``, the as-of date)."""
    return ""


CACHED_REPO_CHECKS: dict[RepoCheck, RepoCacheKey] = {
    letters.check_letters: _fingerprint_only,
    offer.check_closed_offers_unchanged: _closed_offers_key,
}
"""Repository checks a warm run answers from the cache, each with what its findings depend
on besides the fingerprint (None from the key function: do not cache this run)."""
