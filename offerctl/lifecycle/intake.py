"""`offerctl new`: turning intake answers into a valid offer document (pure; no I/O here
except what the caller passes in)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offerctl.core.errors import UsageError
from offerctl.core.model import Finding, Offer, get_path, set_path
from offerctl.store import schema, yamlio

# Crockford base32: no I, L, O, U, so ids read aloud and typed by hand survive.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_RANDOM_CHARS = 8


@dataclass(frozen=True)
class Field:
    path: str
    prompt: str
    choices: tuple[str, ...] = ()


# The required intake, in the order a recruiter thinks about it.
INTAKE: tuple[Field, ...] = (
    Field("candidate.name", "Candidate's full name"),
    Field("candidate.email", "Candidate's email"),
    Field("candidate.source", "How did the candidate come to us"),
    Field("role.title", "Job title"),
    Field("role.department", "Department"),
    Field("role.job_family", "Job family"),
    Field("role.level", "Level"),
    Field("role.employment_type", "Employment type"),
    Field("role.location.country", "Country (ISO code, e.g. US, DE)"),
    Field("role.location.region", "Region / state (ISO 3166-2 code, e.g. CA, BE)"),
    Field("role.hiring_manager", "Hiring manager's email"),
    Field("recruiter", "Recruiter's email"),
    Field("start_date", "Start date (YYYY-MM-DD)"),
    Field("expires_on", "Offer expires on (YYYY-MM-DD)"),
    Field("compensation.currency", "Currency (ISO 4217, e.g. USD)"),
    Field("compensation.base_salary", "Base salary (digits only, e.g. 185000)"),
)

# Key order of a written offer file.
_ORDER = (
    "id",
    "status",
    "candidate",
    "role",
    "recruiter",
    "start_date",
    "expires_on",
    "compensation",
    "clauses",
    "letter",
    "verbal",
    "notes",
    "tags",
    "approvals",
    "events",
)


def new_id(prefix: str, year: int, exists: Callable[[str], bool]) -> str:
    """``OFF-2026-7K3QXM2B``: 40 random bits, so ids made on two branches do not collide."""
    for _ in range(100):
        suffix = "".join(secrets.choice(_ALPHABET) for _ in range(ID_RANDOM_CHARS))
        candidate = f"{prefix}-{year}-{suffix}"
        if not exists(candidate):
            return candidate
    raise RuntimeError("could not find a free offer id")  # pragma: no cover


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``--set path=value`` pairs; values read with YAML 1.2 rules (``NO`` stays text)."""
    values: dict[str, Any] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        path = path.strip()
        if not sep or not path:
            raise UsageError(
                f"--set {item!r}: expected path=value, e.g. --set compensation.base_salary=185000"
            )
        if not all(part.isidentifier() for part in path.split(".")):
            raise UsageError(f"--set {item!r}: {path!r} is not a field path like role.level")
        values[path] = yamlio.parse_scalar(raw.strip())
    return values


def known_field(path: str) -> bool:
    return schema.subschema("offer", path.split(".")) is not None


def apply_defaults(
    data: dict[str, Any],
    *,
    currency_for: Callable[[str], str | None],
    expiry_days: int,
    today: dt.date,
    recruiter: str | None,
    default_clauses: list[str],
    pay_period: str | None,
) -> None:
    data.setdefault("status", "draft")
    country = get_path(data, "role.location.country")
    if isinstance(country, str) and get_path(data, "compensation.currency") is None:
        currency = currency_for(country)
        if currency:
            set_path(data, "compensation.currency", currency)
    if get_path(data, "expires_on") is None:
        set_path(data, "expires_on", (today + dt.timedelta(days=expiry_days)).isoformat())
    if recruiter and get_path(data, "recruiter") is None:
        data["recruiter"] = recruiter
    if (
        pay_period
        and get_path(data, "compensation.pay_period") is None
        and isinstance(data.get("compensation"), dict)
    ):
        data["compensation"]["pay_period"] = pay_period
    data.setdefault("clauses", list(default_clauses))


def ordered(data: Mapping[str, Any]) -> dict[str, Any]:
    head = {k: data[k] for k in _ORDER if k in data}
    head.update({k: v for k, v in data.items() if k not in head})
    return head


# Which intake field a reference finding is about (for asking again on a terminal).
_CODE_FIELDS = {
    "S112": "role.department",
    "S113": "role.level",
    "S114": "role.job_family",
    "S116": "expires_on",
    "S120": "recruiter",
    "S121": "verbal.date",
}


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def problems(
    data: Mapping[str, Any], checks: Callable[[Offer], Iterable[Finding]] | None = None
) -> list[Problem]:
    """Every missing or invalid field of an intake, schema first, then references."""
    found: list[Problem] = []
    for error in schema.validator("offer").iter_errors(data):
        for _code, message, point in schema.explain_all(error):
            found.append(Problem(".".join(map(str, point)), message))
    if checks is not None:
        offer = Offer(f"offers/{data.get('id', 'new')}.yaml", data)
        for finding in checks(offer):
            if finding.severity == "error":
                field = _CODE_FIELDS.get(finding.code) or finding.message.split(" ")[0]
                found.append(Problem(field, finding.message))
    return sorted(found, key=lambda p: p.field)


def missing_required(data: Mapping[str, Any]) -> list[Field]:
    return [f for f in INTAKE if get_path(data, f.path) in (None, "")]


def answer_problem(path: str, value: Any) -> str | None:
    """Validate one prompted answer against its field's schema."""
    from jsonschema import Draft202012Validator

    sub = schema.subschema("offer", path.split("."))
    if sub is None:
        return f"unknown field {path}"
    validator = Draft202012Validator(sub, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(value):
        _code, message, _point = schema.explain(error)
        return message.replace("'(document)'", path)
    return None


def render(data: Mapping[str, Any], schema_ref: str) -> str:
    """The offer file's text: a schema modeline for editors, then the fields in order."""
    document = yamlio.new_document(
        ordered(data), line_lists=("approvals", "events"), flow_lists=("clauses", "tags")
    )
    body = yamlio.RoundTrip().dump(document)
    header = f"# yaml-language-server: $schema={schema_ref}\n"
    return header + body


def schema_ref_for(offer_path: Path, root: Path) -> str:
    depth = len(offer_path.relative_to(root).parts) - 1
    return "../" * depth + "schemas/offer.schema.json"
