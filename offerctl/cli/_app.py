"""The typer application and what every command shares: options, output, errors.

No business logic lives in ``offerctl.cli``: each command parses its options, calls one
core function, and prints what it returns.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup


def _no_type(ctx: Any) -> None:
    return None


class OfferctlGroup(TyperGroup):
    """offerctl's command group: commands listed in panels with untruncated one-line
    descriptions (typer draws panels only in its rich help, which start-up cannot afford),
    readable placeholders, and shell completion of values from the offer repository."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        from offerctl.cli import completion, help

        for command in self.commands.values():
            for param in command.params:
                metavar = help.placeholder(param)
                if metavar is not None:
                    param.metavar = metavar
                if param.param_type_name == "argument" and param.metavar is not None:
                    # typer prints "ID <str>" for an argument; its placeholder says enough
                    setattr(param, "display_type_rich", _no_type)  # noqa: B010
            completion.attach(command.params)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        from offerctl.cli import help

        visible = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                visible.append((name, command))
        width = max((len(name) for name, _ in visible), default=0)
        for panel, rows in help.panel_rows(visible):
            with formatter.section(panel):  # one column width for all panels, as gh does
                formatter.write_dl([(name.ljust(width), text) for name, text in rows])


app = typer.Typer(
    name="offerctl",
    cls=OfferctlGroup,
    help="Offer management as code: offers, approvals, letters and their audit trail in git.",
    no_args_is_help=True,
    # `--install-completion` / `--show-completion`; values come from offerctl.cli.completion.
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click help: typer's rich help imports rich.markdown, markdown-it and pygments
    # (~0.1 s, measured in benchmarks/run.py), which alone used most of the 0.15 s budget
    # that `offerctl --help` may take above `python -c pass`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _print_version(value: bool) -> None:
    if value:
        from offerctl import __version__

        sys.stdout.write(f"offerctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            is_eager=True,
            callback=_print_version,
            help="Print offerctl's version and exit.",
        ),
    ] = False,
) -> None:
    """Offer management as code: offers, approvals, letters and their audit trail in git."""


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
    bool,
    typer.Option(
        "--no-input",
        help="Never prompt: fail with what is missing instead of asking (the default when stdin "
        "is not a terminal or CI=true).",
    ),
]
NoPromptsOption = Annotated[
    bool,
    typer.Option(
        "--no-input",
        help="Accepted so scripts can pass it to every command; this command never prompts.",
    ),
]


def interactive(no_input: bool) -> bool:
    return not no_input and sys.stdin.isatty() and os.environ.get("CI", "").lower() != "true"


def stdout_console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def print_trimmed(console: Any, renderable: Any) -> None:
    """Print ``renderable`` without the spaces rich pads each table line with up to the
    terminal's width (they end up in pipes, copies and snapshot files)."""
    import re

    with console.capture() as captured:
        console.print(renderable)
    text = re.sub(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", r"\1", captured.get(), flags=re.M)
    sys.stdout.write(text)


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def warn_skipped(problems: Any) -> None:
    """Files a repository-wide command skipped (S130/S131 findings), one line each on
    stderr, so stdout (text or JSON) keeps its shape and the other offers still show."""
    from rich.markup import escape

    console = stderr_console()
    for problem in problems:
        label = "warning" if problem.code == "S130" else "error"
        console.print(f"[yellow]{label}:[/] {escape(problem.message)} ({problem.code})")


def echo(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def echo_pushed(pushed: Any) -> None:
    """The text line of every mutating command's ``--push`` (a ``sync.Pushed``, or None)."""
    if pushed is not None:
        tries = "" if pushed.attempts == 1 else f" after {pushed.attempts} attempts"
        echo(f"pushed to {pushed.remote}/{pushed.branch}{tries}")
