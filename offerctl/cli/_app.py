"""The typer application and what every command shares: options, output, errors.

No business logic lives in ``offerctl.cli``: each command parses its options, calls one
core function, and prints what it returns.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from offerctl.lifecycle import PUSH_ATTEMPTS


def _no_type(ctx: Any) -> None:
    return None


class OfferctlGroup(TyperGroup):
    """offerctl's command group: commands listed in panels with untruncated one-line
    descriptions (typer draws panels only in its rich help, which start-up cannot afford),
    readable placeholders, and shell completion of values from the offer repository.

    Commands can be given *lazily* (``add_lazy``): typer turns a command into a click
    command by evaluating its signature (every annotation, every option), ~2 ms a
    command; a run converts only the command it runs, and ``--help`` lists the others from
    their registration (name, panel, one-line description) without converting them."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._lazy: dict[str, tuple[Any, Callable[[Any], Any]]] = {}
        for command in self.commands.values():
            _dress(command)
        _plain_coercion(self.params)
        _plain_help(self)

    def add_lazy(self, name: str, info: Any, convert: Callable[[Any], Any]) -> None:
        """Register ``info`` (a typer ``CommandInfo``) under ``name``, converted by
        ``convert`` the first time it is asked for."""
        self._lazy[name] = (info, convert)
        self.commands.setdefault(name, _PENDING)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if command is _PENDING:
            info, convert = self._lazy[cmd_name]
            command = _dress(convert(info))
            self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        from offerctl.cli import help

        visible: list[tuple[str, Any]] = []
        for name in self.list_commands(ctx):
            command: Any = self.commands.get(name)
            if command is _PENDING:
                command = _Listed(self._lazy[name][0])
            if command is not None and not command.hidden:
                visible.append((name, command))
        width = max((len(name) for name, _ in visible), default=0)
        for panel, rows in help.panel_rows(visible):
            with formatter.section(panel):  # one column width for all panels, as gh does
                formatter.write_dl([(name.ljust(width), text) for name, text in rows])


_PENDING: Any = object()
"""A lazily registered command not converted yet (``OfferctlGroup.add_lazy``)."""


def _dress(command: Any) -> Any:
    """offerctl's placeholders and value completion on a converted command."""
    from offerctl.cli import completion, help

    for param in command.params:
        metavar = help.placeholder(param)
        if metavar is not None:
            param.metavar = metavar
        if param.param_type_name == "argument" and param.metavar is not None:
            # typer prints "ID <str>" for an argument; its placeholder says enough
            setattr(param, "display_type_rich", _no_type)  # noqa: B010
    completion.attach(command.params)
    _plain_coercion(command.params)
    _plain_help(command)
    return command


def _plain_help(command: Any) -> None:
    """The help option click adds to ``command`` when a run first asks for it, with
    ``_PlainCoercion`` too."""
    make = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None:
            _plain_coercion([option])
        return option

    command.get_help_option = get_help_option


def _plain_coercion(params: Any) -> None:
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = _PlainCoercion(descriptor)


class _PlainCoercion:
    """typer's value coercion without pydantic for the values that need none.

    typer (0.2x) coerces every parameter value, defaults included, through a pydantic
    ``TypeAdapter`` it builds on first use; importing pydantic and building the adapters
    cost ~0.1 s of every command's start-up. A value that is missing, already of its type
    (a default), text for a text option, or one of an enum option's choices is returned as
    typer would return it; anything else (a number or path to convert, a wrong value and its
    error message) goes to typer's own coercion, built then. A path is made by ``Path`` (as
    pydantic would) and checked by typer's own ``coerce_cli_path``."""

    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None
        plain = self._plain(value, param, ctx) if not multiple else _NOT_PLAIN
        if plain is not _NOT_PLAIN:
            return plain
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self.descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)

    def _plain(self, value: Any, param: Any, ctx: Any) -> Any:
        from enum import Enum

        annotation, info = self.descriptor.annotation, self.descriptor.parameter_info
        if info.parser is not None or self.descriptor.file_annotation is not None:
            return _NOT_PLAIN
        if (annotation is str and type(value) is str) or (annotation is bool and type(value) is bool):
            return value
        if annotation is int and type(value) is int and not info.clamp:
            if (info.min is None or value >= info.min) and (info.max is None or value <= info.max):
                return value
            return _NOT_PLAIN
        if annotation is Path and type(value) is str and info.path_type is None:
            from typer._param_types import coerce_cli_path

            # typer's own path checks (exists=, dir_okay=, …) on the Path pydantic would make
            return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            from typer._param_types import coerce_cli_choice

            try:
                choices = list(annotation)
                return coerce_cli_choice(value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx)
            except ValueError:  # typer's coercion words the error
                return _NOT_PLAIN
        return _NOT_PLAIN


_NOT_PLAIN: Any = object()


class _Listed:
    """What the command list of ``--help`` reads of a command not converted yet: the same
    values typer's conversion would give the click command (help is the docstring)."""

    def __init__(self, info: Any) -> None:
        import inspect

        from typer.models import DefaultPlaceholder

        def value(item: Any) -> Any:
            return item.value if isinstance(item, DefaultPlaceholder) else item

        self.hidden = bool(value(info.hidden))
        self.short_help = value(info.short_help)
        self.rich_help_panel = value(info.rich_help_panel)
        text = value(info.help)
        self.help = inspect.getdoc(info.callback) if text is None else inspect.cleandoc(text)


class OfferctlTyper(typer.Typer):
    """``app(...)`` builds offerctl's group with its commands registered lazily (see
    ``OfferctlGroup``); ``typer.main.get_command(app)`` still converts every command (the
    CLI reference and the test runner use it)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return lazy_group(self)(*args, **kwargs)


def lazy_group(typer_app: typer.Typer) -> Any:
    """The click group of ``typer_app`` with its commands registered lazily."""
    import copy

    from typer.main import get_command, get_command_from_info, get_command_name

    shell = copy.copy(typer_app)
    shell.registered_commands = []
    group = get_command(shell)
    assert isinstance(group, OfferctlGroup)
    _plain_coercion(group.params)  # --install-completion and --show-completion came after __init__
    markup = typer_app.rich_markup_mode
    short = typer_app.pretty_exceptions_short

    def convert(info: Any) -> Any:
        return get_command_from_info(info, pretty_exceptions_short=short, rich_markup_mode=markup)

    for info in typer_app.registered_commands:
        assert info.callback is not None
        name = info.name or get_command_name(info.callback.__name__)
        group.add_lazy(name, info, convert)
    return group


app = OfferctlTyper(
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
PUSH_RETRIES = PUSH_ATTEMPTS
"""The default of every ``--push-retries`` (``lifecycle.PUSH_ATTEMPTS``)."""
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
    problems = list(problems)
    if not problems:
        return  # nothing to say: no need to import rich
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
