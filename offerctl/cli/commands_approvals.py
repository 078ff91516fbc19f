"""`offerctl route`, `approve`, `reject`, `submit`, `status`, `inbox`, `headroom`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from offerctl.cli._app import (
    AsOfOption,
    Format,
    FormatOption,
    NoCommitOption,
    PushOption,
    RepoOption,
    RetriesOption,
    app,
    echo,
    echo_pushed,
)

OfferId = Annotated[str, typer.Argument(metavar="ID", help="Offer id, e.g. OFF-2026-7K3QXM2B.")]


def _json(value: Any) -> None:
    from offerctl.checks.reporters import as_json

    echo(as_json(value))


@app.command("route")
def route_cmd(
    offer_id: OfferId,
    repo: RepoOption = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="What-if: route as if path=value (repeatable); nothing is written.",
            show_default=False,
        ),
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """Explain who must approve an offer, why, in which order, and which approvals hold."""
    from offerctl.lifecycle import intake
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    overrides = intake.parse_assignments(set_ or [])
    for path in overrides:
        if not intake.known_field(path):
            from offerctl.core.errors import UsageError

            raise UsageError(f"--set {path}: unknown field", hint="paths look like compensation.base_salary")
    offer = loader.load_offer(target, offer_id)
    policy, _ = load_policy_set(target)
    result = route(target, policy, offer, overrides=overrides, need_plaintext=True)
    if format == Format.json:
        _json(
            result.as_json() | {"status": offer.status, "what_if": {k: str(v) for k, v in overrides.items()}}
        )
        return
    from offerctl.cli.approvals_views import route_text

    echo(route_text(result, offer.status, overrides, policy))


@app.command()
def approve(
    offer_id: OfferId,
    repo: RepoOption = None,
    role: Annotated[
        str | None, typer.Option("--role", help="Approve as this role (when you hold several).")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="A note kept with the approval.")] = None,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key", envvar="OFFERCTL_SIGNING_KEY", help="SSH private key to sign the approval with."
        ),
    ] = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = 5,
    format: FormatOption = Format.text,
) -> None:
    """Approve an offer as the current git identity (for the open stage's requirements).

    With --push, two approvers approving at the same moment from two clones both land: the
    approval is decided again on the latest remote version and pushed, retried on rejection.
    """
    from offerctl.lifecycle import approval_flow
    from offerctl.store.repo import open_repo

    result = approval_flow.approve(
        open_repo(repo),
        offer_id,
        role=role,
        comment=comment,
        sign_key=sign_key,
        commit=not no_commit,
        push=push,
        retries=push_retries,
    )
    if format == Format.json:
        _json(result.as_json())
        return
    behalf = f" on behalf of {result.on_behalf_of}" if result.on_behalf_of else ""
    signed = " (signed)" if result.signed else ""
    echo(f"approved {result.offer_id} as {result.role}{behalf}{signed}: rules {', '.join(result.rules)}")
    echo(f"status: {result.status}")
    from offerctl.cli.approvals_views import waiting_lines

    for line in waiting_lines(result.waiting):
        echo(line)
    if result.commit:
        echo(f"committed {result.commit[:12]} (author: {result.by})")
    echo_pushed(result.pushed)


@app.command()
def reject(
    offer_id: OfferId,
    comment: Annotated[str, typer.Option("--comment", help="Why the offer goes back (required).")],
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = 5,
    format: FormatOption = Format.text,
) -> None:
    """Send an offer back to draft with the reason; approvals must then be given afresh."""
    from offerctl.lifecycle import approval_flow
    from offerctl.store.repo import open_repo

    result = approval_flow.reject(
        open_repo(repo), offer_id, comment=comment, commit=not no_commit, push=push, retries=push_retries
    )
    if format == Format.json:
        _json(result.as_json())
        return
    echo(f"rejected {result.offer_id} as {result.role}; status: draft")
    if result.commit:
        echo(f"committed {result.commit[:12]} (author: {result.by})")
    echo_pushed(result.pushed)


@app.command()
def submit(
    offer_id: OfferId,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    push: PushOption = False,
    push_retries: RetriesOption = 5,
    format: FormatOption = Format.text,
) -> None:
    """Submit a draft for approval (draft → pending_approval) and say who acts first."""
    from offerctl.lifecycle import approval_flow
    from offerctl.store.repo import open_repo

    result = approval_flow.submit(
        open_repo(repo), offer_id, commit=not no_commit, push=push, retries=push_retries
    )
    if format == Format.json:
        _json(result.as_json())
        return
    echo(f"submitted {result.offer_id}; status: {result.status}")
    from offerctl.cli.approvals_views import waiting_lines

    for line in waiting_lines(result.waiting):
        echo(line)
    if result.commit:
        echo(f"committed {result.commit[:12]} (author: {result.by})")
    echo_pushed(result.pushed)


@app.command()
def status(repo: RepoOption = None, as_of: AsOfOption = None, format: FormatOption = Format.text) -> None:
    """Every open offer: stage, who it waits on, business days waiting, SLA breaches (!)."""
    from offerctl.lifecycle import approval_flow
    from offerctl.store.repo import open_repo

    rows = approval_flow.status_rows(open_repo(repo))
    if format == Format.json:
        _json([r.as_json() for r in rows])
        return
    from offerctl.cli.approvals_views import status_text

    echo(status_text(rows))


@app.command()
def inbox(repo: RepoOption = None, as_of: AsOfOption = None, format: FormatOption = Format.text) -> None:
    """What awaits you (the current git identity), oldest first: candidate, role and pay,
    how long it has waited, and the SLA."""
    from offerctl.lifecycle import approval_flow
    from offerctl.store import git, loader
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    me = git.identity(target.root).email
    rows = approval_flow.inbox(target, me)
    # someone offerctl does not know gets told so, instead of an empty inbox that looks
    # like "nothing to do"
    listed = bool(rows) or me.lower() in loader.load_policies(target).people()
    if format == Format.json:
        _json({"for": me.lower(), "listed": listed, "items": [r.as_json() for r in rows]})
        return
    if not listed:
        echo(f"you are not an approver in policies/approvers.yaml (you are {me.lower()})")
        echo(
            "  hint: check `git config user.email` (or GIT_AUTHOR_EMAIL), or ask a policy owner "
            "to add you to policies/approvers.yaml"
        )
        return
    from offerctl.cli.approvals_views import inbox_text
    from offerctl.core.clock import today

    offers = {r.offer_id: loader.load_offer(target, r.offer_id) for r in rows}
    echo(inbox_text(me.lower(), rows, offers, today()))


@app.command()
def headroom(offer_id: OfferId, repo: RepoOption = None, format: FormatOption = Format.text) -> None:
    """How far base, sign-on and equity can move before another approval is needed, and whose."""
    from offerctl.policy import routing as routing_mod
    from offerctl.policy.load import load_policy_set
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    offer = loader.load_offer(target, offer_id)
    policy, _ = load_policy_set(target)
    result = routing_mod.headroom(target, policy, offer)
    if format == Format.json:
        _json(result.as_json())
        return
    from offerctl.cli.approvals_views import headroom_text

    echo(headroom_text(result))
