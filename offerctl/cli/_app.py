"""The typer application and what every command shares: options, output, errors.

No business logic lives in ``offerctl.cli``: each command parses its options, calls one
core function, and prints what it returns.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from offerctl.lifecycle.sync import DEFAULT_RETRIES

app = typer.Typer(
    name="offerctl",
    help="Offer management as code: offers, approvals, letters and their audit trail in git.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: typer's rich help imports rich.markdown, markdown-it and pygments
    # (~0.1 s, measured in benchmarks/run.py), which alone used most of the 0.15 s budget
    # that `offerctl --help` may take above `python -c pass`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)

RepoOption = Annotated[
    Path | None,
    typer.Option(
        "--repo",
        envvar="OFFERCTL_REPO",
        help="Offer repository (default: the nearest directory upwards holding offerctl.yaml).",
        show_default=False,
    ),
]


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
NoCommitOption = Annotated[
    bool, typer.Option("--no-commit", help="Write and stage the change, but do not commit it.")
]
PushOption = Annotated[
    bool,
    typer.Option(
        "--push",
        help="Fetch, apply the change on the latest remote version, commit and push; retry when rejected.",
    ),
]
PUSH_RETRIES = DEFAULT_RETRIES
"""The default of every ``--push-retries`` (``lifecycle.sync.DEFAULT_RETRIES``)."""
RetriesOption = Annotated[
    int, typer.Option("--push-retries", min=1, max=50, help="Attempts before --push gives up.")
]


def _pin_as_of(value: str | None) -> str | None:
    if value is not None:
        from offerctl.core import clock

        clock.pin(clock.parse_day(value, what="--as-of"))
    return value


AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        callback=_pin_as_of,
        help="Treat DATE (YYYY-MM-DD) as today (default: today, or OFFERCTL_TODAY).",
        show_default=False,
    ),
]
NoInputOption = Annotated[
    bool, typer.Option("--no-input", help="Never prompt; fail with every missing field listed.")
]


def interactive(no_input: bool) -> bool:
    return not no_input and sys.stdin.isatty() and os.environ.get("CI", "").lower() != "true"


def stdout_console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def echo(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def fail(message: str, hint: str | None = None, code: int = 2) -> NoReturn:
    console = stderr_console()
    console.print(f"[bold red]error:[/] {message}", markup=True)
    if hint:
        console.print(f"  [dim]hint:[/] {hint}", markup=True)
    raise typer.Exit(code)
