"""offerctl.lifecycle.mailer against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from offerctl.core.errors import UsageError
from offerctl.lifecycle import mailer
from offerctl.store.repo import Repo
from tests.smtp_server import free_port, smtp_server

PDF = b"%PDF-1.7\n% a tiny letter\n"


def settings(port: int, **extra: str) -> mailer.SmtpSettings:
    config = {"host": "127.0.0.1", "port": port, "security": "none", "from": "offers@acme.example", **extra}
    return mailer.SmtpSettings.from_repo(Repo(Path("."), {"smtp": config}))


def letter() -> mailer.Letter:
    return mailer.Letter(
        to_name="Elena García",
        to_email="elena.garcia@example.es",
        subject="Your offer from Acme Robotics: Senior Backend Engineer",
        body="Dear Elena,\n\nplease find your offer letter attached.\n",
        attachment=PDF,
        filename="OFF-2026-6RM1PQ9C.pdf",
    )


def test_delivers_subject_body_and_pdf() -> None:
    with smtp_server() as inbox:
        conf = settings(inbox.port, reply_to="talent@acme.example")
        message = mailer.build_message(conf, letter(), company="Acme Robotics")
        mailer.deliver(conf, message, password=conf.password({}))
    assert len(inbox.messages) == 1
    sender, recipients, msg = inbox.messages[0]
    assert sender == "offers@acme.example"
    assert recipients == ["elena.garcia@example.es"]
    assert msg["Subject"] == "Your offer from Acme Robotics: Senior Backend Engineer"
    assert msg["From"] == "Acme Robotics <offers@acme.example>"
    assert msg["To"] == "Elena García <elena.garcia@example.es>"
    assert msg["Reply-To"] == "talent@acme.example"
    body = msg.get_body(("plain",))
    assert body is not None and "please find your offer letter attached" in body.get_content()
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["OFF-2026-6RM1PQ9C.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == PDF


def test_login_with_the_password_from_the_environment() -> None:
    with smtp_server(user="offers", password="s3cret") as inbox:
        conf = settings(inbox.port, user="offers", password_env="ACME_SMTP_PASSWORD")
        password = conf.password({"ACME_SMTP_PASSWORD": "s3cret"})
        mailer.deliver(conf, mailer.build_message(conf, letter(), company="Acme"), password=password)
    assert len(inbox.messages) == 1


def test_wrong_password_is_a_clear_error() -> None:
    with smtp_server(user="offers", password="s3cret") as inbox:
        conf = settings(inbox.port, user="offers", password_env="ACME_SMTP_PASSWORD")
        with pytest.raises(mailer.DeliveryError) as caught:
            mailer.deliver(conf, mailer.build_message(conf, letter(), company="Acme"), password="wrong")
    assert inbox.messages == []
    assert "refused the login for offers (535)" in caught.value.message
    assert "nothing was sent" in caught.value.message
    assert caught.value.hint is not None and "$ACME_SMTP_PASSWORD" in caught.value.hint


def test_server_down_is_a_clear_error() -> None:
    conf = settings(free_port())
    with pytest.raises(mailer.DeliveryError) as caught:
        mailer.deliver(conf, mailer.build_message(conf, letter(), company="Acme"), password=None)
    assert f"cannot reach SMTP server 127.0.0.1:{conf.port}" in caught.value.message
    assert "Connection refused" in caught.value.message


def test_missing_password_variable_and_missing_settings() -> None:
    conf = settings(25, user="offers", password_env="ACME_SMTP_PASSWORD")
    with pytest.raises(UsageError, match="ACME_SMTP_PASSWORD is not set"):
        conf.password({})
    with pytest.raises(UsageError, match="no smtp settings"):
        mailer.SmtpSettings.from_repo(Repo(Path("."), {}))
    assert settings(1025).password({}) is None  # no user: no login


def test_dry_run_writes_a_readable_eml(tmp_path: Path) -> None:
    conf = settings(25)
    path = mailer.write_eml(tmp_path / "out" / "x.eml", mailer.build_message(conf, letter(), company="Acme"))
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["Subject"] == "Your offer from Acme Robotics: Senior Backend Engineer"
    assert [a.get_content() for a in msg.iter_attachments()] == [PDF]  # type: ignore[attr-defined]
