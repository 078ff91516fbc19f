"""Approval policy engine on real temporary git repositories with several git identities."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import git
from tests.helpers import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"

OFFER_ID = "OFF-2026-TESTAPP1"
OFFER = """\
id: {id}
status: pending_approval
candidate: {{name: Test Person, email: test.person@example.com, source: referral}}
role:
  title: Principal Engineer
  department: Engineering
  job_family: engineering
  level: {level}
  employment_type: full_time
  location: {{country: US, region: CA, city: San Francisco}}
  hiring_manager: priya.nair@acme.example
recruiter: rita.ramos@acme.example
start_date: '2027-02-01'
expires_on: '2026-12-01'
compensation:
  currency: USD
  base_salary: {base}
  bonus_target_pct: 20
  sign_on_bonus: {sign_on}
clauses: [confidentiality]
approvals: []
events:
  - {{type: created, at: '2026-11-16T09:00:00Z', by: rita.ramos@acme.example}}
  - {{type: submitted, at: '2026-11-16T10:00:00Z', by: rita.ramos@acme.example, from: draft,
      to: pending_approval}}
"""


def as_user(monkeypatch: pytest.MonkeyPatch, email: str) -> None:
    name = email.split("@")[0].replace(".", " ").title()
    for kind in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{kind}_NAME", name)
        monkeypatch.setenv(f"GIT_{kind}_EMAIL", email)


def add_offer(repo: Path, offer_id: str = OFFER_ID, **values: Any) -> Path:
    fields = {"id": offer_id, "level": "L7", "base": 320000, "sign_on": 30000, **values}
    path = repo / "offers" / f"{offer_id}.yaml"
    path.write_text(OFFER.format(**fields))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"add {offer_id}")
    return path


@pytest.fixture
def repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-17T09:00:00Z")
    add_offer(example_repo)
    return example_repo


def approvals_of(path: Path) -> list[dict[str, Any]]:
    data = yamlio.load(path.read_bytes())
    return list(data.get("approvals") or [])


def approve(cli: Any, monkeypatch: pytest.MonkeyPatch, repo: Path, who: str, *args: str) -> Any:
    as_user(monkeypatch, who)
    return cli("approve", OFFER_ID, *args, cwd=repo)


UP_TO_EXECUTIVE = ["priya.nair@acme.example", "dana.whit@acme.example", "fiona.chen@acme.example"]


@pytest.mark.parametrize("order", [["morgan.blake", "chris.ito"], ["chris.ito", "morgan.blake"]])
def test_parallel_rules_in_one_stage_in_any_order(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, order: list[str]
) -> None:
    for who in UP_TO_EXECUTIVE:
        assert approve(cli, monkeypatch, repo, who).code == 0
    first = approve(cli, monkeypatch, repo, f"{order[0]}@acme.example")
    assert first.code == 0, first.err
    assert "status: pending_approval" in first.out
    second = approve(cli, monkeypatch, repo, f"{order[1]}@acme.example")
    assert second.code == 0, second.err
    assert "status: approved" in second.out
    lines = approvals_of(repo / "offers" / f"{OFFER_ID}.yaml")
    assert [a["role"] for a in lines][-2:] == [
        "vp_people" if order[0] == "morgan.blake" else "ceo",
        "ceo" if order[0] == "morgan.blake" else "vp_people",
    ]
    # the finance line satisfies every finance rule of its stage at once (a 320,000 Principal
    # Engineer also overruns the example's Engineering budget: over-budget, issue 16)
    assert lines[2]["rules"] == ["above-midpoint", "large-sign-on", "over-budget"]
    log = git(repo, "log", "-1", "--format=%ae%n%B")
    assert log.startswith(f"{order[1]}@acme.example")
    assert "Offer-Action: approve" in log and f"Offer-Id: {OFFER_ID}" in log and "Offer-Role:" in log
    assert cli("check", cwd=repo).code == 0


def test_later_stage_cannot_be_approved_early(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo / "offers" / f"{OFFER_ID}.yaml"
    before = path.read_text()
    head = git(repo, "rev-parse", "HEAD")
    result = approve(cli, monkeypatch, repo, "fiona.chen@acme.example")
    assert result.code == 1
    assert "stage finance, which is not open yet" in result.err
    assert "waiting on: hiring_manager (priya.nair@acme.example)" in result.err
    assert path.read_text() == before and git(repo, "rev-parse", "HEAD") == head


def test_self_approval_by_recruiter_refused(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    result = approve(cli, monkeypatch, repo, "rita.ramos@acme.example")
    assert result.code == 1
    assert "recruiter" in result.err and "separation of duties" in result.err
    assert approvals_of(repo / "offers" / f"{OFFER_ID}.yaml") == []


def test_approving_twice_refused(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert approve(cli, monkeypatch, repo, "priya.nair@acme.example").code == 0
    again = approve(cli, monkeypatch, repo, "priya.nair@acme.example")
    assert again.code == 1
    assert "already approved rule hiring-manager" in again.err
    assert len(approvals_of(repo / "offers" / f"{OFFER_ID}.yaml")) == 1


def test_one_person_does_not_fill_two_roles(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ana López is in department_head; as hiring manager she may not also approve as department head.
    path = repo / "offers" / f"{OFFER_ID}.yaml"
    path.write_text(path.read_text().replace("hiring_manager: priya.nair", "hiring_manager: ana.lopez"))
    git(repo, "commit", "-qam", "hm is ana")
    assert approve(cli, monkeypatch, repo, "ana.lopez@acme.example").code == 0
    second = approve(cli, monkeypatch, repo, "ana.lopez@acme.example")
    assert second.code == 1
    assert "one person may not also approve as department_head" in second.err


def test_missing_and_closed_offers(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    as_user(monkeypatch, "priya.nair@acme.example")
    missing = cli("approve", "OFF-2026-NOPE0000", cwd=repo)
    assert missing.code == 2 and "no offer 'OFF-2026-NOPE0000'" in missing.err
    closed = cli("approve", "OFF-2026-1VA9KM7E", cwd=repo)  # accepted
    assert closed.code == 1 and "closed" in closed.err


def test_no_git_identity(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    result = cli("approve", OFFER_ID, cwd=repo)
    assert result.code == 2
    assert "no git identity configured" in result.err and "Traceback" not in result.err
    assert approvals_of(repo / "offers" / f"{OFFER_ID}.yaml") == []


def _approve_all(cli: Any, monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    for who in [*UP_TO_EXECUTIVE, "morgan.blake@acme.example", "chris.ito@acme.example"]:
        result = approve(cli, monkeypatch, repo, who)
        assert result.code == 0, result.err


def _route(cli: Any, repo: Path) -> dict[str, Any]:
    result = cli("route", OFFER_ID, "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    return {r["rule"]: r for r in result.json()["rules"]}


def test_changing_start_date_stales_only_the_approvals_covering_it(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _approve_all(cli, monkeypatch, repo)
    path = repo / "offers" / f"{OFFER_ID}.yaml"
    path.write_text(path.read_text().replace("start_date: '2027-02-01'", "start_date: '2027-03-01'"))
    rules = _route(cli, repo)
    assert [a["state"] for a in rules["hiring-manager"]["approvals"]] == ["stale"]
    assert (
        "start_date changed '2027-02-01' → '2027-03-01'" in rules["hiring-manager"]["approvals"][0]["detail"]
    )
    for rule in ("senior-hire", "above-midpoint", "large-sign-on", "outside-band", "very-large-package"):
        assert [a["state"] for a in rules[rule]["approvals"]] == ["valid"], rule
    check = cli("check", "--format", "json", cwd=repo)
    assert check.code == 1
    codes = [(f["code"], f["offer"]) for f in check.json()["findings"]]
    assert ("A302", OFFER_ID) in codes and ("A301", OFFER_ID) in codes
    # Budget warnings (W7xx) may name the other offers of the same budget: this approved
    # Principal Engineer now consumes Engineering's budget (issue 16).
    assert all(o == OFFER_ID for c, o in codes if not c.startswith("W7"))


@pytest.mark.parametrize(
    ("new_base", "hm", "finance"),
    [(326400, "valid", "valid"), (332800, "stale", "valid"), (340000, "stale", "stale")],
    ids=["+2% keeps both", "+4% beyond hm 3%, within finance 5%", "+6.25% beyond both"],
)
def test_raise_within_and_beyond_tolerance(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, new_base: int, hm: str, finance: str
) -> None:
    _approve_all(cli, monkeypatch, repo)
    path = repo / "offers" / f"{OFFER_ID}.yaml"
    path.write_text(path.read_text().replace("base_salary: 320000", f"base_salary: {new_base}"))
    git(repo, "commit", "-qam", "counter-offer")  # the approved version is then found in history
    rules = _route(cli, repo)
    assert rules["hiring-manager"]["approvals"][0]["state"] == hm
    assert rules["above-midpoint"]["approvals"][0]["state"] == finance
    # the sign-on approval does not cover base salary at all
    assert rules["large-sign-on"]["approvals"][0]["state"] == "valid"


def test_revised_event_explains_a_change_without_history(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _approve_all(cli, monkeypatch, repo)
    path = repo / "offers" / f"{OFFER_ID}.yaml"
    text = path.read_text().replace("base_salary: 320000", "base_salary: 329000")
    text += (
        "  - {type: revised, at: '2026-11-20T10:00:00Z', by: rita.ramos@acme.example, "
        "changes: [{field: compensation.base_salary, old: 320000, new: 329000}]}\n"
    )
    path.write_text(text)
    rules = _route(cli, repo)
    assert rules["above-midpoint"]["approvals"][0]["state"] == "valid"
    assert "within tolerance" in rules["above-midpoint"]["approvals"][0]["detail"]


def test_reject_then_resubmit_needs_fresh_approvals(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert approve(cli, monkeypatch, repo, "priya.nair@acme.example").code == 0
    as_user(monkeypatch, "dana.whit@acme.example")
    rejected = cli("reject", OFFER_ID, "--comment", "Level L6, not L7", cwd=repo)
    assert rejected.code == 0, rejected.err
    data = yamlio.load((repo / "offers" / f"{OFFER_ID}.yaml").read_bytes())
    assert data["status"] == "draft"
    assert data["events"][-1]["type"] == "rejected" and data["events"][-1]["comment"] == "Level L6, not L7"
    assert "Offer-Action: reject" in git(repo, "log", "-1", "--format=%B")
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-18T09:00:00Z")
    as_user(monkeypatch, "rita.ramos@acme.example")
    submitted = cli("submit", OFFER_ID, cwd=repo)
    assert submitted.code == 0, submitted.err
    assert "waiting on hiring_manager (priya.nair@acme.example)" in submitted.out
    rules = _route(cli, repo)
    assert [a["state"] for a in rules["hiring-manager"]["approvals"]] == ["superseded"]
    assert len(approvals_of(repo / "offers" / f"{OFFER_ID}.yaml")) == 1  # history kept


def test_delegation_recorded_on_behalf_of(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    approvers = repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text().replace(
            "title: Director of Engineering, escalation: dana.whit@acme.example}",
            "title: Director of Engineering, escalation: dana.whit@acme.example,"
            " delegate: {to: jonas.weber@acme.example, from: '2026-11-16', until: '2026-11-20'}}",
        )
    )
    git(repo, "commit", "-qam", "priya away")
    assert "jonas.weber" in _route(cli, repo)["hiring-manager"]["acting"][0]
    result = approve(cli, monkeypatch, repo, "jonas.weber@acme.example")
    assert result.code == 0, result.err
    assert "on behalf of priya.nair@acme.example" in result.out
    line = approvals_of(repo / "offers" / f"{OFFER_ID}.yaml")[0]
    assert line["by"] == "jonas.weber@acme.example" and line["on_behalf_of"] == "priya.nair@acme.example"
    # after the absence, jonas is no longer allowed
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-25T09:00:00Z")
    assert _route(cli, repo)["hiring-manager"]["approvals"][0]["state"] == "valid"  # judged on its own date


def _give_priya_an_ssh_key(repo: Path, key: Path, *keygen_args: str) -> Path:
    """A new ed25519 key at ``key``, its public half committed as priya's ssh_key."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", *keygen_args, "-f", str(key)], check=True)
    public = key.with_name(key.name + ".pub").read_text().strip()
    approvers = repo / "policies" / "approvers.yaml"
    approvers.write_text(
        approvers.read_text().replace(
            "title: Director of Engineering, escalation",
            f"title: Director of Engineering, ssh_key: '{public}', escalation",
        )
    )
    git(repo, "commit", "-qam", "priya's key")
    return key


def test_ssh_signature_roundtrip(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = _give_priya_an_ssh_key(repo, tmp_path / "priya_ed25519", "-C", "priya")
    public = (tmp_path / "priya_ed25519.pub").read_text().strip()
    result = approve(cli, monkeypatch, repo, "priya.nair@acme.example", "--sign-key", str(key))
    assert result.code == 0, result.err
    assert "(signed)" in result.out
    path = repo / "offers" / f"{OFFER_ID}.yaml"
    line = approvals_of(path)[0]
    assert len(line["sig"]) > 100 and "\n" not in line["sig"]
    from offerctl.approvals import binding

    payload = binding.signing_payload(OFFER_ID, "hiring_manager", line["by"], line["at"], line["digest"])
    assert binding.verify(payload, line["sig"], "priya.nair@acme.example", public)
    tampered = binding.signing_payload(
        OFFER_ID, "hiring_manager", line["by"], "2026-11-17T09:00:01Z", line["digest"]
    )
    assert not binding.verify(tampered, line["sig"], "priya.nair@acme.example", public)
    # check verifies: make the offer look approved and tamper with the time → A306
    _finish(cli, monkeypatch, repo)
    assert cli("check", f"offers/{OFFER_ID}.yaml", cwd=repo).code == 0
    text = path.read_text()
    path.write_text(text.replace(f"at: '{line['at']}'", "at: '2026-11-17T09:00:01Z'", 1))
    check = cli("check", "--format", "json", f"offers/{OFFER_ID}.yaml", cwd=repo)
    assert "A306" in {f["code"] for f in check.json()["findings"]}


def _finish(cli: Any, monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    for who in [
        "dana.whit@acme.example",
        "fiona.chen@acme.example",
        "morgan.blake@acme.example",
        "chris.ito@acme.example",
    ]:
        result = approve(cli, monkeypatch, repo, who)
        assert result.code == 0, result.err


def test_digest_ignores_formatting_and_is_decimal_safe() -> None:
    from decimal import Decimal

    from offerctl.approvals.binding import digest

    a = {"compensation": {"base_salary": 185000, "currency": "USD"}, "start_date": "2027-01-11"}
    b = {"start_date": "2027-01-11", "compensation": {"currency": "USD", "base_salary": Decimal("185000.00")}}
    assert digest(a, ["compensation", "start_date"]) == digest(b, ["start_date", "compensation"])
    c = {"compensation": {"base_salary": Decimal("185000.01"), "currency": "USD"}, "start_date": "2027-01-11"}
    assert digest(a, ["compensation"]) != digest(c, ["compensation"])
    assert digest(a, ["start_date"]) == digest(c, ["start_date"])


# --- policy findings -------------------------------------------------------------------------


def _check_codes(cli: Any, repo: Path) -> set[tuple[str, str, int | None]]:
    result = cli("check", "--format", "json", cwd=repo)
    return {(f["code"], f["path"], f["line"]) for f in result.json()["findings"]}


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_cel_syntax_error_is_a_finding_at_its_line(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    routing = example_repo / "policies" / "routing.yaml"
    routing.write_text(
        routing.read_text().replace(
            "when: 'offer.compensation.base_salary > band.mid'", "when: 'offer.compensation.base_salary > '"
        )
    )
    line = _line_of(routing, "when: 'offer.compensation.base_salary > '")
    assert ("P202", "policies/routing.yaml", line) in _check_codes(cli, example_repo)
    as_user(monkeypatch, "dana.whit@acme.example")
    refused = cli("approve", "OFF-2026-5NB2RC8P", cwd=example_repo)
    assert refused.code == 1 and "routing policy has" in refused.err


def test_unknown_role_and_field(example_repo: Path, cli: Any) -> None:
    routing = example_repo / "policies" / "routing.yaml"
    text = routing.read_text().replace(
        "require: {role: legal}\n    covers: [clauses]", "require: {role: lawyers}\n    covers: [clauses]"
    )
    text = text.replace("first_year_cash > 400000", "offer.compensation.bonus > 400000")
    routing.write_text(text)
    codes = _check_codes(cli, example_repo)
    assert ("P204", "policies/routing.yaml", _line_of(routing, "role: lawyers")) in codes
    assert ("P203", "policies/routing.yaml", _line_of(routing, "offer.compensation.bonus")) in codes


def test_quorum_larger_than_role(example_repo: Path, cli: Any) -> None:
    routing = example_repo / "policies" / "routing.yaml"
    routing.write_text(
        routing.read_text().replace(
            "require: {role: finance, quorum: any}\n    covers: [compensation.relocation]",
            "require: {role: finance, quorum: 3}\n    covers: [compensation.relocation]",
        )
    )
    assert ("P206", "policies/routing.yaml", _line_of(routing, "quorum: 3")) in _check_codes(
        cli, example_repo
    )


def test_role_with_no_people(example_repo: Path, cli: Any) -> None:
    approvers = example_repo / "policies" / "approvers.yaml"
    approvers.write_text(approvers.read_text().replace("people: [chris.ito@acme.example]", "people: []"))
    codes = _check_codes(cli, example_repo)
    assert any(code.startswith("S1") and path == "policies/approvers.yaml" for code, path, _ in codes)


def test_overlapping_and_duplicate_bands(example_repo: Path, cli: Any) -> None:
    bands = example_repo / "policies" / "bands.yaml"
    text = bands.read_text().replace(
        "match: [{country: DE}]", "match: [{country: DE}, {country: US, region: CA}]"
    )
    dup = (
        "  - {job_family: people, level: L7, zone: de, currency: EUR, min: 107000, mid: 126000,"
        " max: 145000}\n"
    )
    bands.write_text(text + dup)
    codes = _check_codes(cli, example_repo)
    assert (
        "P211",
        "policies/bands.yaml",
        _line_of(bands, "match: [{country: DE}, {country: US, region: CA}]"),
    ) in codes
    assert ("P210", "policies/bands.yaml", len(bands.read_text().splitlines())) in codes


def test_level_with_no_band(example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bands = example_repo / "policies" / "bands.yaml"
    bands.write_text(
        "".join(
            ln
            for ln in bands.read_text().splitlines(keepends=True)
            if "job_family: engineering, level: L6, zone: us-tier1" not in ln
        )
    )
    codes = _check_codes(cli, example_repo)
    assert any(c == "P214" and p == "offers/OFF-2026-5NB2RC8P.yaml" for c, p, _ in codes)
    route = cli("route", "OFF-2026-5NB2RC8P", cwd=example_repo)
    assert "no band for engineering L6 in zone us-tier1" in route.out
    draft = example_repo / "offers" / "OFF-2026-3QX7M2KD.yaml"
    draft.write_text(draft.read_text().replace("level: L4", "level: L6"))
    git(example_repo, "commit", "-qam", "L6 draft")
    as_user(monkeypatch, "rita.ramos@acme.example")
    refused = cli("submit", "OFF-2026-3QX7M2KD", cwd=example_repo)
    assert refused.code == 1 and "no pay band" in refused.err


# --- documented outputs (snapshots) -----------------------------------------------------------


def _snapshot(name: str, text: str) -> None:
    assert_snapshot(SNAPSHOTS / name, text)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_route_output_snapshot(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-21T12:00:00Z")
    result = cli(
        "route",
        "OFF-2026-6RM1PQ9C",
        "--set",
        "compensation.base_salary=215000",
        "--format",
        fmt,
        cwd=example_repo,
    )
    assert result.code == 0, result.err
    _snapshot(f"route_6RM1PQ9C_what_if.{fmt}", result.out)
    if fmt == "json":
        data = result.json()
        assert set(data) >= {
            "offer",
            "status",
            "complete",
            "stages",
            "current_stage",
            "since",
            "band",
            "values",
            "rules",
            "waiting",
            "blockers",
            "what_if",
        }


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_headroom_snapshot(example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-21T12:00:00Z")
    result = cli("headroom", "OFF-2026-6RM1PQ9C", "--format", fmt, cwd=example_repo)
    assert result.code == 0, result.err
    _snapshot(f"headroom_6RM1PQ9C.{fmt}", result.out)


def test_route_explains_every_bundled_offer(example_repo: Path, cli: Any) -> None:
    for path in sorted((example_repo / "offers").glob("*.yaml")):
        result = cli("route", path.stem, cwd=example_repo)
        assert result.code == 0, result.err
        assert "band: location" in result.out
        for rule in ("hiring-manager", "senior-hire", "german-fixed-term"):
            assert rule in result.out


def test_every_bundled_rule_is_exercised_by_an_offer(example_repo: Path, cli: Any) -> None:
    triggered: set[str] = set()
    for path in sorted((example_repo / "offers").glob("*.yaml")):
        data = cli("route", path.stem, "--format", "json", cwd=example_repo).json()
        triggered |= {r["rule"] for r in data["rules"] if r["triggered"]}
    routing = yamlio.load((example_repo / "policies" / "routing.yaml").read_bytes())
    assert triggered == {r["id"] for r in routing["rules"]}


def test_status_and_inbox(example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-24T12:00:00Z")  # Tuesday
    status = cli("status", "--format", "json", cwd=example_repo)
    rows = {r["offer"]: r for r in status.json()}
    pending = rows["OFF-2026-9KD3VX6Q"]
    assert pending["stage"] == "finance" and pending["waiting"][0]["role"] == "finance"
    # since Wed 2026-11-18: Thu, Fri, Mon, Tue = 4 business days > SLA 2 for finance
    assert pending["business_days"] == 4 and pending["sla_breached"] is True
    text = cli("status", cwd=example_repo).out
    assert "! SLA breached" in text
    as_user(monkeypatch, "dana.whit@acme.example")
    inbox = cli("inbox", "--format", "json", cwd=example_repo).json()
    assert [i["offer"] for i in inbox["items"]] == ["OFF-2026-5NB2RC8P"]
    as_user(monkeypatch, "fiona.chen@acme.example")
    assert [i["offer"] for i in cli("inbox", "--format", "json", cwd=example_repo).json()["items"]] == [
        "OFF-2026-9KD3VX6Q"
    ]


def test_business_days_skip_weekends_and_holidays(example_repo: Path) -> None:
    import datetime as dt

    from offerctl.core.bizdays import BusinessCalendar
    from offerctl.store.repo import open_repo

    calendar = BusinessCalendar.for_repo(open_repo(example_repo))  # the one status/inbox count with
    # Wed 2026-11-25 → Mon 2026-11-30: Thanksgiving (Thu) and the day after (CA) are holidays
    assert calendar.between(dt.date(2026, 11, 25), dt.date(2026, 11, 30)) == 1


def test_approval_by_someone_not_allowed(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / "OFF-2026-2WF8JT4M.yaml"  # approved: hiring manager leo.park
    text = path.read_text()
    path.write_text(text.replace("hiring_manager, by: leo.park@", "hiring_manager, by: sam.lee@", 1))
    findings = cli("check", "--format", "json", "offers/OFF-2026-2WF8JT4M.yaml", cwd=example_repo).json()[
        "findings"
    ]
    assert {f["code"] for f in findings} >= {"A303", "A301"}
    path.write_text(
        text.replace(
            "approvals:\n",
            "approvals:\n  - {role: finance, by: sam.lee@acme.example, "
            "at: '2026-11-12T15:00:00Z', digest: 'sha256:" + "0" * 64 + "'}\n",
            1,
        )
    )
    findings = cli("check", "--format", "json", "offers/OFF-2026-2WF8JT4M.yaml", cwd=example_repo).json()[
        "findings"
    ]
    assert [f["code"] for f in findings] == ["A303"]


def test_signs_with_gits_ssh_signing_key(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = _give_priya_an_ssh_key(repo, tmp_path / "id_priya")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    result = approve(cli, monkeypatch, repo, "priya.nair@acme.example")
    assert result.code == 0, result.err
    assert "(signed)" in result.out and approvals_of(repo / "offers" / f"{OFFER_ID}.yaml")[0]["sig"]


def test_no_commit_leaves_the_approval_staged(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    head = git(repo, "rev-parse", "HEAD")
    result = approve(cli, monkeypatch, repo, "priya.nair@acme.example", "--no-commit", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["commit"] is None and result.json()["rules"] == ["hiring-manager"]
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "diff", "--cached", "--name-only").strip() == f"offers/{OFFER_ID}.yaml"


def test_submit_only_from_draft(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    as_user(monkeypatch, "rita.ramos@acme.example")
    result = cli("submit", OFFER_ID, cwd=repo)
    assert result.code == 1 and "only a draft can be submitted" in result.err
    draft = cli("submit", "OFF-2026-3QX7M2KD", "--format", "json", cwd=repo)
    assert draft.code == 0, draft.err
    assert draft.json()["status"] == "pending_approval"
    assert draft.json()["waiting"][0]["people"] == ["sam.lee@acme.example"]
    assert "Offer-Action: submit" in git(repo, "log", "-1", "--format=%B")


def test_currency_differs_from_band(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / "OFF-2026-9KD3VX6Q.yaml"  # pending, US: band in USD
    path.write_text(path.read_text().replace("currency: USD", "currency: EUR"))
    findings = cli("check", "--format", "json", "offers/OFF-2026-9KD3VX6Q.yaml", cwd=example_repo).json()[
        "findings"
    ]
    assert "P215" in {f["code"] for f in findings}


def test_seed_script_reproduces_the_bundled_approvals(example_repo: Path) -> None:
    """examples/seed_approvals.py on the example without approvals writes the committed
    approval lines (same roles, people, digests, rules), one commit per approval authored by
    the approver, each after the offer's submission. The times themselves are spread by the
    script over the offer's submitted→sent window, which later lifecycle events (a send
    recorded after the backfill) legitimately move, so they are compared by bounds."""
    import re
    import sys

    bundled = {p.name: p.read_text() for p in (example_repo / "offers").glob("*.yaml")}
    for path in (example_repo / "offers").glob("*.yaml"):
        path.write_text(re.sub(r"approvals:\n(?:  - \{.*\}\n)+", "approvals: []\n", path.read_text()))
    git(example_repo, "commit", "-qam", "strip approvals")
    before = int(git(example_repo, "rev-list", "--count", "HEAD"))
    script = Path(__file__).resolve().parent.parent / "examples" / "seed_approvals.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--repo", str(example_repo)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    # The bundled lines carry the id-less digest of offerctl 0.1 (still honoured); `approve`
    # now records the digest that also binds the offer's id (binding.approval_digest).
    from offerctl.approvals import binding
    from offerctl.policy.load import load_policy_set
    from offerctl.store.repo import open_repo

    policy, _ = load_policy_set(open_repo(example_repo))
    stamp = re.compile(r"at: '[^']*'|digest: '?sha256:[0-9a-f]+'?")
    for path in (example_repo / "offers").glob("*.yaml"):
        produced = path.read_text()
        assert stamp.sub("~", produced) == stamp.sub("~", bundled[path.name]), path.name
        data = yamlio.load_text(produced)
        old_lines = yamlio.load_text(bundled[path.name])["approvals"]
        submitted = [e["at"] for e in data["events"] if e["type"] == "submitted"]
        for approval, old_line in zip(data["approvals"], old_lines, strict=True):
            assert submitted and approval["at"] > submitted[0], path.name
            covers = sorted({c for r in approval["rules"] for c in policy.rule(r).covers})
            then = binding.undo_revisions(data, data["events"], approval["at"])
            assert approval["digest"] == binding.approval_digest(then, covers), path.name
            then = binding.undo_revisions(data, data["events"], old_line["at"])
            assert binding.digests(then, covers)[1] == old_line["digest"], path.name
    total = sum(text.count("  - {role: ") for text in bundled.values())
    assert int(git(example_repo, "rev-list", "--count", "HEAD")) - before == total
    authors = git(
        example_repo, "log", f"-{total}", "--format=%ae %(trailers:key=Offer-Action,valueonly)"
    ).split("\n")
    assert all(line.endswith("approve") and "rita.ramos" not in line for line in authors if line.strip())


def test_status_counts_company_holidays_like_remind(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # status/inbox count with bizdays.BusinessCalendar, so holidays.extra applies to them too.
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-24T12:00:00Z")  # Tuesday
    config = example_repo / "offerctl.yaml"
    text = config.read_text()
    assert "holidays: {country: US, subdivision: CA}" in text
    config.write_text(
        text.replace(
            "holidays: {country: US, subdivision: CA}",
            "holidays: {country: US, subdivision: CA, extra: [2026-11-23]}",
        )
    )
    rows = {r["offer"]: r for r in cli("status", "--format", "json", cwd=example_repo).json()}
    # since Wed 2026-11-18: Thu, Fri, (Mon is a company holiday), Tue = 3 business days
    assert rows["OFF-2026-9KD3VX6Q"]["business_days"] == 3
