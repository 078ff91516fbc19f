"""`offerctl init`, `new`, `show`, `list`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from offerctl.cli._app import (
    Format,
    FormatOption,
    NoCommitOption,
    NoInputOption,
    RepoOption,
    app,
    echo,
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
) -> None:
    """Create a new offer repository: git, offerctl.yaml, starter policies and templates."""
    from offerctl.core.errors import UsageError
    from offerctl.setup.ci import PROVIDERS, add_workflow
    from offerctl.setup.scaffold import init_repo
    from offerctl.store.repo import CONFIG_NAME

    if ci is not None and ci not in PROVIDERS:
        raise UsageError(f"--ci {ci}: unknown CI provider", hint=f"choose one of: {', '.join(PROVIDERS)}")
    if ci is not None and (directory / CONFIG_NAME).is_file():
        added = add_workflow(directory.resolve(), ci, commit=not no_commit)
        done = f"committed {added.commit[:12]}" if added.commit else "staged"
        stderr_console().print(f"wrote {added.path} ({done})")
        return
    result = init_repo(directory, commit=not no_commit)
    if ci is not None:
        added = add_workflow(result.root, ci, commit=result.commit is not None)
        stderr_console().print(f"wrote {added.path}")
    console = stderr_console()
    if result.git_initialised:
        console.print(f"initialised a git repository in {result.root}")
    console.print(f"created {len(result.created)} files in {result.root}")
    if result.commit:
        console.print(f"committed {result.commit[:12]}")
    else:
        console.print("files are staged; commit them when ready")
    console.print("next: edit offerctl.yaml and policies/, then `offerctl new`")


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
    """Create an offer: validate the intake, prompt for what is missing, write and commit it."""
    from offerctl.checks.offer import reference_checks
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
    except Exception:
        user_email = None
    checks = reference_checks(target, policies)
    draft = offers.assemble(target, policies, base, values, user_email=user_email, reference_checks=checks)
    if not draft.ok and interactive(no_input):
        draft = _prompt_until_valid(target, policies, base, values, user_email, draft)
    if not draft.ok:
        console = stderr_console()
        console.print(
            f"[bold red]error:[/] the intake has {len(draft.problems)} problem(s); nothing was written"
        )
        for problem in draft.problems:
            console.print(f"  - {problem.message}", markup=False)
        console.print("  [dim]hint:[/] add them with --set path=value or in the --from file")
        raise typer.Exit(2)
    actor = git.identity(target.root)
    created = offers.create(target, policies, draft, actor=actor, commit=not no_commit)
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        payload: dict[str, Any] = {"id": created.offer_id, "path": created.path, "commit": created.commit}
        if imported is not None:
            payload["import"] = imported.as_json()
        echo(as_json(payload))
        return
    echo(f"created {created.path}")
    if created.commit:
        echo(f"committed {created.commit[:12]} (author: recruiter)")
    echo(f"next: offerctl route {created.offer_id}")


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


def _prompt_until_valid(
    target: Any,
    policies: Any,
    base: dict[str, Any],
    values: dict[str, Any],
    user_email: str | None,
    draft: Any,
) -> Any:
    from offerctl.checks.offer import reference_checks
    from offerctl.core.model import get_path
    from offerctl.lifecycle import intake, offers

    answers = dict(values)
    console = stderr_console()
    console.print("New offer — answer each question (Ctrl-C to abort; nothing is written until the end).")
    for _ in range(3):
        bad = {p.field for p in draft.problems}
        fields = [f for f in intake.INTAKE if f.path in bad or get_path(draft.data, f.path) in (None, "")]
        if not fields:
            break
        for field in fields:
            choices = offers.choices_for(target, policies, field.path)
            for problem in draft.problems:
                if problem.field == field.path:
                    console.print(f"  [yellow]{problem.message}[/]", markup=True)
            while True:
                label = field.prompt + (f" [{'/'.join(choices)}]" if choices else "")
                current = get_path(draft.data, field.path)
                raw = typer.prompt(label, default=str(current) if current not in (None, "") else None)
                value = intake.parse_assignments([f"{field.path}={raw}"])[field.path]
                problem_text = intake.answer_problem(field.path, value)
                if problem_text is None and choices and str(value) not in choices:
                    problem_text = f"choose one of: {', '.join(choices)}"
                if problem_text is None:
                    answers[field.path] = value
                    break
                console.print(f"  [red]{problem_text}[/]", markup=True)
        checks = reference_checks(target, policies)
        draft = offers.assemble(
            target, policies, base, answers, user_email=user_email, reference_checks=checks
        )
        if draft.ok:
            break
    return draft


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
        from offerctl.cli.views import offer_lines, offers_table

        console = stdout_console()
        if console.is_terminal:
            print_trimmed(console, offers_table(rows, console.width))
        else:
            for line in offer_lines(rows):
                echo(line)
    if findings:
        stderr_console().print(
            f"[yellow]warning:[/] {len(findings)} file(s) could not be read cleanly; run `offerctl check`"
        )
