"""Letter checks for ``offerctl check``: templates, clauses, selection rules and promises.

``check_letters`` is a repository check (registered in ``offerctl.checks.registry``): it renders every
letter template against two sample offers (every optional field set, and none set).
``check_offer_letter`` is an offer check: it renders every offer that is approved or later
and compares each verbal promise with the offer and the letter. Template problems point at
the template file and line.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from offerctl.core.model import Finding, Offer, Severity, Status, to_decimal
from offerctl.letters.errors import LetterError
from offerctl.store import yamlio

if TYPE_CHECKING:
    from offerctl.checks.context import Context
    from offerctl.letters.render import Letters

# The letter stack (Jinja, Babel) is imported inside the functions that render: `check` on
# an unchanged tree never loads it.

# Offers whose letter must render: approved or later (a letter was or is about to be sent).
LETTER_STATUSES = frozenset(set(Status) - {Status.DRAFT, Status.PENDING_APPROVAL})
_CONFIDENTIAL = ("candidate.", "compensation.")

_SAMPLE_FULL: dict[str, Any] = {
    "id": "OFF-2026-SAMPLE01",
    "status": "approved",
    "candidate": {
        "name": "Sam Sample",
        "email": "sam.sample@example.com",
        "phone": "+1 555 0100",
        "source": "referral",
    },
    "role": {
        "title": "Sample Engineer",
        "requisition": "REQ-1",
        "department": "Engineering",
        "team": "Platform",
        "job_family": "engineering",
        "level": "L4",
        "employment_type": "full_time",
        "fte": Decimal("0.8"),
        "exempt": True,
        "end_date": "2028-01-31",
        "location": {"country": "US", "region": "CA", "city": "Springfield", "work_mode": "hybrid"},
        "hiring_manager": "manager@example.com",
    },
    "recruiter": "recruiter@example.com",
    "start_date": "2027-02-01",
    "expires_on": "2027-01-15",
    "compensation": {
        "currency": "USD",
        "base_salary": 100000,
        "pay_period": "annual",
        "bonus_target_pct": 10,
        "sign_on_bonus": 5000,
        "relocation": 2500,
        "equity": {"type": "rsu", "units": 100, "vesting": "4y-1y-cliff", "strike_price": Decimal("1.50")},
    },
    "clauses": [],
    "verbal": {"date": "2027-01-05", "promises": []},
    "approvals": [],
    "events": [{"type": "created", "at": "2027-01-06T09:00:00Z", "by": "recruiter@example.com"}],
}
_REQUIRED_ROLE = (
    "title",
    "department",
    "job_family",
    "level",
    "employment_type",
    "location",
    "hiring_manager",
)


def sample_offers(letters: Letters, template: str) -> list[Offer]:
    """A full and a minimal sample offer, shaped like the offers the template's rule selects."""
    from offerctl.letters.select import MATCH_KEYS, rules

    matching = [r for r in rules(letters.config) if r.template == template]
    full = copy.deepcopy(_SAMPLE_FULL)
    for key, values in (matching[0].when if matching else {}).items():
        node: Any = full
        parts = MATCH_KEYS.get(key, key).split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = values[0]
    country = full["role"]["location"]["country"]
    currency = letters.config.get("defaults", {}).get("currency_by_country", {}).get(country)
    if isinstance(currency, str):
        full["compensation"]["currency"] = currency
    full["letter"] = {"template": template}
    minimal = {
        key: full[key]
        for key in ("id", "status", "recruiter", "start_date", "expires_on", "letter", "events")
    }
    minimal["candidate"] = {k: full["candidate"][k] for k in ("name", "email")}
    minimal["role"] = {k: full["role"][k] for k in _REQUIRED_ROLE}
    minimal["role"]["location"] = {k: full["role"]["location"][k] for k in ("country", "region")}
    minimal["compensation"] = {k: full["compensation"][k] for k in ("currency", "base_salary")}
    return [Offer("(sample offer, all fields)", full), Offer("(sample offer, required fields)", minimal)]


def check_templates(letters: Letters) -> Iterator[LetterError]:
    """L401/L402/L403/L408/L412/L413: every template renders (md and html) against the samples,
    and every clause (and translation) renders in every letter that may include it."""
    from offerctl.letters.render import letter_templates, problem_from

    for template in letter_templates(letters.root):
        for sample in sample_offers(letters, template):
            for fmt in ("md", "html"):
                try:
                    letters.render_text(sample, template, fmt, version="0" * 64)
                except LetterError as exc:
                    yield exc
    sample = sample_offers(letters, "")[0]
    env = letters.env("md")
    for clause in letters.clauses.values():
        names = [clause.template_for("")[0], *(name for name, _ in clause.translations.values())]
        for name in names:
            try:
                context = letters.context(sample, name, "md")
                env.get_template(name).render(context)
            except Exception as exc:  # every template failure is a finding
                yield exc if isinstance(exc, LetterError) else problem_from(exc, letters.root, name)


def check_config(letters: Letters) -> Iterator[LetterError]:
    """L403: a rule names a template that does not exist; L404: defaults.clauses names an
    unknown clause."""
    from offerctl.letters.select import rules

    for rule in rules(letters.config):
        if not (letters.templates_dir / rule.template).is_file():
            yield LetterError(
                f"letters rule {rule.id!r} names template {rule.template!r}, "
                "which does not exist in letter_templates/",
                path="offerctl.yaml",
                line=yamlio.line_in_file(
                    letters.root / "offerctl.yaml", ["letters", "rules", rule.index, "template"]
                ),
                code="L403",
            )
    defaults = letters.config.get("defaults", {})
    for index, clause_id in enumerate(defaults.get("clauses", []) if isinstance(defaults, Mapping) else []):
        if clause_id not in letters.clauses:
            yield LetterError(
                f"defaults.clauses names unknown clause {clause_id!r}",
                path="offerctl.yaml",
                line=yamlio.line_in_file(letters.root / "offerctl.yaml", ["defaults", "clauses", index]),
                code="L404",
            )


def _same(promised: Any, actual: Any) -> bool:
    if isinstance(promised, bool) or isinstance(actual, bool):
        return promised is actual
    left, right = to_decimal(promised), to_decimal(actual)
    if left is not None and right is not None and not isinstance(promised, str):
        return left == right
    return bool(promised == actual)


def _perturbed(value: Any) -> Any:
    """A different value of the same kind, to see whether the letter prints the field."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | Decimal):
        return value + 987654
    if isinstance(value, str):
        try:
            return (dt.date.fromisoformat(value) + dt.timedelta(days=1)).isoformat()
        except ValueError:
            return value + " (changed)"
    return value


def _set(data: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def check_promises(
    ctx: Context, letters: Letters, offer: Offer, letter: tuple[str, str] | None
) -> Iterator[Finding]:
    """L410: a verbal promise whose value differs from the offer; L411: a promised field the
    offer's letter does not print (the candidate would not see the promise in writing).

    ``letter`` is (template, Markdown) of the offer's letter, or None when it does not render
    (then only L410 is checked)."""
    promises = offer.get("verbal.promises") or []
    for index, promise in enumerate(promises):
        field, promised = promise.get("field"), promise.get("value")
        actual = offer.get(field)
        confidential = str(field).startswith(_CONFIDENTIAL)
        line = ctx.line(offer, f"verbal.promises.{index}")
        if not _same(promised, actual):
            detail = "" if confidential else f" ({promised!r} promised, {actual!r} in the offer)"
            state = "is not in the offer" if actual is None else "differs from the offer"
            yield Finding(
                offer.path,
                line,
                "L410",
                f"verbal promise of {field} {state}{detail}; change the offer or record why "
                "the promise changed",
                Severity.ERROR,
                offer.id,
            )
            continue
        if letter is None:
            continue
        template, original = letter
        data = copy.deepcopy(dict(offer.data))
        _set(data, field, _perturbed(actual))
        try:
            changed = letters.render_text(offer, template, "md", data_override=data)
        except LetterError:
            continue  # the letter differs only by failing: it uses the field
        if changed == original:
            yield Finding(
                offer.path,
                line,
                "L411",
                f"the letter template {template} does not print the promised {field}; "
                "the written offer must state what was promised",
                Severity.ERROR,
                offer.id,
            )


def check_letters(ctx: Context) -> Iterator[Finding]:
    """L401-L410: letter templates (rendered against two sample offers), clauses and the
    selection rules — once per repository (see docs/findings.md)."""
    letters = ctx.letters
    if not letters.templates_dir.is_dir():
        return
    seen: set[tuple[str, int | None, str, str]] = set()
    for finding in letters.clause_findings:
        yield finding
    for problem in (*check_config(letters), *check_templates(letters)):
        finding = problem.finding(None)
        key = (finding.path, finding.line, finding.code, finding.message)
        if key not in seen:
            seen.add(key)
            yield finding


def check_offer_letter(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """L404-L413 for one offer: its clauses and currency, the letter of an offer that is
    approved or later (it must render), and its verbal promises. An offer check, so its
    result is cached with the offer's content."""
    letters = ctx.letters
    if not letters.templates_dir.is_dir():
        return
    problems = letters.check_inputs(offer)
    must_render = offer.status in LETTER_STATUSES
    letter: tuple[str, str] | None = None
    if not problems and (must_render or offer.get("verbal.promises")):
        try:
            template = letters.selection(offer).template
            letter = (template, letters.render_text(offer, template, "md"))
        except LetterError as exc:
            if must_render:
                problems.append(exc)
    for problem in problems:
        yield problem.finding(offer.id)
    yield from check_promises(ctx, letters, offer, letter)
    if not problems:
        yield from check_letter_language(letters, offer)


# Offers whose letter is still to be sent: a language mismatch can still be fixed.
UNSENT_STATUSES = frozenset({Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED, Status.NEGOTIATING})


def check_letter_language(letters: Letters, offer: Offer) -> Iterator[Finding]:
    """L430 (warning): the offer's locale and the language its letter template is written in
    differ — a German offer rendered with an English template reads "vesting over vier Jahre
    with a cliff of ein Jahr", because dates, numbers and durations follow the locale while
    the template's own words do not. A template declares its language with a
    ``language: xx`` line in its leading ``{# … #}`` comment (or inherits the declaration of
    the template it extends); templates that declare none are not judged.

    Passing: a de_DE offer whose rule picks ``de/arbeitsvertrag.md.j2`` (``language: de``).
    Failing: a de_DE offer in a repository whose only template is the English starter.
    """
    if offer.status not in UNSENT_STATUSES:
        return
    try:
        template = letters.selection(offer).template
    except LetterError:
        return  # reported as L403/L407
    declared = letters.template_language(template)
    if declared is None:
        return
    language, where = declared
    locale = letters.locale_for(offer)
    wanted = locale.replace("-", "_").split("_")[0].lower()
    if wanted == language:
        return
    names = _language_names()
    text = yamlio.line_in_file
    root = letters.root / offer.path
    keys = ["letter", "locale"] if offer.get("letter.locale") else ["role", "location", "country"]
    line = text(root, keys)
    yield Finding(
        offer.path,
        line,
        "L430",
        f"the letter's locale is {locale} ({names(wanted)}) but its template {template} is written in "
        f"{names(language)} (language: {language} in {where}): dates and amounts would be "
        f"{names(wanted)}, the sentences around them not; add a {names(wanted)} template and choose "
        "it with letters.rules in offerctl.yaml, or set letter.locale",
        Severity.WARNING,
        offer.id,
    )


def _language_names() -> Any:
    from babel import Locale

    def name(code: str) -> str:
        try:
            return str(Locale.parse(code).get_display_name("en"))
        except Exception:
            return code

    return name
