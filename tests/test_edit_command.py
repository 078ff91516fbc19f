"""`offerctl edit`: changing an offer before it is sent (issue 13, item 4), on real repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import git
from tests.test_approvals import OFFER_ID, add_offer, as_user

DRAFT = "OFF-2026-3QX7M2KD"
APPROVED = "OFF-2026-2WF8JT4M"  # approved by its hiring manager (rule covers compensation)
SENT = "OFF-2026-4JZ6HN3T"


def data(repo: Path, offer_id: str) -> dict[str, Any]:
    loaded = yamlio.load_path(repo / "offers" / f"{offer_id}.yaml")
    assert isinstance(loaded, dict)
    return loaded


def changed_lines(repo: Path) -> list[str]:
    diff = git(repo, "show", "--format=", "-U0", "HEAD")
    return [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-22T10:00:00Z")


def test_editing_a_draft_is_one_commit_of_its_own(example_repo: Path, cli: Any) -> None:
    result = cli(
        "edit",
        DRAFT,
        "--set",
        "role.title=Staff Backend Engineer",
        "--set",
        "candidate.name=Kim Lee",
        "--reason",
        "title agreed with the manager",
        "--format",
        "json",
        cwd=example_repo,
    )
    assert result.code == 0, result.err
    out = result.json()
    assert (out["offer"], out["action"], out["from"], out["to"]) == (DRAFT, "edit", "draft", "draft")
    assert [c["field"] for c in out["changes"]] == ["role.title", "candidate.name"]
    assert out["stale_approvals"] == [] and out["commit"]
    after = data(example_repo, DRAFT)
    assert after["role"]["title"] == "Staff Backend Engineer" and after["status"] == "draft"
    event = after["events"][-1]
    assert event == {
        "type": "edited",
        "at": "2026-11-22T10:00:00Z",
        "by": "rita.ramos@acme.example",
        "from": "draft",
        "to": "draft",
        "reason": "title agreed with the manager",
        "changes": [
            {"field": "role.title", "old": "Backend Engineer", "new": "Staff Backend Engineer"},
            {"field": "candidate.name"},  # personal data: by name only
        ],
    }
    message = git(example_repo, "log", "-1", "--format=%ae%n%B")
    assert message.startswith(
        "rita.ramos@acme.example\noffer OFF-2026-3QX7M2KD: edited role.title, candidate.name"
    )
    assert "title agreed with the manager" in message
    assert f"Offer-Id: {DRAFT}\nOffer-Action: edit" in message
    # exactly the two fields and the one event line changed
    assert len(changed_lines(example_repo)) == 5
    assert git(example_repo, "status", "--porcelain") == ""
    assert cli("check", cwd=example_repo).code == 0
    # and the draft submits as usual afterwards
    assert cli("submit", DRAFT, cwd=example_repo).code == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--set", "compensation.salary=1"], 2, "--set compensation.salary: unknown field"),
        (["--set", "status=approved"], 2, "edit cannot set status"),
        (["--set", "approvals=[]"], 2, "edit cannot set approvals"),
        (["--set", "role.department=Nope"], 2, "unknown department 'Nope'"),
        (["--set", "expires_on=2030-01-01"], 2, "expires_on 2030-01-01 is after start_date"),
        (["--set", "compensation.base_salary=-5"], 2, "compensation.base_salary"),
        (["--set", "role.title=Backend Engineer"], 1, "nothing changed"),
        (["--set", "role.title=X", "--reason", ""], 2, "--reason must not be empty"),
    ],
)
def test_edits_are_validated_like_new(
    example_repo: Path, cli: Any, args: list[str], code: int, message: str
) -> None:
    before = (example_repo / "offers" / f"{DRAFT}.yaml").read_bytes()
    head = git(example_repo, "rev-parse", "HEAD")
    result = cli("edit", DRAFT, *args, cwd=example_repo)
    assert result.code == code, result.err
    assert message in result.err and "Traceback" not in result.err
    assert (example_repo / "offers" / f"{DRAFT}.yaml").read_bytes() == before
    assert git(example_repo, "rev-parse", "HEAD") == head


def test_a_sent_offer_is_revised_not_edited(example_repo: Path, cli: Any) -> None:
    result = cli("edit", SENT, "--set", "role.title=X", cwd=example_repo)
    assert result.code == 1
    assert "edit is allowed only from approved, draft, pending_approval" in result.err
    assert "revise" in result.err


def test_a_pending_offer_says_which_approvals_went_stale(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_offer(example_repo)
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-17T09:00:00Z")
    for who in ("priya.nair@acme.example", "dana.whit@acme.example"):
        as_user(monkeypatch, who)
        assert cli("approve", OFFER_ID, cwd=example_repo).code == 0
    as_user(monkeypatch, "rita.ramos@acme.example")
    # start_date is covered by the hiring manager's rule only
    result = cli("edit", OFFER_ID, "--set", "start_date=2027-03-01", "--format", "json", cwd=example_repo)
    assert result.code == 0, result.err
    out = result.json()
    assert (out["from"], out["to"]) == ("pending_approval", "pending_approval")
    assert [(s["role"], s["by"]) for s in out["stale_approvals"]] == [
        ("hiring_manager", "priya.nair@acme.example")
    ]
    assert "start_date" in out["stale_approvals"][0]["detail"]
    assert out["waiting"][0]["people"] == ["priya.nair@acme.example"]
    # the text view says who must approve again
    text = cli("edit", OFFER_ID, "--set", "start_date=2027-03-02", cwd=example_repo)
    assert text.code == 0, text.err
    assert "status: pending_approval" in text.out
    assert "waiting on hiring_manager (priya.nair@acme.example)" in text.out
    # priya approves again; the finance approval (covers compensation) held throughout
    as_user(monkeypatch, "priya.nair@acme.example")
    assert cli("approve", OFFER_ID, cwd=example_repo).code == 0


def test_an_approved_offer_goes_back_to_pending_when_a_covered_field_changes(
    example_repo: Path, cli: Any
) -> None:
    assert data(example_repo, APPROVED)["status"] == "approved"
    uncovered = cli(
        "edit", APPROVED, "--set", "candidate.source=agency", "--format", "json", cwd=example_repo
    )
    assert uncovered.code == 0, uncovered.err
    assert (uncovered.json()["to"], uncovered.json()["stale_approvals"]) == ("approved", [])
    covered = cli("edit", APPROVED, "--set", "compensation.base_salary=200000", cwd=example_repo)
    assert covered.code == 0, covered.err
    assert "status: pending_approval (was approved)" in covered.out
    assert "now stale: hiring_manager approval by leo.park@acme.example" in covered.out
    assert data(example_repo, APPROVED)["status"] == "pending_approval"
    assert data(example_repo, APPROVED)["events"][-1]["to"] == "pending_approval"
    refused = cli("send", APPROVED, "--via", "manual", cwd=example_repo)
    assert refused.code == 1 and "stale" in refused.err
    assert cli("check", cwd=example_repo).code == 0


def test_edit_with_no_commit_stages_and_blocks_the_next_change(example_repo: Path, cli: Any) -> None:
    staged = cli("edit", DRAFT, "--set", "role.title=Lead", "--no-commit", cwd=example_repo)
    assert staged.code == 0, staged.err
    assert "staged, not committed" in staged.out
    assert git(example_repo, "diff", "--cached", "--name-only").strip() == f"offers/{DRAFT}.yaml"
    # the staged edit is the user's to commit; submit does not sweep it into its own commit
    assert cli("submit", DRAFT, cwd=example_repo).code == 1


def test_edit_repairs_a_committed_draft_that_does_not_validate(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{DRAFT}.yaml"
    path.write_text(path.read_text().replace("base_salary: 148000", "base_salary: -148000", 1))
    git(example_repo, "commit", "-qam", "typo")
    refused = cli("submit", DRAFT, cwd=example_repo)  # the file does not validate
    assert refused.code == 2 and "base_salary" in refused.err, refused.err
    fixed = cli("edit", DRAFT, "--set", "compensation.base_salary=148000", cwd=example_repo)
    assert fixed.code == 0, fixed.err
    assert cli("submit", DRAFT, cwd=example_repo).code == 0
