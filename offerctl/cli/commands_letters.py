"""`offerctl render`: an offer's letter as Markdown, HTML or PDF."""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from offerctl.cli._app import RepoOption, app, echo, stderr_console


class RenderFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"
    json = "json"


_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf"}


@app.command()
def render(
    offer_id: Annotated[str, typer.Argument(help="Offer id, e.g. OFF-2026-6RM1PQ9C.")],
    repo: RepoOption = None,
    format: Annotated[
        RenderFormat,
        typer.Option(
            "--format",
            "-f",
            help="md, html or pdf: the letter itself. json: a report (template, letter version, "
            "output path); the letter is then written to -o in the format of its suffix.",
        ),
    ] = RenderFormat.md,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the letter to this file ('-' for stdout). Default: stdout for md and "
            "html, out/<ID>.pdf in the repository for pdf.",
            show_default=False,
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Say which template was chosen and why (the letter only with -o)."),
    ] = False,
    written_on: Annotated[
        str | None,
        typer.Option(
            "--written-on",
            help="Date the letter (YYYY-MM-DD). Default: from the offer (its sent event, "
            "else its latest approval or event), never the clock.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Render an offer's letter (template chosen by offerctl.yaml letters.rules).

    Exit 2 with the template file and line when a template is broken; nothing is written.
    """
    from offerctl.checks import reporters
    from offerctl.core.errors import UsageError
    from offerctl.letters import render as letters
    from offerctl.store.repo import open_repo

    date = None
    if written_on is not None:
        try:
            date = dt.date.fromisoformat(written_on)
        except ValueError:
            raise UsageError(f"--written-on {written_on!r} is not a date", hint="use YYYY-MM-DD") from None
    doc_format = format.value
    if format == RenderFormat.json:
        suffix = Path(output).suffix.lower() if output and output != "-" else ".md"
        if suffix not in _SUFFIXES:
            raise UsageError(
                f"cannot tell the letter format from {output!r}",
                hint="name the output .md, .html or .pdf",
            )
        doc_format = _SUFFIXES[suffix]
    root = open_repo(repo)
    offer, letter = letters.render_offer(root, offer_id, doc_format, written_on=date)  # type: ignore[arg-type]

    target: Path | None = None
    to_stdout = output == "-"
    if output and output != "-":
        target = Path(output)
    elif output is None and not explain and format != RenderFormat.json:
        if doc_format == "pdf":
            target = root.root / "out" / f"{offer.id}.pdf"
        else:
            to_stdout = True
    if target is not None:
        letters.write_output(target, letter.content)
    elif to_stdout and format != RenderFormat.json:
        sys.stdout.buffer.write(letter.content)
        sys.stdout.flush()

    if format == RenderFormat.json:
        echo(reporters.as_json(letters.summary(offer, letter, str(target) if target else None)))
    elif explain:
        assert letter.selection is not None
        echo(letter.selection.explain())
        echo(f"locale: {letter.locale}")
        echo(f"letter version: {letter.sha256}")
    if target is not None and format != RenderFormat.json:
        stderr_console().print(f"wrote {target} (letter version {letter.sha256[:12]})", markup=False)
