"""The approval policy: routing rules (CEL), pay bands and approvers, loaded and compiled once.

``load_policy_set(repo)`` reads the three policy files, compiles every rule's ``when`` once,
and returns the policy set with its findings (P2xx). CEL is imported lazily (``policy.cel``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
        return (repo.policy_base / rel).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


_OFFER_REF = re.compile(r"(?<![\w.])offer((?:\.[a-z_][a-z0-9_]*)+)(\s*\()?")
_BAND_REF = re.compile(r"(?<![\w.])band\.([a-z_][a-z0-9_]*)")
_BUDGET_REF = re.compile(r"(?<![\w.])budget\.([a-z_][a-z0-9_]*)")
_LOOP_VAR = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\(\s*([a-z_][a-z0-9_]*)\s*,")


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


def _parse_routing(
    data: Mapping[str, Any], text: str | None, roles: set[str], role_sizes: Mapping[str, int]
) -> tuple[list[Rule], dict[str, Any], list[Finding]]:
    findings: list[Finding] = []

    find = yamlio.line_finder(text)

    def line(path: list[str | int]) -> int | None:
        found: int | None = find(path)
        return found

    stages = [str(s) for s in data.get("stages") or []]
    rules: list[Rule] = []
    programs: dict[str, Any] = {}
    seen: set[str] = set()
    for i, raw in enumerate(data.get("rules") or []):
        if not isinstance(raw, Mapping):
            continue
        rid = str(raw.get("id"))
        if rid in seen:
            findings.append(
                Finding(ROUTING, line(["rules", i, "id"]), "P209", f"rule id {rid} is used twice")
            )
            continue
        seen.add(rid)
        req = raw.get("require") or {}
        person = req.get("person")
        role = str(req.get("as") or str(person).split(".")[-1]) if person else str(req.get("role"))
        requirement = Requirement(role, str(person) if person else None, req.get("quorum", "any"))
        rule = Rule(
            rid,
            str(raw.get("stage")),
            str(raw.get("when")),
            requirement,
            tuple(str(c) for c in raw.get("covers") or []),
            {str(k): dict(v) for k, v in (raw.get("tolerance") or {}).items()},
            str(raw.get("description", "")),
            line(["rules", i]),
        )
        rules.append(rule)
        if rule.stage not in stages:
            findings.append(
                Finding(
                    ROUTING,
                    line(["rules", i, "stage"]),
                    "P205",
                    f"rule {rid}: unknown stage {rule.stage!r}; stages are {', '.join(stages)}",
                )
            )
        program, error = compile_rule(rule.when)
        when_line = line(["rules", i, "when"])
        if program is None:
            findings.append(
                Finding(ROUTING, when_line, "P202", f"rule {rid}: `when` does not compile: {error}")
            )
        else:
            problems = _reference_problems(rule.when, program)
            for problem in problems:
                findings.append(Finding(ROUTING, when_line, "P203", f"rule {rid}: {problem}"))
            if not problems:
                programs[rid] = program
        if person:
            parts = str(person).split(".")[1:]
            if not offer_field_known(parts):
                findings.append(
                    Finding(
                        ROUTING,
                        line(["rules", i, "require", "person"]),
                        "P203",
                        f"rule {rid}: unknown offer field {person}",
                    )
                )
        elif role not in roles:
            findings.append(
                Finding(
                    ROUTING,
                    line(["rules", i, "require", "role"]),
                    "P204",
                    f"rule {rid}: unknown role {role!r}; roles in policies/approvers.yaml: "
                    f"{', '.join(sorted(roles)) or 'none'}",
                )
            )
        elif isinstance(requirement.quorum, int) and requirement.quorum > role_sizes.get(role, 0):
            findings.append(
                Finding(
                    ROUTING,
                    line(["rules", i, "require", "quorum"]),
                    "P206",
                    f"rule {rid}: quorum {requirement.quorum} is larger than role {role} "
                    f"({role_sizes.get(role, 0)} people); it can never be met",
                )
            )
        for c in rule.covers:
            if not offer_field_known(c.split(".")):
                findings.append(
                    Finding(
                        ROUTING, line(["rules", i, "covers"]), "P207", f"rule {rid}: covers unknown field {c}"
                    )
                )
        for t in rule.tolerance:
            if not offer_field_known(t.split(".")):
                findings.append(
                    Finding(
                        ROUTING,
                        line(["rules", i, "tolerance", t]),
                        "P207",
                        f"rule {rid}: tolerance for unknown field {t}",
                    )
                )
            elif not any(t == c or t.startswith(c + ".") for c in rule.covers):
                findings.append(
                    Finding(
                        ROUTING,
                        line(["rules", i, "tolerance", t]),
                        "P208",
                        f"rule {rid}: tolerance for {t}, which the rule does not cover; add it to covers",
                    )
                )
    return rules, programs, findings


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
