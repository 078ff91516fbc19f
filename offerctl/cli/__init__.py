"""Command-line interface (typer): parses arguments, calls one core function per command,
prints the result (rich views, JSON, reporters). The top layer: may import every package;
nothing imports it. Core modules are imported inside the commands, so ``--help`` stays fast.
See ``_app`` for the shared plumbing."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Sequence

import typer

from offerctl.cli import (  # noqa: F401  (register commands)
    commands_approvals,
    commands_check,
    commands_letters,
    commands_lifecycle,
    commands_offers,
    commands_privacy,
    commands_reports,
    commands_trust,
    commands_workflow,
)
from offerctl.cli._app import app
from offerctl.cli.help import command_order, configure
from offerctl.core.errors import EXIT_USAGE, OfferctlError

# `offerctl --help` lists commands in panels (offerctl.cli.help.PANELS), each panel in the
# order a user meets its commands in an offer's life; a command missing there is listed under
# "Other commands" (a test asks for it to be added).
COMMAND_ORDER = command_order()


def command_name(info: typer.models.CommandInfo) -> str:
    """The name a command is invoked by (typer's rule: explicit name, else the function's)."""
    if info.name:
        return info.name
    assert info.callback is not None
    return info.callback.__name__.replace("_", "-")


configure(app.registered_commands, command_name)


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; the single place errors become exit codes.

    OfferctlError → its own code (1 refused, 2 usage/unreadable input) with
    ``error: path:line: message`` and a hint on stderr — never a traceback.
    Each run has its own context, so a pinned clock (``--as-of``, the repository's demo
    date) never outlives the command.
    """
    return contextvars.copy_context().run(_run, argv)


def _run(argv: Sequence[str] | None) -> int:
    from offerctl.core import clock

    clock.honour_config_pins()
    try:
        app(args=list(argv) if argv is not None else None, prog_name="offerctl")
    except SystemExit as exc:  # typer's standalone mode: usage errors exit 2, --help 0
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except OfferctlError as exc:
        from rich.markup import escape

        from offerctl.cli._app import stderr_console

        console = stderr_console()
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        if exc.hint:
            console.print(f"  [dim]hint:[/] {escape(exc.hint)}")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted; nothing was written\n")
        return 130
    return 0


def main() -> None:
    sys.exit(run())


__all__ = ["COMMAND_ORDER", "app", "command_name", "main", "run"]
