"""Attack: a change offerctl did not make gets committed under someone else's name (issue 12,
item 6; issue 13, item 4).

A command killed between writing the offer file and committing it leaves its change in the
working tree. Before, the next approver's `approve` committed that orphan line under their
own name (A350 twice in CI) and the killed approver's retry was refused ("already
approved"). Every mutating command now starts only from a clean offer file — working tree
and index equal HEAD for it — or refuses (exit 1) saying how to see, keep or discard the
change; after restoring, the retry works.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import ROOT, git
from tests.test_approvals import OFFER_ID, add_offer, approvals_of, as_user

OFFER = f"offers/{OFFER_ID}.yaml"
DRAFT = "OFF-2026-3QX7M2KD"
SENT = "OFF-2026-4JZ6HN3T"

# The approver's process, killed by SIGKILL after approve wrote the file and before git
# committed it: offerctl's own code path up to the commit, then the kill.
KILLED_APPROVE = """
import os, signal, sys
from pathlib import Path
from offerctl.lifecycle import approval_flow
from offerctl.store import git
from offerctl.store.repo import open_repo

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

git.commit = killed
approval_flow.approve(open_repo(Path(sys.argv[1])), sys.argv[2])
"""


def _identity_env(email: str) -> dict[str, str]:
    name = email.split("@")[0].replace(".", " ").title()
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture
def repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-17T09:00:00Z")
    add_offer(example_repo)
    return example_repo


def _refused_for_orphan(result: Any, rel: str) -> None:
    assert result.code == 1, (result.code, result.err)
    assert "uncommitted changes" in result.err and "Traceback" not in result.err
    assert f"git diff HEAD -- {rel}" in result.err
    assert f"git checkout HEAD -- {rel}" in result.err


def test_a_kill_between_write_and_commit_is_never_committed_by_the_next_approver(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_APPROVE, str(repo), OFFER_ID],
        env=_identity_env("priya.nair@acme.example"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # the orphan: priya's approval line written, not committed
    orphan = (repo / OFFER).read_bytes()
    assert [a["by"] for a in approvals_of(repo / OFFER)] == ["priya.nair@acme.example"]
    assert git(repo, "status", "--porcelain", "--", OFFER).strip() == f"M {OFFER}"
    assert git(repo, "rev-parse", "HEAD") == head

    # the next approver is refused and commits nothing, the orphan stays as it was
    as_user(monkeypatch, "dana.whit@acme.example")
    _refused_for_orphan(cli("approve", OFFER_ID, cwd=repo), OFFER)
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / OFFER).read_bytes() == orphan

    # the killed approver's retry is refused the same way, not as "already approved"
    as_user(monkeypatch, "priya.nair@acme.example")
    retry = cli("approve", OFFER_ID, cwd=repo)
    _refused_for_orphan(retry, OFFER)
    assert "already approved" not in retry.err

    # after restoring (the hint's command), the retry lands as priya's own commit
    git(repo, "checkout", "HEAD", "--", OFFER)
    landed = cli("approve", OFFER_ID, cwd=repo)
    assert landed.code == 0, landed.err
    assert [a["by"] for a in approvals_of(repo / OFFER)] == ["priya.nair@acme.example"]
    assert git(repo, "log", "-1", "--format=%ae %(trailers:key=Offer-Action,valueonly)").strip() == (
        "priya.nair@acme.example approve"
    )
    assert git(repo, "status", "--porcelain") == ""
    # and the next approver now proceeds normally
    as_user(monkeypatch, "dana.whit@acme.example")
    assert cli("approve", OFFER_ID, cwd=repo).code == 0


def _hand_edit(repo: Path, rel: str, *, stage: bool) -> bytes:
    path = repo / rel
    path.write_text(path.read_text() + "notes: edited by hand, not committed\n")
    if stage:
        git(repo, "add", "--", rel)
    return path.read_bytes()


COMMANDS = [
    pytest.param(DRAFT, "rita.ramos@acme.example", ["submit", DRAFT], id="submit"),
    pytest.param(OFFER_ID, "priya.nair@acme.example", ["approve", OFFER_ID], id="approve"),
    pytest.param(
        OFFER_ID, "priya.nair@acme.example", ["reject", OFFER_ID, "--comment", "too high"], id="reject"
    ),
    pytest.param(SENT, "rita.ramos@acme.example", ["accept", SENT], id="accept"),
    pytest.param(
        SENT,
        "rita.ramos@acme.example",
        ["revise", SENT, "--set", "compensation.sign_on_bonus=1000", "--reason", "counter"],
        id="revise",
    ),
    pytest.param(SENT, "rita.ramos@acme.example", ["rescind", SENT, "--reason", "budget"], id="rescind"),
    pytest.param(
        DRAFT, "rita.ramos@acme.example", ["edit", DRAFT, "--set", "role.title=Staff Engineer"], id="edit"
    ),
]


@pytest.mark.parametrize("stage", [False, True], ids=["modified", "staged"])
@pytest.mark.parametrize(("offer", "who", "args"), COMMANDS)
def test_every_mutating_command_refuses_a_change_it_did_not_make(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, offer: str, who: str, args: list[str], stage: bool
) -> None:
    rel = f"offers/{offer}.yaml"
    head = git(repo, "rev-parse", "HEAD")
    edited = _hand_edit(repo, rel, stage=stage)
    as_user(monkeypatch, who)
    result = cli(*args, cwd=repo)
    _refused_for_orphan(result, rel)
    assert ("staged" in result.err) is stage
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / rel).read_bytes() == edited
    # restored, the same command goes through and commits only its own change
    git(repo, "checkout", "HEAD", "--", rel)
    done = cli(*args, cwd=repo)
    assert done.code == 0, done.err
    assert "edited by hand" not in (repo / rel).read_text()
    assert git(repo, "status", "--porcelain") == ""


def test_submit_does_not_sweep_hand_edits_into_its_commit(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = f"offers/{DRAFT}.yaml"
    path = repo / rel
    path.write_text(path.read_text().replace("title: ", "title: Lead ", 1))
    result = cli("submit", DRAFT, cwd=repo)
    _refused_for_orphan(result, rel)
    assert "offerctl edit" in result.err  # the way to make such a change a commit of its own
    assert yamlio.load(path.read_bytes())["status"] == "draft"
    assert "Offer-Action: submit" not in git(repo, "log", "-1", "--format=%B")


def test_an_offer_that_was_never_committed_is_refused(offer_repo: Path, cli: Any) -> None:
    from tests.helpers import intake

    (offer_repo / "intake.yaml").write_text(intake())
    made = cli(
        "new", "--no-input", "--from", "intake.yaml", "--no-commit", "--format", "json", cwd=offer_repo
    )
    assert made.code == 0, made.err
    offer_id, rel = made.json()["id"], made.json()["path"]
    head = git(offer_repo, "rev-parse", "HEAD")
    result = cli("submit", offer_id, cwd=offer_repo)
    assert result.code == 1 and "not committed yet" in result.err, result.err
    assert f"git add {rel}" in result.err
    assert git(offer_repo, "rev-parse", "HEAD") == head
    git(offer_repo, "commit", "-q", "-m", "new offer", "--", rel)
    assert cli("submit", offer_id, cwd=offer_repo).code == 0


def test_expire_refuses_before_changing_any_offer(example_repo: Path, cli: Any) -> None:
    # Two offers are past expiry on 2027-06-01; one of them has an uncommitted change.
    expirable = [
        o["id"]
        for o in (yamlio.load(p.read_bytes()) for p in sorted((example_repo / "offers").glob("*.yaml")))
        if o["status"] in ("pending_approval", "approved", "sent", "negotiating")
    ]
    assert len(expirable) >= 2
    rel = f"offers/{expirable[-1]}.yaml"
    edited = _hand_edit(example_repo, rel, stage=False)
    head = git(example_repo, "rev-parse", "HEAD")
    result = cli("expire", "--as-of", "2027-06-01", cwd=example_repo)
    _refused_for_orphan(result, rel)
    assert git(example_repo, "rev-parse", "HEAD") == head
    assert (example_repo / rel).read_bytes() == edited
    assert git(example_repo, "status", "--porcelain").strip() == f"M {rel}"
