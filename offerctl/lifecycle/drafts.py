"""`offerctl edit`: change a draft, an offer awaiting approval or an approved one not yet sent.

The terms of an offer change before it is sent through `edit` (a commit of its own with
``Offer-Action: edit`` and an ``edited`` event), after it is sent through `revise`. Both are
``--set path=value`` validated like `new` (schema + the organisation/people/date checks),
and both go through ``change.apply`` like every change to an offer.

What an edit does to the approval state (``docs/lifecycle.md``):

* a **draft** stays a draft (nobody has approved anything yet);
* an offer **pending approval** stays pending; approvals whose covered fields changed
  beyond their tolerance are now stale and are listed, so the approvers know to act again;
* an **approved** offer goes back to ``pending_approval`` when the edit leaves any required
  approval missing or stale (a covered field changed, or a new rule triggers); an edit that
  touches nothing any approval covers keeps it approved.

The ``edited`` event records each changed field with its old and new value — except the
candidate's personal data (``candidate.*``), recorded by field name only, so it lives in one
place in the file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import Finding, Offer, Status, get_path, set_path
from offerctl.lifecycle import change, intake, sync, transitions
from offerctl.lifecycle.approval_flow import approval_policy
from offerctl.lifecycle.change import Actor
from offerctl.policy.routing import PolicySet, RouteResult, Waiting, route, route_data, snapshots
from offerctl.store import git
from offerctl.store.repo import Repo

PERSONAL_PREFIX = "candidate."
"""Fields recorded in the ``edited`` event by name only (personal data)."""


@dataclass(frozen=True)
class StaleApproval:
    """An approval that held before the edit and does not after it."""

    role: str
    by: str
    rules: tuple[str, ...]
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"role": self.role, "by": self.by, "rules": list(self.rules), "detail": self.detail}


@dataclass(frozen=True)
class EditChange:
    """edit's decision (a ``change.Change``) and what to report about it."""

    offer_id: str
    subject: str
    by: str
    at: str
    source: str
    target: str
    changes: tuple[Mapping[str, Any], ...]
    stale: tuple[StaleApproval, ...]
    waiting: tuple[Waiting, ...]
    sets: tuple[tuple[str, Any], ...]
    appends: tuple[tuple[str, Mapping[str, Any]], ...]
    body: str = ""
    action: str = "edit"
    readers: Mapping[str, list[str]] = field(default_factory=dict)

    @property
    def trailers(self) -> Mapping[str, str]:
        return {}


@dataclass(frozen=True)
class EditResult:
    offer_id: str
    by: str
    at: str
    source: str
    target: str
    changes: tuple[Mapping[str, Any], ...]
    stale: tuple[StaleApproval, ...]
    waiting: tuple[Waiting, ...]
    path: str
    commit: str | None
    pushed: sync.Pushed | None = None

    def as_json(self) -> dict[str, Any]:
        from offerctl.core.model import to_jsonable

        payload: dict[str, Any] = {
            "offer": self.offer_id,
            "action": "edit",
            "by": self.by,
            "at": self.at,
            "from": self.source,
            "to": self.target,
            "changes": [to_jsonable(dict(c)) for c in self.changes],
            "stale_approvals": [s.as_json() for s in self.stale],
            "waiting": [
                {"stage": w.stage, "rule": w.rule_id, "role": w.role, "people": list(w.people)}
                for w in self.waiting
            ],
            "path": self.path,
            "commit": self.commit,
        }
        if self.pushed is not None:
            payload["pushed"] = self.pushed.as_json()
        return payload


def edit(
    repo: Repo,
    offer_id: str,
    assignments: Mapping[str, Any],
    *,
    reason: str | None,
    reference_checks: Callable[[Offer], Iterable[Finding]],
    actor: git.Identity | None = None,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
) -> EditResult:
    """Set fields of a draft / pending / approved offer and commit the change as the actor.

    ``reference_checks`` are the checks `new` runs besides the schema (the caller passes
    ``checks.offer.reference_checks``). The routing policy is loaded only for offers past
    draft, whose approvals the edit may make stale."""
    decide = decide_edit(repo, assignments, reason, reference_checks, lambda: approval_policy(repo))

    def work(author: git.Identity, at: str, do_commit: bool) -> change.Applied[EditChange]:
        return change.apply(repo, offer_id, decide, author=author, at=at, commit=do_commit, repair=True)

    ran = change.run(repo, work, commit=commit, push=push, retries=retries, author=actor)
    made = ran.value.change
    return EditResult(
        made.offer_id,
        made.by,
        made.at,
        made.source,
        made.target,
        made.changes,
        made.stale,
        made.waiting,
        ran.value.path,
        ran.value.commit,
        ran.pushed,
    )


def check_assignments(assignments: Mapping[str, Any]) -> None:
    """The ``--set`` paths an edit may use: known offer fields, never the managed ones."""
    if not assignments:
        raise UsageError("nothing to edit", hint="give at least one --set path=value")
    for path in assignments:
        if path.split(".")[0] in transitions.PROTECTED_FIELDS:
            raise UsageError(
                f"edit cannot set {path}",
                hint="id, status, approvals and events are changed only by offerctl's own commands",
            )
        if not intake.known_field(path):
            raise UsageError(
                f"--set {path}: unknown field",
                hint="`offerctl schema offer` lists the fields; paths look like compensation.base_salary",
            )


def decide_edit(
    repo: Repo,
    assignments: Mapping[str, Any],
    reason: str | None,
    reference_checks: Callable[[Offer], Iterable[Finding]],
    policy: Callable[[], PolicySet],
) -> change.Decide[EditChange]:
    """edit's decide step: the state machine allows it, something changes, the result passes
    the checks `new` runs, and — past draft — which approvals it makes stale."""
    check_assignments(assignments)
    why = transitions.check_text(reason, "--reason") if reason is not None else None

    def decide(offer: Offer, actor: Actor) -> EditChange:
        source, _ = transitions.check_transition(offer, "edit")
        changes = _changes(offer, assignments)
        new_data = copy.deepcopy(dict(offer.data))
        for field_change in changes:
            set_path(new_data, str(field_change["field"]), field_change["new"])
        _require_valid(offer, new_data, reference_checks)
        stale: tuple[StaleApproval, ...] = ()
        waiting: tuple[Waiting, ...] = ()
        target = source
        if source != Status.DRAFT:
            before, after = _routes(repo, policy(), offer, new_data, actor)
            stale = _stale_approvals(before, after)
            waiting = tuple(after.waiting())
            if source == Status.APPROVED and not after.complete:
                target = Status.PENDING_APPROVAL
        event: dict[str, Any] = {
            "type": "edited",
            "at": actor.at,
            "by": actor.email,
            "from": str(source),
            "to": str(target),
        }
        if why:
            event["reason"] = why
        event["changes"] = [_recorded(c) for c in changes]
        fields = [str(c["field"]) for c in changes]
        sets = tuple((str(c["field"]), c["new"]) for c in changes)
        return EditChange(
            offer.id,
            f"offer {offer.id}: edited {', '.join(fields)}"
            + (f" ({source} → {target})" if target != source else ""),
            actor.email,
            actor.at,
            str(source),
            str(target),
            tuple(changes),
            stale,
            waiting,
            sets + ((("status", str(target)),) if target != source else ()),
            (("events", event),),
            body=why or "",
        )

    return decide


def _changes(offer: Offer, assignments: Mapping[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for path, new in assignments.items():
        old = get_path(offer.data, path)
        if not transitions.same_value(old, new):
            changes.append({"field": path, "old": old, "new": new})
    if not changes:
        raise Refused(
            f"edit {offer.id}: every --set value equals the current one; nothing changed", path=offer.path
        )
    return changes


def _require_valid(
    offer: Offer, data: Mapping[str, Any], checks: Callable[[Offer], Iterable[Finding]]
) -> None:
    """The edited offer must pass what `new` checks: the schema and the reference checks."""
    found = intake.problems(data, checks)
    if found:
        shown = "; ".join(f"{p.field}: {p.message}" for p in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise UsageError(
            f"the edit would leave {offer.id} with {len(found)} problem(s): {shown}{more}",
            path=offer.path,
            hint="nothing was written; fix the values (or add --set for the missing ones) and retry",
        )


def _routes(
    repo: Repo, policy: PolicySet, offer: Offer, new_data: Mapping[str, Any], actor: Actor
) -> tuple[RouteResult, RouteResult]:
    """The offer's routing before and after the edit (approvals judged against the version
    each approved)."""
    before = route(repo, policy, offer, as_of=actor.day)
    after = route_data(policy, offer, new_data, as_of=actor.day, snapshot=snapshots(repo, offer))
    return before, after


def _stale_approvals(before: RouteResult, after: RouteResult) -> tuple[StaleApproval, ...]:
    """Approval lines that held (for some rule) before and no longer hold after."""
    held = {(r.rule_id, a.index) for r in before.rules for a in r.approvals if a.state == "valid"}
    found: dict[int, StaleApproval] = {}
    for rule in after.rules:
        for check in rule.approvals:
            if (rule.rule_id, check.index) not in held or check.state == "valid":
                continue
            known = found.get(check.index)
            rules = (*known.rules, rule.rule_id) if known else (rule.rule_id,)
            found[check.index] = StaleApproval(check.role, check.by, rules, check.detail)
    return tuple(found[i] for i in sorted(found))


def _recorded(field_change: Mapping[str, Any]) -> dict[str, Any]:
    if str(field_change["field"]).startswith(PERSONAL_PREFIX):
        return {"field": field_change["field"]}
    return dict(field_change)


__all__ = ["EditChange", "EditResult", "StaleApproval", "check_assignments", "decide_edit", "edit"]
