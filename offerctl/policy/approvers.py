"""People and approver roles (policies/approvers.yaml): who may act for whom, and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from offerctl.approvals.verify import Keyring
from offerctl.core.model import Finding
from offerctl.store import yamlio

PATH = "policies/approvers.yaml"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    title: str | None = None
    ssh_key: str | None = None
    delegate_to: str | None = None
    delegate_from: str | None = None
    delegate_until: str | None = None
    escalation: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Role:
    name: str
    people: tuple[str, ...]
    escalation: str | None = None


@dataclass(frozen=True)
class Approvers:
    people: Mapping[str, Person] = field(default_factory=dict)
    roles: Mapping[str, Role] = field(default_factory=dict)
    revoked_keys: frozenset[str] = frozenset()

    def person(self, email: str) -> Person | None:
        return self.people.get(email.lower())

    def name(self, email: str) -> str:
        person = self.person(email)
        return person.name if person else email

    def delegate_of(self, principal: str, on: dt.date) -> str | None:
        """The person acting for ``principal`` on ``on`` (an absence), or None."""
        person = self.person(principal)
        if person is None or not person.delegate_to:
            return None
        start, end = person.delegate_from or "", person.delegate_until or ""
        if start <= on.isoformat() <= end:
            return person.delegate_to.lower()
        return None

    def acting(self, principals: Iterable[str], on: dt.date) -> tuple[str, ...]:
        """Who can act now for each principal: the delegate during an absence, else them."""
        out: list[str] = []
        for principal in principals:
            actor = self.delegate_of(principal, on) or principal.lower()
            if actor not in out:
                out.append(actor)
        return tuple(out)

    def keyring(self, mode: str) -> Keyring:
        """What signature verification needs (``approvals.verify``) under ``signatures: mode``."""
        keys = {email: _key_body(p.ssh_key) for email, p in self.people.items() if p.ssh_key}
        return Keyring(mode, keys, self.revoked_keys)

    def escalation_for(self, principal: str | None, role: str | None) -> str | None:
        if role and role in self.roles and self.roles[role].escalation:
            return self.roles[role].escalation
        person = self.person(principal) if principal else None
        return person.escalation if person else None


def _key_body(key: str) -> str:
    """The algorithm and base64 part of an OpenSSH public key (comments never matter)."""
    return " ".join(key.split()[:2])


def parse(data: Mapping[str, Any], text: str | None) -> tuple[Approvers, list[Finding]]:
    findings: list[Finding] = []

    find = yamlio.line_finder(text)

    def line(path: list[str | int]) -> int | None:
        found: int | None = find(path)
        return found

    people: dict[str, Person] = {}
    for index, raw in enumerate(data.get("people") or []):
        if not isinstance(raw, Mapping):
            continue
        delegate = raw.get("delegate") or {}
        email = str(raw["email"]).lower()
        if email in people:
            findings.append(
                Finding(PATH, line(["people", index]), "P220", f"person {email} is listed twice; keep one")
            )
        people[email] = Person(
            email=email,
            name=str(raw.get("name", email)),
            title=raw.get("title"),
            ssh_key=raw.get("ssh_key"),
            delegate_to=str(delegate["to"]).lower() if delegate.get("to") else None,
            delegate_from=delegate.get("from"),
            delegate_until=delegate.get("until"),
            escalation=str(raw["escalation"]).lower() if raw.get("escalation") else None,
            active=bool(raw.get("active", True)),
        )
    roles: dict[str, Role] = {}
    for name, spec in (data.get("roles") or {}).items():
        if not isinstance(spec, Mapping):
            continue
        members = tuple(str(e).lower() for e in spec.get("people") or [])
        roles[str(name)] = Role(
            str(name), members, str(spec["escalation"]).lower() if spec.get("escalation") else None
        )
        for i, member in enumerate(members):
            if people and member not in people:
                findings.append(
                    Finding(
                        PATH,
                        line(["roles", str(name), "people", i]),
                        "P221",
                        f"role {name}: {member} is not a person under people:; add them there",
                    )
                )
    for index, person in enumerate(people.values()):
        for what, ref in (("delegate.to", person.delegate_to), ("escalation", person.escalation)):
            if ref and ref not in people:
                findings.append(
                    Finding(
                        PATH,
                        line(["people", index, what.split(".")[0]]),
                        "P221",
                        f"{person.email} {what} {ref} is not a person under people:",
                    )
                )
        if person.delegate_to and person.delegate_to == person.email:
            findings.append(
                Finding(
                    PATH, line(["people", index, "delegate"]), "P222", f"{person.email} delegates to themself"
                )
            )
        if (person.delegate_from or "") > (person.delegate_until or "9999"):
            findings.append(
                Finding(
                    PATH,
                    line(["people", index, "delegate"]),
                    "P222",
                    f"{person.email}: delegation starts after it ends "
                    f"({person.delegate_from} > {person.delegate_until})",
                )
            )
    revoked = frozenset(
        _key_body(str(k["key"]))
        for k in data.get("revoked_keys") or []
        if isinstance(k, Mapping) and "key" in k
    )
    return Approvers(people, roles, revoked), findings


__all__ = ["Approvers", "Person", "Role", "parse"]
