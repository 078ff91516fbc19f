"""`offerctl send`: refuse unless every required approval is present and fresh, render the
PDF letter, deliver it, and only then record the ``sent`` event.

Order matters: the event is appended only after the SMTP server accepted the message, so a
server that is down or refuses the login leaves the offer unsent with nothing recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offerctl.core.clock import today
from offerctl.core.errors import OfferctlError, Refused, UsageError
from offerctl.core.model import Offer, Severity
from offerctl.lifecycle import change, mailer, transitions
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


# The email that carries the letter, in the letter's language where offerctl has the words
# (English otherwise); the deadline is written the locale's way ("December 7, 2026",
# "7. Dezember 2026").
EMAIL_TEXT = {
    "en": {
        "subject": "Your offer from {company}: {title}",
        "greeting": "Dear {first},",
        "body": "We are delighted to offer you the position of {title} at {company}. "
        "Your offer letter is attached as a PDF.",
        "answer": "Please review it and let us know your decision{by}. "
        "If you have any questions, simply reply to this email.",
        "by": " by {date}",
        "closing": "Kind regards,",
    },
    "de": {
        "subject": "Ihr Angebot von {company}: {title}",
        "greeting": "Guten Tag {name},",
        "body": "wir freuen uns, Ihnen die Position {title} bei {company} anzubieten. "
        "Ihr Angebotsschreiben finden Sie als PDF im Anhang.",
        "answer": "Bitte prüfen Sie es und teilen Sie uns Ihre Entscheidung{by} mit. "
        "Bei Fragen antworten Sie einfach auf diese E-Mail.",
        "by": " bis zum {date}",
        "closing": "Mit freundlichen Grüßen",
    },
}


def deadline_text(value: Any, locale: str) -> str:
    """``expires_on`` as the locale writes a date in prose (Babel's long format)."""
    import datetime as dt

    from babel.dates import format_date

    from offerctl.letters.filters import babel_locale

    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return str(format_date(day, format="long", locale=babel_locale(locale)))
    except (ValueError, LookupError):
        return str(value)


def compose(repo: Repo, offer: Offer, pdf: bytes) -> mailer.Letter:
    """Subject, a short body and the PDF for the candidate."""
    from offerctl.letters.render import Letters

    company = str(repo.setting("company.name", "") or "us")
    title = str(offer.get("role.title", "the role"))
    candidate = offer.candidate()
    name = str(candidate.get("name", ""))
    first = name.split()[0] if name.split() else name
    locale = Letters.for_repo(repo).locale_for(offer)
    words = EMAIL_TEXT.get(locale.split("_")[0].lower(), EMAIL_TEXT["en"])
    expires = offer.get("expires_on")
    by = words["by"].format(date=deadline_text(expires, locale)) if expires else ""
    values = {"first": first, "name": name, "title": title, "company": company, "by": by}
    body = (
        f"{words['greeting'].format(**values)}\n\n"
        f"{words['body'].format(**values)}\n\n"
        f"{words['answer'].format(**values)}\n\n"
        f"{words['closing']}\n{company}\n"
    )
    return mailer.Letter(
        to_name=name,
        to_email=str(candidate.get("email", "")),
        subject=words["subject"].format(**values),
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
    change.check_push_options(commit=commit, push=push)
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

    def record(fresh: Offer, actor: change.Actor) -> transitions.Plan:
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
