"""`offerctl codeowners`: who must review policy changes and each offer (CODEOWNERS)."""

from __future__ import annotations

from typing import Annotated

import typer

from offerctl.cli._app import Format, FormatOption, NoCommitOption, RepoOption, app, echo, stderr_console


@app.command()
def codeowners(
    repo: RepoOption = None,
    write: Annotated[
        bool, typer.Option("--write", help="Write .github/CODEOWNERS and commit it (instead of printing).")
    ] = False,
    no_commit: NoCommitOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Print (or --write) a CODEOWNERS file: policies/, offerctl.yaml, templates and .github/
    to the policy owners, each offer to its hiring manager, recruiter and approvers."""
    from offerctl.checks import reporters
    from offerctl.setup import codeowners as core
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    result = core.build(target)
    console = stderr_console()
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
    if not write:
        echo(reporters.as_json(result.as_json()) if format == Format.json else result.text)
        return
    commit = core.write(target, result, commit=not no_commit)
    if format == Format.json:
        echo(reporters.as_json({**result.as_json(), "commit": commit}))
        return
    done = f"committed {commit[:12]}" if commit else ("unchanged" if not no_commit else "staged")
    console.print(
        f"wrote {core.PATH}: {result.offers} offers, policy owners {', '.join(result.policy_owners)} ({done})"
    )
