"""SLA reminders: overdue in business days (holiday-aware), escalation, one digest per person
delivered through offerctl.lifecycle.mailer to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from offerctl.core.bizdays import BusinessCalendar
from offerctl.core.errors import UsageError
from offerctl.lifecycle import mailer
from offerctl.policy.routing import Waiting
from offerctl.reports import remind
from tests.helpers import Cli
from tests.smtp_server import Inbox

CA = BusinessCalendar.from_config({"country": "US", "subdivision": "CA"})
SLA = {"hiring_manager": 1, "finance": 2, "legal": 3}


FINANCE = Waiting(
    "finance",
    "above-midpoint",
    "finance",
    ("fiona.chen@acme.example", "oscar.grant@acme.example"),
    "oscar.grant@acme.example",
    "2026-11-24T10:00:00Z",
)
MANAGER = Waiting(
    "manager",
    "hiring-manager",
    "hiring_manager",
    ("sam.lee@acme.example",),
    "dana.whit@acme.example",
    "2026-11-23T15:00:00Z",
)
NO_SLA = Waiting(
    "department", "senior-hire", "department_head", ("dana.whit@acme.example",), None, "2026-11-01T10:00:00Z"
)


def _items(as_of: dt.date, calendar: BusinessCalendar = CA) -> list[remind.Overdue]:
    return remind.overdue(
        [
            ("OFF-2026-AAAA0001", "Engineer", FINANCE),
            ("OFF-2026-AAAA0002", "Account Executive", MANAGER),
            ("OFF-2026-AAAA0003", "Director", NO_SLA),
        ],
        calendar,
        SLA,
        as_of,
    )


def test_overdue_counts_business_days_and_skips_thanksgiving() -> None:
    # as of Mon 11-30: finance since Tue 11-24 -> 25, 30 = 2 business days (26/27 are
    # Thanksgiving and the day after) = SLA 2: not overdue. Counting weekdays only it would be 4.
    # hiring manager since Mon 11-23 -> 24, 25, 30 = 3 > 2 x SLA 1: escalated.
    items = _items(dt.date(2026, 11, 30))
    assert [(o.offer_id, o.business_days, o.escalated) for o in items] == [("OFF-2026-AAAA0002", 3, True)]
    assert items[0].holidays == ("2026-11-26 Thanksgiving Day", "2026-11-27 Day After Thanksgiving")
    assert items[0].recipients == ("sam.lee@acme.example", "dana.whit@acme.example")
    weekdays_only = _items(dt.date(2026, 11, 30), BusinessCalendar())
    assert [(o.offer_id, o.business_days, o.escalated) for o in weekdays_only] == [
        ("OFF-2026-AAAA0002", 5, True),
        ("OFF-2026-AAAA0001", 4, False),
    ]
    # Tue 12-01: finance at 3 > 2, not yet past 2 x 2 -> overdue, the escalation contact is not mailed.
    later = {o.offer_id: o for o in _items(dt.date(2026, 12, 1))}
    assert (later["OFF-2026-AAAA0001"].business_days, later["OFF-2026-AAAA0001"].escalated) == (3, False)
    assert later["OFF-2026-AAAA0001"].recipients == FINANCE.people
    assert "OFF-2026-AAAA0003" not in later  # department_head has no SLA: never reminded


def test_one_digest_per_person() -> None:
    items = _items(dt.date(2026, 12, 1))
    mails = {d.to: d for d in remind.digests(items, company="Acme Robotics", as_of=dt.date(2026, 12, 1))}
    assert sorted(mails) == [
        "dana.whit@acme.example",
        "fiona.chen@acme.example",
        "oscar.grant@acme.example",
        "sam.lee@acme.example",
    ]
    # Oscar is a finance approver and also the escalation contact: still one mail.
    assert [o.offer_id for o in mails["oscar.grant@acme.example"].items] == ["OFF-2026-AAAA0001"]
    dana = mails["dana.whit@acme.example"].body
    assert "OFF-2026-AAAA0002 (Account Executive): escalated to you" in dana
    assert "4 business days (SLA 1); past twice the SLA" in dana
    assert "ESCALATED" not in dana
    assert mails["sam.lee@acme.example"].subject == "[offerctl] 1 offer approval waiting past SLA"


def test_digests_are_delivered_over_smtp(smtp_inbox: Inbox) -> None:
    port = smtp_inbox.port
    smtp = mailer.SmtpSettings.from_config(
        {"host": "127.0.0.1", "port": port, "security": "none", "from": "offers@acme.example"}
    )
    mails = remind.digests(_items(dt.date(2026, 12, 1)), company="Acme Robotics", as_of=dt.date(2026, 12, 1))
    sent = remind.send_digests(smtp, mails, company="Acme Robotics")
    assert sent == [d.to for d in mails]
    assert sorted(",".join(to) for _, to, _ in smtp_inbox.messages) == sorted(sent)
    fiona = next(m for m in smtp_inbox.mails if m["To"] == "fiona.chen@acme.example")
    assert fiona["From"] == "Acme Robotics <offers@acme.example>"
    assert "OFF-2026-AAAA0001 (Engineer): your finance approval" in fiona.get_payload()
    assert remind.send_digests(smtp, [], company="x") == []


def test_smtp_problems_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="no smtp settings"):
        mailer.SmtpSettings.from_config({})
    needs_password = mailer.SmtpSettings.from_config(
        {"host": "127.0.0.1", "port": 9, "from": "o@a.example", "user": "bot", "password_env": "REMIND_PW"}
    )
    monkeypatch.delenv("REMIND_PW", raising=False)
    mails = remind.digests(_items(dt.date(2026, 12, 1)), company="Acme", as_of=dt.date(2026, 12, 1))
    with pytest.raises(UsageError, match="REMIND_PW is not set"):
        remind.send_digests(needs_password, mails, company="Acme")
    unreachable = mailer.SmtpSettings.from_config(
        {"host": "127.0.0.1", "port": 9, "security": "none", "from": "o@a.example"}
    )
    with pytest.raises(mailer.DeliveryError, match="nothing was sent"):
        remind.send_digests(unreachable, mails, company="Acme")


def _tune(example_repo: Path, port: int | None = None) -> None:
    """finance SLA 3 (escalate after 6), department_head SLA 5; SMTP on the test port."""
    config = example_repo / "offerctl.yaml"
    text = config.read_text().replace("  finance: 2\n", "  finance: 3\n  department_head: 5\n")
    if port is not None:
        text = text.replace("  host: localhost\n  port: 1025\n", f"  host: 127.0.0.1\n  port: {port}\n")
    config.write_text(text)


def test_remind_on_the_example_counts_business_days_across_thanksgiving(example_repo: Path, cli: Cli) -> None:
    _tune(example_repo)
    result = cli("remind", "--repo", str(example_repo), "--as-of", "2026-11-30", "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    rows = {(o["offer"], o["role"]): o for o in data["overdue"]}
    # OFF-2026-5NB2RC8P waits on department_head since Tue 11-17: 18, 19, 20, 23, 24, 25, 30 = 7 > 5
    senior = rows[("OFF-2026-5NB2RC8P", "department_head")]
    assert (senior["business_days"], senior["escalated"]) == (7, False)
    # OFF-2026-9KD3VX6Q waits on finance since Wed 11-18: 19, 20, 23, 24, 25, 30 = 6 > 3, not > 6.
    # Counting Thanksgiving and the day after it would be 8, and escalated.
    finance = rows[("OFF-2026-9KD3VX6Q", "finance")]
    assert (finance["business_days"], finance["sla_business_days"], finance["escalated"]) == (6, 3, False)
    assert finance["holidays_skipped"] == ["2026-11-26 Thanksgiving Day", "2026-11-27 Day After Thanksgiving"]
    # Approvers get their overdue approvals; recruiters their candidate follow-ups (issue 16).
    # OFF-2026-7CG5XB2R was revised on 11-13 while negotiating: its hiring manager's approval
    # went stale and is wanted again since then (9 business days, SLA 1: escalated).
    stale = rows[("OFF-2026-7CG5XB2R", "hiring_manager")]
    assert stale["stale"] and "compensation.base_salary changed" in stale["stale"][0]
    assert (stale["since"][:10], stale["escalated"]) == ("2026-11-13", True)
    assert [d["to"] for d in data["digests"]] == [
        "ana.lopez@acme.example",
        "dana.whit@acme.example",
        "fiona.chen@acme.example",
        "morgan.blake@acme.example",
        "oscar.grant@acme.example",
        "rita.ramos@acme.example",
        "tom.becker@acme.example",
    ]
    assert {f["recruiter"] for f in data["follow_ups"]} == {
        "rita.ramos@acme.example",
        "tom.becker@acme.example",
    }
    assert data["sent"] == []
    # Three business days later finance is past twice its SLA: escalated to oscar.grant.
    later = cli("remind", "--repo", str(example_repo), "--as-of", "2026-12-03", "--format", "json").json()
    finance = next(o for o in later["overdue"] if o["role"] == "finance")
    assert (finance["business_days"], finance["escalated"], finance["escalation"]) == (
        9,
        True,
        "oscar.grant@acme.example",
    )
    # Before anything is due (and before OFF-2026-7CG5XB2R's revision): nothing to do.
    quiet = cli("remind", "--repo", str(example_repo), "--as-of", "2026-11-12")
    assert quiet.code == 0 and "no approval is past its SLA as of 2026-11-12" in quiet.out
    assert "to give again" not in quiet.out


def test_remind_send_mails_one_digest_per_approver(example_repo: Path, cli: Cli, smtp_inbox: Inbox) -> None:
    _tune(example_repo, smtp_inbox.port)
    result = cli("remind", "--repo", str(example_repo), "--as-of", "2026-11-30", "--send")
    assert result.code == 0, result.err
    assert "OFF-2026-9KD3VX6Q" in result.out and "not counted: 2026-11-26 Thanksgiving Day" in result.out
    assert "sent 7 reminders: " in result.out and "dry run" not in result.out
    by_to = {m["To"]: m for m in smtp_inbox.mails}
    assert sorted(by_to) == [
        "ana.lopez@acme.example",
        "dana.whit@acme.example",
        "fiona.chen@acme.example",
        "morgan.blake@acme.example",
        "oscar.grant@acme.example",
        "rita.ramos@acme.example",
        "tom.becker@acme.example",
    ]
    recruiter = by_to["tom.becker@acme.example"].get_payload(decode=True).decode()
    assert "OFF-2026-4JZ6HN3T" in recruiter and "contact: not contacted for" in recruiter
    assert "@example" not in recruiter.replace("@acme.example", "")  # no candidate addresses
    ana = by_to["ana.lopez@acme.example"].get_payload()
    assert "OFF-2026-7CG5XB2R" in ana and "needed again: the terms changed (compensation.base_salary)" in ana
    assert "156" not in ana and "150,000" not in ana  # field names, never amounts
    body = by_to["fiona.chen@acme.example"].get_payload()
    assert "OFF-2026-9KD3VX6Q (Account Executive): your finance approval" in body
    assert "waiting since 2026-11-18, 6 business days (SLA 3)" in body
    assert "OFF-2026-5NB2RC8P" not in body  # not hers
    assert "base_salary" not in body and "@example" not in body  # no compensation, no candidate


def test_remind_send_with_nothing_due_opens_no_connection(example_repo: Path, cli: Cli) -> None:
    _tune(example_repo, 9)  # port 9: a connection attempt would fail with exit 2
    config = example_repo / "offerctl.yaml"  # no candidate follow-up due either
    config.write_text(config.read_text().replace("cadence_business_days: 2", "cadence_business_days: 30"))
    result = cli("remind", "--repo", str(example_repo), "--as-of", "2026-11-12", "--send")
    assert result.code == 0 and "sent 0 reminders" in result.err


def test_remind_delivery_failure_is_exit_2(example_repo: Path, cli: Cli) -> None:
    _tune(example_repo, 9)
    result = cli("remind", "--repo", str(example_repo), "--as-of", "2026-11-30", "--send")
    assert (
        result.code == 2
        and "cannot reach SMTP server 127.0.0.1:9" in result.err
        and "Traceback" not in result.err
    )
    bad = cli("remind", "--repo", str(example_repo), "--as-of", "30.11.2026")
    assert bad.code == 2 and "YYYY-MM-DD" in bad.err


def test_remind_without_send_says_it_is_a_dry_run(example_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _tune(example_repo, 9)  # a connection attempt would fail: a dry run opens none
    result = cli("remind", "--repo", str(example_repo), "--as-of", "2026-12-07")
    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    # 7: the four SLA reminders, OFF-2026-7CG5XB2R's stale approval (escalated to morgan.blake)
    # and the two recruiters' candidate follow-ups (issue 16)
    assert "dry run: 7 reminders would be sent" in text and "use --send" in text
    assert "would escalate" in text and "escalated" not in text
    assert "ESCALATED" not in result.out


def test_no_escalation_contact_is_said_plainly() -> None:
    items = [i for i in _items(dt.date(2026, 12, 1)) if i.escalated]
    assert items
    nobody = [dataclasses.replace(i, escalation=None) for i in items]
    body = remind.digests(nobody, company="Acme", as_of=dt.date(2026, 12, 1))[0].body
    assert "no escalation contact" in body and "ESCALATED" not in body

    from rich.console import Console

    from offerctl.cli.report_views import remind_view

    result = remind.RemindResult(dt.date(2026, 12, 1), tuple(nobody), ())
    console = Console(width=200, record=True, color_system=None)
    console.print(remind_view(result))
    text = console.export_text()
    assert "no escalation contact" in text and "escalate to" not in text and "ESCALATED" not in text
