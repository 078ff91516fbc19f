"""The integrity attacks of issue 12 (items 1-5 and 13) and issue 13 item 13, each on a real
repository (`offerctl init`, real git, real ssh-keygen keys), each refused — by every local
command that counts approvals, and by `offerctl check` the way CI runs it.

Read as one list: every ``test_attack_*`` is a forgery or a mistake that must not land;
every ``test_legitimate_*`` is the honest flow next to it that must stay clean.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import git
from tests.test_trust_signatures import act_as, keypair, require_signatures, set_key
from tests.trust_helpers import append_line, commit_as, new_offer

HM = "hiring.manager@example.com"
FIN = "fin.lead@example.com"
RECRUITER = "recruiter@example.com"
OWNER = "pat.example@example.com"


# --- helpers --------------------------------------------------------------------------------


def as_person(monkeypatch: pytest.MonkeyPatch, email: str | None) -> None:
    if email is None:
        monkeypatch.delenv("GIT_AUTHOR_EMAIL", raising=False)
        monkeypatch.delenv("GIT_AUTHOR_NAME", raising=False)
    else:
        act_as(monkeypatch, email)


def submitted(cli: Any, monkeypatch: pytest.MonkeyPatch, repo: Path, **sets: str) -> str:
    offer_id = new_offer(repo, cli, **sets)
    as_person(monkeypatch, RECRUITER)
    result = cli("submit", offer_id, cwd=repo)
    assert result.code == 0, result.out + result.err
    as_person(monkeypatch, None)
    return offer_id


def offer_text(repo: Path, offer_id: str) -> str:
    return next((repo / "offers").rglob(f"{offer_id}.yaml")).read_text()


def offer_data(repo: Path, offer_id: str) -> dict[str, Any]:
    data = yamlio.load_text(offer_text(repo, offer_id))
    assert isinstance(data, dict)
    return data


def ci(cli: Any, repo: Path, *args: str) -> Any:
    return cli("check", "--verify-history", "--format", "json", *args, cwd=repo)


def found(result: Any) -> set[tuple[str, str | None]]:
    return {(f["code"], f["offer"]) for f in result.json()["findings"]}


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def signed_line(repo: Path, offer_id: str, role: str, by: str, key: Path | None, at: str) -> dict[str, Any]:
    """An approval line for the offer's current terms, signed with ``key`` (None: `sig: AAAA`)."""
    from offerctl.approvals import binding
    from offerctl.policy.load import load_policy_set
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    opened = open_repo(repo)
    policy, _ = load_policy_set(opened)
    offer = loader.load_offer(opened, offer_id)
    rule = next(r for r in policy.rules if r.require.role == role)
    digest = binding.approval_digest(offer.data, rule.covers)
    line: dict[str, Any] = {"role": role, "by": by, "at": at, "digest": digest, "rules": [rule.id]}
    if key is None:
        line["sig"] = "AAAA"
    else:
        line["sig"] = binding.sign(binding.signing_payload(offer_id, role, by, at, digest), key)
    return line


# --- 1. every command verifies signatures exactly as CI does -------------------------------


@pytest.fixture
def signed_repo(offer_repo: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """`offerctl init` with `signatures: required`, keys for the hiring manager and finance,
    and one revoked key of the hiring manager's (kept as ``keys["revoked"]``)."""
    keys: dict[str, Path] = {}
    for email in (HM, FIN):
        private, public = keypair(tmp_path, email.split("@")[0])
        set_key(offer_repo, email, public)
        keys[email] = private
    keys["revoked"], old_public = keypair(tmp_path, "hm-old")
    keys["rogue"], _ = keypair(tmp_path, "rogue")
    approvers = offer_repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text()
        + f"revoked_keys:\n  - {{key: '{old_public}', revoked_on: 2026-11-01, reason: laptop stolen}}\n"
    )
    require_signatures(offer_repo)
    commit_as(offer_repo, OWNER, "require signed approvals", "policies")
    return offer_repo, keys


FORGERIES = {
    "garbage-sig": (None, "A306", "not an SSH signature"),
    "unlisted-key": ("rogue", "A306", "lists for nobody"),
    "revoked-key": ("revoked", "A307", "revoked"),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_attack_forged_signature_counts_nowhere(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch, forgery: str
) -> None:
    """A hiring-manager approval with `sig: AAAA`, or signed by a key approvers.yaml lists for
    nobody, or by the hiring manager's revoked key, committed under the hiring manager's
    name: no command counts it, and CI reports it."""
    repo, keys = signed_repo
    key_name, code, words = FORGERIES[forgery]
    offer_id = submitted(cli, monkeypatch, repo, compensation__base_salary="190000")
    at = offer_data(repo, offer_id)["events"][-1]["at"]
    line = signed_line(repo, offer_id, "hiring_manager", HM, keys[key_name] if key_name else None, at)
    append_line(repo, offer_id, "approvals", line, author=HM)

    route = cli("route", offer_id, "--format", "json", cwd=repo).json()
    manager = next(r for r in route["rules"] if r["rule"] == "hiring-manager")
    assert (route["complete"], manager["satisfied"]) == (False, False)
    assert [a["state"] for a in manager["approvals"]] == ["bad_signature"]
    assert code in manager["approvals"][0]["detail"]

    [row] = cli("status", "--format", "json", cwd=repo).json()
    assert row["stage"] == "manager" and row["waiting"][0]["role"] == "hiring_manager"
    as_person(monkeypatch, HM)
    inbox = cli("inbox", "--format", "json", cwd=repo)
    assert [r["offer"] for r in inbox.json()["items"]] == [offer_id]  # still the hiring manager's work
    as_person(monkeypatch, None)

    # Finance cannot complete the offer on top of the forged line: its stage is not open,
    # so status never moves to approved.
    as_person(monkeypatch, FIN)
    before = head(repo)
    refused = cli("approve", offer_id, "--sign-key", str(keys[FIN]), cwd=repo)
    assert refused.code == 1 and "not open yet" in refused.err
    assert head(repo) == before and "status: pending_approval" in offer_text(repo, offer_id)
    as_person(monkeypatch, None)

    send = cli("send", offer_id, "--via", "manual", cwd=repo)
    assert send.code == 1 and "hiring_manager" in send.err and "not counted" in send.err
    assert head(repo) == before

    headroom = cli("headroom", offer_id, "--format", "json", cwd=repo).json()
    assert "hiring_manager" in headroom["pending"]
    remind = cli("remind", "--format", "json", "--as-of", "2026-12-31", cwd=repo).json()
    assert [(o["offer"], o["role"]) for o in remind["overdue"]] == [(offer_id, "hiring_manager")]
    report = cli("report", "--format", "json", cwd=repo).json()
    assert report["metrics"]["approval_latency"]["approvals"] == 0

    result = ci(cli, repo)
    assert result.code == 1
    [finding] = [f for f in result.json()["findings"] if f["code"] == code]
    assert finding["offer"] == offer_id and words in finding["message"]


def test_legitimate_signed_approvals_count_everywhere(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, keys = signed_repo
    offer_id = submitted(cli, monkeypatch, repo, compensation__base_salary="190000")
    for who in (HM, FIN):
        as_person(monkeypatch, who)
        result = cli("approve", offer_id, "--sign-key", str(keys[who]), cwd=repo)
        assert result.code == 0, result.err
    as_person(monkeypatch, None)
    assert "status: approved" in offer_text(repo, offer_id)
    assert cli("route", offer_id, "--format", "json", cwd=repo).json()["complete"] is True
    report = cli("report", "--format", "json", cwd=repo).json()
    assert report["metrics"]["approval_latency"]["approvals"] == 2
    assert ci(cli, repo).json()["findings"] == []


@pytest.mark.parametrize("key_name", ["rogue", "revoked"])
def test_attack_approve_with_an_unlisted_or_revoked_key_writes_nothing(
    signed_repo: tuple[Path, dict[str, Path]], cli: Any, monkeypatch: pytest.MonkeyPatch, key_name: str
) -> None:
    repo, keys = signed_repo
    offer_id = submitted(cli, monkeypatch, repo)
    before, text = head(repo), offer_text(repo, offer_id)
    as_person(monkeypatch, HM)
    result = cli("approve", offer_id, "--sign-key", str(keys[key_name]), cwd=repo)
    assert result.code == 1
    assert ("revoked" if key_name == "revoked" else "lists for nobody") in result.err
    assert "nothing was written" in result.err
    assert (head(repo), offer_text(repo, offer_id)) == (before, text)
    assert git(repo, "status", "--porcelain").strip() == ""


# --- 2. approval times: between the offer's creation and the commit that adds it -----------


def hm_line(repo: Path, offer_id: str, at: str) -> dict[str, Any]:
    line = signed_line(repo, offer_id, "hiring_manager", HM, None, at)
    del line["sig"]
    return line


@pytest.mark.parametrize("at", ["2099-01-01T09:00:00Z", "2020-01-01T09:00:00Z"])
def test_attack_approval_dated_in_the_future_or_before_the_offer(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    """The hiring manager writes an approval dated in 2099 (it would outlive any later
    rejection) or in 2020 (before the offer existed): it never counts, a rejection and
    resubmission does not revive it, and CI names it."""
    offer_id = submitted(cli, monkeypatch, offer_repo)
    append_line(offer_repo, offer_id, "approvals", hm_line(offer_repo, offer_id, at), author=HM)
    route = cli("route", offer_id, "--format", "json", cwd=offer_repo).json()
    [check] = next(r for r in route["rules"] if r["rule"] == "hiring-manager")["approvals"]
    assert (route["complete"], check["state"]) == (False, "bad_time")
    assert ("future" if at > "2026" else "before the offer was created") in check["detail"]

    as_person(monkeypatch, HM)
    assert cli("reject", offer_id, "--comment", "wrong start date", cwd=offer_repo).code == 0
    as_person(monkeypatch, RECRUITER)
    assert cli("submit", offer_id, cwd=offer_repo).code == 0
    as_person(monkeypatch, None)
    route = cli("route", offer_id, "--format", "json", cwd=offer_repo).json()
    [check] = next(r for r in route["rules"] if r["rule"] == "hiring-manager")["approvals"]
    assert (route["complete"], check["state"]) == (False, "bad_time")

    codes = found(ci(cli, offer_repo))
    assert ("A360", offer_id) in codes
    assert (("A361", offer_id) in codes) == (at > "2026")  # dated after the commit that added it


def test_attack_approval_committed_before_a_rejection_but_dated_after_it(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approval written before the offer was rejected, dated 30 minutes ahead so that it
    falls after the rejection and the resubmission: CI sees from the commit order that it
    was given before the rejection (A362)."""
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:00:00Z")
    offer_id = submitted(cli, monkeypatch, offer_repo)
    append_line(
        offer_repo, offer_id, "approvals", hm_line(offer_repo, offer_id, "2026-11-23T10:30:00Z"), author=HM
    )
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:05:00Z")
    as_person(monkeypatch, HM)
    assert cli("reject", offer_id, "--comment", "wrong start date", cwd=offer_repo).code == 0
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:06:00Z")
    as_person(monkeypatch, RECRUITER)
    assert cli("submit", offer_id, cwd=offer_repo).code == 0
    as_person(monkeypatch, None)
    result = ci(cli, offer_repo)
    [finding] = [f for f in result.json()["findings"] if f["code"] == "A362"]
    assert finding["offer"] == offer_id and "rejected at 2026-11-23T10:05:00Z" in finding["message"]


def test_legitimate_reject_resubmit_and_approve_again_checks_clean(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:00:00Z")
    offer_id = submitted(cli, monkeypatch, offer_repo)
    as_person(monkeypatch, HM)
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:01:00Z")
    assert cli("approve", offer_id, cwd=offer_repo).code == 0
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:02:00Z")
    assert cli("reject", offer_id, "--comment", "start date moves", cwd=offer_repo).code == 0
    as_person(monkeypatch, RECRUITER)
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:03:00Z")
    assert cli("submit", offer_id, cwd=offer_repo).code == 0
    route = cli("route", offer_id, "--format", "json", cwd=offer_repo).json()
    [old] = next(r for r in route["rules"] if r["rule"] == "hiring-manager")["approvals"]
    assert old["state"] == "superseded"
    as_person(monkeypatch, HM)
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T10:04:00Z")
    assert cli("approve", offer_id, cwd=offer_repo).code == 0
    as_person(monkeypatch, None)
    assert cli("route", offer_id, "--format", "json", cwd=offer_repo).json()["complete"] is True
    assert ci(cli, offer_repo).json()["findings"] == []


# --- issue 13 item 13: event dates ------------------------------------------------------------

SENT = "OFF-2026-6RM1PQ9C"  # the bundled example's sent offer, created 2026-11-10


@pytest.mark.parametrize("day", ["2025-01-01", "2099-01-01"])
def test_attack_accept_signed_before_the_offer_existed_or_in_the_future(
    example_repo: Path, cli: Any, day: str
) -> None:
    before = head(example_repo)
    result = cli("accept", SENT, "--signed-on", day, cwd=example_repo)
    assert result.code == 1
    assert ("before the offer was created" if day < "2026" else "in the future") in result.err
    assert head(example_repo) == before and git(example_repo, "status", "--porcelain").strip() == ""
    assert cli("accept", SENT, "--signed-on", "2026-11-22", cwd=example_repo).code == 0


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("signed_on", "2025-01-01", "before the offer was created"),
        ("at", "2099-01-01T09:00:00Z", "in the future"),
        ("at", "2020-01-01T09:00:00Z", "before the offer was created"),
    ],
)
def test_attack_event_dated_before_the_offer_or_in_the_future_is_a_finding(
    example_repo: Path, cli: Any, field: str, value: str, words: str
) -> None:
    event = {
        "type": "accepted",
        "at": "2026-11-22T10:00:00Z",
        "by": "rita.ramos@acme.example",
        "from": "sent",
        "to": "accepted",
        "signed_on": "2026-11-22",
    }
    event[field] = value
    append_line(example_repo, SENT, "events", event, author="rita.ramos@acme.example")
    result = ci(cli, example_repo)
    [finding] = [f for f in result.json()["findings"] if f["code"] == "G560"]
    assert finding["offer"] == SENT and words in finding["message"] and field in finding["message"]
    assert finding["line"] is not None
    assert (("G561", SENT) in found(result)) == (value.startswith("2099"))


# --- 3. deleting an offer -------------------------------------------------------------------


def delete_offer(repo: Path, offer_id: str, **trailers: str) -> None:
    rel = str(next((repo / "offers").rglob(f"{offer_id}.yaml")).relative_to(repo))
    git(repo, "rm", "-q", rel)
    message = f"remove {offer_id}\n\n" + "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in trailers.items())
    git(repo, "commit", "-q", "-m", message, f"--author=Rae Cruiter <{RECRUITER}>")


def test_attack_deleting_an_approved_offer_is_a_finding(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_id = submitted(cli, monkeypatch, offer_repo)
    as_person(monkeypatch, HM)
    assert cli("approve", offer_id, cwd=offer_repo).code == 0
    as_person(monkeypatch, None)
    assert "status: approved" in offer_text(offer_repo, offer_id)
    delete_offer(offer_repo, offer_id)
    result = ci(cli, offer_repo)
    assert result.code == 1
    [finding] = result.json()["findings"]
    assert (finding["code"], finding["offer"], finding["path"]) == (
        "G562",
        offer_id,
        f"offers/{offer_id}.yaml",
    )
    assert "approved" in finding["message"] and RECRUITER in finding["message"]
    # a pull request that deletes it is caught too
    assert cli("check", "--verify-history", "--changed-since", "HEAD~1", cwd=offer_repo).code == 1


def test_attack_deleting_a_draft_without_declaring_it_is_a_finding(offer_repo: Path, cli: Any) -> None:
    offer_id = new_offer(offer_repo, cli)
    delete_offer(offer_repo, offer_id)
    assert found(ci(cli, offer_repo)) == {("G562", offer_id)}


def test_attack_declaring_the_deletion_of_a_submitted_offer_is_still_a_finding(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_id = submitted(cli, monkeypatch, offer_repo)
    as_person(monkeypatch, HM)
    assert cli("reject", offer_id, "--comment", "no", cwd=offer_repo).code == 0  # back to draft
    delete_offer(offer_repo, offer_id, Offer_Id=offer_id, Offer_Action="delete")
    [finding] = ci(cli, offer_repo).json()["findings"]
    assert finding["code"] == "G562" and "only drafts never submitted" in finding["message"]


def test_attack_a_delete_trailer_naming_another_offer_does_not_authorise(offer_repo: Path, cli: Any) -> None:
    offer_id, other = new_offer(offer_repo, cli), new_offer(offer_repo, cli)
    delete_offer(offer_repo, offer_id, Offer_Id=other, Offer_Action="erase")
    assert found(ci(cli, offer_repo)) == {("G562", offer_id)}


@pytest.mark.parametrize("action", ["delete", "erase"])
def test_legitimate_declared_deletion_checks_clean(offer_repo: Path, cli: Any, action: str) -> None:
    offer_id = new_offer(offer_repo, cli)
    delete_offer(offer_repo, offer_id, Offer_Id=offer_id, Offer_Action=action)
    assert ci(cli, offer_repo).json()["findings"] == []


# --- 5. false alarms: a loop of approvals, and offers moved into offers/YYYY/MM/ -----------


def test_legitimate_one_approver_approving_identical_offers_in_one_second_checks_clean(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three offers with identical terms, approved by the hiring manager in a loop within
    the same second: three distinct lines (the digest binds the offer id), no A351."""
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T09:00:00Z")
    offers = [submitted(cli, monkeypatch, offer_repo) for _ in range(3)]
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-23T15:00:00Z")
    as_person(monkeypatch, HM)
    for offer_id in offers:
        assert cli("approve", offer_id, cwd=offer_repo).code == 0
    as_person(monkeypatch, None)
    lines = [offer_data(offer_repo, o)["approvals"][0] for o in offers]
    assert len({line["at"] for line in lines}) == 1 and len({line["digest"] for line in lines}) == 3
    result = ci(cli, offer_repo)
    assert (result.code, result.json()["findings"]) == (0, []), result.out


def test_attack_copying_a_fresh_approval_to_an_identical_offer_still_does_not_count(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy the loop must not be confused with: the line approved for one offer pasted
    into another with the same terms does not count there (its digest names the first
    offer), and CI still reports the copy."""
    first, second = submitted(cli, monkeypatch, offer_repo), submitted(cli, monkeypatch, offer_repo)
    as_person(monkeypatch, HM)
    assert cli("approve", first, cwd=offer_repo).code == 0
    as_person(monkeypatch, None)
    append_line(offer_repo, second, "approvals", offer_data(offer_repo, first)["approvals"][0], author=HM)
    route = cli("route", second, "--format", "json", cwd=offer_repo).json()
    [copy] = next(r for r in route["rules"] if r["rule"] == "hiring-manager")["approvals"]
    assert (route["complete"], copy["state"]) == (False, "stale")
    assert ("A351", second) in found(ci(cli, offer_repo))


def test_legitimate_git_mv_into_year_month_folders_checks_clean(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_id = submitted(cli, monkeypatch, offer_repo, compensation__base_salary="190000")
    for who in (HM, FIN):
        as_person(monkeypatch, who)
        assert cli("approve", offer_id, cwd=offer_repo).code == 0
    as_person(monkeypatch, None)
    (offer_repo / "offers" / "2026" / "11").mkdir(parents=True)
    git(offer_repo, "mv", f"offers/{offer_id}.yaml", f"offers/2026/11/{offer_id}.yaml")
    uncommitted = ci(cli, offer_repo)
    assert (uncommitted.code, uncommitted.json()["findings"]) == (0, [])
    commit_as(offer_repo, RECRUITER, "shard offers by month", "offers")
    result = ci(cli, offer_repo)
    assert (result.code, result.json()["findings"]) == (0, []), result.out
    # and a line edited after the move is still an edit of the moved offer's history
    path = offer_repo / "offers" / "2026" / "11" / f"{offer_id}.yaml"
    path.write_text(path.read_text().replace(f"by: {FIN}", "by: mallory@example.com", 1))
    commit_as(offer_repo, RECRUITER, "edit", "offers")
    assert "G550" in {c for c, _ in found(ci(cli, offer_repo))}


# --- 4. the pull-request check validates the pull request's own policy files ---------------


@pytest.mark.parametrize(
    ("rel", "old", "new", "code"),
    [
        ("policies/routing.yaml", None, "rules: [unclosed\n", "Y"),
        ("policies/routing.yaml", "> band.mid'", "> band.mid +'", "P"),  # CEL does not compile
        ("policies/approvers.yaml", "[fin.lead@example.com]", "[fin.lead@example.com, ghost@x.example]", "P"),
        ("offerctl.yaml", "  finance: 2\n", "  finance: two\n", "S"),
    ],
)
def test_attack_pull_request_breaking_a_policy_file_fails_the_policy_ref_check(
    offer_repo: Path, cli: Any, rel: str, old: str | None, new: str, code: str
) -> None:
    """The base policy decides approvals, but a pull request that breaks main's policy files
    must not pass: the head files are validated and reported with file and line."""
    git(offer_repo, "checkout", "-q", "-b", "pr")
    path = offer_repo / rel
    text = path.read_text()
    assert old is None or old in text
    path.write_text(text + new if old is None else text.replace(old, new, 1))
    commit_as(offer_repo, OWNER, "tweak policy", rel)
    result = cli("check", "--verify-history", "--policy-ref", "main", "--format", "json", cwd=offer_repo)
    assert result.code == 1, result.out
    errors = [f for f in result.json()["findings"] if f["severity"] == "error"]
    assert any(f["path"] == rel and f["code"].startswith(code) and f["line"] for f in errors), errors
    assert all("this change's version" in f["message"] for f in errors)
    assert "G555" in {f["code"] for f in result.json()["findings"]}  # still a warning for review


def test_legitimate_policy_change_in_a_pull_request_only_warns(offer_repo: Path, cli: Any) -> None:
    git(offer_repo, "checkout", "-q", "-b", "pr")
    routing = offer_repo / "policies" / "routing.yaml"
    routing.write_text(routing.read_text().replace("signatures: optional", "signatures: required"))
    commit_as(offer_repo, OWNER, "require signatures", "policies/routing.yaml")
    result = cli("check", "--verify-history", "--policy-ref", "main", "--format", "json", cwd=offer_repo)
    assert result.code == 0 and [f["code"] for f in result.json()["findings"]] == ["G555"]


# --- 13. concurrency: 8 approvers pushing at once, default settings -----------------------

PANEL = [f"panel{n}@example.com" for n in range(1, 9)]
PANEL_ROUTING = """\
signatures: optional
stages: [panel]
rules:
  - id: panel
    stage: panel
    when: 'true'
    require: {role: panel, quorum: all}
    covers: [compensation]
"""


def panel_remote(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[Path, str]:
    """A bare remote holding one pending offer that needs all 8 panel members."""
    approvers = offer_repo / "policies" / "approvers.yaml"
    people = "".join(
        f"  - {{email: {p}, name: Panel {n}, title: Interviewer}}\n" for n, p in enumerate(PANEL, 1)
    )
    approvers.write_text(
        approvers.read_text()
        .replace("people:\n", "people:\n" + people, 1)
        .replace("roles:\n", f"roles:\n  panel:\n    people: [{', '.join(PANEL)}]\n", 1)
    )
    (offer_repo / "policies" / "routing.yaml").write_text(PANEL_ROUTING)
    commit_as(offer_repo, OWNER, "an 8-person panel approves every offer", "policies")
    offer_id = submitted(cli, monkeypatch, offer_repo)
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(offer_repo), str(remote))
    return remote, offer_id


def race(remote: Path, offer_id: str, workdir: Path) -> tuple[list[tuple[int, str]], float]:
    """8 clones, one per panel member; all run `offerctl approve --push` at the same moment
    with default settings. (exit code, stderr) per process, and the wall time."""
    clones = []
    for person in PANEL:
        target = workdir / person.split("@")[0]
        git(workdir, "clone", "-q", str(remote), str(target))
        git(target, "config", "user.email", person)
        git(target, "config", "user.name", person.split("@")[0])
        clones.append(target)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "offerctl", "approve", offer_id, "--push"],
            cwd=clone,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for clone in clones
    ]
    results = []
    for proc in procs:
        _, err = proc.communicate(timeout=400)
        results.append((proc.returncode, err))
    return results, time.monotonic() - started


def test_eight_approvers_pushing_at_once_all_land(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    remote, offer_id = panel_remote(offer_repo, cli, monkeypatch, tmp_path)
    results, seconds = race(remote, offer_id, tmp_path)
    assert [code for code, _ in results] == [0] * 8, [err for code, err in results if code]
    assert seconds < 400
    data = yamlio.load_text(git(remote, "show", f"main:offers/{offer_id}.yaml"))
    assert sorted(a["by"] for a in data["approvals"]) == sorted(PANEL)
    assert data["status"] == "approved"
    authors = git(remote, "log", "-8", "--format=%ae").split()
    assert sorted(authors) == sorted(PANEL)  # each approval committed by its approver
