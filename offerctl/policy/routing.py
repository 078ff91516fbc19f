"""Routing: which rules an offer triggers, who must approve, in which order, and whether the
approvals on file still hold (``route``); how far terms can move before another approval is
needed (``headroom``).

Stages run in order; a stage opens when every triggered rule of the earlier stages is
satisfied; rules inside a stage run in parallel. ``when`` is CEL, compiled once per rule
when the policy set is loaded (``offerctl.policy.load.load_policy_set``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from offerctl.approvals import binding, verify
from offerctl.core import timestamps
from offerctl.core.clock import latest_now, today
from offerctl.core.errors import OfferctlError
from offerctl.core.model import Offer, Unreadable, get_path, records, to_decimal, to_jsonable, unreadable_in
from offerctl.policy.approvers import Approvers
from offerctl.policy.bands import Band, BandTable
from offerctl.store.repo import Repo

CEL_VARIABLES = (
    "offer",
    "band",
    "compa_ratio",
    "pct_above_mid",
    "first_year_cash",
    "nonstandard_clauses",
    "recruiter",
    "budget",
)
BAND_FIELDS = ("min", "mid", "max", "currency", "zone", "bonus_target_pct", "equity_min", "equity_max")


@dataclass(frozen=True)
class Requirement:
    role: str
    """The role name; for a person rule the ``as`` name (default: the path's last part)."""
    person: str | None = None
    """For a person rule: the offer path naming them, e.g. ``offer.role.hiring_manager``."""
    quorum: str | int = "any"


@dataclass(frozen=True)
class Rule:
    id: str
    stage: str
    when: str
    require: Requirement
    covers: tuple[str, ...]
    tolerance: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""
    line: int | None = None


@dataclass(frozen=True)
class PolicySet:
    stages: tuple[str, ...]
    rules: tuple[Rule, ...]
    bands: BandTable
    approvers: Approvers
    programs: Mapping[str, Any]
    """Rule id → compiled CEL program; a rule that did not compile has none and fails closed."""
    standard_clauses: frozenset[str] = frozenset()
    signatures: str = "optional"
    allow_multiple_roles: bool = False
    allow_recruiter: bool = False
    budgets: Any = None
    """``policy.budgets.BudgetSource`` when ``policies/budgets.yaml`` exists (what is left of
    the offer's budget; the ledger over all offers is built on first use), else None."""

    @functools.cached_property
    def uses_budget(self) -> bool:
        """Whether any rule reads ``budget`` (only then does routing need the ledger)."""
        return any(_BUDGET_USE.search(rule.when) for rule in self.rules)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @functools.cached_property
    def keyring(self) -> verify.Keyring:
        """What signature verification needs (``approvals.verify``), built once per policy."""
        return self.approvers.keyring(self.signatures)

    def quorum(self, rule: Rule) -> int:
        if rule.require.person is not None:
            return 1
        q = rule.require.quorum
        if q == "all":
            role = self.approvers.roles.get(rule.require.role)
            return max(1, len(role.people)) if role else 1
        return q if isinstance(q, int) else 1


@dataclass(frozen=True)
class ApprovalCheck:
    index: int
    role: str
    by: str
    at: str
    state: str
    """valid | stale | not_allowed | duplicate | superseded | unsigned | bad_signature |
    bad_time (``unsigned``/``bad_signature``: ``approvals.verify``; ``bad_time``:
    ``core.timestamps``)"""
    detail: str = ""
    on_behalf_of: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "role": self.role,
            "by": self.by,
            "on_behalf_of": self.on_behalf_of,
            "at": self.at,
            "state": self.state,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RuleOutcome:
    rule_id: str
    stage: str
    description: str
    triggered: bool
    explanation: str
    role: str
    quorum: int
    principals: tuple[str, ...]
    """Who may fill the requirement (role members, or the person named by the offer)."""
    acting: tuple[str, ...]
    """Who can act now (delegation applied)."""
    escalation: str | None
    approvals: tuple[ApprovalCheck, ...]
    satisfied: bool
    open: bool
    covers: tuple[str, ...] = ()

    @property
    def valid(self) -> tuple[ApprovalCheck, ...]:
        return tuple(a for a in self.approvals if a.state == "valid")

    @property
    def stale(self) -> tuple[str, ...]:
        """``who: what changed`` for each stale approval of an unsatisfied rule."""
        if self.satisfied:
            return ()
        return tuple(f"{a.by}: {a.detail}" for a in self.approvals if a.state == "stale")

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "stage": self.stage,
            "description": self.description,
            "triggered": self.triggered,
            "explanation": self.explanation,
            "role": self.role,
            "quorum": self.quorum,
            "people": list(self.principals),
            "acting": list(self.acting),
            "escalation": self.escalation,
            "covers": list(self.covers),
            "open": self.open,
            "satisfied": self.satisfied,
            "approvals": [a.as_json() for a in self.approvals],
        }


@dataclass(frozen=True)
class Waiting:
    stage: str
    rule_id: str
    role: str
    people: tuple[str, ...]
    escalation: str | None
    since: str | None
    stale: tuple[str, ...] = ()
    """Approvals of this rule that went stale, each as ``who: what changed`` — the work is
    then a re-approval (after ``revise`` or an edit of a covered field)."""


@dataclass(frozen=True)
class RouteResult:
    offer_id: str
    rules: tuple[RuleOutcome, ...]
    complete: bool
    stages: tuple[str, ...] = ()
    current_stage: str | None = None
    since: str | None = None
    band: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    budget: Any = None
    """``policy.budgets.Position`` of the offer when a budget applies (shown by ``route``)."""

    def blockers(self) -> list[str]:
        """Why the offer cannot be sent: one line per unsatisfied triggered rule."""
        out: list[str] = []
        for r in self.rules:
            if not r.triggered or r.satisfied:
                continue
            have = len({a.on_behalf_of or a.by for a in r.valid})
            reason = f"rule {r.rule_id} ({r.stage}) needs {r.role} approval"
            if r.quorum > 1:
                reason += f" from {r.quorum} people ({have} so far)"
            stale = [a for a in r.approvals if a.state == "stale"]
            if stale:
                reason += "; stale: " + "; ".join(f"{a.by}: {a.detail}" for a in stale)
            refused = [a for a in r.approvals if a.state in ("unsigned", "bad_signature", "bad_time")]
            if refused:
                reason += "; not counted: " + "; ".join(f"{a.by}: {a.detail}" for a in refused)
            out.append(reason)
        return out

    def waiting(self) -> list[Waiting]:
        return [
            Waiting(r.stage, r.rule_id, r.role, r.acting, r.escalation, self.since, r.stale)
            for r in self.rules
            if r.triggered and not r.satisfied and r.open
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer_id,
            "complete": self.complete,
            "stages": list(self.stages),
            "current_stage": self.current_stage,
            "since": self.since,
            "band": self.band,
            "values": to_jsonable(dict(self.values)),
            "budget": to_jsonable(self.budget.as_json()) if self.budget is not None else None,
            "rules": [r.as_json() for r in self.rules],
            "waiting": [
                {
                    "stage": w.stage,
                    "rule": w.rule_id,
                    "role": w.role,
                    "people": list(w.people),
                    "escalation": w.escalation,
                    "since": w.since,
                    "stale": list(w.stale),
                }
                for w in self.waiting()
            ],
            "blockers": self.blockers(),
        }


# --- CEL values --------------------------------------------------------------------------


def cel_value(value: Any) -> Any:
    """Data for CEL. ints stay ints; a whole Decimal becomes an int (exact); a Decimal with
    cents becomes a float (exact for every amount below 2**53 cents / 15 significant digits,
    so comparisons with the integer thresholds policies use are exact)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): cel_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cel_value(v) for v in value]
    return str(value)


_BUDGET_USE = re.compile(r"(?<![\w.])budget\b")
_OFFER_USE = re.compile(r"\boffer\b(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?")


@functools.lru_cache(maxsize=64)
def offer_fields_used(expressions: tuple[str, ...]) -> frozenset[str] | None:
    """The top-level offer fields the CEL ``expressions`` can read, or None when one of
    them uses ``offer`` other than as ``offer.<field>`` (then the whole offer is needed).

    Over-approximates (a word ``offer`` in a string counts), never under: only the CEL
    context is trimmed to these fields, so approvals and events are not converted for
    rules that never read them (~0.25 ms per offer). A field absent from the offer is
    absent either way, so results and errors are the same."""
    used: set[str] = set()
    for expression in expressions:
        for match in _OFFER_USE.finditer(expression):
            if match.group(1) is None:
                return None
            used.add(match.group(1))
    return frozenset(used)


def derived(policy: PolicySet, data: Mapping[str, Any], band: Band | None) -> dict[str, Any]:
    """The derived values rules see (exact Decimals; converted for CEL by ``cel_value``)."""
    comp = data.get("compensation") or {}
    hidden = unreadable_in(comp)
    if hidden is not None:  # a confidential offer read without its key: money is unknown
        return {
            "first_year_cash": hidden,
            "nonstandard_clauses": [c for c in data.get("clauses") or [] if c not in policy.standard_clauses],
            "recruiter": str(data.get("recruiter", "")),
            "compa_ratio": hidden if band is not None and band.mid else None,
            "pct_above_mid": hidden if band is not None and band.mid else None,
        }
    base = to_decimal(comp.get("base_salary")) or Decimal(0)
    bonus_pct = to_decimal(comp.get("bonus_target_pct")) or Decimal(0)
    sign_on = to_decimal(comp.get("sign_on_bonus")) or Decimal(0)
    relocation = to_decimal(comp.get("relocation")) or Decimal(0)
    first_year = base + base * bonus_pct / 100 + sign_on + relocation
    values: dict[str, Any] = {
        "first_year_cash": first_year.quantize(Decimal("0.01")).normalize() if first_year % 1 else first_year,
        "nonstandard_clauses": [c for c in data.get("clauses") or [] if c not in policy.standard_clauses],
        "recruiter": str(data.get("recruiter", "")),
    }
    if band is not None and band.mid:
        ratio = base / band.mid
        values["compa_ratio"] = ratio.quantize(Decimal("0.0001"))
        values["pct_above_mid"] = ((ratio - 1) * 100).quantize(Decimal("0.01"))
    else:
        values["compa_ratio"] = None
        values["pct_above_mid"] = None
    return values


def band_value(band: Band | None) -> dict[str, Any]:
    if band is None:
        return {}
    return {
        "min": band.min,
        "mid": band.mid,
        "max": band.max,
        "currency": band.currency,
        "zone": band.zone,
        "bonus_target_pct": band.bonus_target_pct,
        "equity_min": band.equity_min,
        "equity_max": band.equity_max,
    }


_REF = re.compile(
    r"(?<![\w.])(offer(?:\.[a-z_][a-z0-9_]*)+|band\.[a-z_]+|compa_ratio|pct_above_mid|first_year_cash"
    r"|nonstandard_clauses|recruiter|budget\.[a-z_]+)\b(?!\s*\()"
)


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "null"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,}" if value == value.to_integral_value() else f"{value.normalize():,f}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def explain(when: str, env: Mapping[str, Any]) -> str:
    """The condition with each referenced value written next to its name:
    ``base_salary 212,000 > band.max 210,000``."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        start = match.start()
        if when[max(0, start - 4) : start] == "has(":
            return name
        head, _, rest = name.partition(".")
        value = get_path(env.get(head), rest, "(missing)") if rest else env.get(head)
        short = name.split(".")[-1] if head == "offer" else name
        return f"{short} {_fmt(value)}" if value != "(missing)" else f"{short} (missing)"

    return _REF.sub(sub, when)


# --- routing -----------------------------------------------------------------------------

Snapshot = Callable[[int, Mapping[str, Any], tuple[str, ...]], Mapping[str, Any] | None]


def reset_at(data: Mapping[str, Any]) -> str:
    """Approvals older than the last ``rejected`` event do not count (the offer went back
    to draft; resubmission needs fresh approvals, while the old lines stay as history)."""
    times = [
        str(e.get("at", ""))
        for e in data.get("events") or []
        if isinstance(e, Mapping) and e.get("type") == "rejected"
    ]
    return max(times, default="")


def _submitted_at(data: Mapping[str, Any]) -> str | None:
    """When the current round of approvals began: the last submission, or the last
    revision of a sent offer (its changed terms need approving again from then on)."""
    rounds = ("submitted", "revised")
    times = [str(e.get("at", "")) for e in records(data, "events") if e.get("type") in rounds]
    return max(times, default=None)


def _last_submission(data: Mapping[str, Any]) -> str:
    """The latest ``submitted`` event's ``at`` ("" when none): approvals given before it
    belong to an earlier round and never count again (a revision keeps them, stale or not)."""
    times = [str(e.get("at", "")) for e in records(data, "events") if e.get("type") == "submitted"]
    return max(times, default="")


def principals_for(policy: PolicySet, rule: Rule, data: Mapping[str, Any]) -> tuple[str, ...]:
    if rule.require.person is not None:
        person = get_path(data, rule.require.person.removeprefix("offer."))
        return (str(person).lower(),) if isinstance(person, str) else ()
    role = policy.approvers.roles.get(rule.require.role)
    return role.people if role else ()


def _evaluate_rule(
    policy: PolicySet, rule: Rule, env: Mapping[str, Any], cel_env: Mapping[str, Any]
) -> tuple[bool, str]:
    program = policy.programs.get(rule.id)
    if program is None:
        return True, f"{rule.when} — the rule does not compile; required until fixed (see `offerctl check`)"
    if rule.when.strip() == "true":
        return True, "always"
    text = explain(rule.when, env)
    try:
        result = program.execute(cel_env)
    except Exception as exc:  # CEL runtime errors (missing field, no band): fail closed
        return True, f"{text} — could not evaluate ({exc}); required to be safe"
    if not isinstance(result, bool):
        return True, f"{text} — gave {result!r}, not true/false; required to be safe"
    return result, f"{text} → {str(result).lower()}"


def _hidden_input(rule: Rule, env: Mapping[str, Any]) -> Unreadable | None:
    """An encrypted value (unopened) the rule's condition reads, if any."""
    if rule.when.strip() == "true":
        return None
    used = offer_fields_used((rule.when,))
    offer_data = env.get("offer") or {}
    fields = offer_data.keys() if used is None else [f for f in used if f in offer_data]
    for name in fields:
        hidden = unreadable_in(offer_data.get(name))
        if hidden is not None:
            return hidden
    for name, value in env.items():
        if name != "offer" and re.search(rf"\b{re.escape(name)}\b", rule.when):
            hidden = unreadable_in(value)
            if hidden is not None:
                return hidden
    return None


def route_data(
    policy: PolicySet,
    offer: Offer,
    data: Mapping[str, Any],
    *,
    as_of: dt.date,
    snapshot: Snapshot,
    with_budget: bool = False,
    need_plaintext: bool = False,
) -> RouteResult:
    """Route ``data`` (the offer, possibly with what-if changes). ``snapshot(i, approval)``
    gives the offer as approved by approval ``i`` (or None when it cannot be recovered).

    Steps: the rules' environment (band, derived values, CEL context) → the offer's approval
    lines → stage by stage, each rule's outcome (triggered? which lines count?) → where the
    offer waits and since when."""
    match = policy.bands.lookup(Offer(offer.path, data))
    position = None
    if policy.budgets is not None and (policy.uses_budget or with_budget):
        position = policy.budgets.position(offer.id, data)
    budget = position.cel() if position is not None else {}
    env, cel_env = _rule_environment(policy, data, match.band, budget)
    ledger = _Ledger.of(policy, offer, data, snapshot, need_plaintext)
    outcomes: list[RuleOutcome] = []
    stage_open = True
    current: str | None = None
    since = _submitted_at(data)
    # One walk per offer: when nothing in the rules' inputs is unreadable, no rule's is
    # (``_hidden_input`` walked them per rule: ~20 % of a cold `check`).
    hidden_possible = unreadable_in(env) is not None
    for stage in policy.stages:
        stage_outcomes = [
            _rule_outcome(
                policy, rule, stage, env, cel_env, ledger, as_of, stage_open, need_plaintext, hidden_possible
            )
            for rule in policy.rules
            if rule.stage == stage
        ]
        outcomes.extend(stage_outcomes)
        stage_done = all(o.satisfied for o in stage_outcomes)
        if stage_open and not stage_done:
            current = stage
        if stage_open and stage_done:
            since = _stage_closed_at(stage_outcomes, since)
        stage_open = stage_open and stage_done
    values = {k: env[k] for k in ("compa_ratio", "pct_above_mid", "first_year_cash", "nonstandard_clauses")}
    return RouteResult(
        offer.id,
        tuple(outcomes),
        all(o.satisfied for o in outcomes),
        policy.stages,
        current,
        since if current else None,
        match.explanation,
        values,
        position,
    )


def _rule_environment(
    policy: PolicySet, data: Mapping[str, Any], band: Band | None, budget: Mapping[str, Any]
) -> tuple[dict[str, Any], Any]:
    """The variables rules see (``offer``, ``band``, derived values, ``budget``) and the same
    as one CEL context, converted once per offer (only the offer fields some rule names)."""
    from offerctl.policy.cel import cel_runtime

    env: dict[str, Any] = {
        "offer": data,
        "band": band_value(band),
        **derived(policy, data, band),
        "budget": dict(budget),
    }
    cel_env = cel_runtime().Context()
    used = offer_fields_used(tuple(rule.when for rule in policy.rules))
    visible = env if used is None else {**env, "offer": {k: v for k, v in data.items() if k in used}}
    cel_env.update({k: cel_value(v) for k, v in visible.items()})
    return env, cel_env


@dataclass(frozen=True)
class _Times:
    """What an approval's ``at`` is judged against (``core.timestamps``)."""

    created: dt.datetime | None
    submitted: str
    """The latest ``submitted`` event's ``at`` ("" when none)."""
    now: dt.datetime


@dataclass
class _Ledger:
    """The offer's approval lines and what judging them needs: the recruiter, the last
    rejection, each person's first role (separation of duties across roles), the approved
    versions, and the digest of ``data`` per covered set (computed once per routing)."""

    policy: PolicySet
    data: Mapping[str, Any]
    lines: list[Mapping[str, Any]]
    recruiter: str
    reset: str
    first_role: dict[str, str]
    snapshot: Snapshot
    offer_id: str = ""
    times: _Times | None = None
    """What each line's ``at`` is judged against: creation, latest submission, now."""
    stored: Callable[[Iterable[str]], str] | None = None
    """Digest of the covered *ciphertexts* of a confidential offer (checkable without a
    key); None for a plaintext offer, and when a command needs plaintext anyway."""
    digests: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        policy: PolicySet,
        offer: Offer,
        data: Mapping[str, Any],
        snapshot: Snapshot,
        need_plaintext: bool,
    ) -> _Ledger:
        reset = reset_at(data)
        lines = [a for a in data.get("approvals") or [] if isinstance(a, Mapping)]
        first_role: dict[str, str] = {}
        for a in lines:
            if not reset or str(a.get("at", "")) > reset:
                first_role.setdefault(str(a.get("by", "")).lower(), str(a.get("role")))
        raw = offer.extra.get("raw") if isinstance(offer.extra, Mapping) else None
        stored: Callable[[Iterable[str]], str] | None = None
        if isinstance(raw, Mapping) and not need_plaintext:
            stored_raw: Mapping[str, Any] = raw

            def stored(covers: Iterable[str]) -> str:
                return binding.sealed_digest(stored_raw, covers)

        recruiter = str(data.get("recruiter", "")).lower()
        times = _Times(timestamps.created_at(data), _last_submission(data), latest_now())
        return cls(policy, data, lines, recruiter, reset, first_role, snapshot, offer.id, times, stored)

    def digest(self, covers: Iterable[str], scheme: str | None = None) -> tuple[str, str]:
        """``binding.digest`` of the data, once per set of covered fields (and scheme)."""
        key = (*covers, f"#{scheme}")
        if key not in self.digests:
            self.digests[key] = binding.digests(self.data, tuple(covers), scheme=scheme)
        return self.digests[key]

    def checks(self, rule: Rule, principals: tuple[str, ...]) -> tuple[ApprovalCheck, ...]:
        """Every line of the rule's role (and naming the rule, when it names rules), judged;
        a second valid line by the same person counts once (``duplicate``)."""
        checks: list[ApprovalCheck] = []
        counted: set[str] = set()
        for index, a in enumerate(self.lines):
            listed = a.get("rules")
            if str(a.get("role")) != rule.require.role or (
                isinstance(listed, list) and rule.id not in listed
            ):
                continue
            assert self.times is not None
            check = _check_approval(
                self.policy,
                rule,
                self.offer_id,
                self.data,
                index,
                a,
                principals,
                self.recruiter,
                self.reset,
                self.times,
                self.first_role,
                self.snapshot,
                self.digest,
                self.stored,
            )
            if check.state == "valid":
                who = check.on_behalf_of or check.by
                if who in counted or check.by in counted:
                    check = dataclasses.replace(
                        check, state="duplicate", detail="already counted toward this quorum"
                    )
                counted.update({who, check.by})
            checks.append(check)
        return tuple(checks)


def _rule_outcome(
    policy: PolicySet,
    rule: Rule,
    stage: str,
    env: Mapping[str, Any],
    cel_env: Any,
    ledger: _Ledger,
    as_of: dt.date,
    stage_open: bool,
    need_plaintext: bool = False,
    hidden_possible: bool = True,
) -> RuleOutcome:
    """One rule: is it triggered, who may fill it, which approval lines count toward it.
    A condition that reads an encrypted value no key opened is shown as required (a reader's
    key decides), or refused (exit 2) when the command needs plaintext."""
    hidden = _hidden_input(rule, env) if hidden_possible else None
    if hidden is not None:
        if need_plaintext:
            raise hidden.refuse()
        triggered = True
        why = f"{rule.when} — reads encrypted fields; shown as required (a reader's key decides)"
    else:
        triggered, why = _evaluate_rule(policy, rule, env, cel_env)
    principals = principals_for(policy, rule, ledger.data)
    checks = ledger.checks(rule, principals) if triggered else ()
    valid_people = {c.on_behalf_of or c.by for c in checks if c.state == "valid"}
    quorum = policy.quorum(rule)
    return RuleOutcome(
        rule.id,
        stage,
        rule.description,
        triggered,
        why,
        rule.require.role,
        quorum,
        principals,
        policy.approvers.acting(principals, as_of),
        policy.approvers.escalation_for(
            principals[0] if principals else None,
            None if rule.require.person else rule.require.role,
        ),
        checks,
        (not triggered) or len(valid_people) >= quorum,
        stage_open,
        rule.covers,
    )


def _stage_closed_at(stage_outcomes: Iterable[RuleOutcome], since: str | None) -> str | None:
    """The next stage opened when the last valid approval of this one landed."""
    times = [c.at for o in stage_outcomes if o.triggered for c in o.valid]
    if times and (since is None or max(times) > since):
        return max(times)
    return since


def _check_approval(
    policy: PolicySet,
    rule: Rule,
    offer_id: str,
    data: Mapping[str, Any],
    index: int,
    a: Mapping[str, Any],
    principals: tuple[str, ...],
    recruiter: str,
    reset: str,
    times: _Times,
    first_role: Mapping[str, str],
    snapshot: Snapshot,
    digest: Callable[[Iterable[str], str | None], tuple[str, str]],
    stored: Callable[[Iterable[str]], str] | None = None,
) -> ApprovalCheck:
    by = str(a.get("by", "")).lower()
    at = str(a.get("at", ""))
    behalf = str(a["on_behalf_of"]).lower() if a.get("on_behalf_of") else None
    role = str(a.get("role"))

    def state(s: str, detail: str = "") -> ApprovalCheck:
        return ApprovalCheck(index, role, by, at, s, detail, behalf)

    problem = timestamps.time_problem(at, times.created, times.now)
    if problem:
        return state("bad_time", f"the approval does not count: {problem}")
    if reset and at <= reset:
        return state("superseded", f"given before the offer was rejected at {reset}")
    if times.submitted and at < times.submitted:
        return state("superseded", f"given before the offer was (re)submitted at {times.submitted}")
    principal = behalf or by
    if principal not in principals:
        return state("not_allowed", f"{principal} may not approve as {role} for rule {rule.id}")
    if behalf and policy.approvers.delegate_of(behalf, dt.date.fromisoformat(at[:10])) != by:
        return state("not_allowed", f"{by} was not {behalf}'s delegate on {at[:10]}")
    if not policy.allow_recruiter and recruiter in (by, principal):
        return state("not_allowed", "the recruiter of an offer may not approve it (separation of duties)")
    if not policy.allow_multiple_roles and first_role.get(by, role) != role:
        return state(
            "duplicate", f"{by} already approved this offer as {first_role[by]} (separation of duties)"
        )
    verdict = verify.signature_verdict(offer_id, a, policy.keyring)
    if not verdict.ok:
        if not a.get("sig"):
            return state("unsigned", "the policy requires signed approvals")
        return state("bad_signature", f"{verdict.code}: {verdict.reason}")
    listed = a.get("rules")
    rule_ids = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else [rule.id]
    covers = tuple(sorted({c for rid in rule_ids for c in _covers_of(policy, rid)}))
    scheme = binding.scheme_of(a.get("digest"))
    try:
        if a.get("digest") in digest(covers, scheme):
            return state("valid")
    except OfferctlError:
        # A confidential offer read without its key: the keyed digest cannot be computed.
        # What can be checked is that the covered ciphertexts are the ones approved.
        if stored is None:
            raise
        if not a.get("sealed"):  # given before the offer was encrypted: shown as recorded
            return state("valid", "not verified: its digest needs a reader's key (given before encryption)")
        if stored(covers) == a.get("sealed"):
            return state("valid", "covered fields unchanged since the approval (ciphertexts compared)")
        return state(
            "stale", "a covered encrypted field changed since the approval (a reader's key shows which)"
        )
    approved = snapshot(index, a, covers)
    if approved is None:
        if a.get("digest") in digest(rule.covers, scheme):
            return state("valid")
        return state("stale", "a covered field changed (the approved version is not in the offer's history)")
    changed = binding.changed_fields(approved, data, rule.covers)
    beyond = [
        f
        for f in changed
        if f not in rule.tolerance
        or not binding.within_tolerance(get_path(approved, f), get_path(data, f), rule.tolerance[f])
    ]
    if not beyond:
        kept = ", ".join(changed)
        return state("valid", f"{kept} changed within tolerance" if changed else "")
    details = []
    for f in beyond:
        tol = " (beyond tolerance)" if f in rule.tolerance else ""
        details.append(f"{f} changed {_fmt(get_path(approved, f))} → {_fmt(get_path(data, f))}{tol}")
    return state("stale", "; ".join(details))


def _covers_of(policy: PolicySet, rule_id: str) -> tuple[str, ...]:
    rule = policy.rule(rule_id)
    return rule.covers if rule else ()


def snapshots(repo: Repo | None, offer: Offer, *, history: list[str] | None = None) -> Snapshot:
    """The approved version of the offer for each approval (cached). An approval whose digest
    no longer matches is explained by undoing later ``revised`` events' changes; failing that,
    by the first committed version of the file carrying its digest (``git log`` + ``git
    show``, only for approvals that no longer match). ``history`` receives the offer's path
    when git history was read: the result then depends on more than the file."""
    cache: dict[int, Mapping[str, Any] | None] = {}
    data = offer.data
    events = [e for e in data.get("events") or [] if isinstance(e, Mapping)]

    def get(index: int, a: Mapping[str, Any], covers: tuple[str, ...]) -> Mapping[str, Any] | None:
        if index in cache:
            return cache[index]
        wanted = str(a.get("digest", ""))
        result: Mapping[str, Any] | None = binding.undo_revisions(data, events, str(a.get("at", "")))
        scheme = binding.scheme_of(wanted)
        if result is not None and wanted not in binding.digests(result, covers, scheme=scheme):
            result = None
        if result is None and repo is not None:
            if history is not None:
                history.append(offer.path)
            result = binding.approved_version_from_history(repo.root, offer.path, wanted)
            # The version must carry these terms, not merely the text of the line: a line
            # copied from another offer is first "carried" by the commit that pasted it.
            if result is not None and wanted not in binding.digests(result, covers, scheme=scheme):
                result = None
        cache[index] = result
        return result

    return get


def route(
    repo: Repo,
    policy: PolicySet,
    offer: Offer,
    *,
    as_of: dt.date | None = None,
    overrides: Mapping[str, Any] | None = None,
    with_budget: bool = False,
    need_plaintext: bool = False,
    history: list[str] | None = None,
) -> RouteResult:
    """Route an offer (``overrides``: what-if values by dotted path; nothing is written).
    ``with_budget``: also give the offer's budget position when no rule needs it (``route``).
    ``need_plaintext``: a rule or approval that reads an encrypted value no key opened
    raises (exit 2) instead of being shown as required (``status``/``inbox`` keep going).
    ``history``: see ``snapshots``."""
    data: Mapping[str, Any] = offer.data
    if overrides:
        import copy

        from offerctl.core.model import set_path

        changed: dict[str, Any] = copy.deepcopy(dict(offer.data))
        for path, value in overrides.items():
            set_path(changed, path, value)
        data = changed
    return route_data(
        policy,
        offer,
        data,
        as_of=as_of or today(),
        snapshot=snapshots(repo, offer, history=history),
        with_budget=with_budget,
        need_plaintext=need_plaintext,
    )


# --- headroom ----------------------------------------------------------------------------

HEADROOM_FIELDS = (
    ("compensation.base_salary", "base"),
    ("compensation.sign_on_bonus", "sign-on"),
    ("compensation.equity.units", "equity units"),
)


@dataclass(frozen=True)
class Need:
    role: str
    rules: tuple[str, ...]
    people: tuple[str, ...]
    again: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "rules": list(self.rules),
            "people": list(self.people),
            "again": self.again,
        }


@dataclass(frozen=True)
class Segment:
    low: int
    high: int | None
    needs: tuple[Need, ...]

    def as_json(self) -> dict[str, Any]:
        return {"from": self.low, "to": self.high, "needs": [n.as_json() for n in self.needs]}


@dataclass(frozen=True)
class FieldHeadroom:
    field: str
    label: str
    current: int
    segments: tuple[Segment, ...]
    down: tuple[Segment, ...] = ()
    """Downwards from the current value: ``low`` is the upper end of each range and ``high``
    its lower end (None: down to 0 with nothing more needed)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "label": self.label,
            "current": self.current,
            "segments": [s.as_json() for s in self.segments],
            "down": [s.as_json() for s in self.down],
        }


@dataclass(frozen=True)
class CompetingGap:
    """A known competing base salary next to ours, and what matching it would need."""

    employer: str
    base: Decimal
    base_max: Decimal | None
    currency: str
    gap: Decimal | None
    """Their base (upper end when a range) minus ours; None in another currency."""
    match_needs: tuple[Need, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "employer": self.employer,
            "base": self.base,
            "base_max": self.base_max,
            "currency": self.currency,
            "gap": self.gap,
            "match_needs": [n.as_json() for n in self.match_needs],
        }


@dataclass(frozen=True)
class Headroom:
    offer_id: str
    currency: str
    pending: tuple[str, ...]
    fields: tuple[FieldHeadroom, ...]
    competing: tuple[CompetingGap, ...] = ()
    budget: Any = None
    """``policy.budgets.Position`` of the offer as it is, when a budget applies."""

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer_id,
            "currency": self.currency,
            "pending": list(self.pending),
            "fields": [f.as_json() for f in self.fields],
            "competing": [to_jsonable(c.as_json()) for c in self.competing],
            "budget": to_jsonable(self.budget.as_json()) if self.budget is not None else None,
        }


def _needs(result: RouteResult) -> dict[str, tuple[set[str], tuple[str, ...], bool]]:
    out: dict[str, tuple[set[str], tuple[str, ...], bool]] = {}
    for r in result.rules:
        if r.triggered and not r.satisfied:
            again = any(a.state == "stale" for a in r.approvals)
            rules, people, was_again = out.get(r.role, (set(), r.acting, False))
            rules.add(r.rule_id)
            out[r.role] = (rules, people, was_again or again)
    return out


NeedMap = Mapping[str, tuple[set[str], tuple[str, ...], bool]]


def _key(n: NeedMap) -> frozenset[tuple[str, str, bool]]:
    return frozenset((role, rule, again) for role, (rules, _p, again) in n.items() for rule in rules)


def _walk(
    needs_at: Callable[[int], NeedMap],
    current: int,
    limit: int,
    direction: int,
    baseline: NeedMap,
    segments: int,
) -> list[Segment]:
    """Ranges from ``current`` towards ``limit`` (``direction`` +1 up, -1 down) within which
    the needed approvals stay the same: doubling steps, then bisection to the exact value."""
    segs: list[Segment] = []
    low = current
    low_needs = needs_at(current)

    def beyond(value: int) -> bool:
        return value > limit if direction > 0 else value < limit

    while len(segs) < segments:
        step = max(1, abs(current) // 100)
        probe = low + direction * step
        prev = low
        while not beyond(probe) and _key(needs_at(probe)) == _key(low_needs):
            prev, step = probe, step * 2
            probe = low + direction * step
        if beyond(probe):
            if prev != limit and _key(needs_at(limit)) != _key(low_needs):
                probe = limit
            else:
                segs.append(Segment(low, None, _describe(low_needs, baseline)))
                break
        lo, hi = prev, probe  # key(lo) == key(low_needs) != key(hi)
        while abs(hi - lo) > 1:
            mid = (lo + hi) // 2
            if _key(needs_at(mid)) == _key(low_needs):
                lo = mid
            else:
                hi = mid
        segs.append(Segment(low, lo, _describe(low_needs, baseline)))
        low, low_needs = hi, needs_at(hi)
        if low == limit:
            segs.append(Segment(low, low, _describe(low_needs, baseline)))
            break
    else:
        segs.append(Segment(low, None, _describe(low_needs, baseline)))
    return segs


def headroom(
    repo: Repo, policy: PolicySet, offer: Offer, *, as_of: dt.date | None = None, segments: int = 4
) -> Headroom:
    """For base salary, sign-on bonus and equity units: ranges of values upwards from the
    current value — and downwards to zero — and the approvals each range would additionally
    need; the gap to each known competing base; the offer's budget position.

    Found by routing what-if values: an exponential then binary search for each point where
    the set of needed roles changes (every rule is re-evaluated; nothing is assumed about
    the shape of the CEL conditions beyond "a threshold between two tried values")."""
    day = as_of or today()
    snap = snapshots(repo, offer)
    import copy

    from offerctl.core import workflow
    from offerctl.core.model import set_path

    def needs_for(path: str) -> Callable[[int], NeedMap]:
        memo: dict[int, NeedMap] = {}

        def needs_at(value: int) -> NeedMap:
            if value not in memo:
                data = copy.deepcopy(dict(offer.data))
                set_path(data, path, value)
                memo[value] = _needs(route_data(policy, offer, data, as_of=day, snapshot=snap))
            return memo[value]

        return needs_at

    baseline_result = route_data(policy, offer, offer.data, as_of=day, snapshot=snap, with_budget=True)
    baseline = _needs(baseline_result)
    fields: list[FieldHeadroom] = []
    for path, label in HEADROOM_FIELDS:
        raw = to_decimal(offer.get(path))
        if raw is None and path.endswith("equity.units") and not offer.get("compensation.equity"):
            continue
        current = int(raw or 0)
        limit = max(current * 4, current + 1_000_000 if "units" not in path else current + 100_000)
        needs_at = needs_for(path)
        up = _walk(needs_at, current, limit, +1, baseline, segments)
        down = _walk(needs_at, current, 0, -1, baseline, segments) if current > 0 else []
        fields.append(FieldHeadroom(path, label, current, tuple(up), tuple(down)))
    currency = str(offer.get("compensation.currency", ""))
    ours = to_decimal(offer.get("compensation.base_salary"))
    gaps = []
    base_needs = needs_for("compensation.base_salary")
    for c in workflow.competing_offers(offer.data):
        if c.base is None:
            continue
        theirs = c.base_max if c.base_max is not None else c.base
        same = (c.currency or currency) == currency and ours is not None
        gap = theirs - ours if same and ours is not None else None
        match: tuple[Need, ...] = ()
        if gap is not None and gap > 0:
            match = _describe(base_needs(int(theirs)), baseline)
        gaps.append(CompetingGap(c.employer, c.base, c.base_max, c.currency or currency, gap, match))
    pending = tuple(sorted(baseline))
    return Headroom(offer.id, currency, pending, tuple(fields), tuple(gaps), baseline_result.budget)


def _describe(needs: NeedMap, baseline: NeedMap) -> tuple[Need, ...]:
    out = []
    for role, (rules, people, again) in sorted(needs.items()):
        if role in baseline and rules <= baseline[role][0]:
            continue
        out.append(Need(role, tuple(sorted(rules)), people, again))
    return tuple(out)


__all__ = [
    "ApprovalCheck",
    "Headroom",
    "PolicySet",
    "RouteResult",
    "Rule",
    "RuleOutcome",
    "Waiting",
    "headroom",
    "route",
    "route_data",
]
