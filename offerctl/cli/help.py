"""What ``offerctl --help`` and every command's ``--help`` show beyond the commands' own
docstrings: the panels commands are grouped in (with a one-line description each), an
"Examples:" block per command, and readable placeholders (``ID``, ``DATE``, ``N`` …).

One table for the whole CLI, so a reader sees the map of the tool in one place and a test can
hold every command to it (a panel, a one-line description that fits 80 columns, examples).
Imported at start-up: nothing here imports more than the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# (panel, ((command, one-line description), ...)) in the order `offerctl --help` shows them.
# A description must fit one line at 80 columns (a test checks it); the command's docstring
# says the rest in its own --help.
PANELS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Offers",
        (
            ("new", "Create an offer (prompts for what is missing)"),
            ("show", "Show one offer: people, role, pay, approvals, events"),
            ("list", "List offers, one per line; filter and sort"),
            ("edit", "Change an offer before it is sent; says who re-approves"),
            ("log", "One offer's timeline: changes, approvals, outcome"),
        ),
    ),
    (
        "Approvals",
        (
            ("route", "Who must approve an offer, why, and in which order"),
            ("submit", "Submit a draft for approval"),
            ("approve", "Approve an offer as yourself (the git identity)"),
            ("reject", "Send an offer back to draft, with the reason"),
            ("status", "Every open offer: stage, who it waits on, SLA"),
            ("inbox", "What waits for you, oldest first"),
            ("headroom", "How far pay can move before another approval"),
            ("policy-diff", "What a policy change does to offers in flight"),
        ),
    ),
    (
        "Letters",
        (
            ("render", "Render an offer letter as Markdown, HTML or PDF"),
            ("send", "Send the letter (only when fully approved)"),
        ),
    ),
    (
        "Lifecycle",
        (
            ("competing", "Record a competing offer the candidate mentioned"),
            ("touch", "Log contact with the candidate"),
            ("contingency", "Add, clear or fail a condition: background check, visa"),
            ("revise", "Change terms of a sent offer (negotiation)"),
            ("accept", "Record that the candidate accepted"),
            ("decline", "Record that the candidate declined, and why"),
            ("rescind", "Withdraw an open offer"),
            ("renege", "Record that the candidate withdrew after accepting"),
            ("start", "Record that the new hire started"),
            ("expire", "Close every open offer past its expiry date"),
        ),
    ),
    (
        "Reports",
        (
            ("report", "Offer metrics as text, JSON or an HTML dashboard"),
            ("remind", "Approvals past their SLA; email digests with --send"),
            ("export", "Accepted offers for onboarding/HRIS (JSON, CSV)"),
        ),
    ),
    (
        "Privacy",
        (
            ("readers", "Who can read a confidential offer, and why"),
            ("rekey", "Encrypt and re-wrap every offer per privacy: config"),
            ("erase", "Erase a candidate's data by destroying its key"),
        ),
    ),
    (
        "CI and setup",
        (
            ("init", "Create an offer repository with a starter policy"),
            ("check", "Validate offers and policy; findings with file:line"),
            ("schema", "Print the JSON Schemas (for editors)"),
            ("codeowners", "Print or write a CODEOWNERS file"),
        ),
    ),
    (
        "Git plumbing",
        (
            ("git-setup", "Register the offer merge driver in this clone"),
            ("merge-driver", "The merge driver git calls (not for people)"),
        ),
    ),
)
OTHER_PANEL = "Other commands"

# Examples shown at the end of each command's --help, `(command line, what it does)`; a
# "\n" in a command line continues it on the next line (each line fits 80 columns).
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "init": (
        ("offerctl init offers-repo", "a new repository with starter policy and templates"),
        ("offerctl init --ci github", "add a CI workflow to this repository"),
    ),
    "new": (
        ("offerctl new", "answer the questions in a terminal"),
        ("offerctl new --from intake.yaml --set start_date=2027-01-11 --no-input", "from a file, no prompts"),
    ),
    "edit": (
        ('offerctl edit OFF-2026-7K3QXM2B --set role.title="Staff Engineer"', "fix a draft's title"),
        (
            "offerctl edit OFF-2026-7K3QXM2B --set start_date=2027-02-01\n--reason 'later start'",
            "a pending offer: lists stale approvals",
        ),
    ),
    "show": (
        ("offerctl show OFF-2026-7K3QXM2B", "read it in the terminal"),
        ("offerctl show OFF-2026-7K3QXM2B -f json | jq .compensation", "as JSON"),
    ),
    "list": (
        ("offerctl list --status sent --sort expiry", "open offers, soonest expiry first"),
        ("offerctl list | grep Engineering", "one offer per line when piped"),
    ),
    "log": (("offerctl log OFF-2026-7K3QXM2B", "who changed what, when"),),
    "check": (
        ("offerctl check", "every offer and policy file"),
        ("offerctl check --changed-since origin/main", "only what a pull request changed"),
    ),
    "schema": (
        ("offerctl schema offer", "print the offer schema"),
        ("offerctl schema --write schemas/", "write every schema for editors"),
    ),
    "route": (
        ("offerctl route OFF-2026-7K3QXM2B", "who must approve, and why"),
        (
            "offerctl route OFF-2026-7K3QXM2B --set compensation.base_salary=210000",
            "what if the base were 210,000?",
        ),
    ),
    "submit": (("offerctl submit OFF-2026-7K3QXM2B", "draft → pending_approval"),),
    "approve": (
        ("offerctl approve OFF-2026-7K3QXM2B", "as your git identity"),
        ("offerctl approve OFF-2026-7K3QXM2B --role finance --push", "one role; push right away"),
    ),
    "reject": (("offerctl reject OFF-2026-7K3QXM2B --comment 'above band; ask finance'", "back to draft"),),
    "status": (
        ("offerctl status", "every open offer and who it waits on"),
        ("offerctl status -f json", "for scripts"),
    ),
    "inbox": (("offerctl inbox", "offers waiting for your approval"),),
    "headroom": (("offerctl headroom OFF-2026-7K3QXM2B", "room before the next approval, up and down"),),
    "policy-diff": (
        ("offerctl policy-diff origin/main", "the policy in this tree vs origin/main's"),
        ("offerctl policy-diff main..proposal -f markdown", "for a pull request summary"),
    ),
    "competing": (
        (
            "offerctl competing OFF-2026-7K3QXM2B --employer Initech --stage deadline\n"
            "--deadline 2026-11-25 --base 205000",
            "they want an answer by the 25th",
        ),
    ),
    "touch": (("offerctl touch OFF-2026-7K3QXM2B --via call --note 'still keen'", "log a call"),),
    "contingency": (
        ("offerctl contingency OFF-2026-7K3QXM2B add background_check", "the check is ordered"),
        ("offerctl contingency OFF-2026-7K3QXM2B clear background_check", "it came back clean"),
    ),
    "render": (
        ("offerctl render OFF-2026-7K3QXM2B", "Markdown on stdout"),
        ("offerctl render OFF-2026-7K3QXM2B -f pdf -o letter.pdf", "a PDF"),
    ),
    "send": (
        ("offerctl send OFF-2026-7K3QXM2B --dry-run", "write the email to out/ instead"),
        ("offerctl send OFF-2026-7K3QXM2B --via manual", "record a letter sent by hand"),
    ),
    "revise": (
        (
            "offerctl revise OFF-2026-7K3QXM2B --set compensation.base_salary=212000\n"
            "--reason 'competing offer'",
            "match a competing offer",
        ),
    ),
    "accept": (
        (
            "offerctl accept OFF-2026-7K3QXM2B --signed-on 2026-12-03\n--document signed.pdf",
            "record the signed letter",
        ),
    ),
    "decline": (
        (
            "offerctl decline OFF-2026-7K3QXM2B --reason compensation\n--detail 'took a higher offer'",
            "the reason is one of offerctl.yaml decline_reasons",
        ),
    ),
    "rescind": (
        ("offerctl rescind OFF-2026-7K3QXM2B --reason 'requisition closed'", "the company withdraws"),
    ),
    "renege": (("offerctl renege OFF-2026-7K3QXM2B --reason 'stayed with employer'", "after accepting"),),
    "start": (("offerctl start OFF-2026-7K3QXM2B", "the new hire started"),),
    "expire": (
        ("offerctl expire", "close offers past expires_on"),
        ("offerctl expire --push", "on a schedule in CI"),
    ),
    "report": (
        ("offerctl report --since 2026-01-01", "this year, compared with the year before"),
        ("offerctl report -f html -o report.html", "the dashboard"),
    ),
    "remind": (
        ("offerctl remind", "dry run: who would be reminded"),
        ("offerctl remind --send", "email the digests"),
    ),
    "export": (("offerctl export -f csv --since 2026-12-01 > hires.csv", "accepted offers"),),
    "codeowners": (
        ("offerctl codeowners", "print it"),
        ("offerctl codeowners --write", "write and commit .github/CODEOWNERS"),
    ),
    "readers": (
        ("offerctl readers OFF-2026-7K3QXM2B", "who can decrypt it, and why"),
        ("offerctl readers OFF-2026-7K3QXM2B -f json", "as JSON"),
    ),
    "rekey": (
        ("offerctl rekey", "encrypt and re-wrap after editing privacy: readers"),
        ("offerctl rekey --rotate", "also give every offer a new data key"),
    ),
    "erase": (
        ("offerctl erase OFF-2026-7K3QXM2B --reason 'candidate request'", "crypto-shred one offer"),
        ("offerctl erase --expired", "apply the retention periods (safe on a schedule)"),
    ),
    "git-setup": (("offerctl git-setup", "after cloning an offer repository"),),
    "merge-driver": (
        ("git config merge.offerctl.driver 'offerctl merge-driver %O %A %B %P'", "what git-setup configures"),
    ),
}

# Placeholders for options that name none themselves: by parameter name, then by type.
METAVARS: dict[str, str] = {
    "repo": "PATH",
    "set_": "PATH=VALUE",
    "status": "STATUS",
    "department": "DEPARTMENT",
    "role": "ROLE",
    "comment": "TEXT",
    "reason": "TEXT",
    "detail": "TEXT",
    "competing_employer": "NAME",
    "employer": "NAME",
    "deadline": "DATE",
    "base": "AMOUNT",
    "base_max": "AMOUNT",
    "currency": "CODE",
    "note": "TEXT",
    "contingency": "KIND",
    "policy_ref": "REF",
    "ats": "NAME",
    "signed_on": "DATE",
    "written_on": "DATE",
    "since": "DATE",
    "until": "DATE",
    "as_of": "DATE",
    "push_retries": "N",
    "jobs": "N",
    "by": "DIMENSION",
    "output": "FILE",
    "document": "FILE",
    "from_file": "FILE",
    "sign_key": "FILE",
    "write": "DIR",
    "email": "EMAIL",
    "recruiter": "EMAIL",
    "person": "EMAIL",
}
_TYPE_METAVARS = {"str": "TEXT", "int": "N", "integer": "N", "int range": "N", "path": "PATH", "file": "FILE"}
ARGUMENT_METAVARS: dict[str, str] = {"offer_id": "ID", "paths": "PATH", "name": "NAME", "directory": "DIR"}


def examples_epilog(name: str) -> str | None:
    """The "Examples:" block for ``name`` as click help text (``\\b`` keeps its lines)."""
    rows = EXAMPLES.get(name)
    if not rows:
        return None
    lines = ["\b", "Examples:"]
    for command, what in rows:
        if what:
            lines.append(f"  # {what}")
        first, *more = command.split("\n")
        lines.append(f"  $ {first}" + (" \\" if more else ""))
        lines.extend(f"      {line}" + (" \\" if i < len(more) - 1 else "") for i, line in enumerate(more))
    return "\n".join(lines)


def short_help(name: str) -> str | None:
    for _panel, commands in PANELS:
        for command, text in commands:
            if command == name:
                return text
    return None


def panel_of(name: str) -> str:
    for panel, commands in PANELS:
        if any(command == name for command, _ in commands):
            return panel
    return OTHER_PANEL


def command_order() -> tuple[str, ...]:
    return tuple(command for _panel, commands in PANELS for command, _ in commands)


def configure(registered: list[Any], name_of: Any) -> None:
    """Give each registered typer command its panel, one-line description and examples, and
    sort them in panel order (commands not in a panel last, in registration order)."""
    from typer.models import DefaultPlaceholder

    def unset(value: Any) -> bool:
        return value is None or (isinstance(value, DefaultPlaceholder) and value.value is None)

    order = command_order()
    for info in registered:
        name = name_of(info)
        if unset(info.rich_help_panel):
            info.rich_help_panel = panel_of(name)
        if unset(info.short_help):
            info.short_help = short_help(name)
        if unset(info.epilog):
            info.epilog = examples_epilog(name)
    registered.sort(key=lambda info: order.index(name_of(info)) if name_of(info) in order else len(order))


def placeholder(param: Any) -> str | None:
    """A readable placeholder for a parameter that names none (``None``: keep typer's)."""
    if param.metavar is not None or getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.param_type_name == "argument":
        return ARGUMENT_METAVARS.get(param.name)
    if param.name in METAVARS:
        return METAVARS[param.name]
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or descriptor.is_choice:
        return None  # typer shows the choices: <text|json>
    label = param.display_type(None).strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    return _TYPE_METAVARS.get(label)


def panel_rows(commands: Iterable[tuple[str, Any]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Commands grouped by panel in first-seen order, each with its one-line description."""
    panels: dict[str, list[tuple[str, str]]] = {}
    for name, command in commands:
        panel = getattr(command, "rich_help_panel", None) or OTHER_PANEL
        text = command.short_help or _first_sentence(command.help or "")
        panels.setdefault(panel, []).append((name, text))
    return list(panels.items())


def _first_sentence(text: str) -> str:
    text = " ".join(text.split("\f", 1)[0].split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]
