"""`offerctl check` and `offerctl schema`."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from offerctl.cli._app import AsOfOption, RepoOption, app, echo

if TYPE_CHECKING:
    from offerctl.store.repo import Repo


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


@app.command()
def check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Offer files or directories (default: all offers).")
    ] = None,
    repo: RepoOption = None,
    format: Annotated[
        CheckFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="text, json or github (annotations; the default when GITHUB_ACTIONS=true).",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=0, help="Processes for checking offers (0: one per core)."),
    ] = 0,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Check every file again; do not read or write the result cache."),
    ] = False,
    verify_history: Annotated[
        bool | None,
        typer.Option(
            "--verify-history/--no-verify-history",
            help="Verify every approval and event line against git history: append-only, "
            "committed by the approver (default: on when CI=true).",
            show_default=False,
        ),
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            metavar="REF",
            help="Check only offers changed since REF (all when policies/, letter_templates/ "
            "or offerctl.yaml changed); history is verified from REF on.",
        ),
    ] = None,
    as_of: AsOfOption = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="List every check skipped on a confidential offer for want of a key (V701) "
            "instead of a summary (JSON always lists them).",
        ),
    ] = False,
    policy_ref: Annotated[
        str | None,
        typer.Option(
            "--policy-ref",
            metavar="REF",
            help="Evaluate offerctl.yaml and policies/ as they stand on REF (default: "
            "origin/$GITHUB_BASE_REF when GITHUB_BASE_REF is set).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate every offer and policy file; report findings with file and line.

    Exit 0 when there are no errors (warnings allowed), 1 when there are, 2 when the
    repository cannot be read (or is a shallow clone where history is needed).
    """
    from offerctl.checks import reporters
    from offerctl.checks import runner as core
    from offerctl.store.repo import open_repo

    if format is None:
        format = CheckFormat.github if os.environ.get("GITHUB_ACTIONS") == "true" else CheckFormat.text
    if verify_history is None:
        verify_history = os.environ.get("CI", "").lower() == "true"
    if policy_ref is None and os.environ.get("GITHUB_BASE_REF"):
        policy_ref = f"origin/{os.environ['GITHUB_BASE_REF']}"
    target = open_repo(repo)
    result = core.run(
        target,
        paths or (),
        jobs=jobs or None,
        cache=not no_cache,
        verify_history=verify_history,
        changed_since=changed_since,
        policy_ref=policy_ref,
    )
    if format == CheckFormat.json:
        echo(reporters.as_json(result.as_json()))
    elif format == CheckFormat.github:
        echo(reporters.github(result.findings, result.checked, verbose=verbose))
    else:
        echo(reporters.text(result.findings, result.checked, verbose=verbose))
        _say_pinned_date()
        _say_seed(target)
        if not verify_history:
            sys.stdout.flush()
            from offerctl.cli._app import stderr_console

            stderr_console().print(
                "note: git history NOT verified; CI=true or --verify-history verifies it",
                highlight=False,
                markup=False,
            )
    raise typer.Exit(0 if result.ok else 1)


def _say_seed(target: Repo) -> None:
    """A committed demo seed of the erasure key store: erasure is not effective for its
    offers. Said on every text run (a note, not a finding: the demo is meant to pass)."""
    if not target.setting("privacy.key_store.seed"):
        return
    from offerctl.cli._app import stderr_console
    from offerctl.lifecycle.confidential import seed_note

    sys.stdout.flush()
    stderr_console().print(f"note: {seed_note(target)}", highlight=False, markup=False)


def _say_pinned_date() -> None:
    """A pinned clock changes what `check` finds (expiries): say so, on stderr."""
    from offerctl.cli._app import stderr_console
    from offerctl.core import clock

    pinned = clock.current_pin()
    if pinned is not None:
        sys.stdout.flush()
        stderr_console().print(f"note: checked as of {pinned.day} ({pinned.source})", highlight=False)


class SchemaName(StrEnum):
    offer = "offer"
    routing = "routing"
    bands = "bands"
    approvers = "approvers"
    config = "config"
    budgets = "budgets"


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which schema to print.")] = SchemaName.offer,
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Write every schema into this directory instead of printing."),
    ] = None,
) -> None:
    """Print a JSON Schema (Draft 2020-12) for editors and other tools.

    Point yaml-language-server at it with a modeline:
    `# yaml-language-server: $schema=../schemas/offer.schema.json`
    """
    from offerctl.store import schema as schemas
    from offerctl.store.yamlio import atomic_write

    if write is not None:
        for each in schemas.SCHEMA_NAMES:
            atomic_write(write / f"{each}.schema.json", schemas.schema_text(each))
        echo(f"wrote {len(schemas.SCHEMA_NAMES)} schemas to {write}")
        return
    echo(schemas.schema_text(name.value))
