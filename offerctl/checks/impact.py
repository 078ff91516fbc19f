"""Policy impact preview: route every offer in flight under the current policy and under a
proposed one, and say what changes — which offers gain or lose which approval steps, which
approvals on file would no longer count (stale, no longer allowed…), which offers stop (or
start) being sendable.

Used by ``offerctl policy-diff BASE[..HEAD]`` and ``offerctl route --all --policy-ref REF``;
the CI workflow (``setup/ci.py``) posts its Markdown on pull requests that change
``policies/`` or ``offerctl.yaml``. Offers always come from the working tree: a policy
change is judged against the offers as they are now.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from offerctl.core.clock import today
from offerctl.core.model import OPEN_STATUSES, Finding, Offer, Severity
from offerctl.store import loader
from offerctl.store.repo import Repo

WORKTREE = "working tree"


@dataclass(frozen=True)
class Step:
    rule: str
    role: str
    stage: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "role": self.role, "stage": self.stage}


@dataclass(frozen=True)
class ApprovalChange:
    index: int
    role: str
    by: str
    before: str
    after: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "role": self.role,
            "by": self.by,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class OfferImpact:
    offer_id: str
    status: str
    title: str
    gained: tuple[Step, ...]
    lost: tuple[Step, ...]
    approvals: tuple[ApprovalChange, ...]
    complete_before: bool
    complete_after: bool

    @property
    def changed(self) -> bool:
        return bool(self.gained or self.lost or self.approvals or self.complete_before != self.complete_after)

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer_id,
            "status": self.status,
            "title": self.title,
            "gained": [s.as_json() for s in self.gained],
            "lost": [s.as_json() for s in self.lost],
            "approvals_no_longer_counted": [a.as_json() for a in self.approvals if a.before == "valid"],
            "approvals_counted_again": [a.as_json() for a in self.approvals if a.after == "valid"],
            "complete_before": self.complete_before,
            "complete_after": self.complete_after,
        }


@dataclass(frozen=True)
class Impact:
    current: str
    proposed: str
    routed: int
    offers: tuple[OfferImpact, ...]
    findings: tuple[Finding, ...] = field(default=())
    """Policy errors of the proposed policy (rules that fail closed, broken files)."""

    def as_json(self) -> dict[str, Any]:
        changed = [o for o in self.offers if o.changed]
        return {
            "current": self.current,
            "proposed": self.proposed,
            "offers_routed": self.routed,
            "offers_changed": len(changed),
            "summary": {
                "gain_steps": sum(1 for o in changed if o.gained),
                "lose_steps": sum(1 for o in changed if o.lost),
                "approvals_no_longer_counted": sum(
                    1 for o in changed for a in o.approvals if a.before == "valid"
                ),
                "become_blocked": sum(1 for o in changed if o.complete_before and not o.complete_after),
                "become_complete": sum(1 for o in changed if o.complete_after and not o.complete_before),
            },
            "offers": [o.as_json() for o in changed],
            "policy_findings": [
                {
                    "code": f.code,
                    "severity": str(f.severity),
                    "path": f.path,
                    "line": f.line,
                    "message": f.message,
                }
                for f in self.findings
            ],
        }


def _steps(result: Any) -> dict[str, Step]:
    return {r.rule_id: Step(r.rule_id, r.role, r.stage) for r in result.rules if r.triggered}


def _approval_states(result: Any) -> dict[int, Any]:
    states: dict[int, Any] = {}
    for r in result.rules:
        for a in r.approvals:
            # An approval line may fill several rules: keep its best state ("valid" wins).
            if a.index not in states or (a.state == "valid" and states[a.index].state != "valid"):
                states[a.index] = a
    return states


def compare(repo: Repo, current: Any, proposed: Any, offers: Sequence[Offer]) -> list[OfferImpact]:
    """Pure over two policy sets and the offers (routing reads git only to explain stale
    approvals)."""
    from offerctl.policy.routing import route

    day = today()
    out = []
    for offer in offers:
        before = route(repo, current, offer, as_of=day)
        after = route(repo, proposed, offer, as_of=day)
        old, new = _steps(before), _steps(after)
        gained = tuple(new[k] for k in sorted(set(new) - set(old)))
        lost = tuple(old[k] for k in sorted(set(old) - set(new)))
        states_before, states_after = _approval_states(before), _approval_states(after)
        changes = []
        lines = offer.get("approvals") or []
        for index in sorted(set(states_before) | set(states_after)):
            a, b = states_before.get(index), states_after.get(index)
            was = a.state if a else "unused"
            now = b.state if b else "unused"
            if (was == "valid") == (now == "valid"):
                continue
            line = lines[index] if index < len(lines) and isinstance(lines[index], dict) else {}
            detail = (b.detail if b and b.detail else "") or (
                "no rule of the proposed policy needs it" if now == "unused" else ""
            )
            changes.append(
                ApprovalChange(index, str(line.get("role", "")), str(line.get("by", "")), was, now, detail)
            )
        out.append(
            OfferImpact(
                offer.id,
                offer.status,
                str(offer.get("role.title") or ""),
                gained,
                lost,
                tuple(changes),
                before.complete,
                after.complete,
            )
        )
    return out


@contextlib.contextmanager
def _side(repo: Repo, ref: str | None) -> Iterator[Repo]:
    if ref is None:
        yield repo
        return
    from offerctl.checks.selection import policy_snapshot

    with policy_snapshot(repo, ref) as snap:
        yield snap


def run(repo: Repo, *, current_ref: str | None, proposed_ref: str | None) -> Impact:
    """Route every open offer (draft … negotiating) of the working tree under the policy at
    ``current_ref`` and at ``proposed_ref`` (None: the working tree's policy)."""
    from offerctl.policy.load import load_policy_set

    offers, _ = loader.load_offers(repo, loader.offer_files(repo))
    open_offers = sorted(
        (o for o in offers if o.extra.get("valid") and o.status in OPEN_STATUSES), key=lambda o: o.id
    )
    with _side(repo, current_ref) as cur_repo, _side(repo, proposed_ref) as new_repo:
        current, _ = load_policy_set(cur_repo)
        proposed, found = load_policy_set(new_repo)
        impacts = compare(repo, current, proposed, open_offers)
    errors = tuple(f for f in found if f.severity == Severity.ERROR)
    return Impact(current_ref or WORKTREE, proposed_ref or WORKTREE, len(open_offers), tuple(impacts), errors)


def markdown(impact: Impact) -> str:
    """The preview as Markdown (for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment)."""
    data = impact.as_json()
    s = data["summary"]
    out = [
        f"### Policy impact: {impact.current} → {impact.proposed}",
        "",
        f"{data['offers_routed']} open offer(s) routed; {data['offers_changed']} change.",
    ]
    if data["offers_changed"]:
        out += [
            "",
            f"- gain approval steps: {s['gain_steps']}",
            f"- lose approval steps: {s['lose_steps']}",
            f"- approvals on file that would no longer count: {s['approvals_no_longer_counted']}",
            f"- offers that would become blocked (not sendable): {s['become_blocked']}",
            "",
            "| offer | status | gains | loses | approvals no longer counted |",
            "| --- | --- | --- | --- | --- |",
        ]
        for o in impact.offers:
            if not o.changed:
                continue
            gains = ", ".join(f"{g.role} ({g.rule})" for g in o.gained) or "–"  # noqa: RUF001
            loses = ", ".join(f"{g.role} ({g.rule})" for g in o.lost) or "–"  # noqa: RUF001
            stale = (
                "; ".join(
                    f"{a.role} {a.by}: {a.after}" + (f" ({a.detail})" if a.detail else "")
                    for a in o.approvals
                    if a.before == "valid"
                )
                or "–"  # noqa: RUF001
            )
            out.append(f"| {o.offer_id} | {o.status} | {gains} | {loses} | {_cell(stale)} |")
    if impact.findings:
        out += ["", "**The proposed policy has errors** (rules that fail closed are required):", ""]
        out += [f"- `{f.code}` {f.path}:{f.line or ''} {f.message}" for f in impact.findings]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def text(impact: Impact) -> str:
    data = impact.as_json()
    out = [
        f"policy impact: {impact.current} → {impact.proposed}: {data['offers_routed']} open offer(s) routed, "
        f"{data['offers_changed']} change"
    ]
    for o in impact.offers:
        if not o.changed:
            continue
        head = f"{o.offer_id} ({o.status}) {o.title}"
        if o.complete_before != o.complete_after:
            head += "  — becomes " + ("BLOCKED (not sendable)" if o.complete_before else "complete")
        out.append(head)
        for g in o.gained:
            out.append(f"  + needs {g.role} (rule {g.rule}, stage {g.stage})")
        for g in o.lost:
            out.append(f"  - no longer needs {g.role} (rule {g.rule}, stage {g.stage})")
        for a in o.approvals:
            if a.before == "valid":
                out.append(
                    f"  ! approval by {a.by} as {a.role} would be {a.after}"
                    + (f": {a.detail}" if a.detail else "")
                )
            else:
                out.append(f"  ✓ approval by {a.by} as {a.role} would count again")
    for f in impact.findings:
        out.append(f"proposed policy error {f.code} {f.path}:{f.line or ''} {f.message}")
    return "\n".join(out)


__all__ = ["Impact", "OfferImpact", "compare", "markdown", "run", "text"]
