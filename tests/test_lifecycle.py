"""Lifecycle transitions on the bundled example: what each command records, what it refuses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from offerctl.core.model import CLOSED_STATUSES, OPEN_STATUSES, Status
from offerctl.lifecycle import transitions
from offerctl.store import yamlio
from tests.conftest import declare_correction, git

ROOT = Path(__file__).resolve().parent.parent
SENT = "OFF-2026-6RM1PQ9C"  # sent, expires 2026-11-27
SENT_DE = "OFF-2026-4JZ6HN3T"  # sent, expires 2026-11-28
DRAFT = "OFF-2026-3QX7M2KD"
NEGOTIATING = "OFF-2026-7CG5XB2R"
ACCEPTED = "OFF-2026-0TB8WD5K"
DECLINED = "OFF-2026-5WQ9GA1D"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-22T10:00:00Z")


def offer(repo: Path, offer_id: str) -> dict[str, Any]:
    data = yamlio.load_path(repo / "offers" / f"{offer_id}.yaml")
    assert isinstance(data, dict)
    return data


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def trailers(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%(trailers)")


def test_every_status_is_reachable_and_closed_states_are_final() -> None:
    reachable = {Status.DRAFT} | {t.target for t in transitions.TRANSITIONS}
    assert reachable == set(Status)
    for t in transitions.TRANSITIONS:
        assert t.source not in CLOSED_STATUSES, t
    # Every open state can be left by rescind (the company can always withdraw); an accepted
    # offer too, but only for a failed contingency (records.decide_rescind refuses otherwise).
    assert set(transitions.targets("rescind")) == set(OPEN_STATUSES) | {Status.ACCEPTED}


def test_docs_diagram_is_generated_from_the_transition_table() -> None:
    page = (ROOT / "docs" / "lifecycle.md").read_text()
    block = re.search(
        r"<!-- lifecycle-diagram:start -->\n```mermaid\n(.*?)```\n<!-- lifecycle-diagram:end -->",
        page,
        re.S,
    )
    assert block, "docs/lifecycle.md lacks the lifecycle diagram block"
    assert block.group(1) == transitions.mermaid()


def test_accept_records_signature_document_and_trailers(example_repo: Path, cli: Any, tmp_path: Path) -> None:
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(b"%PDF-1.7 signed letter")
    result = cli(
        "accept", SENT, "--signed-on", "2026-11-21", "--document", str(signed), "--repo", str(example_repo)
    )
    assert result.code == 0, result.err
    data = offer(example_repo, SENT)
    assert data["status"] == "accepted"
    event = data["events"][-1]
    assert event == {
        "type": "accepted",
        "at": "2026-11-22T10:00:00Z",
        "by": "rita.ramos@acme.example",
        "from": "sent",
        "to": "accepted",
        "signed_on": "2026-11-21",
        "document_sha256": transitions.sha256_file(b"%PDF-1.7 signed letter"),
    }
    assert "Offer-Id: OFF-2026-6RM1PQ9C" in trailers(example_repo)
    assert "Offer-Action: accept" in trailers(example_repo)
    assert git(example_repo, "status", "--porcelain") == ""
    assert cli("check", "--repo", str(example_repo)).code == 0


def test_accepting_a_draft_is_refused_and_writes_nothing(example_repo: Path, cli: Any) -> None:
    before = (example_repo / "offers" / f"{DRAFT}.yaml").read_bytes()
    commit = head(example_repo)
    result = cli("accept", DRAFT, "--repo", str(example_repo))
    assert result.code == 1
    assert "cannot accept OFF-2026-3QX7M2KD: it is draft; accept is allowed only from sent" in result.err
    assert "from draft offerctl can: edit, rescind, submit" in result.err
    assert "Traceback" not in result.err
    assert (example_repo / "offers" / f"{DRAFT}.yaml").read_bytes() == before
    assert head(example_repo) == commit


def test_decline_with_taxonomy_reason(example_repo: Path, cli: Any) -> None:
    result = cli(
        "decline",
        NEGOTIATING,
        "--reason",
        "competing_offer",
        "--competing-employer",
        "Globex",
        "--detail",
        "Globex offered 15% more, fully remote",
        "--repo",
        str(example_repo),
    )
    assert result.code == 0, result.err
    event = offer(example_repo, NEGOTIATING)["events"][-1]
    assert event["type"] == "declined"
    assert (event["from"], event["to"]) == ("negotiating", "declined")
    assert event["reason"] == "competing_offer"
    assert event["competing_employer"] == "Globex"
    assert event["detail"] == "Globex offered 15% more, fully remote"
    assert cli("check", "--repo", str(example_repo)).code == 0


def test_declining_with_an_unknown_reason_lists_the_taxonomy(example_repo: Path, cli: Any) -> None:
    commit = head(example_repo)
    result = cli("decline", SENT, "--reason", "money", "--repo", str(example_repo))
    assert result.code == 2
    assert "--reason 'money' is not a decline reason" in result.err
    assert "compensation, role_content" in result.err
    assert head(example_repo) == commit
    assert offer(example_repo, SENT)["status"] == "sent"


def test_decline_taxonomy_is_configurable(example_repo: Path, cli: Any) -> None:
    config = example_repo / "offerctl.yaml"
    config.write_text(config.read_text() + "decline_reasons: [pay, visa]\n")
    git(example_repo, "commit", "-qam", "custom taxonomy")
    assert cli("decline", SENT, "--reason", "compensation", "--repo", str(example_repo)).code == 2
    assert cli("decline", SENT, "--reason", "visa", "--repo", str(example_repo)).code == 0
    assert offer(example_repo, SENT)["events"][-1]["reason"] == "visa"


def test_revise_records_structured_changes(example_repo: Path, cli: Any) -> None:
    result = cli(
        "revise",
        SENT,
        "--set",
        "compensation.base_salary=205000",
        "--set",
        "start_date=2027-01-18",
        "--set",
        "compensation.sign_on_bonus=20000",  # unchanged: not listed
        "--reason",
        "counter-offer",
        "--repo",
        str(example_repo),
    )
    assert result.code == 0, result.err
    data = offer(example_repo, SENT)
    assert data["status"] == "negotiating"
    assert data["compensation"]["base_salary"] == 205000
    assert data["start_date"] == "2027-01-18"  # still text, quoted in the file
    event = data["events"][-1]
    assert event["type"] == "revised"
    assert event["reason"] == "counter-offer"
    assert event["changes"] == [
        {"field": "compensation.base_salary", "old": 195000, "new": 205000},
        {"field": "start_date", "old": "2027-01-11", "new": "2027-01-18"},
    ]
    text = (example_repo / "offers" / f"{SENT}.yaml").read_text()
    assert "start_date: '2027-01-18'" in text
    # The diff is the changed lines plus one appended event line.
    diff = git(example_repo, "show", "--format=", "--unified=0", "HEAD")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 7, diff  # status, base_salary, start_date: -/+ each; one + event
    assert cli("check", "--repo", str(example_repo)).code == 0


def test_revise_refuses_no_change_protected_fields_and_closed_offers(example_repo: Path, cli: Any) -> None:
    repo = str(example_repo)
    same = cli("revise", SENT, "--set", "compensation.base_salary=195000", "--reason", "x", "--repo", repo)
    assert same.code == 1 and "nothing changed" in same.err
    protected = cli("revise", SENT, "--set", "status=accepted", "--reason", "x", "--repo", repo)
    assert protected.code == 2 and "revise cannot set status" in protected.err
    closed = cli("revise", DECLINED, "--set", "compensation.base_salary=1", "--reason", "x", "--repo", repo)
    assert closed.code == 1
    assert "it is declined" in closed.err and "closed and immutable" in closed.err
    invalid = cli("revise", SENT, "--set", "compensation.base_salary=-5", "--reason", "x", "--repo", repo)
    assert invalid.code == 2 and "nothing was written" in invalid.err
    assert offer(example_repo, SENT)["status"] == "sent"
    assert git(example_repo, "status", "--porcelain") == ""


def test_rescind_renege_start(example_repo: Path, cli: Any) -> None:
    repo = str(example_repo)
    assert cli("rescind", DRAFT, "--reason", "requisition cancelled", "--repo", repo).code == 0
    assert offer(example_repo, DRAFT)["events"][-1]["reason"] == "requisition cancelled"
    assert cli("start", ACCEPTED, "--repo", repo).code == 0
    assert offer(example_repo, ACCEPTED)["status"] == "started"
    assert cli("renege", ACCEPTED, "--reason", "x", "--repo", repo).code == 1  # started is final
    assert cli("renege", "OFF-2026-1VA9KM7E", "--reason", "took a counter-offer", "--repo", repo).code == 0
    assert offer(example_repo, "OFF-2026-1VA9KM7E")["status"] == "reneged"
    empty = cli("rescind", SENT, "--reason", "  ", "--repo", repo)
    assert empty.code == 2 and "must not be empty" in empty.err


def test_no_commit_leaves_the_change_staged(example_repo: Path, cli: Any) -> None:
    commit = head(example_repo)
    assert cli("accept", SENT, "--no-commit", "--repo", str(example_repo)).code == 0
    assert head(example_repo) == commit
    assert git(example_repo, "status", "--porcelain").strip() == f"M  offers/{SENT}.yaml"


def test_expire_closes_offers_past_their_date_once(example_repo: Path, cli: Any) -> None:
    repo = str(example_repo)
    result = cli("expire", "--as-of", "2026-11-28", "--format", "json", "--repo", repo)
    assert result.code == 0, result.err
    expired = {c["offer"] for c in result.json()["changed"]}
    # expires_on before 2026-11-28 and open (not draft): the sent one of 11-27; not 11-28.
    assert SENT in expired
    assert SENT_DE not in expired
    assert DRAFT not in expired
    for offer_id in expired:
        data = offer(example_repo, offer_id)
        assert data["status"] == "expired"
        assert data["events"][-1]["as_of"] == "2026-11-28"
    commits = head(example_repo)
    again = cli("expire", "--as-of", "2026-11-28", "--repo", repo)
    assert again.code == 0 and "nothing to expire as of 2026-11-28" in again.out
    assert head(example_repo) == commits
    assert cli("expire", "--as-of", "2026-13-01", "--repo", repo).code == 2


def test_check_reports_edits_to_a_closed_offer(example_repo: Path, cli: Any) -> None:
    repo = str(example_repo)
    assert cli("decline", SENT, "--reason", "personal", "--repo", repo).code == 0
    closing = head(example_repo)[:12]
    path = example_repo / "offers" / f"{SENT}.yaml"
    path.write_text(path.read_text().replace("base_salary: 195000", "base_salary: 199000"))
    git(example_repo, "commit", "-qam", "sneaky edit")
    result = cli("check", "--format", "json", "--repo", repo)
    assert result.code == 1
    g501 = [f for f in result.json()["findings"] if f["code"] == "G501"]
    assert len(g501) == 1
    assert g501[0]["offer"] == SENT
    assert "compensation.base_salary" in g501[0]["message"]
    assert closing in g501[0]["message"]
    assert g501[0]["line"] == path.read_text().splitlines().index("  base_salary: 199000") + 1


def test_check_reports_edits_to_an_offer_closed_before_offerctl(example_repo: Path, cli: Any) -> None:
    """The example was imported in one commit without trailers: the first closed version counts."""
    path = example_repo / "offers" / f"{DECLINED}.yaml"
    assert cli("check", "--repo", str(example_repo)).code == 0
    path.write_text(path.read_text().replace("status: declined", "status: declined\nnotes: reopened by hand"))
    result = cli("check", "--repo", str(example_repo))
    assert result.code == 1
    assert "G501" in result.out and "notes" in result.out


def test_a_comment_on_a_closed_offer_is_not_an_edit(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{DECLINED}.yaml"
    path.write_text(path.read_text() + "# archived 2026-12\n")
    assert cli("check", "--repo", str(example_repo)).code == 0


def test_a_broken_offer_file_is_an_input_error(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{SENT}.yaml"
    path.write_text(path.read_text().replace("status: sent", "status: sent\nstatus: accepted"))
    result = cli("accept", SENT, "--repo", str(example_repo))
    assert result.code == 2
    assert f"offers/{SENT}.yaml:4: duplicate key 'status'" in result.err
    assert "Traceback" not in result.err


def test_a_declared_correction_re_baselines_a_closed_offer(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{DECLINED}.yaml"
    path.write_text(path.read_text().replace("status: declined", "status: declined\nnotes: name corrected"))
    git(example_repo, "commit", "-qam", "undeclared edit")
    assert cli("check", "--repo", str(example_repo)).code == 1
    declare_correction(example_repo, DECLINED, "Correct the notes")
    assert cli("check", "--repo", str(example_repo)).code == 0
    path.write_text(path.read_text().replace("notes: name corrected", "notes: edited again"))
    result = cli("check", "--repo", str(example_repo))
    assert result.code == 1 and "G501" in result.out
