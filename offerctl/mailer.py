"""Delivering an offer letter by email (stdlib ``smtplib`` + ``email.message``), or writing
the message as an ``.eml`` file instead (``send --dry-run``).

Settings come from ``offerctl.yaml`` ``smtp:`` (host, port, security none|starttls|ssl,
user, from, reply_to); the password comes only from the environment variable named by
``smtp.password_env`` — never from the repository.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from offerctl.errors import OfferctlError, UsageError
from offerctl.repo import Repo


class DeliveryError(OfferctlError):
    """The letter could not be delivered (server down, refused login…); exit 2, nothing recorded."""


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
        conf = repo.config.get("smtp")
        if not isinstance(conf, Mapping) or not conf.get("host") or not conf.get("from"):
            raise UsageError(
                "offerctl.yaml has no smtp settings (smtp.host and smtp.from are required for --via email)",
                hint="add smtp: {host, port, security, from, user, password_env}, "
                "or use --via manual / --dry-run",
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


def build_message(
    settings: SmtpSettings, letter: Letter, *, company: str, date: str | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = letter.subject
    msg["From"] = formataddr((company, settings.sender))
    msg["To"] = formataddr((letter.to_name, letter.to_email))
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    msg["Date"] = date or formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    msg.set_content(letter.body)
    msg.add_attachment(letter.attachment, maintype="application", subtype="pdf", filename=letter.filename)
    return msg


def deliver(settings: SmtpSettings, message: EmailMessage, *, password: str | None) -> None:
    """Send over SMTP; every failure becomes a ``DeliveryError`` that says what to check."""
    where = f"{settings.host}:{settings.port}"
    try:
        client: smtplib.SMTP
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, password or "")
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"SMTP server {where} refused the login for {settings.user} ({exc.smtp_code}); nothing was sent",
            hint=f"check smtp.user and the password in ${settings.password_env or 'OFFERCTL_SMTP_PASSWORD'}",
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"SMTP server {where} does not support what smtp.security/user ask for: {exc}; nothing was sent",
            hint="check smtp.security (none|starttls|ssl) and whether the server needs a login",
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"SMTP server {where} refused the recipient {', '.join(exc.recipients)}; nothing was sent",
            hint="check the candidate's email address",
        ) from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(
            f"SMTP server {where} failed: {exc}; nothing was sent",
            hint="check smtp settings in offerctl.yaml, or try again later",
        ) from None
    except (TimeoutError, ConnectionError, socket.gaierror, ssl.SSLError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise DeliveryError(
            f"cannot reach SMTP server {where}: {reason}; nothing was sent",
            hint="check smtp.host/port/security in offerctl.yaml and that the server is up; "
            "--dry-run writes the .eml instead",
        ) from None


def write_eml(path: Path, message: EmailMessage) -> Path:
    from offerctl import yamlio

    path.parent.mkdir(parents=True, exist_ok=True)
    # Headers are RFC 2047-encoded and the PDF is base64: the message is ASCII.
    yamlio.atomic_write(path, message.as_bytes().decode("ascii", "replace"))
    return path
