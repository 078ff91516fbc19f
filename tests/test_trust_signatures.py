"""Signatures, quorum and base-branch policy against the attacks issue 6 lists, with real SSH
keys, real `offerctl submit/approve` runs and real commits. Each attack must be refused with a
finding naming the offer, the approval's line and what is wrong; the legitimate flows pass."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import git
from tests.trust_helpers import (
    PEOPLE,
    append_line,
    clock_at,
    commit_as,
    line_of,
    new_offer,
    replace_in_offer,
)

HM = "hiring.manager@example.com"
FIN = "fin.lead@example.com"
RECRUITER = "recruiter@example.com"
SUBMITTED_AT = "2026-09-01T10:00:00Z"


def keypair(directory: Path, name: str) -> tuple[Path, str]:
    """A fresh ed25519 key pair (private key path, public key line)."""
    private = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(private)], check=True
    )
    return private, Path(f"{private}.pub").read_text().strip()


def act_as(monkeypatch: pytest.MonkeyPatch, email: str) -> None:
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", email)
    monkeypatch.setenv("GIT_AUTHOR_NAME", PEOPLE[email])


def set_key(repo: Path, email: str, public: str) -> None:
    approvers = repo / "policies" / "approvers.yaml"
    text = approvers.read_text()
    needle = f"{{email: {email}, "
    assert needle in text
    approvers.write_text(text.replace(needle, f"{{email: {email}, ssh_key: '{public}', ", 1))


def require_signatures(repo: Path) -> None:
    routing = repo / "policies" / "routing.yaml"
    routing.write_text(routing.read_text().replace("signatures: optional", "signatures: required"))


@pytest.fixture
def signed_repo(offer_repo: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """The starter repository with `signatures: required` and keys for the hiring manager
    and finance, committed on main by the policy owner."""
    keys: dict[str, Path] = {}
    for email in (HM, FIN):
        private, public = keypair(tmp_path, email.split("@")[0])
        set_key(offer_repo, email, public)
        keys[email] = private
    require_signatures(offer_repo)
    commit_as(offer_repo, "pat.example@example.com", "require signed approvals", "policies")
    return offer_repo, keys


def _approve(
    cli: Any, monkeypatch: pytest.MonkeyPatch, repo: Path, offer_id: str, who: str, *extra: str
) -> None:
    act_as(monkeypatch, who)
    result = cli("approve", offer_id, *extra, cwd=repo)
    assert result.code == 0, result.out + result.err
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    monkeypatch.delenv("GIT_AUTHOR_NAME")


def _submitted(cli: Any, monkeypatch: pytest.MonkeyPatch, repo: Path, **sets: str) -> str:
    offer_id = new_offer(repo, cli, **sets)
    act_as(monkeypatch, RECRUITER)
    with clock_at(SUBMITTED_AT):  # before the approvals these tests write by hand
        result = cli("submit", offer_id, cwd=repo)
    assert result.code == 0, result.out + result.err
    return offer_id


def _ci(cli: Any, repo: Path, *args: str) -> Any:
    return cli("check", "--verify-history", "--format", "json", *args, cwd=repo)


def _only(result: Any, code: str) -> list[dict[str, Any]]:
    return [f for f in result.json()["findings"] if f["code"] == code]


# --- legitimate flows -------------------------------------------------------------------------


def test_legitimate_unsigned_flow_passes_in_a_pull_request(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(offer_repo, "checkout", "-q", "-b", "offer")
    offer_id = _submitted(cli, monkeypatch, offer_repo, compensation__base_salary="190000")
    _approve(cli, monkeypatch, offer_repo, offer_id, HM)
    _approve(cli, monkeypatch, offer_repo, offer_id, FIN)
    assert "status: approved" in (offer_repo / "offers" / f"{offer_id}.yaml").read_text()
    result = _ci(cli, offer_repo, "--policy-ref", "main", "--changed-since", "main")
    assert (result.code, result.json()["findings"], result.json()["checked"]) == (0, [], 1)
    assert _ci(cli, offer_repo).code == 0


def test_legitimate_signed_flow_passes(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, keys = signed_repo
    git(repo, "checkout", "-q", "-b", "offer")
    offer_id = _submitted(cli, monkeypatch, repo, compensation__base_salary="190000")
    _approve(cli, monkeypatch, repo, offer_id, HM, "--sign-key", str(keys[HM]))
    _approve(cli, monkeypatch, repo, offer_id, FIN, "--sign-key", str(keys[FIN]))
    text = (repo / "offers" / f"{offer_id}.yaml").read_text()
    assert "status: approved" in text and text.count("sig: ") == 2
    result = _ci(cli, repo, "--policy-ref", "main", "--changed-since", "main")
    assert (result.code, result.json()["findings"]) == (0, [])


# --- signature attacks ------------------------------------------------------------------------


def _forge_signed_line(
    repo: Path,
    offer_id: str,
    role: str,
    by: str,
    key: Path,
    *,
    payload_offer: str | None = None,
    payload_digest: str | None = None,
    at: str = "2026-11-21T10:00:00Z",
) -> dict[str, Any]:
    """An approval line whose digest matches the offer's current terms, signed with ``key``
    over a payload that may name another offer or other terms."""
    from offerctl.approvals import binding
    from offerctl.policy.load import load_policy_set
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    opened = open_repo(repo)
    policy, _ = load_policy_set(opened)
    offer = loader.load_offer(opened, offer_id)
    covers = next(r.covers for r in policy.rules if r.require.role == role)
    digest = binding.digest(offer.data, covers)
    payload = binding.signing_payload(payload_offer or offer_id, role, by, at, payload_digest or digest)
    return {"role": role, "by": by, "at": at, "digest": digest, "sig": binding.sign(payload, key)}


def test_attack_signature_from_a_key_not_in_the_policy(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo, _ = signed_repo
    offer_id = _submitted(cli, monkeypatch, repo)
    rogue, _ = keypair(tmp_path, "rogue")
    line = _forge_signed_line(repo, offer_id, "hiring_manager", HM, rogue)
    append_line(repo, offer_id, "approvals", line, author=HM)  # forged git author too
    [finding] = _ci(cli, repo).json()["findings"]
    assert (finding["code"], finding["offer"]) == ("A306", offer_id)
    assert finding["line"] == line_of(repo, offer_id, "role: hiring_manager")
    assert "lists for nobody" in finding["message"]


def test_attack_signature_with_another_persons_key(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finance signs an approval that names the hiring manager: the key is the identity."""
    repo, keys = signed_repo
    offer_id = _submitted(cli, monkeypatch, repo)
    line = _forge_signed_line(repo, offer_id, "hiring_manager", HM, keys[FIN])
    append_line(repo, offer_id, "approvals", line, author=HM)
    [finding] = _ci(cli, repo).json()["findings"]
    assert finding["code"] == "A306" and f"signed with {FIN}'s key" in finding["message"]


def test_attack_signature_from_a_revoked_key_whatever_its_date(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The hiring manager's old key was revoked (and replaced); an approval signed with it and
    dated long before the revocation still never verifies."""
    repo, keys = signed_repo
    old_public = Path(f"{keys[HM]}.pub").read_text().strip()
    _, new_public = keypair(tmp_path, "hm-new")
    approvers = repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text().replace(old_public, new_public)
        + f"revoked_keys:\n  - {{key: '{old_public}', revoked_on: 2026-11-01, reason: laptop stolen}}\n"
    )
    commit_as(repo, "pat.example@example.com", "rotate key", "policies/approvers.yaml")
    offer_id = _submitted(cli, monkeypatch, repo)
    line = _forge_signed_line(repo, offer_id, "hiring_manager", HM, keys[HM], at="2026-10-01T09:00:00Z")
    append_line(repo, offer_id, "approvals", line, author=HM)
    [finding] = _ci(cli, repo).json()["findings"]
    assert (finding["code"], finding["offer"]) == ("A307", offer_id)
    assert "revoked" in finding["message"] and "whatever date" in finding["message"]


def test_attack_signature_over_different_terms(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hiring manager signed 185,000. Someone raises the salary and writes a line with
    the new terms' digest, reusing the signature: the digest matches, the signature does not."""
    repo, keys = signed_repo
    offer_id = _submitted(cli, monkeypatch, repo)
    old = _forge_signed_line(repo, offer_id, "hiring_manager", HM, keys[HM])
    replace_in_offer(repo, offer_id, "base_salary: 185000", "base_salary: 205000")
    new = _forge_signed_line(repo, offer_id, "hiring_manager", HM, keys[HM])
    forged = {**new, "sig": old["sig"]}
    append_line(repo, offer_id, "approvals", forged, author=HM)
    findings = _ci(cli, repo).json()["findings"]
    [finding] = [f for f in findings if f["code"] == "A306"]
    assert "does not cover this approval" in finding["message"]
    assert finding["line"] == line_of(repo, offer_id, "role: hiring_manager")


def test_attack_signed_approval_copied_from_another_offer(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, keys = signed_repo
    first = _submitted(cli, monkeypatch, repo)
    second = _submitted(cli, monkeypatch, repo)
    _approve(cli, monkeypatch, repo, first, HM, "--sign-key", str(keys[HM]))
    text = (repo / "offers" / f"{first}.yaml").read_text()
    copied = next(ln for ln in text.splitlines() if "role: hiring_manager" in ln)
    path = repo / "offers" / f"{second}.yaml"
    path.write_text(path.read_text().replace("approvals: []\n", f"approvals:\n{copied}\n"))
    commit_as(repo, HM, "copy", f"offers/{second}.yaml")
    found = {(f["code"], f["offer"]) for f in _ci(cli, repo).json()["findings"]}
    assert ("A306", second) in found  # the signature names the first offer
    assert ("A351", second) in found  # and the line is a copy


# --- routing attacks --------------------------------------------------------------------------


def test_attack_approval_kept_after_the_salary_was_changed_by_hand(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_id = _submitted(cli, monkeypatch, offer_repo)
    _approve(cli, monkeypatch, offer_repo, offer_id, HM)
    assert _ci(cli, offer_repo).code == 0
    rel = replace_in_offer(offer_repo, offer_id, "base_salary: 185000", "base_salary: 209000")
    commit_as(offer_repo, RECRUITER, "adjust", rel)
    result = _ci(cli, offer_repo)
    [stale] = _only(result, "A302")
    assert stale["offer"] == offer_id and "compensation.base_salary" in stale["message"]
    assert stale["line"] == line_of(offer_repo, offer_id, "role: hiring_manager")


def test_attack_same_person_counted_twice_toward_a_quorum(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finance needs two people; the one finance approver approves twice and the status is
    set to approved by hand."""
    approvers = offer_repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text().replace(
            "people: [fin.lead@example.com]", "people: [fin.lead@example.com, pat.example@example.com]"
        )
    )
    routing = offer_repo / "policies" / "routing.yaml"
    routing.write_text(
        routing.read_text().replace(
            "require: {role: finance, quorum: any}", "require: {role: finance, quorum: 2}"
        )
    )
    commit_as(offer_repo, "pat.example@example.com", "two-person finance", "policies")
    offer_id = _submitted(cli, monkeypatch, offer_repo, compensation__base_salary="190000")
    _approve(cli, monkeypatch, offer_repo, offer_id, HM)
    _approve(cli, monkeypatch, offer_repo, offer_id, FIN)
    first = yamlio.load((offer_repo / "offers" / f"{offer_id}.yaml").read_bytes())["approvals"][-1]
    second = {**first, "at": "2026-11-23T10:00:00Z"}
    append_line(offer_repo, offer_id, "approvals", second, author=FIN)
    rel = replace_in_offer(offer_repo, offer_id, "status: pending_approval", "status: approved")
    commit_as(offer_repo, RECRUITER, "approved", rel)
    result = _ci(cli, offer_repo)
    [twice] = _only(result, "A304")
    assert twice["offer"] == offer_id and "already counted" in twice["message"]
    assert twice["line"] == line_of(offer_repo, offer_id, "2026-11-23T10:00:00Z")
    assert _only(result, "A305")  # one person is one vote: the quorum of two is not met


def test_attack_pull_request_adds_its_author_to_finance_and_approves(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mallory's pull request adds her to the finance role and approves as finance, with
    her own commits. Judged by its own policy it passes; judged by main's it does not."""
    offer_id = _submitted(cli, monkeypatch, offer_repo, compensation__base_salary="190000")
    _approve(cli, monkeypatch, offer_repo, offer_id, HM)
    git(offer_repo, "checkout", "-q", "-b", "mallory")
    approvers = offer_repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text()
        .replace("people:\n", "people:\n  - {email: mallory@example.com, name: Mallory, title: Analyst}\n", 1)
        .replace("people: [fin.lead@example.com]", "people: [fin.lead@example.com, mallory@example.com]")
    )
    commit_as(offer_repo, "mallory@example.com", "join finance", "policies/approvers.yaml")
    _approve(cli, monkeypatch, offer_repo, offer_id, "mallory@example.com")
    assert "status: approved" in (offer_repo / "offers" / f"{offer_id}.yaml").read_text()
    own = _ci(cli, offer_repo, "--changed-since", "main")
    assert own.code == 0  # its own policy lets it through: this is why CI uses the base's
    result = _ci(cli, offer_repo, "--changed-since", "main", "--policy-ref", "main")
    assert result.code == 1
    [not_allowed] = _only(result, "A303")
    assert not_allowed["offer"] == offer_id and "mallory@example.com" in not_allowed["message"]
    assert not_allowed["line"] == line_of(offer_repo, offer_id, "by: mallory@example.com")
    assert [f["path"] for f in _only(result, "G555")] == ["policies/approvers.yaml"]


def test_a_disallowed_approval_on_a_pending_offer_is_refused_when_added(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the band maximum the offer needs finance and the CPO: Mallory's finance
    approval (under her own pull request's policy) leaves it pending — it is still reported,
    so it cannot merge and sit in the append-only list."""
    offer_id = _submitted(cli, monkeypatch, offer_repo, compensation__base_salary="215000")
    _approve(cli, monkeypatch, offer_repo, offer_id, HM)
    git(offer_repo, "checkout", "-q", "-b", "mallory")
    approvers = offer_repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text()
        .replace("people:\n", "people:\n  - {email: mallory@example.com, name: Mallory, title: Analyst}\n", 1)
        .replace("people: [fin.lead@example.com]", "people: [fin.lead@example.com, mallory@example.com]")
    )
    commit_as(offer_repo, "mallory@example.com", "join finance", "policies/approvers.yaml")
    _approve(cli, monkeypatch, offer_repo, offer_id, "mallory@example.com")
    assert "status: pending_approval" in (offer_repo / "offers" / f"{offer_id}.yaml").read_text()
    result = _ci(cli, offer_repo, "--changed-since", "main", "--policy-ref", "main")
    [not_allowed] = _only(result, "A303")
    assert not_allowed["line"] == line_of(offer_repo, offer_id, "by: mallory@example.com")
    assert result.code == 1
