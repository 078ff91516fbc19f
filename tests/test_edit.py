"""The shared edit path: one appended line per approval/event, refusals write nothing."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from offerctl.core.errors import InputError
from offerctl.store import git as gitmod
from offerctl.store.edit import OfferEdit
from offerctl.store.repo import open_repo
from tests.conftest import git

OFFER = "OFF-2026-3QX7M2KD"
ACTOR = gitmod.Identity("Sam Lee", "sam.lee@acme.example")


def _diff(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_appending_an_event_adds_exactly_one_line(example_repo: Path) -> None:
    repo = open_repo(example_repo)
    edit = OfferEdit.open(repo, OFFER)
    edit.append(
        "events",
        {
            "type": "note",
            "at": "2026-11-21T10:00:00Z",
            "by": "sam.lee@acme.example",
            "comment": "Call scheduled: Tuesday, 10:00",
        },
    )
    text, offer = edit.validated()
    assert _diff(edit.original, text) == [
        "+  - {type: note, at: '2026-11-21T10:00:00Z', by: sam.lee@acme.example, "
        "comment: 'Call scheduled: Tuesday, 10:00'}"
    ]
    assert offer.data["events"][-1]["comment"] == "Call scheduled: Tuesday, 10:00"


def test_first_approval_turns_the_empty_flow_list_into_lines(example_repo: Path) -> None:
    repo = open_repo(example_repo)
    edit = OfferEdit.open(repo, OFFER)
    edit.append(
        "approvals",
        {
            "role": "hiring_manager",
            "by": "sam.lee@acme.example",
            "at": "2026-11-21T10:00:00Z",
            "digest": "sha256:" + "a" * 64,
        },
    )
    text, _ = edit.validated()
    assert _diff(edit.original, text) == [
        "-approvals: []",
        "+approvals:",
        "+  - {role: hiring_manager, by: sam.lee@acme.example, at: '2026-11-21T10:00:00Z', "
        "digest: 'sha256:" + "a" * 64 + "'}",
    ]


def test_save_commits_as_the_actor_with_trailers(example_repo: Path) -> None:
    repo = open_repo(example_repo)
    edit = OfferEdit.open(repo, OFFER)
    assert edit.set("compensation.base_salary", 150000) == (148000, 150000)
    commit = edit.save("offer: raise", author=ACTOR, trailers={"Offer-Id": OFFER, "Offer-Action": "revise"})
    assert commit
    log = git(example_repo, "log", "-1", "--format=%an <%ae>%n%B")
    assert log.startswith("Sam Lee <sam.lee@acme.example>")
    assert f"Offer-Id: {OFFER}\nOffer-Action: revise" in log
    assert git(example_repo, "status", "--porcelain") == ""


def test_an_invalid_result_is_refused_and_nothing_is_written(example_repo: Path) -> None:
    repo = open_repo(example_repo)
    path = example_repo / "offers" / f"{OFFER}.yaml"
    before = path.read_bytes()
    edit = OfferEdit.open(repo, OFFER)
    edit.set("compensation.base_salary", -1)
    with pytest.raises(InputError) as info:
        edit.save("offer: bad", author=ACTOR, trailers={})
    assert "nothing was written" in (info.value.hint or "")
    assert path.read_bytes() == before
    assert git(example_repo, "status", "--porcelain") == ""


def test_a_failed_commit_restores_the_file(example_repo: Path) -> None:
    repo = open_repo(example_repo)
    path = example_repo / "offers" / f"{OFFER}.yaml"
    before = path.read_bytes()
    hook = example_repo / ".git" / "hooks" / "pre-commit"
    edit = OfferEdit.open(repo, OFFER)
    edit.set("compensation.base_salary", 150000)
    # make the commit fail: an index.lock held by "another git process"
    (example_repo / ".git" / "index.lock").write_text("")
    with pytest.raises(gitmod.GitError):
        edit.save("offer: raise", author=ACTOR, trailers={})
    (example_repo / ".git" / "index.lock").unlink()
    assert not hook.exists()
    assert path.read_bytes() == before
    assert git(example_repo, "status", "--porcelain") == ""
