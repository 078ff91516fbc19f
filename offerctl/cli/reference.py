"""The command reference, ``docs/cli.md``, generated from the commands' own help.

Regenerate it after changing any command, option, argument or help text::

    .venv/bin/python -m offerctl.cli.reference            # rewrites docs/cli.md
    .venv/bin/python -m offerctl.cli.reference --check    # exit 1 when it is out of date

The text is built from the click command tree that typer makes of ``offerctl.cli.app``
(duck-typed: recent typer versions carry their own copy of click, older ones use click):
usage, description (docstring and epilog), arguments and options, each from the same help
record ``--help`` prints. It never goes through a terminal formatter, so it does not depend
on the terminal's width, on colour settings or on any environment variable: regenerating it
on any machine gives the same bytes. ``tests/test_docs.py`` fails when the file is stale.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import typer

from offerctl.cli.help import OTHER_PANEL, PANELS

REGENERATE = ".venv/bin/python -m offerctl.cli.reference"
"""The one command that rewrites docs/cli.md (quoted by the docs test when it is stale)."""

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "cli.md"

# Where each command is listed when it does not name a help panel of its own (typer's
# ``rich_help_panel``; a command that names one is listed under that name instead): the
# panels of ``offerctl --help`` (offerctl.cli.help.PANELS).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (panel, tuple(name for name, _ in commands)) for panel, commands in PANELS
)
OTHER = OTHER_PANEL

_WIDTH = 100  # only for click contexts; nothing below wraps text


def _group_of(name: str, command: Any) -> str:
    panel = getattr(command, "rich_help_panel", None)
    if isinstance(panel, str) and panel:
        return panel
    for group, names in GROUPS:
        if name in names:
            return group
    return OTHER


def _context(command: Any, name: str, parent: Any) -> Any:
    return command.context_class(
        command,
        info_name=name,
        parent=parent,
        terminal_width=_WIDTH,
        max_content_width=_WIDTH,
        color=False,
    )


def _escape(text: str, *, table: bool = False) -> str:
    """Markdown-safe text: outside `code spans` escape what Markdown would swallow."""
    parts = re.split(r"(`[^`]*`)", text)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            part = re.sub(r"([\\<>*|])", r"\\\1", part)
        elif table:
            part = part.replace("|", "\\|")
        out.append(part)
    return "".join(out)


def _paragraphs(text: str) -> Iterator[str]:
    """click's help conventions as Markdown: a paragraph after a line holding only ``\\b``
    keeps its lines (examples, lists) and becomes a text block; other paragraphs are one
    line of text; everything after ``\\f`` is not help."""
    text = text.split("\f", 1)[0]
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            body = "\n".join(lines[1:]).rstrip()
            if body:
                yield f"```text\n{body}\n```"
        elif block.strip():
            yield _escape(" ".join(line.strip() for line in lines))


def _table(title: str, rows: Sequence[tuple[str, str]]) -> list[str]:
    if not rows:
        return []
    lines = [f"| {title} | description |", "| --- | --- |"]
    for names, help_text in rows:
        cell = _escape(re.sub(r"\s+", " ", help_text).strip(), table=True) or " "
        code = names.replace("|", "\\|")
        lines.append(f"| `{code}` | {cell} |")
    return [*lines, ""]


def _records(command: Any, ctx: Any, kind: str) -> list[tuple[str, str]]:
    """The help records of ``command``'s parameters of one kind (``argument``, ``option``)."""
    help_option = command.get_help_option(ctx)
    rows: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        if param.param_type_name != kind or param is help_option or getattr(param, "hidden", False):
            continue
        record = param.get_help_record(ctx)
        if record is None:  # a plain click argument has no help: name it anyway
            record = (param.make_metavar(ctx), "")
        rows.append(record)
    return rows


def _section(command: Any, ctx: Any, level: int) -> list[str]:
    path: str = ctx.command_path
    lines = [f"{'#' * level} `{path}`", ""]
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    lines += ["```text", usage, "```", ""]
    if command.deprecated:
        lines += ["**Deprecated.**", ""]
    for text in (command.help, command.epilog):
        for paragraph in _paragraphs(text or ""):
            lines += [paragraph, ""]
    lines += _table("argument", _records(command, ctx, "argument"))
    lines += _table("option", _records(command, ctx, "option"))
    return lines


def _commands(group: Any, ctx: Any) -> Iterator[tuple[str, Any]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            yield name, command


def _anchor(path: str) -> str:
    """GitHub's heading anchor for ``### `offerctl git-setup` `` → ``offerctl-git-setup``."""
    return re.sub(r"[^a-z0-9 _-]", "", path.lower()).replace(" ", "-")


def _subtree(command: Any, ctx: Any, level: int) -> list[str]:
    lines = _section(command, ctx, level)
    if hasattr(command, "list_commands"):  # a group of subcommands
        for name, sub in _commands(command, ctx):
            lines += _subtree(sub, _context(sub, name, ctx), level + 1)
    return lines


def render(app: typer.Typer | None = None) -> str:
    """docs/cli.md as text, from ``app`` (default: offerctl's own)."""
    if app is None:
        from offerctl.cli import app as offerctl_app

        app = offerctl_app
    root = typer.main.get_command(app)
    root_ctx = _context(root, "offerctl", None)

    grouped: dict[str, list[tuple[str, Any]]] = {group: [] for group, _ in GROUPS}
    for name, command in _commands(root, root_ctx):
        grouped.setdefault(_group_of(name, command), []).append((name, command))
    grouped = {group: members for group, members in grouped.items() if members}

    lines = [
        "# Command reference",
        "",
        "<!-- Generated from the commands' own help by `python -m offerctl.cli.reference`;",
        "     do not edit by hand: change the help text in offerctl/cli/ and regenerate. -->",
        "",
        "Every command also takes `-h`/`--help`, which prints the same text. Exit codes and",
        "environment variables: [README](../README.md#exit-codes).",
        "",
    ]
    for group, members in grouped.items():
        links = ", ".join(f"[`{name}`](#{_anchor('offerctl ' + name)})" for name, _ in members)
        lines.append(f"- **{group}**: {links}")
    lines.append("")
    lines += _section(root, root_ctx, 2)
    for group, members in grouped.items():
        lines += [f"## {group}", ""]
        for name, command in members:
            lines += _subtree(command, _context(command, name, root_ctx), 3)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offerctl.cli.reference", description="Write docs/cli.md from the commands' help."
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default: %(default)s")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    output: Path = args.output
    current = output.read_text("utf-8") if output.is_file() else None
    if args.check:
        if current == text:
            print(f"{output}: up to date")
            return 0
        print(f"{output}: out of date; regenerate it with: {REGENERATE}", file=sys.stderr)
        return 1
    if current != text:
        output.write_text(text, "utf-8")
        print(f"wrote {output}")
    else:
        print(f"{output}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
