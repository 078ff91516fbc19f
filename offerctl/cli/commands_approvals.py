"""`offerctl route`, `approve`, `reject`, `submit`, `status`, `inbox`, `headroom`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from offerctl.cli._app import (
    PUSH_RETRIES,
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
    warn_skipped,
)

OfferId = Annotated[str, typer.Argument(metavar="ID", help="Offer id, e.g. OFF-2026-7K3QXM2B.")]


def _json(value: Any) -> None:
    from offerctl.checks.reporters import as_json

    echo(as_json(value))


@app.command("route")
def route_cmd(
    offer_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Offer id, e.g. OFF-2026-7K3QXM2B (or --all).")
    ] = None,
    repo: RepoOption = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="What-if: route as if path=value (repeatable; schema-checked); nothing is written.",
            show_default=False,
        ),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="Every open offer, with --policy-ref: what the policy there would change."
        ),
    ] = False,
    policy_ref: Annotated[
        str | None,
        typer.Option("--policy-ref", help="With --all: the proposed policy (a branch or commit)."),
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """Explain who must approve an offer, why, in which order, and which approvals hold.

    `route --all --policy-ref BRANCH` previews a policy change instead: every open offer
    routed under the working tree's policy and under BRANCH's (see `policy-diff`).
    """
    from offerctl.core.errors import UsageError
    from offerctl.lifecycle import intake
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    if all_:
        if offer_id is not None or set_:
            raise UsageError("--all routes every open offer; drop the ID and --set")
        if policy_ref is None:
            raise UsageError(
                "--all needs --policy-ref BRANCH (the proposed policy)", hint="or: offerctl status"
            )
        _impact(target, None, policy_ref, format)
        return
    if offer_id is None:
        raise UsageError("route needs an offer ID (or --all --policy-ref BRANCH)")
    if policy_ref is not None:
        raise UsageError("--policy-ref goes with --all", hint="offerctl route --all --policy-ref BRANCH")
    overrides = intake.parse_assignments(set_ or [])
    for path in overrides:
        if not intake.known_field(path):
            raise UsageError(f"--set {path}: unknown field", hint="paths look like compensation.base_salary")
    offer = loader.load_offer(target, offer_id)
    from offerctl.lifecycle.what_if import check_overrides

    check_overrides(offer, overrides)
    policy, _ = load_policy_set(target)
    result = route(target, policy, offer, overrides=overrides, with_budget=True, need_plaintext=True)
    if format == Format.json:
        _json(
            result.as_json() | {"status": offer.status, "what_if": {k: str(v) for k, v in overrides.items()}}
        )
        return
    from offerctl.cli.approvals_views import route_text

    echo(route_text(result, offer.status, overrides, policy))


class ImpactFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _impact(target: Any, current: str | None, proposed: str | None, format: Any) -> None:
    from offerctl.checks import impact

    result = impact.run(target, current_ref=current, proposed_ref=proposed)
    if format == "json":
        _json(result.as_json())
    elif format == "markdown":
        echo(impact.markdown(result).rstrip("\n"))
    else:
        echo(impact.text(result))


@app.command("policy-diff")
def policy_diff(
    range_: Annotated[
        str,
        typer.Argument(
            metavar="BASE[..HEAD]",
            help="Policy now (BASE) and proposed (HEAD; default: the working tree), e.g. origin/main..HEAD.",
        ),
    ],
    repo: RepoOption = None,
    format: Annotated[
        ImpactFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ImpactFormat.text,
) -> None:
    """What a policy change does to offers in flight: who gains or loses approval steps,
    which approvals on file would no longer count, which offers would become blocked.

    Offers come from the working tree; only offerctl.yaml and policies/ are taken from the
    refs. The CI workflow (`init --ci github`) posts it on pull requests that change policies/.
    """
    from offerctl.store.repo import open_repo

    base, sep, head = range_.partition("..")
    if not base or (sep and not head):
        from offerctl.core.errors import UsageError

        raise UsageError(f"{range_!r}: expected BASE or BASE..HEAD, e.g. origin/main..HEAD")
    _impact(open_repo(repo), base, head or None, format.value)


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
    push_retries: RetriesOption = PUSH_RETRIES,
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

    rows, problems = approval_flow.status_table(open_repo(repo))
    warn_skipped(problems)
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
    rows, problems = approval_flow.inbox_table(target, me)
    warn_skipped(problems)
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

    echo(inbox_text(me.lower(), rows, approval_flow.inbox_offers(target, rows), today()))


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
