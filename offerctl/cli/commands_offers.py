"""`offerctl init`, `new`, `show`, `list`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from offerctl.cli._app import (
    Format,
    FormatOption,
    NoCommitOption,
    NoInputOption,
    PushOption,
    RepoOption,
    RetriesOption,
    app,
    echo,
    echo_pushed,
    interactive,
    print_trimmed,
    stderr_console,
    stdout_console,
)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the repository.")] = Path("."),
    no_commit: NoCommitOption = False,
    ci: Annotated[
        str | None,
        typer.Option(
            "--ci",
            metavar="PROVIDER",
            help="Also write a CI workflow that runs `offerctl check` on pull requests "
            "(github: .github/workflows/offerctl.yml). In an existing offer repository, "
            "only the workflow is written.",
        ),
    ] = None,
    ci_install: Annotated[
        str | None,
        typer.Option(
            "--ci-install",
            metavar="SPEC",
            help="The pip requirement the workflow installs (default: the source this offerctl "
            "came from, or its released version), e.g. 'offerctl @ git+https://host/offerctl@v1.2'.",
        ),
    ] = None,
) -> None:
    """Create a new offer repository: git, offerctl.yaml, starter policies and templates.

    Adds you (your git identity) to policies/approvers.yaml as a recruiter. For CI, run
    `offerctl init --ci github` in the repository (a workflow running `offerctl check` on
    every pull request); for checks before each commit, add offerctl's pre-commit hook
    (id offerctl-check) to .pre-commit-config.yaml — docs/ci.md shows both.
    """
    from offerctl.core.errors import UsageError
    from offerctl.setup.ci import PROVIDERS, add_workflow
    from offerctl.setup.scaffold import init_repo
    from offerctl.store.repo import CONFIG_NAME

    if ci is not None and ci not in PROVIDERS:
        raise UsageError(f"--ci {ci}: unknown CI provider", hint=f"choose one of: {', '.join(PROVIDERS)}")
    if ci_install is not None and ci is None:
        raise UsageError("--ci-install goes with --ci", hint="offerctl init --ci github --ci-install SPEC")
    if ci is not None and (directory / CONFIG_NAME).is_file():
        added = add_workflow(directory.resolve(), ci, commit=not no_commit, install=ci_install)
        done = f"committed {added.commit[:12]}" if added.commit else "staged"
        stderr_console().print(f"wrote {added.path} ({done})")
        _say_workflow(added)
        return
    result = init_repo(directory, commit=not no_commit)
    if ci is not None:
        added = add_workflow(result.root, ci, commit=result.commit is not None, install=ci_install)
        stderr_console().print(f"wrote {added.path}")
        _say_workflow(added)
    console = stderr_console()
    if result.git_initialised:
        console.print(f"initialised a git repository in {result.root}")
    console.print(f"created {len(result.created)} files in {result.root}")
    if result.commit:
        console.print(f"committed {result.commit[:12]}")
    else:
        console.print("files are staged; commit them when ready")
    if result.person:
        console.print(
            f"added you ({result.person}) to policies/approvers.yaml as a person with the role "
            f"{', '.join(result.roles)}, so you can be an offer's recruiter",
            markup=False,
            soft_wrap=False,
        )
    else:
        console.print(
            "[yellow]note:[/] git has no user.email here, so nobody was added to "
            "policies/approvers.yaml. Before `offerctl new`, run\n"
            "  git config user.email you@example.com && git config user.name 'Your Name'\n"
            "and add yourself under people: ({email: you@example.com, name: Your Name}) "
            "and roles: recruiter: people: in policies/approvers.yaml",
            soft_wrap=False,
        )
    console.print(
        "next: `offerctl new` (your colleagues, pay bands and approval rules go in policies/ "
        "when you are ready; `offerctl check` validates them)",
        markup=False,
        soft_wrap=False,
    )


def _say_workflow(added: Any) -> None:
    console = stderr_console()
    branch = f"pushes to {added.branch}" if added.branch else "pushes to any branch"
    console.print(
        f"it checks every pull request and {branch}; CI installs: {added.install.requirement}",
        markup=False,
        soft_wrap=False,
    )
    if added.install.warning:
        console.print(f"warning: {added.install.warning}", style="yellow", markup=False, soft_wrap=False)


@app.command()
def new(
    repo: RepoOption = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Intake file (YAML or JSON) with offer fields, or an ATS export (--ats)."
        ),
    ] = None,
    ats: Annotated[
        str | None,
        typer.Option(
            "--ats",
            help="--from is this ATS's export, mapped by offerctl.yaml import.<ATS> (e.g. greenhouse).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Set one field: path=value (repeatable).", show_default=False),
    ] = None,
    no_input: NoInputOption = False,
    no_commit: NoCommitOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Create an offer: validate the intake, prompt for what is missing, write and commit it.

    On a terminal, each missing field is asked for (choices as a numbered menu, defaults in
    [brackets], `<` goes back, Ctrl-D aborts) and a summary is confirmed before writing.
    """
    from offerctl.checks.offer import draft_warnings, reference_checks
    from offerctl.core.errors import GitError, UsageError
    from offerctl.lifecycle import intake, offers
    from offerctl.store import git, loader
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    policies = loader.load_policies(target)
    imported = _ats_import(target, from_file, ats)
    base = imported.intake() if imported else offers.read_intake_file(from_file) if from_file else {}
    if imported is not None and format != Format.json:
        _print_import(imported)
    values = intake.parse_assignments(set_ or [])
    try:
        user_email: str | None = git.identity(target.root).email
    except GitError:  # no identity yet: the intake asks for the recruiter
        user_email = None
    checks = reference_checks(target, policies)

    def assemble(answers: dict[str, Any]) -> Any:
        return offers.assemble(
            target, policies, base, answers, user_email=user_email, reference_checks=checks
        )

    warn = draft_warnings(target, policies)

    def warnings(draft: Any) -> list[str]:
        return [f.message for f in warn(offers.preview(target, draft))]

    draft = assemble(values)
    if interactive(no_input) and not draft.ok:
        from offerctl.cli.intake_prompts import prompt_intake

        draft = prompt_intake(target, policies, base, values, user_email, draft, assemble, warnings)
    if not draft.ok:
        count = len(draft.problems)
        raise UsageError(
            f"the intake has {count} problem{'' if count == 1 else 's'}; nothing was written",
            details=tuple(p.message for p in draft.problems),
            hint="add them with --set path=value or in the --from file"
            + ("" if interactive(no_input) else ", or run `offerctl new` on a terminal to be asked"),
        )
    actor = git.identity(target.root)
    created = offers.create(target, policies, draft, actor=actor, commit=not no_commit)
    later = warn(loader.load_offer(target, created.offer_id))
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        payload: dict[str, Any] = {
            "id": created.offer_id,
            "path": created.path,
            "commit": created.commit,
            "warnings": [f.as_json() for f in later],
        }
        if imported is not None:
            payload["import"] = imported.as_json()
        echo(as_json(payload))
        return
    echo(f"created {created.path}")
    if created.commit:
        echo(f"committed {created.commit[:12]} (author: recruiter)")
    console = stderr_console()
    for finding in later:
        text = f"warning: {finding.code} {finding.message}"
        console.print(text, style="yellow", markup=False, highlight=False, soft_wrap=False)
    echo(f"next: offerctl submit {created.offer_id}")


def _ats_import(target: Any, from_file: Path | None, ats: str | None) -> Any:
    """An ``Imported`` when ``--from`` is an ATS export (``--ats``, or a JSON file that one
    mapping's ``detect`` recognises), else None (a plain intake file)."""
    from offerctl.core.errors import UsageError
    from offerctl.lifecycle import ats as ats_mod

    if from_file is None:
        if ats is not None:
            raise UsageError("--ats needs --from FILE (the export)")
        return None
    if ats is None and from_file.suffix.lower() != ".json":
        return None
    export = ats_mod.read_export(from_file)
    if ats is None and ats_mod.detect(target, export) is None:
        return None
    return ats_mod.convert(target, export, ats)


def _print_import(imported: Any) -> None:
    """What the import did, on stderr: never a silent drop."""
    console = stderr_console()
    console.print(f"imported {len(imported.mapped)} field(s) from the {imported.ats} export", markup=False)
    if imported.unmapped:
        console.print(
            f"  not imported ({len(imported.unmapped)} field(s) no mapping reads; add them to "
            f"import.{imported.ats}.fields or .ignore): " + ", ".join(imported.unmapped),
            markup=False,
        )
    if imported.missing:
        console.print("  absent from this export: " + ", ".join(imported.missing), markup=False)
    if imported.unmatched_values:
        console.print(
            "  values without an entry in the value map (kept as is): "
            + ", ".join(imported.unmatched_values),
            markup=False,
        )
    if imported.ignored:
        console.print(f"  {imported.ignored} field(s) ignored by the mapping", markup=False)


@app.command()
def edit(
    offer_id: Annotated[str, typer.Argument(metavar="ID", help="Offer id, e.g. OFF-2026-7K3QXM2B.")],
    set_: Annotated[
        list[str],
        typer.Option("--set", help="Change one field: path=value (repeatable).", show_default=False),
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the edited event and the commit).")
    ] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = 5,
    format: FormatOption = Format.text,
) -> None:
    """Change fields of an offer before it is sent (draft, pending or approved), validated like new.

    On an offer past draft it lists the approvals the change makes stale; an approved offer
    whose approvals no longer all hold goes back to pending_approval. After sending, use revise.
    """
    from offerctl.checks.offer import reference_checks
    from offerctl.lifecycle import drafts, intake
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    result = drafts.edit(
        target,
        offer_id,
        intake.parse_assignments(set_),
        reason=reason,
        reference_checks=reference_checks(target, loader.load_policies(target)),
        commit=not no_commit,
        push=push,
        retries=push_retries,
    )
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        echo(as_json(result.as_json()))
        return
    from offerctl.cli.approvals_views import edit_lines

    for line in edit_lines(result):
        echo(line)
    echo_pushed(result.pushed)


@app.command()
def show(
    offer_id: Annotated[str, typer.Argument(metavar="ID", help="Offer id, e.g. OFF-2026-7K3QXM2B.")],
    repo: RepoOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Show one offer: candidate, role, compensation, approvals and events.

    A rejection's reason and a closed offer's outcome come first; each approval says
    whether it still holds (a stale one names the field that changed since it was given).
    """
    from offerctl.core.model import to_jsonable
    from offerctl.lifecycle.offers import approval_states
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    offer = loader.load_offer(target, offer_id)
    from offerctl.cli import workflow_views
    from offerctl.core.clock import today
    from offerctl.lifecycle.approval_flow import offer_contact

    last_days, due = offer_contact(target, offer.data)
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        extra = workflow_views.workflow_json(offer.data, target.contact_cadence, last_days, due)
        echo(as_json(to_jsonable(dict(offer.data)) | {"workflow": extra}))
        return
    from offerctl.cli.views import offer_view

    print_trimmed(stdout_console(), offer_view(offer, approval_states(target, offer)))
    panel = workflow_views.workflow_panel(offer.data, today(), target.contact_cadence, last_days, due)
    if panel is not None:
        print_trimmed(stdout_console(), panel)


class SortOrder(StrEnum):
    id = "id"
    expiry = "expiry"
    status = "status"
    updated = "updated"


@app.command("list")
def list_(
    repo: RepoOption = None,
    status: Annotated[str | None, typer.Option("--status", help="Only offers in this status.")] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Only offers of this department.")
    ] = None,
    sort: Annotated[
        SortOrder,
        typer.Option(
            "--sort",
            help="Order: id; expiry (soonest first); status (lifecycle order); updated (latest first).",
        ),
    ] = SortOrder.id,
    format: FormatOption = Format.text,
) -> None:
    """List offers: id, status, candidate, expiry, role, department, level, country, last update.

    In a terminal, a table as wide as the terminal: columns that do not fit are left out
    (country, level, updated, department, then title) before anything is cut. Piped or
    redirected, one offer per line with every field, tab-separated and without a header, for
    grep, cut and awk.
    """
    from offerctl.core.model import Status
    from offerctl.lifecycle import offers
    from offerctl.store.repo import open_repo

    if status is not None and status not in {s.value for s in Status}:
        from offerctl.core.errors import UsageError

        raise UsageError(f"--status {status!r}: not a status; one of {', '.join(s.value for s in Status)}")
    target = open_repo(repo)
    rows, findings = offers.summaries(target, status=status, department=department, sort=sort.value)
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        echo(as_json([r.as_json() for r in rows]))
    else:
        from offerctl.cli.paging import stdout_is_terminal

        if stdout_is_terminal():
            from offerctl.cli.paging import page
            from offerctl.cli.views import offers_tables

            console = stdout_console()
            page(console, offers_tables(rows, console.width), lines=len(rows) + 1)
        else:  # piped: plain lines, written as they are made (no table, no rich)
            from offerctl.cli.plain_views import offer_lines

            write = sys.stdout.write
            for start in range(0, len(rows), 1000):
                lines = offer_lines(rows[start : start + 1000])
                write("\n".join(lines) + "\n")
    if findings:
        stderr_console().print(
            f"[yellow]warning:[/] {len(findings)} file(s) could not be read cleanly; run `offerctl check`"
        )
