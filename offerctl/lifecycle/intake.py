"""`offerctl new`: turning intake answers into a valid offer document (pure; no I/O here
except what the caller passes in)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
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

# Offered on a terminal after the required fields (an empty answer skips one).
OPTIONAL: tuple[Field, ...] = (
    Field("role.location.city", "City"),
    Field("role.location.work_mode", "Work mode"),
    Field("compensation.bonus_target_pct", "Target bonus, % of base (e.g. 10)"),
    Field("compensation.sign_on_bonus", "Sign-on bonus (digits only)"),
    Field("compensation.equity.type", "Equity type"),
    Field("compensation.equity.units", "Equity units (a whole number)"),
    Field("compensation.equity.vesting", "Vesting (e.g. 4y-1y-cliff)"),
)

PEOPLE_FIELDS = frozenset({"recruiter", "role.hiring_manager"})
"""Fields that must name a person in policies/approvers.yaml."""

_UPPER_FIELDS = frozenset({"role.location.country", "role.location.region", "compensation.currency"})


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


def match_choice(answer: str, choices: Sequence[str]) -> str | None:
    """The choice ``answer`` means: its number in the menu (1-based), the choice itself in
    any case (``full time`` for ``full_time``), or the one choice it is a prefix of; None
    when it means none or more than one."""
    text = answer.strip()
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1]
    wanted = _key(text)
    if not wanted:
        return None
    exact = [c for c in choices if _key(c) == wanted]
    if exact:
        return exact[0]
    starts = [c for c in choices if _key(c).startswith(wanted)]
    return starts[0] if len(starts) == 1 else None


def normalise(path: str, raw: str) -> Any:
    """One typed answer as the value the offer file holds: country, region and currency in
    capitals (``us`` → ``US``), everything else read with YAML 1.2 rules (``185000`` is a
    number, ``2027-01-11`` stays text)."""
    text = raw.strip()
    if path in _UPPER_FIELDS:
        return text.upper()
    if path in PEOPLE_FIELDS:
        return text
    return yamlio.parse_scalar(text)


def _as_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def date_problem(path: str, value: Any, data: Mapping[str, Any], today: dt.date) -> str | None:
    """Date rules a new offer must meet, checked at the field: it does not start or expire
    in the past, and it expires no later than it starts."""
    day = _as_date(value)
    if day is None:
        return None
    if path == "start_date":
        if day < today:
            return f"{day} is in the past (today is {today}); a new offer starts on a later day"
        expires = _as_date(get_path(data, "expires_on"))
        if expires is not None and expires > day:
            return f"{day} is before the offer expires ({expires}); the candidate must answer before starting"
    if path == "expires_on":
        if day < today:
            return f"{day} is in the past (today is {today}); the candidate needs time to answer"
        start = _as_date(get_path(data, "start_date"))
        if start is not None and day > start:
            return (
                f"{day} is after the start date {start}; the offer must expire on or before it "
                "(type < to change the start date)"
            )
    return None


def past_dates(data: Mapping[str, Any], today: dt.date) -> list[Problem]:
    """A new offer may not start or expire before today."""
    out = []
    for path in ("start_date", "expires_on"):
        day = _as_date(get_path(data, path))
        if day is not None and day < today:
            out.append(
                Problem(path, f"{path} {day} is in the past (today is {today}); pick a later day")
            )
    return out


def default_expiry(today: dt.date, expiry_days: int, start: Any) -> str:
    """``defaults.expiry_days`` from today, but never after the start date."""
    expires = today + dt.timedelta(days=expiry_days)
    begin = _as_date(start)
    if begin is not None and begin > today:
        expires = min(expires, begin - dt.timedelta(days=1))
    return expires.isoformat()


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
        set_path(data, "expires_on", default_expiry(today, expiry_days, get_path(data, "start_date")))
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


def required_leaves(path: Sequence[str | int]) -> list[str]:
    """The required leaf fields under ``path`` (``candidate`` → ``candidate.name``,
    ``candidate.email``, ``candidate.source``): what a person has to type, not the mapping
    that holds it. ``id`` and ``status`` are offerctl's own and never listed."""
    parts = [str(p) for p in path]
    if parts in (["id"], ["status"]):
        return []
    sub = schema.subschema("offer", parts)
    required = sub.get("required") if isinstance(sub, Mapping) else None
    if not isinstance(required, list) or not required:
        return [".".join(parts)]
    leaves: list[str] = []
    for child in required:
        leaves.extend(required_leaves([*parts, str(child)]))
    return leaves


_INTAKE_ORDER = {f.path: i for i, f in enumerate(INTAKE)}


def problems(
    data: Mapping[str, Any], checks: Callable[[Offer], Iterable[Finding]] | None = None
) -> list[Problem]:
    """Every missing or invalid field of an intake, each once: schema first (a missing
    mapping is listed as its missing leaf fields), then references; in intake order."""
    found: dict[tuple[str, str], Problem] = {}

    def add(problem: Problem) -> None:
        found.setdefault((problem.field, problem.message), problem)

    for error in schema.validator("offer").iter_errors(data):
        for code, message, point in schema.explain_all(error):
            if code == "S103":
                for leaf in required_leaves(point):
                    if get_path(data, leaf) is None:
                        add(Problem(leaf, f"missing required field {leaf}"))
            else:
                add(Problem(".".join(map(str, point)), message))
    if checks is not None:
        offer = Offer(f"offers/{data.get('id', 'new')}.yaml", data)
        for finding in checks(offer):
            if finding.severity == "error":
                field = _CODE_FIELDS.get(finding.code) or finding.message.split(" ")[0]
                add(Problem(field, finding.message))
    return sorted(found.values(), key=lambda p: (_INTAKE_ORDER.get(p.field, len(INTAKE)), p.field))


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
