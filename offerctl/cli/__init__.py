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
from offerctl.core.errors import EXIT_USAGE, OfferctlError, UsageError

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
    ``error: path:line: message`` and a hint on stderr — never a traceback. With
    ``--format json`` (or ``-f json``) anywhere in the arguments, every error — offerctl's
    own and click's usage errors alike — is instead one JSON object on stdout,
    ``{"ok": false, "error": {"code", "exit_code", "message", "path", "line", "hint"}}``,
    and the exit code is the same.
    Each run has its own context, so a pinned clock (``--as-of``, the repository's demo
    date) never outlives the command.
    """
    return contextvars.copy_context().run(_run, argv)


def wants_json(args: Sequence[str]) -> bool:
    """True when the arguments ask for ``--format json``: ``--format json``,
    ``--format=json``, ``-f json``, ``-fjson`` or ``-f=json`` before a ``--``. Read from the
    raw arguments so that errors click raises before any command runs (an unknown option,
    a bad value) are answered in JSON too."""
    for index, arg in enumerate(args):
        if arg == "--":
            return False
        if arg in ("--format", "-f"):
            if index + 1 < len(args) and args[index + 1] == "json":
                return True
        elif arg in ("--format=json", "-fjson", "-f=json"):
            return True
    return False


COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _completion_script(args: Sequence[str]) -> str | None:
    """``offerctl --show-completion SHELL``: the script for the shell named, or None when
    the arguments are something else. typer's flag detects the shell from the parent
    processes and ignores a name given after it, so in a script, a container or CI (no
    interactive shell above) it fails with "Shell  not supported"; the name decides here."""
    if len(args) != 2 or args[0] != "--show-completion" or args[1] not in COMPLETION_SHELLS:
        return None
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="offerctl", complete_var="_OFFERCTL_COMPLETE", shell=args[1])


def _run(argv: Sequence[str] | None) -> int:
    from offerctl.core import clock

    args = list(argv) if argv is not None else sys.argv[1:]
    script = _completion_script(args)
    if script is not None:
        sys.stdout.write(script.rstrip("\n") + "\n")
        return 0
    as_json = wants_json(args)
    clock.honour_config_pins()
    try:
        code = app(args=args, prog_name="offerctl", standalone_mode=False)
    except SystemExit as exc:  # shell completion and the like still exit the click way
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except OfferctlError as exc:
        return _report_error(exc, as_json)
    except typer.TyperException as exc:  # click's usage errors: unknown option, bad value…
        if as_json:
            return _report_error(
                UsageError(exc.format_message(), hint=_usage_hint(exc), exit_code=exc.exit_code), True
            )
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:  # pragma: no cover - every click exception can show itself
            sys.stderr.write(f"error: {exc.format_message()}\n")
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt, EOFError):
        if as_json:
            interrupted = OfferctlError("interrupted; nothing was written", exit_code=130)
            return _report_error(interrupted, True, kind="interrupted")
        sys.stderr.write("\ninterrupted; nothing was written\n")
        return 130
    return code if isinstance(code, int) else 0


def _usage_hint(exc: Exception) -> str | None:
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return "offerctl --help lists the commands"
    return f"{ctx.command_path} --help lists its options"


def _report_error(exc: OfferctlError, as_json: bool, *, kind: str | None = None) -> int:
    if as_json:
        import json

        payload = exc.as_json()
        if kind is not None:
            payload["code"] = kind
        sys.stdout.write(json.dumps({"ok": False, "error": payload}, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return exc.exit_code
    from rich.markup import escape

    from offerctl.cli._app import stderr_console

    console = stderr_console()
    console.print(f"[bold red]error:[/] {escape(str(exc))}")
    for detail in exc.details:
        console.print(f"  - {escape(detail)}")
    if exc.hint:
        console.print(f"  [dim]hint:[/] {escape(exc.hint)}")
    return exc.exit_code


def main() -> None:
    sys.exit(run())


__all__ = ["COMMAND_ORDER", "app", "command_name", "main", "run"]
