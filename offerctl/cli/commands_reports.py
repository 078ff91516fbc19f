"""`offerctl report` (metrics, HTML dashboard) and `offerctl remind` (SLA reminders)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from offerctl.cli._app import (
    AsOfOption,
    Format,
    FormatOption,
    RepoOption,
    app,
    echo,
    stderr_console,
    stdout_console,
    warn_skipped,
)


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"


def _progress() -> tuple[Any, Any]:
    """A rich progress bar on stderr for long history scans (silent when not a terminal).

    Not a terminal (scripts, CI, pipes): no bar, and rich.progress is not even imported
    (~0.1 s of start-up that ``report --format json`` in a script does not need)."""
    import os

    if (
        not sys.stderr.isatty()
        and not os.environ.get("FORCE_TERMINAL")
        and not os.environ.get("TTY_COMPATIBLE")
    ):
        import contextlib

        return contextlib.nullcontext(), None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    console = stderr_console()
    bar = Progress(
        SpinnerColumn(),
        TextColumn("reading git history"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("commits"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = bar.add_task("history", total=None)

    def update(done: int) -> None:
        bar.update(task, completed=done)

    return bar, update


@app.command()
def report(
    repo: RepoOption = None,
    as_of: AsOfOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only offers created on or after this date (YYYY-MM-DD).", show_default=False
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Only offers created on or before this date (default with --since: today).",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="Acceptance breakdown(s) to show: department, level, job_family, location, source, "
            "recruiter (repeatable; default: all).",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.text,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout.", show_default=False),
    ] = None,
) -> None:
    """Offer metrics: acceptance by segment, verbal→written delay, cycle times, approval
    latency and SLA, revisions, exceptions, declines, reneges; text, JSON or an HTML dashboard.

    Definitions: docs/metrics.md. With --since/--until the previous window of the same
    length is computed too and compared.
    """
    from offerctl.reports import report as core
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    bar, update = _progress()
    with bar:
        result = core.build(target, since=since, until=until, by=by or (), progress=update)
    if format == ReportFormat.json:
        from offerctl.checks.reporters import as_json

        text = as_json(result.as_json()) + "\n"
    elif format == ReportFormat.html:
        from offerctl.reports.dashboard import render

        text = render(result)
    else:
        from offerctl.cli.report_views import report_view

        if output is None:
            stdout_console().print(report_view(result))
            return
        import io

        from rich.console import Console

        console = Console(record=True, width=120, file=io.StringIO(), highlight=False, color_system=None)
        console.print(report_view(result))
        text = console.export_text()
    if output is None:
        if format == ReportFormat.html and sys.stdout.isatty():
            from offerctl.core.errors import UsageError

            raise UsageError("the HTML dashboard is a 5 MB file", hint="write it with -o report.html")
        echo(text)
        return
    from offerctl.store.yamlio import atomic_write

    atomic_write(output, text)
    stderr_console().print(f"wrote {output}")


@app.command()
def remind(
    repo: RepoOption = None,
    send: Annotated[
        bool, typer.Option("--send", help="Email each approver one digest (offerctl.yaml smtp: settings).")
    ] = False,
    as_of: AsOfOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Approvals waiting past their SLA (business days, public holidays skipped); escalated
    to the escalation contact after twice the SLA. Without --send it is a dry run: it shows
    who would be reminded and mails nothing. Never prompts, never commits: safe on a CI
    schedule. Exit 0 even when approvals are overdue; 2 when mail cannot be delivered."""

    from offerctl.reports import remind as core
    from offerctl.store.repo import open_repo

    result = core.run(open_repo(repo), send=send)  # --as-of pinned the clock
    warn_skipped(result.skipped)
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        echo(as_json(result.as_json()))
        return
    from offerctl.cli.report_views import remind_view

    stdout_console().print(remind_view(result, sent=send))
    if send and not result.digests:
        stderr_console().print("sent 0 reminders: nothing is overdue or due")
