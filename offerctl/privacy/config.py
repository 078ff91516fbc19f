"""The ``privacy:`` section of offerctl.yaml, and who reads an offer.

    privacy:
      enabled: true
      encrypt: [candidate.name, candidate.email, compensation, verbal.promises, notes]
      erasable: [candidate]                 # under a per-offer key outside git history
      groups:
        hr: [rita.ramos@acme.example]        # people (keys from policies/approvers.yaml)
        ci: ['age1…']                        # or raw public keys (age1…, ssh-ed25519 …)
        engineering_heads: [dana.whit@acme.example]
      readers:
        - {groups: [hr, ci]}                                     # every offer
        - {groups: [engineering_heads], when: {department: Engineering}}
      retention_days: {declined: 180, rescinded: 180, expired: 180, reneged: 365}

Whoever must act on an offer reads it whatever the rules say: its recruiter, its hiring
manager and every person its routing asks to approve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from offerctl.privacy import keys as keymod
from offerctl.privacy.document import Layout

DEFAULT_ENCRYPT: tuple[str, ...] = (
    "candidate.name",
    "candidate.preferred_name",
    "candidate.email",
    "candidate.phone",
    "candidate.address",
    "candidate.pronouns",
    "compensation",
    "verbal.promises",
    "notes",
)
DEFAULT_ERASABLE: tuple[str, ...] = ("candidate",)
CHANGE_VALUE_KEYS: tuple[str, ...] = ("old", "new")
"""``events[].changes[].old/new``: a revision records the values it changed; they are
encrypted like the fields themselves (SOPS matches key names, so every ``old``/``new``)."""
DIGEST_KEY_FIELD = "digest_key"
"""``privacy.digest_key`` in an offer: the approval-digest root, a SOPS field."""

CLOSED_FOR_RETENTION = ("declined", "rescinded", "expired", "reneged", "started", "accepted")

WHEN_FIELDS: Mapping[str, str] = {
    "department": "role.department",
    "job_family": "role.job_family",
    "level": "role.level",
    "country": "role.location.country",
    "employment_type": "role.employment_type",
    "status": "status",
}
"""What a reader rule may test: plaintext fields only (an encrypted value cannot decide who
may decrypt it)."""

_PATH = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"
_MEMBER = r"^(age1[02-9ac-hj-np-z]{58}|ssh-ed25519 [A-Za-z0-9+/]+={0,2}( .*)?|[^@\s]+@[^@\s]+\.[^@\s]+)$"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Confidential offers (docs/privacy.md): encrypted fields, reader groups, erasure.",
    "properties": {
        "enabled": {"type": "boolean", "description": "Encrypt offers (`offerctl rekey` applies a change)."},
        "encrypt": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": _PATH},
            "description": "Dotted paths or subtrees to encrypt. Default: candidate contact fields, "
            "compensation, verbal.promises, notes.",
        },
        "erasable": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": _PATH},
            "description": "Which encrypted paths sit under the per-offer erasure key (default: candidate).",
        },
        "groups": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z0-9][a-z0-9_.-]*$", "maxLength": 64},
            "additionalProperties": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": _MEMBER},
            },
            "description": "Reader groups: emails (keys from policies/approvers.yaml) or public keys.",
        },
        "readers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["groups"],
                "properties": {
                    "groups": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "when": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            name: {
                                "oneOf": [
                                    {"type": "string"},
                                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                                ]
                            }
                            for name in WHEN_FIELDS
                        },
                    },
                },
            },
        },
        "retention_days": {
            "type": "object",
            "additionalProperties": False,
            "properties": {s: {"type": "integer", "minimum": 0} for s in CLOSED_FOR_RETENTION},
            "description": "Days after an offer closed with this status before `erase --expired` erases it.",
        },
        "key_store": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "seed": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_][A-Za-z0-9_./-]*$",
                    "description": "DEMO ONLY: a committed directory of key store entries "
                    "(`<offer-id>.json`) from which the local erasure key store "
                    "(refs/offerctl/keys) is created when a clone lacks it. Keys in git history "
                    "cannot be destroyed: erasing a seeded offer is not effective.",
                }
            },
            "description": "Where the erasure key store comes from (docs/privacy.md).",
        },
    },
}


class ConfigProblem(Exception):
    """The privacy section cannot work as written (message says where and why)."""


@dataclass(frozen=True)
class ReaderRule:
    groups: tuple[str, ...]
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def applies(self, offer: Mapping[str, Any]) -> bool:
        from offerctl.core.model import get_path

        for name, allowed in self.when.items():
            value = get_path(offer, WHEN_FIELDS[name])
            if not isinstance(value, str) or value not in allowed:
                return False
        return True

    def describe(self) -> str:
        if not self.when:
            return "every offer"
        return ", ".join(f"{k} {'/'.join(v)}" for k, v in self.when.items())


@dataclass(frozen=True)
class PrivacyConfig:
    enabled: bool = False
    encrypt: tuple[str, ...] = DEFAULT_ENCRYPT
    erasable: tuple[str, ...] = DEFAULT_ERASABLE
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    readers: tuple[ReaderRule, ...] = ()
    retention_days: Mapping[str, int] = field(default_factory=dict)
    seed: str | None = None
    """``key_store.seed``: the committed demo seed of the key store (a directory relative to
    the repository root, no trailing slash), or None."""

    def erasable_paths(self) -> tuple[str, ...]:
        return tuple(p for p in self.encrypt if _under_any(p, self.erasable))

    def sops_paths(self) -> tuple[str, ...]:
        return tuple(p for p in self.encrypt if not _under_any(p, self.erasable))

    def layout(self) -> Layout:
        names = dict.fromkeys(
            [p.split(".")[-1] for p in self.sops_paths()] + [DIGEST_KEY_FIELD, *CHANGE_VALUE_KEYS]
        )
        return Layout(sops_keys=tuple(names), erasable=self.erasable_paths())

    def is_encrypted(self, dotted: str) -> bool:
        """Whether reading ``dotted`` (or anything under it) needs a key."""
        if not self.enabled:
            return False
        layout = self.layout()
        parts = tuple(dotted.split("."))
        if layout.tier(parts) is not None:
            return True
        return any(p == dotted or p.startswith(dotted + ".") for p in self.encrypt)

    def retention_due(self, status: str, closed_on: date) -> date | None:
        days = self.retention_days.get(status)
        return None if days is None else closed_on + timedelta(days=days)


def _seed_dir(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip("/"):
        return None
    if ".." in value.split("/"):
        raise ConfigProblem(f"privacy.key_store.seed: {value!r} must stay inside the repository (no ..)")
    return value.strip().rstrip("/")


def _under_any(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def parse(section: Mapping[str, Any] | None) -> PrivacyConfig:
    """The schema-validated ``privacy:`` mapping as a value; ``ConfigProblem`` for what a
    schema cannot say (unknown groups, erasable paths SOPS would also match)."""
    if not section:
        return PrivacyConfig()
    groups = {str(k): tuple(str(m) for m in v) for k, v in (section.get("groups") or {}).items()}
    rules: list[ReaderRule] = []
    for index, raw in enumerate(section.get("readers") or ()):
        names = tuple(str(g) for g in raw.get("groups") or ())
        unknown = [g for g in names if g not in groups]
        if unknown:
            raise ConfigProblem(
                f"privacy.readers[{index}]: unknown group {', '.join(unknown)} "
                f"(groups: {', '.join(sorted(groups)) or 'none defined'})"
            )
        when = {str(k): (v,) if isinstance(v, str) else tuple(v) for k, v in (raw.get("when") or {}).items()}
        rules.append(ReaderRule(names, when))
    config = PrivacyConfig(
        enabled=bool(section.get("enabled", True)),
        encrypt=tuple(section.get("encrypt") or DEFAULT_ENCRYPT),
        erasable=tuple(section.get("erasable", DEFAULT_ERASABLE) or ()),
        groups=groups,
        readers=tuple(rules),
        retention_days={str(k): int(v) for k, v in (section.get("retention_days") or {}).items()},
        seed=_seed_dir((section.get("key_store") or {}).get("seed")),
    )
    for group, members in groups.items():
        for member in members:
            if "@" not in member and not keymod.is_recipient(member):
                raise ConfigProblem(
                    f"privacy.groups.{group}: {member[:24]!r} is neither an email "
                    "nor an age1…/ssh-ed25519 public key"
                )
    layout = config.layout()
    for path in config.erasable_paths():
        clash = [part for part in path.split(".") if part in layout.sops_keys]
        if clash:
            raise ConfigProblem(
                f"privacy.erasable: {path} contains the key name {clash[0]!r}, which SOPS encrypts "
                "wherever it appears (encrypted_regex); rename the encrypted path or make it erasable too"
            )
    for field_path in WHEN_FIELDS.values():
        if config.enabled and config.is_encrypted(field_path):
            raise ConfigProblem(
                f"privacy.encrypt: {field_path} decides who reads an offer, so it cannot itself be encrypted"
            )
    return config


# --- who reads an offer -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """One person or key that may read an offer. ``recipients`` empty means the person
    has no reading key in policies/approvers.yaml (``problem`` says what to add)."""

    who: str
    recipients: tuple[str, ...]
    reasons: tuple[str, ...]
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "who": self.who,
            "recipients": list(self.recipients),
            "reasons": list(self.reasons),
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Readers:
    readers: tuple[Reader, ...]

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for reader in self.readers for r in reader.recipients))

    @property
    def missing(self) -> tuple[Reader, ...]:
        return tuple(r for r in self.readers if not r.recipients)

    def groups_text(self) -> str:
        return ", ".join(r.who for r in self.readers)


def readers_of(
    offer: Mapping[str, Any],
    config: PrivacyConfig,
    people_keys: Mapping[str, Sequence[str]],
    required_approvers: Mapping[str, Sequence[str]],
) -> Readers:
    """Who can read ``offer`` and why. ``people_keys``: email -> reading public keys
    (``age_key`` and ``ssh_key`` from policies/approvers.yaml). ``required_approvers``:
    email -> the reasons routing asks them (e.g. ``approver: rule above-midpoint``)."""
    reasons: dict[str, list[str]] = {}

    def add(who: str, why: str) -> None:
        reasons.setdefault(who, [])
        if why not in reasons[who]:
            reasons[who].append(why)

    recruiter = offer.get("recruiter")
    if isinstance(recruiter, str) and recruiter:
        add(recruiter, "recruiter of the offer")
    role = offer.get("role")
    manager = role.get("hiring_manager") if isinstance(role, Mapping) else None
    if isinstance(manager, str) and manager:
        add(manager, "hiring manager of the offer")
    for email, whys in required_approvers.items():
        for why in whys:
            add(email, why)
    for index, rule in enumerate(config.readers):
        if not rule.applies(offer):
            continue
        for group in rule.groups:
            for member in config.groups.get(group, ()):
                add(member, f"group {group} (privacy.readers[{index}]: {rule.describe()})")
    out: list[Reader] = []
    for who, whys in reasons.items():
        if "@" in who:
            found = tuple(
                keymod.normalize_recipient(k) for k in people_keys.get(who, ()) if keymod.is_recipient(k)
            )
            problem = (
                None
                if found
                else (
                    f"{who} has no age_key or ssh-ed25519 ssh_key in policies/approvers.yaml, so the offer "
                    "cannot be encrypted for them"
                )
            )
            out.append(Reader(who, found, tuple(whys), problem))
        else:
            recipient = keymod.normalize_recipient(who)
            out.append(Reader(keymod.fingerprint(recipient), (recipient,), tuple(whys)))
    return Readers(tuple(out))
