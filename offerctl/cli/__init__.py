"""Command-line interface (typer). See ``_app`` for the shared plumbing."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from offerctl.cli import (  # noqa: F401  (register commands)
    commands_approvals,
    commands_check,
    commands_letters,
    commands_lifecycle,
    commands_offers,
    commands_reports,
    commands_trust,
)
from offerctl.cli._app import app
from offerctl.errors import EXIT_USAGE, OfferctlError


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; the single place errors become exit codes.

    OfferctlError → its own code (1 refused, 2 usage/unreadable input) with
    ``error: path:line: message`` and a hint on stderr — never a traceback.
    """
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


__all__ = ["app", "main", "run"]
