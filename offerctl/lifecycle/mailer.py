"""All of offerctl's email: offer letters (``send``) and SLA digests (``remind``), over
stdlib ``smtplib`` + ``email.message``, or a letter written as an ``.eml`` file instead
(``send --dry-run``).

Settings come from ``offerctl.yaml`` ``smtp:`` (host, port, security none|starttls|ssl,
user, from, reply_to) through ``SmtpSettings``; the password comes only from the environment
variable named by ``smtp.password_env`` — never from the repository. ``deliver_all`` sends
several messages over one connection; every failure is a ``DeliveryError`` (exit 2).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any, ClassVar

from offerctl.core.errors import OfferctlError, UsageError
from offerctl.store.repo import Repo


class DeliveryError(OfferctlError):
    """A message could not be delivered (server down, refused login…); exit 2, nothing recorded."""

    kind: ClassVar[str] = "delivery"


class DeliveryUnknown(DeliveryError):
    """The whole message reached the server but its answer never came (timeout or a dropped
    connection after DATA): it may or may not be delivered. Exit 2; nothing is recorded."""


class _Tracking:
    """Mixed into smtplib's clients: remembers whether the current message's body (the
    DATA payload ending in CRLF.CRLF) was handed to the server, so a failure after that
    point is reported as "delivery unknown", not "nothing was sent"."""

    handed_over = False

    def send(self, s: Any) -> None:
        super().send(s)  # type: ignore[misc]
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.handed_over = True


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    sender: str
    reply_to: str | None = None
    user: str | None = None
    password_env: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_repo(cls, repo: Repo) -> SmtpSettings:
        """The settings ``send --via email`` needs."""
        return cls.from_config(
            repo.config.get("smtp"), needed_for="--via email", instead="or use --via manual / --dry-run"
        )

    @classmethod
    def for_preview(cls, repo: Repo, fallback_sender: str) -> SmtpSettings:
        """Settings for a message that is written, not sent (``send --dry-run``): the
        repository's ``smtp:`` when it has one, else no server and ``fallback_sender`` (the
        offer's recruiter) as From — a dry run needs no mail server."""
        conf = repo.config.get("smtp")
        if isinstance(conf, Mapping) and conf.get("host") and conf.get("from"):
            return cls.from_config(conf)
        sender = str(conf.get("from")) if isinstance(conf, Mapping) and conf.get("from") else fallback_sender
        reply = conf.get("reply_to") if isinstance(conf, Mapping) else None
        return cls(host="", port=0, security="none", sender=sender, reply_to=str(reply) if reply else None)

    @classmethod
    def from_config(cls, conf: Any, *, needed_for: str = "--send", instead: str = "") -> SmtpSettings:
        """``offerctl.yaml`` ``smtp:``; a ``UsageError`` naming ``needed_for`` when host/from are missing."""
        if not isinstance(conf, Mapping) or not conf.get("host") or not conf.get("from"):
            raise UsageError(
                f"offerctl.yaml has no smtp settings (smtp.host and smtp.from are required for {needed_for})",
                hint="add smtp: {host, port, security, from, user, password_env}"
                + (f", {instead}" if instead else ""),
                path="offerctl.yaml",
            )
        security = str(conf.get("security", "starttls"))
        default_port = {"none": 25, "starttls": 587, "ssl": 465}.get(security, 587)
        return cls(
            host=str(conf["host"]),
            port=int(conf.get("port", default_port)),
            security=security,
            sender=str(conf["from"]),
            reply_to=str(conf["reply_to"]) if conf.get("reply_to") else None,
            user=str(conf["user"]) if conf.get("user") else None,
            password_env=str(conf["password_env"]) if conf.get("password_env") else None,
            timeout=float(conf.get("timeout", 30.0)),
        )

    def password(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The password from the environment; an error when a user is set but it is missing."""
        env = os.environ if environ is None else environ
        if self.user is None:
            return None
        name = self.password_env or "OFFERCTL_SMTP_PASSWORD"
        value = env.get(name)
        if not value:
            raise UsageError(
                f"smtp.user is {self.user} but the environment variable {name} is not set",
                hint=f"export {name}=… (the password is never read from the repository)",
            )
        return value


@dataclass(frozen=True)
class Letter:
    """What to send: recipient, subject, body and the PDF."""

    to_name: str
    to_email: str
    subject: str
    body: str
    attachment: bytes
    filename: str


def text_message(
    settings: SmtpSettings, *, to: str, subject: str, body: str, sender_name: str, date: str | None = None
) -> EmailMessage:
    """A plain-text message from ``smtp.from`` (shown as ``sender_name``) to ``to``."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((sender_name, settings.sender))
    msg["To"] = to
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    msg["Date"] = date or formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    msg.set_content(body)
    return msg


def build_message(
    settings: SmtpSettings, letter: Letter, *, company: str, date: str | None = None
) -> EmailMessage:
    msg = text_message(
        settings,
        to=formataddr((letter.to_name, letter.to_email)),
        subject=letter.subject,
        body=letter.body,
        sender_name=company,
        date=date,
    )
    msg.add_attachment(letter.attachment, maintype="application", subtype="pdf", filename=letter.filename)
    return msg


def deliver(settings: SmtpSettings, message: EmailMessage, *, password: str | None) -> None:
    """Send one message over SMTP; every failure becomes a ``DeliveryError`` that says what to check."""
    deliver_all(settings, [message], password=password)


def deliver_all(
    settings: SmtpSettings,
    messages: Sequence[EmailMessage],
    *,
    password: str | None,
    instead: str = "--dry-run writes the .eml instead",
) -> list[str]:
    """Send ``messages`` in order over ONE SMTP connection; returns their ``To`` headers.

    No connection is opened when there is nothing to send. Every failure becomes a
    ``DeliveryError`` that says what to check and who, if anyone, already got their message.
    """
    if not messages:
        return []
    where = f"{settings.host}:{settings.port}"
    sent: list[str] = []

    def done() -> str:
        return f"; already sent to {', '.join(sent)}" if sent else "; nothing was sent"

    client: _SMTP | _SMTPSSL | None = None
    try:
        if settings.security == "ssl":
            client = _SMTPSSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = _SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, password or "")
            for message in messages:
                client.handed_over = False
                try:
                    client.send_message(message)
                except smtplib.SMTPResponseException:
                    raise  # the server answered (refused): certainly not delivered
                except (smtplib.SMTPException, OSError) as exc:
                    if client.handed_over:
                        raise _unknown(where, message, exc, sent) from None
                    raise
                sent.append(str(message["To"]))
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()  # everything was confirmed; a slow goodbye changes nothing
        finally:
            client.close()  # never QUIT after a failure: it could wait out another timeout
    except DeliveryError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"SMTP server {where} refused the login for {settings.user} ({exc.smtp_code}){done()}",
            hint=f"check smtp.user and the password in ${settings.password_env or 'OFFERCTL_SMTP_PASSWORD'}",
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"SMTP server {where} does not support what smtp.security/user ask for: {exc}{done()}",
            hint="check smtp.security (none|starttls|ssl) and whether the server needs a login",
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"SMTP server {where} refused the recipient {', '.join(exc.recipients)}{done()}",
            hint="check the recipient's email address",
        ) from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(
            f"SMTP server {where} failed: {exc}{done()}",
            hint="check smtp settings in offerctl.yaml, or try again later",
        ) from None
    except (TimeoutError, ConnectionError, socket.gaierror, ssl.SSLError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise DeliveryError(
            f"cannot reach SMTP server {where}: {reason}{done()}",
            hint="check smtp.host/port/security in offerctl.yaml and that the server is up"
            + (f"; {instead}" if instead else ""),
        ) from None
    return sent


def _unknown(where: str, message: EmailMessage, exc: BaseException, sent: Sequence[str]) -> DeliveryUnknown:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError | socket.timeout):
        reason = "no answer before the timeout (smtp.timeout)"
    before = f"; before it, sent to {', '.join(sent)}" if sent else ""
    return DeliveryUnknown(
        f"delivery to {message['To']} is UNKNOWN: SMTP server {where} received the whole message "
        f"but did not confirm it ({reason}); it may or may not arrive{before}. Nothing was recorded",
        hint="ask the recipient or check the mail server's log before sending again (a second send "
        "may reach them twice); if it arrived, record it with `offerctl send ID --via manual`",
    )


def write_eml(path: Path, message: EmailMessage) -> Path:
    from offerctl.store import yamlio

    path.parent.mkdir(parents=True, exist_ok=True)
    # Headers are RFC 2047-encoded and the PDF is base64: the message is ASCII.
    yamlio.atomic_write(path, message.as_bytes().decode("ascii", "replace"))
    return path
