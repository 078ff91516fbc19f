"""The attacks issue 6 lists, each on a real temporary repository, each refused with a
finding that names the offer, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import git
from tests.trust_helpers import append_line, approval, codes, commit_as, line_of, new_offer

FIN = "fin.lead@example.com"


def test_attack_forged_git_author_passes_authorship_but_not_a_copy(offer_repo: Path, cli: Any) -> None:
    """Finance approved offer A. Someone copies that line into offer B (same terms, so the
    digest matches) and commits it with `--author` set to the approver: the authorship
    check cannot see through a forged author, the copy check can."""
    first = new_offer(offer_repo, cli)
    second = new_offer(offer_repo, cli)
    line = approval("finance", FIN, "2026-11-21T10:00:00Z")
    append_line(offer_repo, first, "approvals", line, author=FIN)
    git(offer_repo, "checkout", "-q", "-b", "pr")
    append_line(offer_repo, second, "approvals", line, author=FIN)  # forged author
    assert git(offer_repo, "log", "-1", "--format=%ae").strip() == FIN

    pr = cli("check", "--verify-history", "--changed-since", "main", "--format", "json", cwd=offer_repo)
    assert pr.code == 1
    [finding] = pr.json()["findings"]
    assert (finding["code"], finding["offer"]) == ("A351", second)
    assert finding["line"] == line_of(offer_repo, second, "role: finance")
    assert f"offers/{first}.yaml" in finding["message"]
    # the whole-repository check finds it too (on both offers: it cannot tell which came first)
    full = cli("check", "--verify-history", "--format", "json", cwd=offer_repo)
    assert sorted((c, o) for c, o, _ in codes(full)) == sorted([("A351", first), ("A351", second)])


def test_attack_forged_author_writing_a_fresh_approval_is_only_caught_by_signatures(
    offer_repo: Path, cli: Any
) -> None:
    """What the README says a forged author gets past: without signatures, a fresh approval
    line committed with `--author` set to the approver passes history verification."""
    offer_id = new_offer(offer_repo, cli)
    append_line(offer_repo, offer_id, "approvals", approval("finance", FIN), author=FIN)
    forged = git(offer_repo, "log", "-1", "--format=%an <%ae> / %cn <%ce>").strip()
    assert forged == "Finn Lead <fin.lead@example.com> / Rita Ramos <rita.ramos@acme.example>"
    result = cli("check", "--verify-history", "--format", "json", cwd=offer_repo)
    assert result.code == 0  # the committer differs, but git does not authenticate either


def test_attack_removing_and_re_adding_an_approval_is_still_an_edit(offer_repo: Path, cli: Any) -> None:
    offer_id = new_offer(offer_repo, cli)
    append_line(offer_repo, offer_id, "approvals", approval("finance", FIN), author=FIN)
    path = offer_repo / "offers" / f"{offer_id}.yaml"
    original = path.read_text()
    path.write_text("".join(ln for ln in original.splitlines(keepends=True) if "role: finance" not in ln))
    commit_as(offer_repo, "recruiter@example.com", "drop", f"offers/{offer_id}.yaml")
    path.write_text(original)
    commit_as(offer_repo, FIN, "re-add", f"offers/{offer_id}.yaml")
    result = cli("check", "--verify-history", "--format", "json", cwd=offer_repo)
    assert [c for c, _, _ in codes(result)] == ["G551"]
