"""`check --changed-since REF` and `check --policy-ref REF` on real repositories with a
base branch and a pull-request branch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.trust_helpers import append_line, approval, codes, commit_as, new_offer, replace_in_offer


@pytest.fixture
def two_offers(offer_repo: Path, cli: Any) -> tuple[Path, str, str]:
    """Two offers on main, then a `pr` branch checked out."""
    first = new_offer(offer_repo, cli)
    second = new_offer(offer_repo, cli)
    git(offer_repo, "checkout", "-q", "-b", "pr")
    return offer_repo, first, second


def test_changed_since_checks_only_the_changed_offer(two_offers: tuple[Path, str, str], cli: Any) -> None:
    repo, first, _ = two_offers
    rel = replace_in_offer(repo, first, "sign_on_bonus: 20000", "sign_on_bonus: 21000")
    commit_as(repo, "recruiter@example.com", "bigger sign-on", rel)
    result = cli("check", "--changed-since", "main", "--format", "json", cwd=repo)
    assert (result.code, result.json()["checked"]) == (0, 1)
    # nothing changed: nothing to check
    git(repo, "checkout", "-q", "main")
    assert cli("check", "--changed-since", "main", "--format", "json", cwd=repo).json()["checked"] == 0


@pytest.mark.parametrize("path", ["policies/bands.yaml", "offerctl.yaml", "letter_templates/offer.md.j2"])
def test_changed_since_checks_everything_when_rules_change(
    two_offers: tuple[Path, str, str], cli: Any, path: str
) -> None:
    repo, _, _ = two_offers
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((target.read_text() if target.exists() else "Dear {{ candidate.name }}\n") + "# edit\n")
    commit_as(repo, "recruiter@example.com", "rules", path)
    result = cli("check", "--changed-since", "main", "--format", "json", cwd=repo)
    assert result.json()["checked"] == 2


def test_changed_since_verifies_the_commits_of_the_pull_request(
    two_offers: tuple[Path, str, str], cli: Any
) -> None:
    repo, first, _ = two_offers
    append_line(
        repo, first, "approvals", approval("finance", "fin.lead@example.com"), author="mallory@example.com"
    )
    result = cli("check", "--changed-since", "main", "--verify-history", "--format", "json", cwd=repo)
    assert result.code == 1
    assert codes(result)[0][:2] == ("A350", first)


def test_unknown_ref_is_a_usage_error_with_the_fix(offer_repo: Path, cli: Any) -> None:
    for option in ("--changed-since", "--policy-ref"):
        result = cli("check", option, "origin/nope", cwd=offer_repo)
        assert result.code == 2
        assert f"{option} origin/nope: no such commit" in result.err
        assert "fetch-depth: 0" in result.err


def test_shallow_clone_refuses_changed_since_and_policy_ref(
    two_offers: tuple[Path, str, str], cli: Any, tmp_path: Path
) -> None:
    repo, _, _ = two_offers
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{repo}", str(clone))
    for option in ("--changed-since", "--policy-ref"):
        result = cli("check", "--no-verify-history", option, "origin/main", cwd=clone)
        assert result.code == 2, result.err
        assert "shallow" in result.err and "git fetch --unshallow" in result.err


def test_policy_ref_judges_a_pull_request_by_the_base_policy(
    two_offers: tuple[Path, str, str], cli: Any
) -> None:
    """The pull request adds a department to offerctl.yaml and a person to approvers.yaml,
    and uses both in an offer: under the base branch's policy neither exists."""
    repo, first, _ = two_offers
    config = repo / "offerctl.yaml"
    config.write_text(config.read_text().replace("departments: [", "departments: [Robotics, "))
    approvers = repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text().replace(
            "people:\n", "people:\n  - {email: mallory@example.com, name: Mallory, title: Manager}\n", 1
        )
    )
    replace_in_offer(repo, first, "department: Engineering", "department: Robotics")
    rel = replace_in_offer(
        repo, first, "hiring_manager: hiring.manager@example.com", "hiring_manager: mallory@example.com"
    )
    commit_as(repo, "mallory@example.com", "new team", rel, "offerctl.yaml", "policies/approvers.yaml")
    # judged by its own policy, the pull request passes
    assert cli("check", "--format", "json", cwd=repo).code == 0
    result = cli("check", "--policy-ref", "main", "--format", "json", cwd=repo)
    assert result.code == 1
    found = {(f["code"], f["path"], f["severity"]) for f in result.json()["findings"]}
    assert ("S112", f"offers/{first}.yaml", "error") in found
    assert ("S115", f"offers/{first}.yaml", "error") in found
    assert ("G555", "offerctl.yaml", "warning") in found
    assert ("G555", "policies/approvers.yaml", "warning") in found


def test_policy_ref_defaults_to_the_pull_request_target_in_github_actions(
    two_offers: tuple[Path, str, str], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _, _ = two_offers
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    bands = repo / "policies" / "bands.yaml"
    bands.write_text(bands.read_text() + "# widened\n")
    commit_as(repo, "recruiter@example.com", "bands", "policies/bands.yaml")
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    result = cli("check", "--format", "json", cwd=repo)
    [finding] = result.json()["findings"]
    assert (finding["code"], finding["path"]) == ("G555", "policies/bands.yaml")
    assert "origin/main" in finding["message"]
    assert "policy owners (pat.example@example.com)" in finding["message"]
    assert result.code == 0  # a warning: the policy owners' review is GitHub's job (CODEOWNERS)


def test_policy_ref_with_a_broken_base_config_says_where(two_offers: tuple[Path, str, str], cli: Any) -> None:
    repo, _, _ = two_offers
    git(repo, "checkout", "-q", "main")
    (repo / "offerctl.yaml").write_text("version: [\n")
    commit_as(repo, "recruiter@example.com", "break", "offerctl.yaml")
    git(repo, "checkout", "-q", "pr")
    result = cli("check", "--policy-ref", "main", cwd=repo)
    assert result.code == 2
    assert "offerctl.yaml (as on main)" in result.err
