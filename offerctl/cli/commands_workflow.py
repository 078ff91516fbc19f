"""Workflow records: `competing`, `touch`, `contingency` (facts about the candidate side of an
offer, appended as events), and `policy-diff` (what a policy change does to offers in flight)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from offerctl.cli._app import (
    Format,
    FormatOption,
    NoCommitOption,
    PushOption,
    RepoOption,
    RetriesOption,
    app,
    echo,
)
from offerctl.cli.commands_lifecycle import IdArgument, _open, _report


def _record(
    repo: Any, offer_id: str, decide: Any, *, no_commit: bool, push: bool, push_retries: int, format: Format
) -> None:
    from offerctl.lifecycle import records

    target = _open(repo)
    outcome = records.record(target, offer_id, decide, commit=not no_commit, push=push, retries=push_retries)
    if format == Format.json:
        _report(outcome, format)
        return
    for a in outcome.applied:
        where = f"committed {a.commit[:12]}" if a.commit else "staged, not committed"
        echo(f"{a.change.offer_id}: recorded {a.change.subject.split(': ', 1)[-1]} ({where})")
    if outcome.pushed is not None:
        echo(f"pushed to {outcome.pushed.remote}/{outcome.pushed.branch}")


class Stage(StrEnum):
    interviewing = "interviewing"
    offer_in_hand = "offer_in_hand"
    deadline = "deadline"


@app.command()
def competing(
    offer_id: IdArgument,
    employer: Annotated[str, typer.Option("--employer", help="The other employer.")],
    stage: Annotated[
        Stage, typer.Option("--stage", help="How far the candidate is with them.")
    ] = Stage.interviewing,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="When the candidate must answer them (YYYY-MM-DD).")
    ] = None,
    base: Annotated[str | None, typer.Option("--base", help="Their base salary, if known (185000).")] = None,
    base_max: Annotated[
        str | None,
        typer.Option("--base-max", help="Upper end when only a range is known (--base is the lower)."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency of --base (default: the offer's).")
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="Anything else known (equity, sign-on…).")
    ] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = 5,
    format: FormatOption = Format.text,
) -> None:
    """Record a competing offer the candidate told you about (an event: when, by whom).

    Record it again with a new --stage or --deadline as you learn more; `status` and `remind`
    flag a competing deadline sooner than ours, `headroom` shows the gap to their base.
    """
    from offerctl.lifecycle import records

    decide = records.decide_competing(
        employer, stage.value, deadline=deadline, base=base, base_max=base_max, currency=currency, note=note
    )
    _record(repo, offer_id, decide, no_commit=no_commit, push=push, push_retries=push_retries, format=format)


class Via(StrEnum):
    call = "call"
    email = "email"
    message = "message"
    meeting = "meeting"


@app.command()
def touch(
    offer_id: IdArgument,
    via: Annotated[Via, typer.Option("--via", help="How you were in touch with the candidate.")],
    note: Annotated[str | None, typer.Option("--note", help="A short note (what was said).")] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = 5,
    format: FormatOption = Format.text,
) -> None:
    """Log contact with the candidate. `remind` lists candidates of approved, sent and
    negotiating offers not contacted within offerctl.yaml contact.cadence_business_days (2)."""
    from offerctl.lifecycle import records

    decide = records.decide_touch(via.value, note)
    _record(repo, offer_id, decide, no_commit=no_commit, push=push, push_retries=push_retries, format=format)


class ContingencyAction(StrEnum):
    add = "add"
    clear = "clear"
    fail = "fail"


class Kind(StrEnum):
    background_check = "background_check"
    references = "references"
    right_to_work = "right_to_work"
    visa = "visa"
    other = "other"


@app.command()
def contingency(
    offer_id: IdArgument,
    action: Annotated[ContingencyAction, typer.Argument(help="add (pending), clear or fail.")],
    kind: Annotated[Kind, typer.Argument(help="What the offer is conditional on.")],
    note: Annotated[
        str | None, typer.Option("--note", help="Detail; required for fail (it becomes the rescind reason).")
    ] = None,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = 5,
    format: FormatOption = Format.text,
) -> None:
    """Record a contingency of the offer and its outcome. `start` needs every one cleared;
    a failed one ends the offer with `rescind ID --contingency KIND`."""
    from offerctl.lifecycle import records

    decide = records.decide_contingency(action.value, kind.value, note)
    _record(repo, offer_id, decide, no_commit=no_commit, push=push, push_retries=push_retries, format=format)
