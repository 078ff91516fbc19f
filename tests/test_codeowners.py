"""`offerctl codeowners`: policy paths to the policy owners, each offer to its reviewers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import ROOT, git
from tests.trust_helpers import new_offer

SNAPSHOT = ROOT / "tests" / "snapshots" / "codeowners_starter.txt"


def _with_github_names(repo: Path) -> None:
    approvers = repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text().replace("name: Hana Manager,", "name: Hana Manager, github: hana-m,")
    )
    git(repo, "commit", "-qam", "github names")


def test_codeowners_maps_policies_and_offers(offer_repo: Path, cli: Any) -> None:
    _with_github_names(offer_repo)
    offer_id = new_offer(offer_repo, cli)
    result = cli("codeowners", cwd=offer_repo)
    assert result.code == 0, result.err
    text = result.out.replace(offer_id, "OFF-2026-XXXXXXXX")
    assert text == SNAPSHOT.read_text()
    assert f"/offers/{offer_id}.yaml @hana-m recruiter@example.com" in result.out
    assert "/policies/ pat.example@example.com" in result.out


def test_codeowners_write_commits_once(offer_repo: Path, cli: Any) -> None:
    new_offer(offer_repo, cli)
    first = cli("codeowners", "--write", "--format", "json", cwd=offer_repo)
    assert first.code == 0, first.err
    assert first.json()["commit"]
    written = (offer_repo / ".github" / "CODEOWNERS").read_text()
    assert written == first.json()["text"]
    assert "Offer-Action: codeowners" in git(offer_repo, "log", "-1", "--format=%B")
    assert git(offer_repo, "status", "--porcelain") == ""
    again = cli("codeowners", "--write", cwd=offer_repo)
    assert again.code == 0 and "unchanged" in again.err
    assert len(git(offer_repo, "log", "--format=%H").split()) == 3  # init, new, codeowners


def test_codeowners_without_policy_owners_is_refused(offer_repo: Path, cli: Any) -> None:
    approvers = offer_repo / "policies" / "approvers.yaml"
    approvers.write_text(
        "\n".join(line for line in approvers.read_text().splitlines() if not line.startswith("policy_owners"))
    )
    result = cli("codeowners", "--write", cwd=offer_repo)
    assert result.code == 1
    assert "no policy_owners" in result.err and "hint" in result.err
    assert not (offer_repo / ".github" / "CODEOWNERS").exists()


def test_unknown_github_name_is_a_schema_finding(offer_repo: Path, cli: Any) -> None:
    approvers = offer_repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text().replace("name: Hana Manager,", "name: Hana Manager, github: '@bad name',")
    )
    result = cli("check", "--format", "json", cwd=offer_repo)
    assert result.code == 1
    [finding] = [f for f in result.json()["findings"] if "github" in f["message"]]
    assert (finding["path"], finding["code"]) == ("policies/approvers.yaml", "S105")


def test_codeowners_adds_the_approvers_routing_requires(offer_repo: Path, cli: Any) -> None:
    above_mid = new_offer(offer_repo, cli, compensation__base_salary="190000")
    at_mid = new_offer(offer_repo, cli)
    out = cli("codeowners", cwd=offer_repo).out
    assert (
        f"/offers/{above_mid}.yaml hiring.manager@example.com recruiter@example.com fin.lead@example.com\n"
        in out
    )
    assert f"/offers/{at_mid}.yaml hiring.manager@example.com recruiter@example.com\n" in out
