"""The approval policy: routing rules (CEL), pay bands and approvers, loaded and compiled once.

``load_policy_set(repo)`` reads the three policy files, compiles every rule's ``when`` once,
and returns the policy set with its findings (P2xx). CEL is imported lazily (``policy.cel``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from offerctl.core.model import Finding
from offerctl.policy import approvers as approvers_mod
from offerctl.policy import bands as bands_mod
from offerctl.policy import budgets as budgets_mod
from offerctl.policy.cel import cel_runtime
from offerctl.policy.routing import BAND_FIELDS, CEL_VARIABLES, PolicySet, Requirement, Rule
from offerctl.store import loader, schema, yamlio
from offerctl.store.clauses import clause_library
from offerctl.store.repo import Repo

ROUTING = "policies/routing.yaml"


def standard_clauses(repo: Repo) -> frozenset[str]:
    """The clause ids routing treats as standard (``nonstandard_clauses`` is the rest).

    The clause library (``letter_templates/clauses/*``, front matter ``standard: true|false``)
    decides; a repository without a clause library falls back to ``defaults.clauses`` in
    offerctl.yaml.
    """

    library = clause_library(repo)
    if library:
        return frozenset(cid for cid, clause in library.items() if clause.standard)
    clauses = repo.setting("defaults.clauses", []) or []
    return frozenset(str(c) for c in clauses)


def _text(repo: Repo, rel: str) -> str | None:
    try:
        return yamlio.read_text_capped(repo.policy_base / rel)
    except (OSError, UnicodeDecodeError, yamlio.YamlProblem):
        return None


_OFFER_REF = re.compile(r"(?<![\w.])offer((?:\.[a-z_][a-z0-9_]*)+)(\s*\()?")
_BAND_REF = re.compile(r"(?<![\w.])band\.([a-z_][a-z0-9_]*)")
_BUDGET_REF = re.compile(r"(?<![\w.])budget\.([a-z_][a-z0-9_]*)")
_LOOP_VAR = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\(\s*([a-z_][a-z0-9_]*)\s*,")


MAX_RULE_CHARS = 1000
"""Longest `when` expression: bounds the literal lists a rule can loop over."""
MAX_COMPREHENSION_DEPTH = 2
"""Deepest nesting of all/exists/exists_one/map/filter in one `when`. The CEL binding has
no cost limit or timeout, and a comprehension costs the product of the list sizes it nests
over (measured ~1.2 µs per inner step: two levels of 1,000 items 1.2 s, three of 200 11 s,
five of 200 never ends); with two levels over lists the schema caps, a rule stays below
~0.1 s per offer."""
_MACRO_OPEN = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*$")


def comprehension_depth(when: str) -> int:
    """How deeply comprehension macros nest in ``when`` (string literals skipped)."""
    stack: list[bool] = []
    deepest = 0
    i = 0
    while i < len(when):
        ch = when[i]
        if ch in "'\"":
            quote = ch * 3 if when.startswith(ch * 3, i) else ch
            i += len(quote)
            while i < len(when) and not when.startswith(quote, i):
                i += 2 if when[i] == "\\" else 1
            i += len(quote)
            continue
        if ch == "(":
            stack.append(bool(_MACRO_OPEN.search(when[max(0, i - 20) : i])))
            deepest = max(deepest, sum(stack))
        elif ch == ")" and stack:
            stack.pop()
        i += 1
    return deepest


def cost_problem(when: str) -> str | None:
    """Why a `when` could run unbounded (P230), or None."""
    if len(when) > MAX_RULE_CHARS:
        return f"`when` is {len(when):,} characters; at most {MAX_RULE_CHARS:,} (split the rule)"
    depth = comprehension_depth(when)
    if depth > MAX_COMPREHENSION_DEPTH:
        return (
            f"`when` nests {depth} comprehensions (all/exists/exists_one/map/filter); at most "
            f"{MAX_COMPREHENSION_DEPTH}, so that evaluating it stays bounded"
        )
    return None


def offer_field_known(parts: list[str]) -> bool:
    """Whether ``offer.<parts>`` names a field of the offer schema."""
    return schema.subschema("offer", parts) is not None


def compile_rule(when: str) -> tuple[Any | None, str | None]:
    cel = cel_runtime()
    try:
        return cel.compile(when), None
    except Exception as exc:  # the binding raises ValueError with the parser's report
        first = str(exc).splitlines()
        detail = next((ln for ln in first if "ERROR" in ln), first[0] if first else "syntax error")
        return None, detail.split("ERROR: <input>:")[-1].strip()


def _reference_problems(when: str, program: Any) -> list[str]:
    problems: list[str] = []
    loop_vars = set(_LOOP_VAR.findall(when))
    for name in program.variables():
        if name not in CEL_VARIABLES and name not in loop_vars:
            problems.append(f"unknown variable {name!r}; rules see {', '.join(CEL_VARIABLES)}")
    for match in _OFFER_REF.finditer(when):
        parts = match.group(1).strip(".").split(".")
        if match.group(2):  # a method call: offer.clauses.exists(...)
            parts = parts[:-1]
        if parts and not offer_field_known(parts):
            problems.append(f"unknown offer field offer.{'.'.join(parts)}")
    for name in _BAND_REF.findall(when):
        if name not in BAND_FIELDS:
            problems.append(f"unknown band field band.{name}; bands have {', '.join(BAND_FIELDS)}")
    for name in _BUDGET_REF.findall(when):
        if name not in budgets_mod.BUDGET_FIELDS:
            problems.append(
                f"unknown budget field budget.{name}; budgets have {', '.join(budgets_mod.BUDGET_FIELDS)}"
            )
    return problems


Line = Callable[[list[str | int]], int | None]
"""A line number in policies/routing.yaml for a path of keys (None when unknown)."""


def _parse_routing(
    data: Mapping[str, Any], text: str | None, roles: set[str], role_sizes: Mapping[str, int]
) -> tuple[list[Rule], dict[str, Any], list[Finding]]:
    """Every rule of policies/routing.yaml, its compiled condition, and what is wrong with
    each (in this order per rule: P209 duplicate id, P205 stage, P202/P203 condition,
    P203/P204/P206 requirement, P207/P208 covered fields and tolerances)."""
    find = yamlio.line_finder(text)
    stages = [str(s) for s in data.get("stages") or []]
    rules: list[Rule] = []
    programs: dict[str, Any] = {}
    findings: list[Finding] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("rules") or []):
        if not isinstance(raw, Mapping):
            continue

        def line(path: list[str | int], i: int = i) -> int | None:
            found: int | None = find(["rules", i, *path])
            return found

        rule = _rule_of(raw, line)
        if rule.id in seen:
            findings.append(Finding(ROUTING, line(["id"]), "P209", f"rule id {rule.id} is used twice"))
            continue
        seen.add(rule.id)
        rules.append(rule)
        if rule.stage not in stages:
            message = f"rule {rule.id}: unknown stage {rule.stage!r}; stages are {', '.join(stages)}"
            findings.append(Finding(ROUTING, line(["stage"]), "P205", message))
        program, problems = _compile_condition(rule, line)
        findings.extend(problems)
        if program is not None:
            programs[rule.id] = program
        findings.extend(_requirement_problems(rule, line, roles, role_sizes))
        findings.extend(_field_problems(rule, line))
    return rules, programs, findings


def _rule_of(raw: Mapping[str, Any], line: Line) -> Rule:
    req = raw.get("require") or {}
    person = req.get("person")
    role = str(req.get("as") or str(person).split(".")[-1]) if person else str(req.get("role"))
    return Rule(
        str(raw.get("id")),
        str(raw.get("stage")),
        str(raw.get("when")),
        Requirement(role, str(person) if person else None, req.get("quorum", "any")),
        tuple(str(c) for c in raw.get("covers") or []),
        {str(k): dict(v) for k, v in (raw.get("tolerance") or {}).items()},
        str(raw.get("description", "")),
        line([]),
    )


def _compile_condition(rule: Rule, line: Line) -> tuple[Any, list[Finding]]:
    """The compiled ``when`` (None when it could run unbounded, does not compile or names
    unknown variables or fields: such a rule fails closed) and P230/P202/P203 findings."""
    when_line = line(["when"])
    too_costly = cost_problem(rule.when)
    if too_costly:  # not evaluated: the rule counts as triggered (fails closed)
        return None, [Finding(ROUTING, when_line, "P230", f"rule {rule.id}: {too_costly}")]
    program, error = compile_rule(rule.when)
    if program is None:
        return None, [
            Finding(ROUTING, when_line, "P202", f"rule {rule.id}: `when` does not compile: {error}")
        ]
    problems = _reference_problems(rule.when, program)
    findings = [Finding(ROUTING, when_line, "P203", f"rule {rule.id}: {problem}") for problem in problems]
    return (None if problems else program), findings


def _requirement_problems(
    rule: Rule, line: Line, roles: set[str], role_sizes: Mapping[str, int]
) -> list[Finding]:
    """P203: a person from an unknown offer field; P204: an unknown role; P206: a quorum
    larger than the role."""
    req = rule.require
    if req.person:
        if offer_field_known(req.person.split(".")[1:]):
            return []
        message = f"rule {rule.id}: unknown offer field {req.person}"
        return [Finding(ROUTING, line(["require", "person"]), "P203", message)]
    if req.role not in roles:
        message = (
            f"rule {rule.id}: unknown role {req.role!r}; roles in policies/approvers.yaml: "
            f"{', '.join(sorted(roles)) or 'none'}"
        )
        return [Finding(ROUTING, line(["require", "role"]), "P204", message)]
    size = role_sizes.get(req.role, 0)
    if isinstance(req.quorum, int) and req.quorum > size:
        message = (
            f"rule {rule.id}: quorum {req.quorum} is larger than role {req.role} "
            f"({size} people); it can never be met"
        )
        return [Finding(ROUTING, line(["require", "quorum"]), "P206", message)]
    return []


def _field_problems(rule: Rule, line: Line) -> list[Finding]:
    """P207: covers or a tolerance naming an unknown field; P208: a tolerance for a field
    the rule does not cover."""
    findings = [
        Finding(ROUTING, line(["covers"]), "P207", f"rule {rule.id}: covers unknown field {c}")
        for c in rule.covers
        if not offer_field_known(c.split("."))
    ]
    for t in rule.tolerance:
        if not offer_field_known(t.split(".")):
            message = f"rule {rule.id}: tolerance for unknown field {t}"
            findings.append(Finding(ROUTING, line(["tolerance", t]), "P207", message))
        elif not any(t == c or t.startswith(c + ".") for c in rule.covers):
            message = f"rule {rule.id}: tolerance for {t}, which the rule does not cover; add it to covers"
            findings.append(Finding(ROUTING, line(["tolerance", t]), "P208", message))
    return findings


def load_policy_set(repo: Repo, policies: loader.Policies | None = None) -> tuple[PolicySet, list[Finding]]:
    """Parse and compile routing (CEL compiled once per rule), bands and approvers.

    Files that fail schema validation contribute their findings (from ``loader``) and are
    treated as empty, so the policy set is always usable: rules that cannot be evaluated
    fail closed (they are required). ``policies``: the files already read by the caller.
    """
    if policies is None:
        policies = loader.load_policies(repo)
    findings: list[Finding] = list(policies.findings)
    approvers, found = approvers_mod.parse(policies.approvers, _text(repo, approvers_mod.PATH))
    findings += found
    table, found = bands_mod.parse(policies.bands, _text(repo, bands_mod.PATH))
    findings += found
    roles = set(approvers.roles)
    sizes = {name: len(role.people) for name, role in approvers.roles.items()}
    rules, programs, found = _parse_routing(policies.routing, _text(repo, ROUTING), roles, sizes)
    findings += found
    sod = policies.routing.get("separation_of_duties") or {}
    policy = PolicySet(
        stages=tuple(str(s) for s in policies.routing.get("stages") or []),
        rules=tuple(rules),
        bands=table,
        approvers=approvers,
        programs=programs,
        standard_clauses=standard_clauses(repo),
        signatures=str(policies.routing.get("signatures", "optional")),
        allow_multiple_roles=bool(sod.get("allow_same_person_multiple_roles", False)),
        allow_recruiter=bool(sod.get("allow_recruiter_approval", False)),
        budgets=budgets_mod.source(repo),
    )
    return policy, sorted(set(findings), key=Finding.sort_key)


__all__ = ["PolicySet", "load_policy_set", "standard_clauses"]
