"""Lifecycle commands: revise, accept, decline, rescind, renege, start, expire, log, export,
merge-driver, git-setup (and send, which needs the approvals engine and letters)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from offerctl.cli._app import (
    PUSH_RETRIES,
    Format,
    FormatOption,
    NoCommitOption,
    NoPromptsOption,
    PushOption,
    RepoOption,
    RetriesOption,
    app,
    echo,
    echo_pushed,
    stderr_console,
    warn_skipped,
)

IdArgument = Annotated[str, typer.Argument(metavar="ID", help="Offer id, e.g. OFF-2026-7K3QXM2B.")]


def _report(outcome: Any, format: Format, extra: dict[str, Any] | None = None) -> None:
    from offerctl.checks.reporters import as_json

    applied = outcome.applied
    pushed = outcome.pushed
    if format == Format.json:
        payload: dict[str, Any] = {
            "changed": [
                {
                    "offer": a.change.offer_id,
                    "action": a.change.action,
                    "from": str(a.change.source),
                    "to": str(a.change.target),
                    "path": a.path,
                    "commit": a.commit,
                }
                for a in applied
            ],
        }
        if outcome.as_of:
            payload["as_of"] = outcome.as_of
        if pushed is not None:
            payload["pushed"] = pushed.as_json()
        payload.update(extra or {})
        echo(as_json(payload))
        return
    for a in applied:
        where = f"committed {a.commit[:12]}" if a.commit else "staged, not committed"
        echo(f"{a.change.offer_id}: {a.change.source} → {a.change.target} ({a.change.action}; {where})")
    if outcome.as_of is not None and not applied:
        echo(f"nothing to expire as of {outcome.as_of}")
    echo_pushed(pushed)


def _open(repo: Path | None) -> Any:
    from offerctl.store.repo import open_repo

    return open_repo(repo)


def _transition(
    repo: Path | None,
    offer_id: str,
    decide: Callable[[Any], Any],
    *,
    no_commit: bool,
    push: bool,
    push_retries: int,
    format: Format,
) -> None:
    """The shape every one-offer lifecycle command shares: open the repository, build the
    decision (``decide(repo)``, which may read options or the repository's settings), apply it
    with ``transitions.transition`` (commit, optional push) and report the outcome."""
    from offerctl.lifecycle import transitions

    target = _open(repo)
    outcome = transitions.transition(
        target, offer_id, decide(target), commit=not no_commit, push=push, retries=push_retries
    )
    _report(outcome, format)


@app.command()
def revise(
    offer_id: IdArgument,
    set_: Annotated[
        list[str],
        typer.Option("--set", help="Change one field: path=value (repeatable).", show_default=False),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (e.g. counter-offer, competing offer).")],
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Change terms of a sent offer: records each field's old and new value; status → negotiating.

    Then says who must approve again and why: each approval a changed field made stale,
    and each rule the new terms trigger."""
    from offerctl.lifecycle import approval_flow, intake, transitions

    target = _open(repo)
    outcome = transitions.transition(
        target,
        offer_id,
        transitions.decide_revise(intake.parse_assignments(set_), reason),
        commit=not no_commit,
        push=push,
        retries=push_retries,
    )
    needed = approval_flow.approvals_needed(target, outcome.applied[0].change.offer_id)
    _report(outcome, format, {"approvals_needed": [n.as_json() for n in needed]})
    if format == Format.json:
        return
    if not needed:
        echo("every approval still holds: the revised terms can be sent (offerctl send)")
        return
    echo("before it can be sent again:")
    for n in needed:
        when = "" if n.open else f" (stage {n.stage}, once the earlier stages are done)"
        people = ", ".join(n.people) or "nobody"
        if n.stale:
            echo(f"  {n.role} ({people}) must re-approve — rule {n.rule}{when}")
            for detail in n.stale:
                echo(f"    stale: {detail}")
        else:
            echo(f"  {n.role} ({people}) must approve — rule {n.rule} now applies{when}: {n.why}")
    offer = outcome.applied[0].change.offer_id
    echo(f"they run: offerctl approve {offer}  (offerctl inbox lists it for them)")


@app.command()
def accept(
    offer_id: IdArgument,
    signed_on: Annotated[
        str | None,
        typer.Option(
            "--signed-on",
            help="Date the candidate signed (default: today); between the offer's creation and today.",
        ),
    ] = None,
    document: Annotated[
        Path | None,
        typer.Option("--document", help="The signed letter; its sha256 is recorded.", dir_okay=False),
    ] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """The candidate accepted: sent → accepted."""
    from offerctl.core.errors import UsageError
    from offerctl.lifecycle import transitions

    def decide(_: Any) -> Any:
        digest = None
        if document is not None:
            try:
                digest = transitions.sha256_path(document)
            except OSError as exc:
                raise UsageError(f"--document {document}: {exc.strerror}") from None
        return transitions.decide_accept(signed_on, digest)

    _transition(
        repo, offer_id, decide, no_commit=no_commit, push=push, push_retries=push_retries, format=format
    )


@app.command()
def decline(
    offer_id: IdArgument,
    reason: Annotated[
        str, typer.Option("--reason", help="Category from offerctl.yaml decline_reasons (e.g. compensation).")
    ],
    detail: Annotated[str | None, typer.Option("--detail", help="Free-text detail.")] = None,
    competing_employer: Annotated[
        str | None, typer.Option("--competing-employer", help="Who the candidate chose instead.")
    ] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """The candidate said no: sent/negotiating → declined, with a reason from the taxonomy."""
    from offerctl.lifecycle import transitions

    _transition(
        repo,
        offer_id,
        lambda target: transitions.decide_decline(target, reason, detail, competing_employer),
        no_commit=no_commit,
        push=push,
        push_retries=push_retries,
        format=format,
    )


def _with_reason(action: str, reason: str | None) -> Callable[[Any], Any]:
    from offerctl.lifecycle import transitions

    return lambda _: transitions.decide_with_reason(action, reason)


@app.command()
def rescind(
    offer_id: IdArgument,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the company withdraws the offer.")
    ] = None,
    contingency: Annotated[
        str | None,
        typer.Option("--contingency", help="Rescind for this failed contingency (e.g. background_check)."),
    ] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """The company withdraws an open offer: → rescinded. An accepted offer only for a failed
    contingency (--contingency KIND)."""
    from offerctl.lifecycle import records

    _transition(
        repo,
        offer_id,
        lambda _: records.decide_rescind(reason, contingency),
        no_commit=no_commit,
        push=push,
        push_retries=push_retries,
        format=format,
    )


@app.command()
def renege(
    offer_id: IdArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why the candidate withdrew after accepting.")],
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """The candidate withdrew after accepting: accepted → reneged."""
    _transition(
        repo,
        offer_id,
        _with_reason("renege", reason),
        no_commit=no_commit,
        push=push,
        push_retries=push_retries,
        format=format,
    )


@app.command()
def start(
    offer_id: IdArgument,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """The new hire started: accepted → started (the offer is closed). Refused while a
    contingency is pending or failed."""
    from offerctl.lifecycle import records

    _transition(
        repo,
        offer_id,
        lambda _: records.decide_start(None),
        no_commit=no_commit,
        push=push,
        push_retries=push_retries,
        format=format,
    )


@app.command()
def expire(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Close offers whose expires_on is before this date (default: today)."),
    ] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Close every open offer past its expires_on (idempotent; safe on a schedule)."""
    import datetime as dt

    from offerctl.core.clock import today
    from offerctl.core.errors import UsageError
    from offerctl.lifecycle import transitions

    try:
        date = dt.date.fromisoformat(as_of) if as_of else today()
    except ValueError:
        raise UsageError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    target = _open(repo)
    _report(transitions.expire(target, date, commit=not no_commit, push=push, retries=push_retries), format)


@app.command()
def log(
    offer_id: IdArgument,
    repo: RepoOption = None,
    format: FormatOption = Format.text,
) -> None:
    """One offer's timeline: created, field changes (old → new, commit), approvals, sends, outcome."""
    from offerctl.reports import timeline

    result = timeline.build(_open(repo), offer_id)
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        echo(as_json(result.as_json()))
    else:
        echo(timeline.render_text(result))


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


@app.command()
def export(
    repo: RepoOption = None,
    status: Annotated[str, typer.Option("--status", help="Offers in this status.")] = "accepted",
    since: Annotated[str | None, typer.Option("--since", help="Accepted on or after this date.")] = None,
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExportFormat.json,
) -> None:
    """Onboarding/HRIS handoff: accepted offers with start date, role, manager, location, pay."""
    from offerctl.reports import export as export_core

    result = export_core.collect(_open(repo), status=status, since=since)
    if format == ExportFormat.csv:
        import sys

        sys.stdout.write(export_core.to_csv(result.rows))
    else:
        from offerctl.checks.reporters import as_json
        from offerctl.core.model import to_jsonable

        echo(as_json([to_jsonable(dict(r)) for r in result.rows]))
    warn_skipped(result.findings)


@app.command("merge-driver", hidden=False)
def merge_driver(
    base: Annotated[Path, typer.Argument(help="%O: the common ancestor's version.")],
    ours: Annotated[Path, typer.Argument(help="%A: our version; the result is written here.")],
    theirs: Annotated[Path, typer.Argument(help="%B: their version.")],
    name: Annotated[str | None, typer.Argument(help="%P: the file's path in the repository.")] = None,
) -> None:
    """git merge driver for offers: union of approvals/events by time, 3-way merge of fields."""
    from offerctl.lifecycle import sync

    outcome = sync.merge_driver(base, ours, theirs, name)
    if not outcome.clean:
        console = stderr_console()
        for conflict in outcome.conflicts:
            console.print(f"offerctl merge: {name or ours}: conflict: {conflict}", markup=False)
        raise typer.Exit(1)


@app.command("git-setup")
def git_setup(repo: RepoOption = None) -> None:
    """Register offerctl's merge driver in this clone's .git/config (init does it for new repos)."""
    from offerctl.lifecycle import sync

    target = _open(repo)
    sync.install_merge_driver(target.root)
    changed = sync.ensure_attributes(target.root)
    echo("merge driver registered in .git/config")
    if sync.fetch_key_store(target.root):
        echo("git fetch now brings the erasure key store (refs/offerctl/keys) from origin")
    if changed:
        echo(f".gitattributes now has `{sync.ATTRIBUTES_LINE}`: commit it")


class Channel(StrEnum):
    email = "email"
    manual = "manual"


@app.command()
def send(
    offer_id: IdArgument,
    via: Annotated[
        Channel,
        typer.Option(
            "--via", help="email: deliver over SMTP; manual: record a letter sent outside offerctl."
        ),
    ] = Channel.email,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write out/<ID>.eml (or the PDF) instead; record nothing.")
    ] = False,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = PUSH_RETRIES,
    no_input: NoPromptsOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Send the letter: refused unless every required approval is present and fresh."""
    from offerctl.lifecycle import delivery

    result = delivery.send(
        _open(repo),
        offer_id,
        via=via.value,
        dry_run=dry_run,
        commit=not no_commit,
        push=push,
        retries=push_retries,
    )
    if format == Format.json:
        from offerctl.checks.reporters import as_json

        payload: dict[str, Any] = {
            "offer": result.offer_id,
            "channel": result.channel,
            "dry_run": result.dry_run,
            "letter_sha256": result.letter_sha256,
            "template": result.template,
            "written": list(result.written),
            "sent_to": result.recipient if not result.dry_run else None,
        }
        if result.outcome is not None:
            applied = result.outcome.applied[0]
            payload["commit"] = applied.commit
            if result.outcome.pushed is not None:
                payload["pushed"] = result.outcome.pushed.as_json()
        echo(as_json(payload))
        return
    for path in result.written:
        echo(f"wrote {path}")
    if result.dry_run:
        echo(f"dry run: nothing was sent or recorded (letter {result.letter_sha256[:12]}, {result.template})")
        return
    if result.channel == "email":
        echo(f"emailed the letter to {result.recipient}")
    if result.outcome is not None:
        _report(result.outcome, format)
