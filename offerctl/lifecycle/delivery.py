"""`offerctl send`: refuse unless every required approval is present and fresh, render the
PDF letter, deliver it, and only then record the ``sent`` event.

Order matters: the event is appended only after the SMTP server accepted the message, so a
server that is down or refuses the login leaves the offer unsent with nothing recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from offerctl.core.clock import today
from offerctl.core.errors import OfferctlError, Refused, UsageError
from offerctl.core.model import Offer, Severity
from offerctl.lifecycle import mailer, transitions
from offerctl.store import loader, yamlio
from offerctl.store.repo import Repo

CHANNELS = ("email", "manual")
OUT_DIR = "out"
"""Where `send` writes the PDF (manual) and the ``.eml`` (``--dry-run``); gitignored."""


@dataclass(frozen=True)
class SendResult:
    offer_id: str
    channel: str
    dry_run: bool
    letter_sha256: str
    template: str
    recipient: str | None
    written: tuple[str, ...]
    """Files written under ``out/`` (the PDF, the ``.eml``), relative to the repository."""
    outcome: transitions.Outcome | None
    """The recorded transition; None for ``--dry-run``."""


def approval_blockers(repo: Repo, offer: Offer) -> list[str]:
    """Why the offer may not be sent (missing or stale approvals); [] when it may."""
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route

    policy, findings = load_policy_set(repo)
    errors = [f for f in findings if f.severity == Severity.ERROR]
    if errors:
        first = errors[0]
        where = f"{first.path}:{first.line}" if first.line else first.path
        raise Refused(
            "the approval policy has errors, so offerctl cannot tell whether the offer is approved",
            hint=f"{where}: {first.message} (run `offerctl check`)",
        )
    return route(repo, policy, offer).blockers()


def compose(repo: Repo, offer: Offer, pdf: bytes) -> mailer.Letter:
    """Subject, a short body and the PDF for the candidate."""
    company = str(repo.setting("company.name", "") or "us")
    title = str(offer.get("role.title", "the role"))
    candidate = offer.candidate()
    name = str(candidate.get("name", ""))
    first = name.split()[0] if name.split() else name
    expires = offer.get("expires_on")
    answer_by = f" by {expires}" if expires else ""
    body = (
        f"Dear {first},\n\n"
        f"we are delighted to offer you the position of {title} at {company}. "
        "Your offer letter is attached as a PDF.\n\n"
        f"Please review it and let us know your decision{answer_by}. "
        "If you have any questions, simply reply to this email.\n\n"
        f"Kind regards,\n{company}\n"
    )
    return mailer.Letter(
        to_name=name,
        to_email=str(candidate.get("email", "")),
        subject=f"Your offer from {company}: {title}",
        body=body,
        attachment=pdf,
        filename=f"{offer.id}.pdf",
    )


def send(
    repo: Repo,
    offer_id: str,
    *,
    via: str = "email",
    dry_run: bool = False,
    commit: bool = True,
    push: bool = False,
    retries: int | None = None,
) -> SendResult:
    from offerctl.letters import render
    from offerctl.lifecycle import sync

    if via not in CHANNELS:
        raise UsageError(f"--via {via!r}: one of {', '.join(CHANNELS)}")
    if push and not dry_run:
        sync.catch_up(repo)  # decide and deliver on the version others will see
    offer = loader.load_offer(repo, offer_id)
    transitions.check_transition(offer, "send")
    blockers = approval_blockers(repo, offer)
    if blockers:
        raise Refused(
            f"cannot send {offer.id}: not every required approval is present and fresh: "
            + "; ".join(blockers),
            hint=f"`offerctl route {offer.id}` lists who must approve; nothing was sent",
        )
    written_on = today()
    rendered = render.render(repo, offer, "pdf", written_on=written_on)
    written: list[str] = []
    out = repo.root / OUT_DIR
    pdf_path = out / f"{offer.id}.pdf"
    recipient: str | None = None
    if via == "email":
        if dry_run:
            settings = mailer.SmtpSettings.for_preview(repo, str(offer.get("recruiter") or ""))
        else:
            settings = mailer.SmtpSettings.from_repo(repo)
        letter = compose(repo, offer, rendered.content)
        recipient = letter.to_email
        message = mailer.build_message(
            settings, letter, company=str(repo.setting("company.name", "") or settings.sender)
        )
        if dry_run:
            eml = mailer.write_eml(out / f"{offer.id}.eml", message)
            return SendResult(
                offer.id, via, True, rendered.sha256, rendered.template, recipient, (repo.rel(eml),), None
            )
        mailer.deliver(settings, message, password=settings.password())
    else:
        yamlio.atomic_write_bytes(pdf_path, rendered.content)
        written.append(repo.rel(pdf_path))
        if dry_run:
            return SendResult(
                offer.id, via, True, rendered.sha256, rendered.template, None, tuple(written), None
            )
    decide = transitions.decide_send(via, rendered.sha256, rendered.template, written_on.isoformat())

    def record(fresh: Offer, actor: transitions.Actor) -> transitions.Plan:
        # Re-decided on the file as it is when recording (with --push: the remote tip).
        still = approval_blockers(repo, fresh)
        if still:
            raise Refused(
                f"{fresh.id} changed while sending: " + "; ".join(still),
                hint="the letter went out but the send was not recorded; re-approve and send again",
            )
        return decide(fresh, actor)

    try:
        outcome = transitions.transition(repo, offer.id, record, commit=commit, push=push, retries=retries)
    except OfferctlError as exc:
        if via == "email":
            exc.message = (
                f"the letter was emailed to {recipient}, but recording the send failed: {exc.message}"
            )
            exc.hint = (exc.hint + "; " if exc.hint else "") + (
                f"once fixed, record it with `offerctl send {offer.id} --via manual`"
            )
        raise
    return SendResult(
        offer.id, via, False, rendered.sha256, rendered.template, recipient, tuple(written), outcome
    )


__all__ = ["SendResult", "approval_blockers", "compose", "send"]
