"""One offer from `new` to `accept` through approvals, an emailed letter (real SMTP server on
loopback), a revision that re-triggers only the affected approval, and the audit trail."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import git
from tests.helpers import intake
from tests.smtp_server import free_port, smtp_server

INTAKE = intake(base_salary=195000)
RECRUITER = "recruiter@example.com"
MANAGER = "hiring.manager@example.com"
FINANCE = "fin.lead@example.com"


class Actors:
    def __init__(self, repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo, self.cli, self.monkeypatch = repo, cli, monkeypatch

    def run(self, who: str, when: str, *args: str, code: int = 0) -> Any:
        self.monkeypatch.setenv("GIT_AUTHOR_EMAIL", who)
        self.monkeypatch.setenv("GIT_AUTHOR_NAME", who.split("@")[0])
        self.monkeypatch.setenv("OFFERCTL_NOW", when)
        result = self.cli(*args, "--repo", str(self.repo))
        assert result.code == code, (args, result.out, result.err)
        return result

    def offer(self, offer_id: str) -> dict[str, Any]:
        data = yamlio.load_path(self.repo / "offers" / f"{offer_id}.yaml")
        assert isinstance(data, dict)
        return data


def smtp_config(repo: Path, port: int, extra: str = "") -> None:
    config = repo / "offerctl.yaml"
    config.write_text(
        config.read_text()
        + f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  security: none\n"
        + "  from: offers@example.com\n  reply_to: talent@example.com\n"
        + extra
    )
    git(repo, "commit", "-qam", "smtp settings")


def new_offer(actors: Actors, when: str) -> str:
    (actors.repo / "intake.yaml").write_text(INTAKE)
    intake = str(actors.repo / "intake.yaml")
    created = actors.run(RECRUITER, when, "new", "--no-input", "--from", intake, "--format", "json")
    (actors.repo / "intake.yaml").unlink()
    offer_id = str(created.json()["id"])
    actors.run(RECRUITER, when, "submit", offer_id)
    return offer_id


def approve_all(actors: Actors, offer_id: str, when: str) -> None:
    actors.run(MANAGER, when, "approve", offer_id)
    actors.run(FINANCE, when, "approve", offer_id)


@pytest.fixture
def actors(offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> Actors:
    return Actors(offer_repo, cli, monkeypatch)


def test_new_to_accepted_with_an_emailed_letter(actors: Actors) -> None:
    repo = actors.repo
    with smtp_server() as inbox:
        smtp_config(repo, inbox.port)
        offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
        assert actors.offer(offer_id)["status"] == "pending_approval"

        # Not approved yet: refused, nothing sent.
        early = actors.run(RECRUITER, "2026-11-16T10:00:00Z", "send", offer_id, "--via", "email", code=1)
        assert "not every required approval is present and fresh" in early.err
        assert inbox.messages == []

        approve_all(actors, offer_id, "2026-11-16T12:00:00Z")
        assert actors.offer(offer_id)["status"] == "approved"

        sent = actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, "--via", "email")
        assert "emailed the letter to jane.doe@example.com" in sent.out
        assert len(inbox.messages) == 1
        _, recipients, message = inbox.messages[0]
        assert recipients == ["jane.doe@example.com"]
        assert message["Subject"] == "Your offer from Example Co: Senior Backend Engineer"
        body = message.get_body(("plain",))
        assert body is not None and "Dear Jane," in body.get_content()
        (pdf,) = list(message.iter_attachments())
        assert pdf.get_filename() == f"{offer_id}.pdf"
        assert pdf.get_content().startswith(b"%PDF")
        data = actors.offer(offer_id)
        assert data["status"] == "sent"
        first_send = data["events"][-1]
        assert first_send["type"] == "sent"
        assert first_send["channel"] == "email"
        assert first_send["written_on"] == "2026-11-17"
        assert first_send["letter_version"] == 1
        assert len(first_send["letter_sha256"]) == 64
        assert first_send["template"] == "offer.md.j2"

        # A later start date: only the hiring manager's approval covers it.
        actors.run(
            RECRUITER,
            "2026-11-18T09:00:00Z",
            "revise",
            offer_id,
            "--set",
            "start_date=2027-02-01",
            "--reason",
            "candidate's notice period",
        )
        assert actors.offer(offer_id)["status"] == "negotiating"
        stale = actors.run(RECRUITER, "2026-11-18T09:05:00Z", "send", offer_id, code=1)
        assert "rule hiring-manager" in stale.err and "stale" in stale.err
        assert "above-midpoint" not in stale.err  # finance's approval does not cover start_date
        assert len(inbox.messages) == 1

        actors.run(MANAGER, "2026-11-18T11:00:00Z", "approve", offer_id)
        actors.run(RECRUITER, "2026-11-18T12:00:00Z", "send", offer_id)
        assert len(inbox.messages) == 2
        second_send = actors.offer(offer_id)["events"][-1]
        assert second_send["letter_version"] == 2
        assert second_send["letter_sha256"] != first_send["letter_sha256"]

    actors.run(RECRUITER, "2026-11-20T16:00:00Z", "accept", offer_id, "--signed-on", "2026-11-20")
    data = actors.offer(offer_id)
    assert data["status"] == "accepted"
    assert [a["by"] for a in data["approvals"]] == [MANAGER, FINANCE, MANAGER]

    story = actors.run(RECRUITER, "2026-11-21T09:00:00Z", "log", offer_id, "--format", "json").json()
    assert story["revisions"] == 1 and story["status"] == "accepted"
    kinds = [(e["kind"], e["summary"].split(";")[0]) for e in story["entries"]]
    assert ("event", "created") in kinds
    assert ("event", "submitted") in kinds
    assert kinds.count(("approval", "approved as hiring_manager")) == 2
    assert ("approval", "approved as finance") in kinds
    assert kinds.count(("event", "sent")) == 2
    assert ("event", "accepted") in kinds
    stale_entries = [e for e in story["entries"] if e["kind"] == "stale"]
    assert [e["details"]["by"] for e in stale_entries] == [MANAGER]
    assert "start_date" in stale_entries[0]["summary"]
    change = next(e for e in story["entries"] if e["details"].get("field") == "start_date")
    assert (change["details"]["old"], change["details"]["new"]) == ("2027-01-11", "2027-02-01")
    text = actors.run(RECRUITER, "2026-11-21T09:00:00Z", "log", offer_id).out
    assert "1 revision," in text and "start_date: 2027-01-11 → 2027-02-01" in text

    exported = actors.run(RECRUITER, "2026-11-21T09:00:00Z", "export", "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["offer_id"], r["start_date"], r["base_salary"]) for r in rows] == [
        (offer_id, "2027-02-01", "195000")
    ]
    assert rows[0]["hiring_manager"] == MANAGER and rows[0]["accepted_on"] == "2026-11-20"

    result = actors.run(RECRUITER, "2026-11-21T09:00:00Z", "check")
    assert "ok:" in result.out


def test_a_candidate_declines_with_a_reason(actors: Actors) -> None:
    offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
    approve_all(actors, offer_id, "2026-11-16T12:00:00Z")
    manual = actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, "--via", "manual")
    assert f"wrote out/{offer_id}.pdf" in manual.out
    assert (actors.repo / "out" / f"{offer_id}.pdf").read_bytes().startswith(b"%PDF")
    assert "out/" not in git(actors.repo, "status", "--porcelain")  # rendered letters are not committed
    actors.run(
        RECRUITER,
        "2026-11-19T09:00:00Z",
        "decline",
        offer_id,
        "--reason",
        "competing_offer",
        "--competing-employer",
        "Globex",
    )
    event = actors.offer(offer_id)["events"][-1]
    assert (event["type"], event["reason"], event["competing_employer"]) == (
        "declined",
        "competing_offer",
        "Globex",
    )
    story = actors.run(RECRUITER, "2026-11-19T10:00:00Z", "log", offer_id).out
    assert "declined; sent → declined; reason: competing_offer; competing employer: Globex" in story
    again = actors.run(
        RECRUITER,
        "2026-11-19T10:00:00Z",
        "revise",
        offer_id,
        "--set",
        "start_date=2027-03-01",
        "--reason",
        "x",
        code=1,
    )
    assert "closed and immutable" in again.err


def test_send_dry_run_writes_the_eml_and_records_nothing(actors: Actors) -> None:
    smtp_config(actors.repo, free_port())  # nothing listens there: a dry run never connects
    offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
    approve_all(actors, offer_id, "2026-11-16T12:00:00Z")
    head = git(actors.repo, "rev-parse", "HEAD")
    result = actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, "--dry-run")
    assert f"wrote out/{offer_id}.eml" in result.out
    eml = (actors.repo / "out" / f"{offer_id}.eml").read_bytes()
    assert b"Subject: Your offer from Example Co: Senior Backend Engineer" in eml
    assert b"Content-Type: application/pdf" in eml
    assert git(actors.repo, "rev-parse", "HEAD") == head
    assert actors.offer(offer_id)["status"] == "approved"


def test_smtp_down_leaves_the_offer_unsent(actors: Actors) -> None:
    smtp_config(actors.repo, free_port())
    offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
    approve_all(actors, offer_id, "2026-11-16T12:00:00Z")
    head = git(actors.repo, "rev-parse", "HEAD")
    result = actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, code=2)
    assert "cannot reach SMTP server 127.0.0.1" in result.err and "nothing was sent" in result.err
    assert "Traceback" not in result.err
    assert actors.offer(offer_id)["status"] == "approved"
    assert all(e["type"] != "sent" for e in actors.offer(offer_id)["events"])
    assert git(actors.repo, "rev-parse", "HEAD") == head
    assert git(actors.repo, "status", "--porcelain") == ""


def test_wrong_smtp_password_leaves_the_offer_unsent(actors: Actors, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(user="offers", password="s3cret") as inbox:
        smtp_config(actors.repo, inbox.port, "  user: offers\n  password_env: EXAMPLE_SMTP_PASSWORD\n")
        offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
        approve_all(actors, offer_id, "2026-11-16T12:00:00Z")
        missing = actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, code=2)
        assert "EXAMPLE_SMTP_PASSWORD is not set" in missing.err
        monkeypatch.setenv("EXAMPLE_SMTP_PASSWORD", "wrong")
        wrong = actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, code=2)
        assert "refused the login for offers" in wrong.err and "nothing was sent" in wrong.err
        assert actors.offer(offer_id)["status"] == "approved"
        monkeypatch.setenv("EXAMPLE_SMTP_PASSWORD", "s3cret")
        actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id)
    assert len(inbox.messages) == 1
    assert actors.offer(offer_id)["status"] == "sent"


def _same_stage_policy(repo: Path) -> None:
    """Hiring manager and finance approve in parallel (one stage), so two people can approve
    the same offer at the same moment."""
    routing = repo / "policies" / "routing.yaml"
    routing.write_text(routing.read_text().replace("    stage: finance\n", "    stage: manager\n"))
    git(repo, "commit", "-qam", "finance approves in the manager stage")


def test_two_branches_each_adding_an_approval_merge(actors: Actors) -> None:
    repo = actors.repo
    _same_stage_policy(repo)
    offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
    git(repo, "switch", "-q", "-c", "manager")
    actors.run(MANAGER, "2026-11-16T12:00:00Z", "approve", offer_id)
    git(repo, "switch", "-q", "-c", "finance", "main")
    actors.run(FINANCE, "2026-11-16T11:00:00Z", "approve", offer_id)
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--no-edit", "manager")
    git(repo, "merge", "-q", "--no-edit", "finance")  # a real merge: both appended a line
    data = actors.offer(offer_id)
    assert [a["by"] for a in data["approvals"]] == [FINANCE, MANAGER]  # ordered by time
    assert "<<<<<<<" not in (repo / "offers" / f"{offer_id}.yaml").read_text()
    # Each branch saw one approval, so the merged file still says pending_approval; the
    # approval lines are complete, and send goes by them.
    assert data["status"] == "pending_approval"
    actors.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, "--via", "manual")
    assert actors.offer(offer_id)["status"] == "sent"
    assert "ok:" in actors.run(RECRUITER, "2026-11-17T09:00:00Z", "check").out


def test_two_approvers_in_parallel_against_a_bare_remote(actors: Actors, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    repo = actors.repo
    _same_stage_policy(repo)
    offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    procs = []
    for who in (MANAGER, FINANCE):
        clone = tmp_path / who.split("@")[0]
        git(tmp_path, "clone", "-q", str(remote), str(clone))
        env = {
            **os.environ,
            "GIT_AUTHOR_EMAIL": who,
            "GIT_AUTHOR_NAME": who,
            "OFFERCTL_NOW": "2026-11-16T12:00:00Z",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "offerctl", "approve", offer_id, "--push", "--push-retries", "10"],
                cwd=clone,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "pushed to origin/main" in out
    landed = tmp_path / "landed"
    git(tmp_path, "clone", "-q", str(remote), str(landed))
    data = yamlio.load_path(landed / "offers" / f"{offer_id}.yaml")
    assert sorted(a["by"] for a in data["approvals"]) == [FINANCE, MANAGER]
    # Whoever pushed second decided on the first one's approval: the offer is now approved.
    assert data["status"] == "approved"
    log = git(landed, "log", "--format=%ae %(trailers:key=Offer-Action,valueonly)", "-2").split()
    assert sorted(log[0::2]) == [FINANCE, MANAGER] and log[1::2] == ["approve", "approve"]


def test_send_with_push_records_on_the_remote(actors: Actors, tmp_path: Path) -> None:
    offer_id = new_offer(actors, "2026-11-16T09:00:00Z")
    approve_all(actors, offer_id, "2026-11-16T12:00:00Z")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(actors.repo), str(remote))
    clone = tmp_path / "recruiter"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    elsewhere = Actors(clone, actors.cli, actors.monkeypatch)
    result = elsewhere.run(RECRUITER, "2026-11-17T09:00:00Z", "send", offer_id, "--via", "manual", "--push")
    assert "pushed to origin/main" in result.out
    landed = yamlio.load_text(git(remote, "show", f"main:offers/{offer_id}.yaml"))
    assert landed["status"] == "sent" and landed["events"][-1]["channel"] == "manual"
