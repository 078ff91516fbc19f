"""Command-line interface (typer). See ``_app`` for the shared plumbing."""

from __future__ import annotations

import sys

from offerctl.cli._app import app
from offerctl.cli import commands_check, commands_offers  # noqa: F401  (register commands)
from offerctl.errors import OfferctlError


def main() -> None:
    """Entry point: run the app and map offerctl's errors to the exit-code contract."""
    try:
        app()
    except OfferctlError as exc:
        from rich.markup import escape

        from offerctl.cli._app import stderr_console

        console = stderr_console()
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        if exc.hint:
            console.print(f"  [dim]hint:[/] {escape(exc.hint)}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing was written\n")
        sys.exit(130)


__all__ = ["app", "main"]
