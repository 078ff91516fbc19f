"""`check` for approvals and bands: registered in ``checks.registry.OFFER_CHECKS``.

Each function takes the check context (which caches the compiled policy set for the run)
and one offer, and yields findings. Codes: P214 (no band), P240/P241 (a draft
the policy cannot carry through), A301-A307 (approvals).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from offerctl.core.model import APPROVED_STATUSES, Finding, Offer, Severity

if TYPE_CHECKING:
    from offerctl.checks.context import Context


def check_band(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """P214: the offer's job family x level x location has no pay band (lookup explained);
    checked once the offer is submitted. P215: the offer's currency differs from its band's.

    Passing: an engineering L5 offer in US-CA (zone us-tier1 has that band).
    Failing: a people L7 offer in DE when bands.yaml has no people L7 de band."""
    policy = ctx.policy_set
    if not policy.bands.bands or offer.status == "draft":
        return  # a draft may still change; `submit` refuses an offer without a band
    match = policy.bands.lookup(offer)
    if match.band is None:
        yield ctx.finding(
            offer, "role.level", "P214", f"no pay band: {match.explanation}; add it to policies/bands.yaml"
        )
        return
    currency = offer.get("compensation.currency")
    if currency and currency != match.band.currency:
        yield ctx.finding(
            offer,
            "compensation.currency",
            "P215",
            f"the offer is in {currency} but its band ({match.explanation}) is in {match.band.currency}; "
            "band comparisons would be meaningless",
        )


def check_submittable(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """Warnings for a draft (and an offer awaiting approval) that the policy cannot carry
    through: P240 the draft matches no pay band, so `offerctl submit` will refuse it;
    P241 a rule the offer triggers names nobody who can approve it (a role without people,
    a person field naming nobody, or only the offer's own recruiter).

    Passing: an engineering L5 draft in the US with the starter policy.
    Failing (P240): a sales L5 draft in Germany when bands.yaml has no zone for DE."""
    if offer.status not in ("draft", "pending_approval"):
        return
    policy = ctx.policy_set
    if offer.status == "draft" and policy.bands.bands:
        match = policy.bands.lookup(offer)
        if match.band is None:
            yield ctx.finding(
                offer,
                "role.level",
                "P240",
                f"this draft cannot be submitted: no pay band ({match.explanation}); "
                "add the band to policies/bands.yaml or correct the job family, level or location",
                Severity.WARNING,
            )
    for text in unapprovable(ctx, offer):
        yield ctx.finding(offer, "role", "P241", text, Severity.WARNING)


def unapprovable(ctx: Context, offer: Offer) -> list[str]:
    """For P241: one sentence per triggered rule that nobody may approve."""
    from offerctl.policy.routing import route

    policy = ctx.policy_set
    result = route(ctx.repo, policy, offer, as_of=ctx.as_of)
    recruiter = str(offer.get("recruiter") or "").lower()
    out = []
    for r in result.rules:
        if not r.triggered or r.satisfied:
            continue
        able = [p for p in r.principals if policy.allow_recruiter or p != recruiter]
        if len(able) >= r.quorum:
            continue
        rule = policy.rule(r.rule_id)
        if not r.principals:
            names_person = rule is not None and rule.require.person is not None
            why = (
                f"the offer names no {r.role}"
                if names_person
                else f"role {r.role} has no people in policies/approvers.yaml"
            )
        else:
            why = (
                f"only {', '.join(r.principals)} may approve as {r.role}, "
                f"and {r.quorum} people are needed besides the recruiter"
            )
        out.append(
            f"this offer cannot be fully approved: rule {r.rule_id} needs a {r.role} approval but {why}; "
            "add people to the role in policies/approvers.yaml"
        )
    return out


def check_approvals(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """A301 missing approval, A302 stale approval (names the covered field that changed),
    A303 approval by someone not allowed, A304 one person counted twice or in two roles,
    A305 quorum not met, A306 unsigned where signatures are required —
    for offers in approved, sent, accepted, started. Signatures themselves (A306, A307) are
    verified for every offer by ``offerctl.checks.trust.check_signatures``.

    Passing: a sent offer whose hiring manager approved the terms as sent.
    Failing: the same offer after its start_date changed (A302 names start_date)."""
    if offer.status not in APPROVED_STATUSES:
        return
    from offerctl.policy.routing import route

    policy = ctx.policy_set
    result = route(ctx.repo, policy, offer, as_of=ctx.as_of)
    codes = {"stale": "A302", "not_allowed": "A303", "duplicate": "A304", "unsigned": "A306"}
    reported: set[tuple[int, str]] = set()
    for r in result.rules:
        if not r.triggered:
            continue
        for a in r.approvals:
            code = codes.get(a.state)
            if code == "A302" and r.satisfied:
                continue  # re-approved after a revision: the old line is history, not a problem
            if code and (a.index, code) not in reported:
                reported.add((a.index, code))
                yield ctx.finding(
                    offer,
                    f"approvals.{a.index}",
                    code,
                    f"approval by {a.by} as {a.role} (rule {r.rule_id}): {a.detail}",
                )
        if not r.satisfied:
            have = len({a.on_behalf_of or a.by for a in r.valid})
            if have:
                yield ctx.finding(
                    offer,
                    "approvals",
                    "A305",
                    f"rule {r.rule_id} needs {r.quorum} {r.role} approvals, {have} valid on file",
                )
            else:
                yield ctx.finding(
                    offer,
                    "approvals",
                    "A301",
                    f"rule {r.rule_id} ({r.stage}) needs a {r.role} approval and has none valid; "
                    f"ask {', '.join(r.acting) or 'the role'} to run `offerctl approve {offer.id}`",
                )
    yield from _unmatched(ctx, offer, result, reported)


def _unmatched(ctx: Context, offer: Offer, result: Any, reported: set[tuple[int, str]]) -> Iterator[Finding]:
    """A303 for lines no rule examined: a role no rule requires of this person."""
    from offerctl.policy.routing import principals_for

    policy = ctx.policy_set
    seen = {a.index for r in result.rules for a in r.approvals}
    for index, a in enumerate(offer.get("approvals") or []):
        if index in seen or not isinstance(a, dict) or (index, "A303") in reported:
            continue
        role = str(a.get("role"))
        principal = str(a.get("on_behalf_of") or a.get("by", "")).lower()
        allowed = {
            p
            for rule in policy.rules
            if rule.require.role == role
            for p in principals_for(policy, rule, offer.data)
        }
        if principal not in allowed:
            yield ctx.finding(
                offer,
                f"approvals.{index}",
                "A303",
                f"approval by {a.get('by')} as {role}: no rule lets {principal} approve as {role}",
            )


def submit_warnings(ctx: Context, offer: Offer) -> list[Finding]:
    """What `offerctl new` warns about a draft it wrote: P240 and P241."""
    return list(check_submittable(ctx, offer))


__all__ = ["check_approvals", "check_band", "check_submittable", "submit_warnings"]
