"""History verification (`check --verify-history`): approvals and events are append-only and
each approval is committed by its approver. Every attack runs on a real temporary repository."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.trust_helpers import (
    append_line,
    approval,
    codes,
    commit_as,
    line_of,
    new_offer,
    replace_in_offer,
)

HM = "hiring.manager@example.com"
FIN = "fin.lead@example.com"


@pytest.fixture
def approved(offer_repo: Path, cli: Any) -> tuple[Path, str]:
    """An offer with a hiring-manager and a finance approval, each committed by its approver."""
    offer_id = new_offer(offer_repo, cli)
    append_line(offer_repo, offer_id, "approvals", approval("hiring_manager", HM), author=HM)
    append_line(
        offer_repo, offer_id, "approvals", approval("finance", FIN, "2026-11-21T10:00:00Z"), author=FIN
    )
    return offer_repo, offer_id


def _check(cli: Any, repo: Path, *args: str) -> Any:
    return cli("check", "--verify-history", "--format", "json", *args, cwd=repo)


def test_legitimate_history_passes(approved: tuple[Path, str], cli: Any) -> None:
    repo, _ = approved
    result = _check(cli, repo)
    assert result.code == 0, result.out
    assert result.json()["findings"] == []


def test_ci_true_turns_verification_on_and_the_flag_turns_it_off(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_id = new_offer(offer_repo, cli)
    append_line(offer_repo, offer_id, "approvals", approval("finance", FIN), author="recruiter@example.com")
    monkeypatch.setenv("CI", "true")
    on = cli("check", "--format", "json", cwd=offer_repo)
    assert [c for c, _, _ in codes(on)] == ["A350"]
    off = cli("check", "--no-verify-history", "--format", "json", cwd=offer_repo)
    assert (off.code, codes(off)) == (0, [])
    monkeypatch.delenv("CI")
    assert cli("check", "--format", "json", cwd=offer_repo).code == 0


def test_attack_by_written_by_someone_else(offer_repo: Path, cli: Any) -> None:
    """The recruiter writes an approval naming finance as approver and commits it herself."""
    offer_id = new_offer(offer_repo, cli)
    append_line(offer_repo, offer_id, "approvals", approval("finance", FIN), author="recruiter@example.com")
    result = _check(cli, offer_repo)
    assert result.code == 1
    [finding] = result.json()["findings"]
    assert (finding["code"], finding["offer"]) == ("A350", offer_id)
    assert finding["path"] == f"offers/{offer_id}.yaml"
    assert finding["line"] == line_of(offer_repo, offer_id, "role: finance")
    assert "committed by recruiter@example.com" in finding["message"]
    assert FIN in finding["message"]


def test_attack_approval_edited_after_the_fact(approved: tuple[Path, str], cli: Any) -> None:
    repo, offer_id = approved
    for old, new, what in (
        ("2026-11-20T17:02:11Z", "2026-11-22T09:00:00Z", "at"),
        ("a" * 64, "b" * 64, "digest"),
    ):
        git(repo, "reset", "-q", "--hard", "HEAD")
        rel = replace_in_offer(repo, offer_id, old, new)
        commit_as(repo, HM, f"fix {what}", rel)
        result = _check(cli, repo)
        assert result.code == 1
        found = [f for f in result.json()["findings"] if f["code"] == "G550"]
        assert len(found) == 1, result.out
        assert found[0]["line"] == line_of(repo, offer_id, "role: hiring_manager")
        assert f"{what} " in found[0]["message"] and "edited after it was committed" in found[0]["message"]
        git(repo, "reset", "-q", "--hard", "HEAD~1")


def test_attack_approval_person_swapped(approved: tuple[Path, str], cli: Any) -> None:
    """Someone edits the finance line to name another approver (and commits as them)."""
    repo, offer_id = approved
    rel = replace_in_offer(repo, offer_id, f"by: {FIN}", "by: pat.example@example.com")
    commit_as(repo, "pat.example@example.com", "swap approver", rel)
    result = _check(cli, repo)
    assert [c for c, _, _ in codes(result)] == ["G550"]
    message = result.json()["findings"][0]["message"]
    assert f"by '{FIN}' → 'pat.example@example.com'" in message


def test_attack_approval_removed(approved: tuple[Path, str], cli: Any) -> None:
    repo, offer_id = approved
    path = repo / "offers" / f"{offer_id}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "role: finance" not in line))
    commit_as(repo, "recruiter@example.com", "tidy", f"offers/{offer_id}.yaml")
    result = _check(cli, repo)
    assert result.code == 1
    [finding] = result.json()["findings"]
    assert finding["code"] == "G551"
    assert finding["line"] == line_of(repo, offer_id, "approvals:")
    assert "removed" in finding["message"] and FIN in finding["message"]


def test_attack_lines_reordered(approved: tuple[Path, str], cli: Any) -> None:
    repo, offer_id = approved
    path = repo / "offers" / f"{offer_id}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    hm = next(i for i, line in enumerate(lines) if "role: hiring_manager" in line)
    lines[hm], lines[hm + 1] = lines[hm + 1], lines[hm]
    path.write_text("".join(lines))
    commit_as(repo, HM, "reorder", f"offers/{offer_id}.yaml")
    result = _check(cli, repo)
    assert {c for c, _, _ in codes(result)} == {"G552"}


def test_attack_event_edited(offer_repo: Path, cli: Any) -> None:
    offer_id = new_offer(offer_repo, cli)
    created_line = line_of(offer_repo, offer_id, "type: created")
    rel = replace_in_offer(
        offer_repo, offer_id, "by: rita.ramos@acme.example}", "by: pat.example@example.com}"
    )
    commit_as(offer_repo, "recruiter@example.com", "who created it", rel)
    result = _check(cli, offer_repo)
    [finding] = result.json()["findings"]
    assert (finding["code"], finding["line"]) == ("G550", created_line)
    assert finding["message"].startswith("event line 1")


def test_uncommitted_edit_in_the_working_tree_is_reported(approved: tuple[Path, str], cli: Any) -> None:
    repo, offer_id = approved
    replace_in_offer(repo, offer_id, "2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z")
    result = _check(cli, repo)
    [finding] = result.json()["findings"]
    assert finding["code"] == "G550"
    assert "the working tree (uncommitted)" in finding["message"]


def test_formatting_changes_are_not_edits(approved: tuple[Path, str], cli: Any) -> None:
    """Rewriting a flow line in block style, or requoting, changes no value."""
    repo, offer_id = approved
    rel = replace_in_offer(repo, offer_id, "at: '2026-11-20T17:02:11Z'", 'at: "2026-11-20T17:02:11Z"')
    commit_as(repo, HM, "requote", rel)
    assert _check(cli, repo).code == 0


def test_parallel_branches_merged_are_legitimate(offer_repo: Path, cli: Any) -> None:
    """Two approvals added on two branches and merged are not an edit: whether offerctl's
    merge driver joins the two appended lines or a person resolves the conflict by keeping
    both."""
    offer_id = new_offer(offer_repo, cli)
    git(offer_repo, "checkout", "-q", "-b", "finance")
    append_line(offer_repo, offer_id, "approvals", approval("finance", FIN), author=FIN)
    git(offer_repo, "checkout", "-q", "main")
    append_line(offer_repo, offer_id, "approvals", approval("hiring_manager", HM), author=HM)
    for driver in (True, False):
        if not driver:  # without the driver: a conflict, resolved by keeping both lines
            git(offer_repo, "reset", "-q", "--hard", "HEAD~1")
            (offer_repo / ".git" / "info").mkdir(exist_ok=True)
            (offer_repo / ".git" / "info" / "attributes").write_text("offers/**/*.yaml merge=text\n")
        merged = subprocess.run(
            ["git", "merge", "-q", "finance", "-m", "merge"], cwd=offer_repo, capture_output=True
        )
        if merged.returncode != 0:
            assert not driver
            path = offer_repo / "offers" / f"{offer_id}.yaml"
            text = path.read_text()
            kept = [
                line
                for line in text.splitlines(keepends=True)
                if not line.startswith(("<<<<<<<", "=======", ">>>>>>>"))
            ]
            path.write_text("".join(kept))
            git(offer_repo, "add", "--", f"offers/{offer_id}.yaml")
            git(offer_repo, "commit", "-q", "--no-edit")
        assert len(git(offer_repo, "rev-list", "--parents", "-n", "1", "HEAD").split()) == 3
        result = _check(cli, offer_repo)
        assert (result.code, result.json()["findings"]) == (0, []), driver
    assert len(git(offer_repo, "rev-list", "--parents", "-n", "1", "HEAD").split()) == 3
    result = _check(cli, offer_repo)
    assert (result.code, result.json()["findings"]) == (0, [])


def test_evil_merge_that_drops_an_approval_is_reported(offer_repo: Path, cli: Any) -> None:
    offer_id = new_offer(offer_repo, cli)
    append_line(offer_repo, offer_id, "approvals", approval("hiring_manager", HM), author=HM)
    git(offer_repo, "checkout", "-q", "-b", "side")
    append_line(offer_repo, offer_id, "approvals", approval("finance", FIN), author=FIN)
    git(offer_repo, "checkout", "-q", "main")
    rel = f"offers/{offer_id}.yaml"
    (offer_repo / rel).write_text((offer_repo / rel).read_text().replace("full_time", "part_time"))
    commit_as(offer_repo, "recruiter@example.com", "part time", rel)
    subprocess.run(["git", "merge", "-q", "-s", "ours", "side", "-m", "merge"], cwd=offer_repo, check=True)
    # -s ours keeps main's file: the finance line never arrives, which is not an edit
    assert _check(cli, offer_repo).code == 0
    # now a merge that really drops a line both parents had
    git(offer_repo, "reset", "-q", "--hard", "HEAD~1")
    subprocess.run(["git", "merge", "-q", "--no-commit", "side"], cwd=offer_repo, capture_output=True)
    path = offer_repo / rel
    text = path.read_text()
    path.write_text(
        "".join(
            line
            for line in text.splitlines(keepends=True)
            if "role: hiring_manager" not in line and not line.startswith(("<<<<<<<", "=======", ">>>>>>>"))
        )
    )
    git(offer_repo, "add", "--", rel)
    git(offer_repo, "commit", "-q", "--no-edit")
    result = _check(cli, offer_repo)
    assert "G551" in [c for c, _, _ in codes(result)], result.out


def test_shallow_clone_is_a_usage_error(approved: tuple[Path, str], cli: Any, tmp_path: Path) -> None:
    repo, _ = approved
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    result = cli("check", "--verify-history", cwd=clone)
    assert result.code == 2
    assert "shallow" in result.err and "fetch-depth: 0" in result.err
    assert "Traceback" not in result.err
    # without history verification a shallow clone checks fine
    assert cli("check", "--no-verify-history", cwd=clone).code == 0


SNAPSHOT = Path(__file__).parent / "snapshots" / "verify_history.txt"


def test_history_findings_read_well(approved: tuple[Path, str], cli: Any) -> None:
    """What a reviewer reads (text format, fixed width): one forged, one edited and one
    removed line. Commit ids and the random offer id are normalised."""
    import re

    repo, offer_id = approved
    rel = replace_in_offer(repo, offer_id, "2026-11-20T17:02:11Z", "2026-11-19T08:00:00Z")
    commit_as(repo, "recruiter@example.com", "backdate", rel)
    path = repo / rel
    path.write_text(
        "".join(ln for ln in path.read_text().splitlines(keepends=True) if "role: finance" not in ln)
    )
    commit_as(repo, "recruiter@example.com", "drop", rel)
    append_line(
        repo,
        offer_id,
        "approvals",
        approval("finance", FIN, "2026-11-22T10:00:00Z"),
        author="mallory@example.com",
    )
    result = cli("check", "--verify-history", cwd=repo)
    assert result.code == 1
    text = re.sub(r"commit [0-9a-f]{10}", "commit <sha>", result.out.replace(offer_id, "OFF-2026-XXXXXXXX"))
    assert text == SNAPSHOT.read_text()
