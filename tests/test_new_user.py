"""The new user's journey (issue 13, items 1-3, 5-8, 17): a git user who is in no policy
file runs the README's first steps, gets stuck nowhere, and ends with a submitted offer;
stale approvals reach the people who must act; errors honour --format json."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import ROOT, git

pexpect = pytest.importorskip("pexpect")

# The answers a recruiter types, by the start of each question (regular expressions).
ANSWERS: list[tuple[str, str]] = [
    (r"Candidate's full name", "Ada Lovelace"),
    (r"Candidate's email", "ada@example.org"),
    (r"How did the candidate come to us", "Sourced"),
    (r"Job title", "Account Executive"),
    (r"Department", "sales"),
    (r"Job family \[sales\]", ""),
    (r"Level", "l4"),
    (r"Employment type", "full time"),
    (r"Country", "us"),
    (r"Region", "ny"),
    (r"Hiring manager's email", "hana"),
    (r"Recruiter's email \[rita.ramos@acme.example\]", ""),
    (r"Start date", "2027-01-11"),
    (r"Offer expires on \(YYYY-MM-DD\) \[2026-11-30\]", ""),
    (r"Currency \(ISO 4217, e.g. USD\) \[USD\]", ""),
    (r"Base salary", "105000"),
    (r"Add optional details", "n"),
    (r"Write this offer\?", "y"),
]


def spawn(args: list[str], cwd: Path, **env: str) -> Any:
    return pexpect.spawn(
        sys.executable,
        ["-m", "offerctl", *args],
        cwd=str(cwd),
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 80),
        env={**os.environ, "COLUMNS": "80", **env},
    )


def answer_all(child: Any, answers: list[tuple[str, str]]) -> str:
    """Answer each question in order; returns everything the session printed."""
    for pattern, reply in answers:
        child.expect(pattern)
        child.sendline(reply)
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offerctl", *args], cwd=cwd, capture_output=True, text=True, env=os.environ
    )


# --- the README, followed literally ------------------------------------------------------------


def _readme_block(heading: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def test_readme_own_repository_section_ends_with_a_submitted_offer(tmp_path: Path) -> None:
    """As rita.ramos@acme.example, who is in no policy file, every command of README's "Your
    own offer repository" block in order; `offerctl new` on a terminal. No YAML is edited."""
    commands = _readme_block("Your own offer repository")
    assert commands[0].startswith("offerctl init ") and commands[1].startswith("cd ")
    cwd = tmp_path
    offer_id = None
    for command in commands:
        words = shlex.split(command)
        if words[0] == "cd":
            cwd = cwd / words[1]
            continue
        assert words[0] == "offerctl", f"README step {command!r} is not an offerctl command"
        words = [offer_id if w == "OFF-2026-…" else w for w in words[1:]]  # type: ignore[misc]
        if words == ["new"]:
            child = spawn(["new"], cwd)
            out = answer_all(child, ANSWERS)
            assert child.exitstatus == 0, out
            offer_id = re.search(r"created offers/(OFF-2026-[0-9A-Z]{8})\.yaml", out).group(1)  # type: ignore[union-attr]
            assert "warning" not in out  # a starter Sales offer can be submitted
            continue
        result = run(words, cwd)  # type: ignore[arg-type]
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert offer_id is not None
    offer = yamlio.load((cwd / "offers" / f"{offer_id}.yaml").read_bytes())
    assert offer["status"] == "pending_approval"
    assert offer["recruiter"] == "rita.ramos@acme.example"
    assert (offer["role"]["department"], offer["role"]["level"], offer["candidate"]["source"]) == (
        "Sales",
        "L4",
        "sourced",
    )
    assert offer["role"]["employment_type"] == "full_time"
    assert offer["compensation"]["currency"] == "USD"
    assert (cwd / ".github" / "workflows" / "offerctl.yml").is_file()
    # nothing was edited by hand: every commit is offerctl's own
    assert git(cwd, "status", "--porcelain") == ""
    assert set(git(cwd, "log", "--format=%(trailers:key=Offer-Action,valueonly)").split()) == {
        "init",
        "create",
        "submit",
    }


def test_readme_says_init_adds_you_and_no_yaml_editing_is_needed() -> None:
    section = (ROOT / "README.md").read_text().split("## Your own offer repository\n", 1)[1]
    block = section.split("```", 2)[1]
    assert "edit policies" not in block


# --- item 2: init and a git user in no policy file --------------------------------------------


def test_init_adds_the_git_user_as_a_recruiter(tmp_path: Path, cli: Any) -> None:
    result = cli("init", str(tmp_path / "r"))
    assert result.code == 0, result.err
    assert "added you (rita.ramos@acme.example)" in result.err
    approvers = yamlio.load((tmp_path / "r" / "policies" / "approvers.yaml").read_bytes())
    assert {"email": "rita.ramos@acme.example", "name": "Rita Ramos", "title": "Recruiter"} in approvers[
        "people"
    ]
    assert "rita.ramos@acme.example" in approvers["roles"]["recruiter"]["people"]
    assert cli("check", "--repo", str(tmp_path / "r")).code == 0


def test_init_without_a_git_identity_says_what_to_add(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Path(os.environ["GIT_CONFIG_GLOBAL"])
    config.write_text("[init]\n\tdefaultBranch = main\n")
    result = cli("init", str(tmp_path / "r"))
    assert result.code == 0, result.err
    assert "nobody was added" in result.err and "git config user.email" in result.err
    assert "roles: recruiter" in result.err


def test_every_question_has_a_way_out(offer_repo: Path) -> None:
    """Ctrl-D aborts; five wrong answers in a row abort; exit 2, nothing written."""
    child = spawn(["new"], offer_repo)
    child.expect("Candidate's full name")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2 and "nothing was written" in str(child.before)
    child = spawn(
        ["new", "--set", "candidate.name=Ada", "--set", "candidate.email=ada@example.org"], offer_repo
    )
    child.expect("How did the candidate come to us")
    for _ in range(5):
        child.sendline("nonsense")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "no valid answer for candidate.source after 5 tries; nothing was written" in str(child.before)
    assert list((offer_repo / "offers").glob("OFF-*.yaml")) == []


def test_recruiter_not_in_policy_is_refused_with_the_fix(offer_repo: Path) -> None:
    child = spawn(["new", "--set", "candidate.name=Ada"], offer_repo)
    for pattern, reply in ANSWERS[1:11]:
        child.expect(pattern)
        child.sendline(reply)
    child.expect("Recruiter's email")
    child.sendline("stranger@elsewhere.example")
    child.expect("not a person in policies/approvers.yaml")
    child.expect(r"people:\s+in\s+policies/approvers.yaml")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2


# --- item 6: interactive new -------------------------------------------------------------------


def test_interactive_new_forgives_and_checks_dates_at_the_field(offer_repo: Path) -> None:
    child = spawn(["new"], offer_repo)
    child.expect("Candidate's full name")
    child.sendline("")
    child.expect("candidate.name is required")
    child.sendline("Ada Lovelace")
    for pattern, reply in ANSWERS[1:4]:
        child.expect(pattern)
        child.sendline(reply)
    child.expect(r"1\) Engineering")  # a numbered menu
    child.expect("Department")
    child.sendline("1")
    child.expect(r"Job family \[engineering\]")  # the family that matches the department
    child.sendline("")
    child.expect("Level")
    child.sendline("l5")
    child.expect("Employment type")
    child.sendline("FULL TIME")
    child.expect("Country")
    child.sendline("us")
    child.expect("Region")
    child.sendline("ca")
    child.expect("Hiring manager's email")
    child.sendline("3")
    child.expect("Recruiter's email")
    child.sendline("")
    child.expect("Start date")
    child.sendline("2026-11-02")
    child.expect("is in the past")
    child.sendline("2027-01-11")
    child.expect("Offer expires on")
    child.sendline("2027-02-01")
    child.expect("after the start date 2027-01-11")
    child.sendline("<")  # back to the start date, which offers its answer as the default
    child.expect(r"Start date \(YYYY-MM-DD\) \[2027-01-11\]")
    child.sendline("2027-03-01")
    child.expect("Offer expires on")
    child.sendline("2027-02-01")
    child.expect(r"Currency \(ISO 4217, e.g. USD\) \[USD\]")
    child.sendline("usd")
    child.expect("Base salary")
    child.sendline("185000")
    child.expect("Add optional details")
    child.sendline("y")
    child.expect("City")
    child.sendline("San Francisco")
    child.expect("Work mode")
    child.sendline("hyb")
    child.expect("Target bonus")
    child.sendline("10")
    child.expect("Sign-on bonus")
    child.sendline("")
    child.expect("Equity type")
    child.sendline("RSU")
    child.expect("Equity units")
    child.sendline("1200")
    child.expect("Vesting")
    child.sendline("4y-1y-cliff")
    child.expect("The offer:")
    child.expect(r"Write this offer\?")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2 and "not confirmed; nothing was written" in str(child.before)
    assert list((offer_repo / "offers").glob("OFF-*.yaml")) == []


def test_summary_number_changes_a_field_then_writes(offer_repo: Path) -> None:
    child = spawn(["new"], offer_repo)
    for pattern, reply in ANSWERS[:-1]:
        child.expect(pattern)
        child.sendline(reply)
    child.sendline("1")
    child.expect(r"Candidate's full name \[Ada Lovelace\]")
    child.sendline("Ada King")
    child.expect(r"Write this offer\?")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    (path,) = (offer_repo / "offers").glob("OFF-*.yaml")
    data = yamlio.load(path.read_bytes())
    assert data["candidate"]["name"] == "Ada King"
    assert data["expires_on"] == "2026-11-30" and data["start_date"] == "2027-01-11"


def test_choice_matching_and_date_rules_are_pure() -> None:
    import datetime as dt

    from offerctl.lifecycle import intake

    kinds = ("full_time", "part_time", "fixed_term", "intern", "contractor")
    assert intake.match_choice("full time", kinds) == "full_time"
    assert intake.match_choice("Full-Time", kinds) == "full_time"
    assert intake.match_choice("2", kinds) == "part_time"
    assert intake.match_choice("f", kinds) is None  # full_time or fixed_term
    assert intake.match_choice("con", kinds) == "contractor"
    assert intake.normalise("compensation.currency", "usd") == "USD"
    today = dt.date(2026, 11, 23)
    assert intake.date_problem("start_date", "2026-11-22", {}, today)
    assert intake.date_problem("expires_on", "2027-02-01", {"start_date": "2027-01-11"}, today)
    assert intake.date_problem("expires_on", "2027-01-11", {"start_date": "2027-01-11"}, today) is None
    assert intake.default_expiry(today, 7, "2026-11-26") == "2026-11-25"


def test_check_flags_open_offers_whose_start_date_passed(example_repo: Path, cli: Any) -> None:
    result = cli("check", "--repo", str(example_repo), "--as-of", "2027-01-05", "--format", "json")
    s140 = [f for f in result.json()["findings"] if f["code"] == "S140"]
    assert s140 and all(f["severity"] == "warning" for f in s140)
    assert any(f["offer"] == "OFF-2026-9KD3VX6Q" for f in s140)  # pending, starts 2027-01-04
    assert cli("check", "--repo", str(example_repo), "--format", "json").json()["findings"] == []


# --- item 5: missing fields --------------------------------------------------------------------


def test_new_without_a_terminal_lists_each_missing_leaf_once(offer_repo: Path, cli: Any) -> None:
    result = cli("new", cwd=offer_repo)
    assert result.code == 2
    lines = [line.strip()[2:] for line in result.err.splitlines() if line.strip().startswith("- ")]
    assert len(lines) == len(set(lines)) == 14
    assert "the intake has 14 problems" in result.err
    assert "missing required field candidate.name" in lines
    assert "missing required field compensation.base_salary" in lines
    assert not any(line.endswith("'candidate'; add it") for line in lines)
    named = cli("new", "--set", "candidate.name=X", "--format", "json", cwd=offer_repo)
    details = named.json()["error"]["details"]
    assert len(details) == len(set(details)) == 13
    assert "missing required field candidate.name" not in details


def test_new_refuses_a_start_date_in_the_past(offer_repo: Path, cli: Any) -> None:
    from tests.helpers import intake

    (offer_repo / "intake.yaml").write_text(intake().replace("2027-01-11", "2026-11-02"))
    result = cli("new", "--from", "intake.yaml", cwd=offer_repo)
    assert result.code == 2 and "start_date 2026-11-02 is in the past" in result.err


# --- item 3: starter policy --------------------------------------------------------------------


def test_starter_policy_has_bands_for_every_department_and_an_smtp_stub(offer_repo: Path) -> None:
    config = yamlio.load((offer_repo / "offerctl.yaml").read_bytes())
    bands = yamlio.load((offer_repo / "policies" / "bands.yaml").read_bytes())["bands"]
    families = {b["job_family"] for b in bands}
    assert families == set(config["job_families"])
    for family in families:
        assert {b["level"] for b in bands if b["job_family"] == family} == set(config["levels"])
    text = (offer_repo / "offerctl.yaml").read_text()
    assert "# smtp:\n#   host:" in text and "password_env" in text


def test_drafts_that_cannot_be_submitted_are_warned_about(offer_repo: Path, cli: Any) -> None:
    from tests.helpers import intake

    german = intake().replace("country: US, region: CA", "country: DE, region: BE")
    (offer_repo / "intake.yaml").write_text(german)
    result = cli("new", "--from", "intake.yaml", "--set", "compensation.currency=EUR", cwd=offer_repo)
    assert result.code == 0, result.err
    assert "warning: P240 this draft cannot be submitted: no pay band" in result.err
    check = cli("check", "--repo", str(offer_repo), "--format", "json")
    assert check.code == 0
    codes = [f["code"] for f in check.json()["findings"]]
    assert "P240" in codes and all(f["severity"] == "warning" for f in check.json()["findings"])
    # a role without people: finance is needed above the band midpoint
    approvers = offer_repo / "policies" / "approvers.yaml"
    approvers.write_text(approvers.read_text().replace("people: [fin.lead@example.com]", "people: []"))
    (offer_repo / "intake.yaml").write_text(intake(base_salary=200000))
    result = cli("new", "--from", "intake.yaml", "--no-commit", cwd=offer_repo)
    assert result.code == 0, result.err
    assert "P241" in result.err and "role finance has no people" in result.err


# --- item 1: stale approvals reach their approvers --------------------------------------------


def test_revise_says_who_must_reapprove_and_inbox_and_remind_list_it(example_repo: Path, cli: Any) -> None:
    revised = cli(
        "revise",
        "OFF-2026-6RM1PQ9C",
        "--set",
        "compensation.base_salary=212000",
        "--reason",
        "competing offer",
        cwd=example_repo,
    )
    assert revised.code == 0, revised.err
    assert "hiring_manager (sam.lee@acme.example) must re-approve — rule hiring-manager" in revised.out
    assert "stale: sam.lee@acme.example: compensation.base_salary changed 195,000 → 212,000" in revised.out
    assert "finance" in revised.out
    again = cli(
        "revise",
        "OFF-2026-6RM1PQ9C",
        "--set",
        "compensation.base_salary=213000",
        "--reason",
        "x",
        "--format",
        "json",
        cwd=example_repo,
    ).json()
    needed = {n["rule"]: n for n in again["approvals_needed"]}
    assert needed["hiring-manager"]["reason"] == "stale" and needed["hiring-manager"]["open"] is True
    assert needed["hiring-manager"]["people"] == ["sam.lee@acme.example"]
    os.environ["GIT_AUTHOR_EMAIL"] = "sam.lee@acme.example"
    try:
        inbox = cli("inbox", "--format", "json", cwd=example_repo).json()
        text = cli("inbox", cwd=example_repo).out
    finally:
        del os.environ["GIT_AUTHOR_EMAIL"]
    item = next(i for i in inbox["items"] if i["offer"] == "OFF-2026-6RM1PQ9C")
    assert item["status"] == "negotiating"
    assert "compensation.base_salary changed" in item["waiting"][0]["stale"][0]
    assert "approve again as hiring_manager" in text and "your approval went stale" in text
    remind = cli("remind", "--format", "json", cwd=example_repo).json()
    again_items = {(o["offer"], o["role"]) for o in remind["reapprovals"] + remind["overdue"]}
    assert ("OFF-2026-6RM1PQ9C", "hiring_manager") in again_items
    sam = next(d for d in remind["digests"] if d["to"] == "sam.lee@acme.example")
    assert "OFF-2026-6RM1PQ9C" in sam["offers"]
    assert "to give again" in cli("remind", cwd=example_repo).out


# --- item 7: send --dry-run -------------------------------------------------------------------


def test_send_dry_run_needs_no_smtp(example_repo: Path, cli: Any) -> None:
    config = example_repo / "offerctl.yaml"
    text = config.read_text()
    start = text.index("smtp:")
    end = text.index("\n", text.index("password_env", start))
    config.write_text(text[:start] + text[end + 1 :])
    assert "smtp" not in yamlio.load(config.read_bytes())
    approved = next(
        r["id"] for r in cli("list", "--status", "approved", "--format", "json", cwd=example_repo).json()
    )
    result = cli("send", approved, "--dry-run", cwd=example_repo)
    assert result.code == 0, result.err
    eml = (example_repo / "out" / f"{approved}.eml").read_text()
    recruiter = yamlio.load((example_repo / "offers" / f"{approved}.yaml").read_bytes())["recruiter"]
    assert f"From: Acme Robotics <{recruiter}>" in eml
    refused = cli("send", approved, cwd=example_repo)
    assert refused.code == 2 and "no smtp settings" in refused.err


# --- item 8: errors as JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (["show", "OFF-2026-NOPE0000", "--format", "json"], 2, "usage"),
        (["submit", "OFF-2026-6RM1PQ9C", "-f", "json"], 1, "refused"),
        (["list", "--format=json", "--status", "bogus"], 2, "usage"),
        (["list", "-fjson", "--bogus"], 2, "usage"),
        (["new", "-f", "json", "--set", "nonsense"], 2, "usage"),
    ],
)
def test_errors_are_json_objects_on_stdout(
    example_repo: Path, cli: Any, args: list[str], code: int, kind: str
) -> None:
    result = cli(*args, cwd=example_repo)
    assert result.code == code
    payload = json.loads(result.out)
    assert payload["ok"] is False
    error = payload["error"]
    assert (error["code"], error["exit_code"]) == (kind, code)
    assert set(error) >= {"message", "path", "line", "hint"} and error["message"]


def test_a_bad_option_value_and_a_git_error_are_json_too(
    tmp_path: Path, example_repo: Path, cli: Any
) -> None:
    bad = cli("list", "--format", "json", "--department", cwd=example_repo)
    assert bad.code == 2 and json.loads(bad.out)["error"]["code"] == "usage"
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "offerctl.yaml").write_text("version: 1\n")
    result = cli("check", "--repo", str(outside), "--format", "json")
    assert result.code == 2
    assert json.loads(result.out)["error"]["code"] in {"git", "usage", "input"}
    text = cli("show", "OFF-2026-NOPE0000", cwd=example_repo)
    assert text.code == 2 and text.out == "" and "error:" in text.err


# --- item 17: CI set-up ------------------------------------------------------------------------


def test_init_help_mentions_ci_and_pre_commit(cli: Any) -> None:
    out = cli("init", "--help").out
    assert "pre-commit" in out and "--ci github" in out and "--ci-install" in out


def test_workflow_installs_something_that_exists_and_uses_the_real_branch(offer_repo: Path, cli: Any) -> None:
    from jsonschema import Draft7Validator

    from tests.test_integrations import _workflow_schema

    git(offer_repo, "branch", "-m", "trunk")
    result = cli("init", "--ci", "github", str(offer_repo))
    assert result.code == 0, result.err
    workflow = offer_repo / ".github" / "workflows" / "offerctl.yml"
    text = workflow.read_text()
    assert "offerctl==0.1.0.dev0" not in text and ".dev" not in text.split("OFFERCTL_INSTALL:")[1]
    data = yamlio.load(workflow.read_bytes())
    assert not list(Draft7Validator(_workflow_schema()).iter_errors(data))
    assert data["on"]["push"]["branches"] == ["trunk"]
    assert "warning" in result.err and "--ci-install" in result.err  # a dev version says how to pin
    fresh = offer_repo.parent / "fresh"
    pinned = cli(
        "init", "--ci", "github", "--ci-install", "offerctl @ git+https://example.org/o.git@v1", str(fresh)
    )
    assert pinned.code == 0, pinned.err
    step = next(
        s
        for s in yamlio.load((fresh / ".github/workflows/offerctl.yml").read_bytes())["jobs"]["check"][
            "steps"
        ]
        if s.get("name") == "Install offerctl"
    )
    assert step["env"]["OFFERCTL_INSTALL"] == "offerctl @ git+https://example.org/o.git@v1"


def test_install_spec_without_a_branch_has_no_push_filter() -> None:
    from offerctl.setup import ci

    data = yamlio.load(ci.github_workflow(None, "offerctl==1.0.0").encode())
    assert data["on"]["push"] is None
    assert ci.install_spec("offerctl==1.2.0").requirement == "offerctl==1.2.0"


def test_plain_check_says_history_was_not_verified(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = cli("check", "--repo", str(offer_repo))
    assert plain.code == 0 and "git history NOT verified" in plain.err
    assert len([line for line in plain.err.splitlines() if "NOT verified" in line]) == 1
    monkeypatch.setenv("CI", "true")
    assert "NOT verified" not in cli("check", "--repo", str(offer_repo)).err
