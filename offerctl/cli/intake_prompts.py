"""`offerctl new` on a terminal: ask for what the intake is missing, one field at a time.

Every question can be left: ``<`` goes back to the previous question, Ctrl-D or Ctrl-C
aborts (exit 2, nothing written), and a question answered wrongly ``MAX_TRIES`` times in a
row aborts too — a prompt never asks forever. Choices are offered as a numbered menu and
matched by number, in any case, or by a unique prefix (``full time`` → ``full_time``);
defaults are shown as ``[USD]`` and taken by an empty answer. Dates are checked at the field
(not in the past, expiry on or before the start). A summary is confirmed before anything
is written. The pure parts (matching, normalising, date rules) live in
``offerctl.lifecycle.intake``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer

from offerctl.cli._app import stderr_console
from offerctl.core.errors import UsageError

MAX_TRIES = 5
"""Wrong answers in a row to one question before `new` gives up (exit 2)."""
MAX_ROUNDS = 3
"""Times the whole intake is asked again when the assembled offer still has problems."""
BACK = "<"


class _Back(Exception):
    """The user typed ``<``: return to the previous question."""


def _abort(why: str) -> UsageError:
    return UsageError(f"{why}; nothing was written", hint="run `offerctl new` again when ready")


@dataclass
class Question:
    path: str
    prompt: str
    required: bool
    choices: tuple[str, ...] = ()


class Prompter:
    """One interactive intake: the questions, the answers so far, and how to ask."""

    def __init__(
        self,
        target: Any,
        policies: Any,
        base: Mapping[str, Any],
        values: Mapping[str, Any],
        user_email: str | None,
        today: dt.date,
    ) -> None:
        self.target = target
        self.policies = policies
        self.base = base
        self.answers: dict[str, Any] = dict(values)
        self.user_email = user_email
        self.today = today
        self.console = stderr_console()
        self.people = {email: dict(p) for email, p in policies.people().items()}

    def _choices(self, path: str) -> tuple[str, ...]:
        from offerctl.lifecycle import offers

        return offers.choices_for(self.target, self.policies, path)

    # --- what the offer looks like so far ------------------------------------------------

    def current(self) -> dict[str, Any]:
        from offerctl.lifecycle import offers

        return offers.merged(self.base, self.answers)

    def value(self, path: str) -> Any:
        from offerctl.core.model import get_path

        return get_path(self.current(), path)

    def default(self, path: str) -> str | None:
        from offerctl.lifecycle import intake

        if path == "compensation.currency":
            country = self.value("role.location.country")
            return self.target.currency_for(str(country)) if country else None
        if path == "expires_on":
            return intake.default_expiry(self.today, self.target.expiry_days, self.value("start_date"))
        if path == "recruiter" and self.user_email and self.user_email.lower() in self.people:
            return self.user_email.lower()
        if path == "role.job_family":
            department = self.value("role.department")
            families = self._choices(path)
            if isinstance(department, str):
                from offerctl.lifecycle.intake import match_choice

                return match_choice(department, families) if families else None
        return None

    def choices(self, path: str) -> tuple[str, ...]:
        if path in ("recruiter", "role.hiring_manager"):
            return tuple(self.people)
        return self._choices(path)

    # --- asking ----------------------------------------------------------------------------

    def say(self, text: str, style: str | None = None) -> None:
        self.console.print(text, style=style, markup=False, highlight=False, soft_wrap=False)

    def menu(self, question: Question) -> None:
        if not question.choices:
            return
        if question.path in ("recruiter", "role.hiring_manager"):
            names = [f"{e} ({self.people[e].get('name', '')})" for e in question.choices]
        else:
            names = list(question.choices)
        width = max(len(n) for n in names) + 6
        per_line = max(1, 76 // width)
        for start in range(0, len(names), per_line):
            row = names[start : start + per_line]
            self.say(
                "   "
                + "".join(f"{start + i + 1:>2}) {name}".ljust(width) for i, name in enumerate(row)).rstrip()
            )

    def read(self, label: str) -> str:
        try:
            raw: str = typer.prompt(label, default="", show_default=False, err=True)
        except typer.Abort:
            raise _abort("aborted") from None
        return raw

    def ask(self, question: Question, *, first: bool) -> Any:
        """One answer to one question (validated), or ``_Back``; None skips an optional one."""
        self.menu(question)
        current = self.value(question.path)
        default = str(current) if current not in (None, "") else self.default(question.path)
        label = question.prompt + (f" [{default}]" if default else "")
        for _ in range(MAX_TRIES):
            raw = self.read(label).strip()
            if raw == BACK:
                if first:
                    self.say("  this is the first question; Ctrl-D aborts", "yellow")
                    continue
                raise _Back
            if not raw:
                if default:
                    raw = default
                elif not question.required:
                    return None
                else:
                    self.say(
                        f"  {question.path} is required: type a value ({BACK} goes back, Ctrl-D aborts)",
                        "red",
                    )
                    continue
            value, problem = self.check(question, raw)
            if problem is None:
                return value
            self.say(f"  {problem}", "red")
        raise _abort(f"no valid answer for {question.path} after {MAX_TRIES} tries")

    def check(self, question: Question, raw: str) -> tuple[Any, str | None]:
        from offerctl.lifecycle import intake

        path = question.path
        if question.choices:
            chosen = intake.match_choice(raw, question.choices)
            if chosen is None and path in intake.PEOPLE_FIELDS:
                chosen = self.person_by_name(raw)
            if chosen is None:
                if path in intake.PEOPLE_FIELDS:
                    return None, (
                        f"{raw} is not a person in policies/approvers.yaml: choose a number or an email "
                        "from the list (to add someone, put them under people: in policies/approvers.yaml, "
                        "then run `offerctl new` again)"
                    )
                return None, f"choose a number or one of: {', '.join(question.choices)}"
            raw = chosen
        value = intake.normalise(path, raw)
        problem = intake.answer_problem(path, value)
        if problem is None:
            problem = intake.date_problem(path, value, self.current(), self.today)
        if problem is None and path == "recruiter" and str(value).lower() == str(
            self.value("role.hiring_manager") or ""
        ).lower():
            problem = "the recruiter cannot also be the hiring manager (separation of duties)"
        return value, problem

    def person_by_name(self, raw: str) -> str | None:
        wanted = raw.casefold()
        found = [e for e, p in self.people.items() if wanted in str(p.get("name", "")).casefold()]
        return found[0] if len(found) == 1 else None

    def run(self, questions: Sequence[Question]) -> None:
        """Ask ``questions`` in order; ``<`` steps back one."""
        index = 0
        while 0 <= index < len(questions):
            question = questions[index]
            if not _wanted(self, question.path):
                self.answers.pop(question.path, None)
                index += 1
                continue
            try:
                value = self.ask(question, first=index == 0)
            except _Back:
                index -= 1  # its answer stays, shown as the [default]
                while index > 0 and not _wanted(self, questions[index].path):
                    index -= 1
                continue
            if value is None:
                self.answers.pop(question.path, None)
            else:
                self.answers[question.path] = value
            index += 1

    def question(self, field: Any, required: bool) -> Question:
        return Question(field.path, field.prompt, required, self.choices(field.path))


def prompt_intake(
    target: Any,
    policies: Any,
    base: dict[str, Any],
    values: dict[str, Any],
    user_email: str | None,
    draft: Any,
    assemble: Callable[[dict[str, Any]], Any],
    warnings: Callable[[Any], list[str]],
) -> Any:
    """Ask for every missing field, offer the optional ones, show a summary and ask to
    confirm; returns the draft to write. Raises ``UsageError`` (exit 2, nothing written)
    when the user aborts or cannot give a valid answer."""
    from offerctl.core.clock import today
    from offerctl.core.model import get_path
    from offerctl.lifecycle import intake, offers

    prompter = Prompter(target, policies, base, values, user_email, today())
    say = prompter.say
    say(
        f"New offer: answer each question. An empty answer takes the [default]; {BACK} goes back "
        "one question; Ctrl-D aborts. Nothing is written until you confirm."
    )
    given = offers.merged(base, values)
    bad = {p.field for p in draft.problems}
    todo = [
        prompter.question(f, True)
        for f in intake.INTAKE
        if f.path in bad or get_path(given, f.path) in (None, "")
    ]
    for problem in draft.problems:
        if get_path(given, problem.field) not in (None, ""):
            say(f"  {problem.message}", "yellow")
    prompter.run(todo)
    optional = [f for f in intake.OPTIONAL if get_path(given, f.path) in (None, "")]
    if optional and _yes(prompter, "Add optional details (city, work mode, bonus, sign-on, equity)?", False):
        prompter.run([prompter.question(f, False) for f in optional])
    for _ in range(MAX_ROUNDS):
        draft = assemble(prompter.answers)
        if draft.ok:
            break
        say("The offer still has problems:", "yellow")
        for problem in draft.problems:
            say(f"  {problem.message}", "yellow")
        fields = {f.path: f for f in (*intake.INTAKE, *intake.OPTIONAL)}
        again = [prompter.question(fields[p.field], True) for p in draft.problems if p.field in fields]
        if not again:
            break
        for question in again:
            prompter.answers.pop(question.path, None)
        prompter.run(list({q.path: q for q in again}.values()))
    else:
        draft = assemble(prompter.answers)
    if not draft.ok:
        return draft
    return _confirm(prompter, draft, assemble, warnings)


def _wanted(prompter: Prompter, path: str) -> bool:
    """Equity units and vesting only once an equity type other than none was given."""
    if path in ("compensation.equity.units", "compensation.equity.vesting"):
        return prompter.value("compensation.equity.type") not in (None, "none")
    return True


def _yes(prompter: Prompter, question: str, default: bool) -> bool:
    hint = "Y/n" if default else "y/N"
    for _ in range(MAX_TRIES):
        raw = prompter.read(f"{question} [{hint}]").strip().casefold()
        if not raw:
            return default
        if raw in ("y", "yes"):
            return True
        if raw in ("n", "no"):
            return False
        prompter.say("  answer y or n", "red")
    raise _abort(f"no answer to {question!r} after {MAX_TRIES} tries")


def _summary_rows(draft: Any) -> list[tuple[str, str, Any]]:
    from offerctl.core.model import get_path
    from offerctl.lifecycle import intake

    rows = []
    for field in (*intake.INTAKE, *intake.OPTIONAL):
        value = get_path(draft.data, field.path)
        if value not in (None, ""):
            rows.append((field.path, field.prompt.split(" (")[0], value))
    for path, label in (("compensation.pay_period", "Pay period"), ("clauses", "Clauses")):
        value = get_path(draft.data, path)
        if value not in (None, "", []):
            rows.append((path, label, ", ".join(map(str, value)) if isinstance(value, list) else value))
    return rows


def _confirm(
    prompter: Prompter,
    draft: Any,
    assemble: Callable[[dict[str, Any]], Any],
    warnings: Callable[[Any], list[str]],
) -> Any:
    from offerctl.lifecycle import intake

    editable = {f.path: f for f in (*intake.INTAKE, *intake.OPTIONAL)}
    for _ in range(MAX_TRIES * 4):
        rows = _summary_rows(draft)
        prompter.say("\nThe offer:")
        width = max(len(label) for _, label, _ in rows)
        for number, (_, label, value) in enumerate(rows, 1):
            prompter.say(f"  {number:>2}. {label.ljust(width)}  {value}")
        for text in warnings(draft):
            prompter.say(f"  warning: {text}", "yellow")
        raw = prompter.read("Write this offer? [Y/n, or a number to change that field]").strip().casefold()
        if raw in ("", "y", "yes"):
            return draft
        if raw in ("n", "no"):
            raise _abort("not confirmed")
        if raw.isdigit() and 1 <= int(raw) <= len(rows) and rows[int(raw) - 1][0] in editable:
            path = rows[int(raw) - 1][0]
            field = editable[path]
            required = field in intake.INTAKE
            try:
                value = prompter.ask(prompter.question(field, required), first=True)
            except _Back:  # pragma: no cover - first=True never raises _Back
                continue
            if value is None:
                prompter.answers.pop(path, None)
            else:
                prompter.answers[path] = value
            changed = assemble(prompter.answers)
            if not changed.ok:
                for problem in changed.problems:
                    prompter.say(f"  {problem.message}", "red")
                continue
            draft = changed
            continue
        prompter.say("  answer y, n, or the number of a field", "red")
    raise _abort("no confirmation")
