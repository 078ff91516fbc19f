"""init / new / show / list / check / schema, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from offerctl.store import yamlio
from tests.conftest import git
from tests.helpers import Cli, intake

INTAKE = intake()


def _status(repo: Path) -> str:
    return git(repo, "status", "--porcelain")


def test_init_creates_a_checkable_repository(tmp_path: Path, cli: Cli) -> None:
    result = cli("init", str(tmp_path / "new"))
    assert result.code == 0
    repo = tmp_path / "new"
    for rel in (
        "offerctl.yaml",
        "policies/routing.yaml",
        "policies/bands.yaml",
        "policies/approvers.yaml",
        ".gitignore",
        "schemas/offer.schema.json",
    ):
        assert (repo / rel).is_file(), rel
    assert _status(repo) == ""
    assert "offerctl init" in git(repo, "log", "--format=%s")
    check = cli("check", "--format", "json", cwd=repo)
    assert (check.code, check.json()) == (0, {"ok": True, "checked": 0, "findings": []})


def test_init_refuses_an_existing_repository(offer_repo: Path, cli: Cli) -> None:
    before = (offer_repo / "offerctl.yaml").read_text()
    result = cli("init", str(offer_repo))
    assert result.code == 1
    assert "already an offer repository" in result.err
    assert (offer_repo / "offerctl.yaml").read_text() == before


def test_new_from_file_creates_a_valid_committed_offer(offer_repo: Path, cli: Cli) -> None:
    (offer_repo / "intake.yaml").write_text(INTAKE)
    result = cli("new", "--no-input", "--from", "intake.yaml", "--format", "json", cwd=offer_repo)
    assert result.code == 0, result.err
    created = result.json()
    offer_id = created["id"]
    assert created["path"] == f"offers/{offer_id}.yaml"
    text = (offer_repo / created["path"]).read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/offer.schema.json\n")
    data = yamlio.load_text(text)
    assert data["status"] == "draft"
    assert data["compensation"]["currency"] == "USD"  # default by country
    assert data["events"][0]["type"] == "created"
    # committed with the recruiter as author, trailers for history mining
    log = git(offer_repo, "log", "-1", "--format=%an <%ae>%n%B")
    assert log.startswith("Rae Cruiter <recruiter@example.com>")
    assert f"Offer-Id: {offer_id}" in log and "Offer-Action: create" in log
    assert _status(offer_repo).strip() == "?? intake.yaml"
    check = cli("check", "--format", "json", cwd=offer_repo)
    assert check.json()["ok"] is True and check.json()["checked"] == 1


def test_new_set_overrides_and_reads_yaml_1_2(offer_repo: Path, cli: Cli) -> None:
    (offer_repo / "intake.yaml").write_text(INTAKE)
    result = cli(
        "new",
        "--no-input",
        "--from",
        "intake.yaml",
        "--format",
        "json",
        "--set",
        "compensation.base_salary=190000",
        "--set",
        "candidate.name=Ola Nordmann",
        "--set",
        "role.location.country=NO",
        "--set",
        "role.location.region=03",
        "--set",
        "compensation.currency=NOK",
        cwd=offer_repo,
    )
    assert result.code == 0, result.err
    data = yamlio.load((offer_repo / result.json()["path"]).read_bytes())
    assert data["compensation"]["base_salary"] == 190000
    assert data["role"]["location"] == {"country": "NO", "region": "03", "city": "San Francisco"}


def test_new_without_input_lists_every_problem_and_writes_nothing(offer_repo: Path, cli: Cli) -> None:
    head = git(offer_repo, "rev-parse", "HEAD")
    result = cli(
        "new",
        "--no-input",
        "--set",
        "candidate.name=Jane",
        "--set",
        "compensation.base_salary=-3",
        "--set",
        "role.department=Marketing",
        cwd=offer_repo,
    )
    assert result.code == 2
    for field in ("candidate.email", "role.title", "start_date", "compensation.base_salary"):
        assert field in result.err
    assert "Traceback" not in result.err
    assert git(offer_repo, "rev-parse", "HEAD") == head
    assert _status(offer_repo) == ""
    assert list((offer_repo / "offers").glob("OFF-*")) == []


def test_new_reports_unknown_references(offer_repo: Path, cli: Cli) -> None:
    (offer_repo / "intake.yaml").write_text(INTAKE.replace("Engineering", "Marketing"))
    result = cli("new", "--no-input", "--from", "intake.yaml", cwd=offer_repo)
    assert result.code == 2
    assert "unknown department 'Marketing'" in result.err


def test_new_rejects_unknown_set_paths(offer_repo: Path, cli: Cli) -> None:
    result = cli("new", "--no-input", "--set", "compensation.salary=1", cwd=offer_repo)
    assert result.code == 2
    assert "unknown field" in result.err


def test_new_no_commit_leaves_the_offer_staged(offer_repo: Path, cli: Cli) -> None:
    (offer_repo / "intake.yaml").write_text(INTAKE)
    result = cli(
        "new",
        "--no-input",
        "--no-commit",
        "--from",
        "intake.yaml",
        "--format",
        "json",
        cwd=offer_repo,
    )
    assert result.code == 0
    assert f"A  {result.json()['path']}" in _status(offer_repo)


def test_new_prompts_on_a_terminal(offer_repo: Path) -> None:
    """A real pseudo-terminal: missing fields are asked for, bad answers asked again."""
    pexpect = pytest.importorskip("pexpect")
    (offer_repo / "intake.yaml").write_text(
        INTAKE.replace("  level: L5\n", "").replace("start_date: 2027-01-11\n", "")
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "offerctl", "new", "--from", "intake.yaml"],
        cwd=str(offer_repo),
        encoding="utf-8",
        timeout=20,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    child.expect("Level")
    child.sendline("L99")
    child.expect("one of: L1")
    child.sendline("L5")
    child.expect("Start date")
    child.sendline("2027-02-30")
    child.expect("date")
    child.sendline("2027-01-11")
    child.expect(r"expires on \(YYYY-MM-DD\) \[2026-11-30\]")
    child.sendline("")
    child.expect(r"Currency \(ISO 4217, e.g. USD\) \[USD\]")
    child.sendline("")
    child.expect("Add optional details")
    child.sendline("n")
    child.expect(r"Write this offer\?")
    child.sendline("y")
    child.expect("created offers/")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert len(list((offer_repo / "offers").glob("OFF-*.yaml"))) == 1


def test_show_and_list(example_repo: Path, cli: Cli) -> None:
    listed = cli("list", "--format", "json", cwd=example_repo)
    assert listed.code == 0
    rows = listed.json()
    assert len(rows) >= 12
    assert {r["status"] for r in rows} >= {
        "draft",
        "pending_approval",
        "approved",
        "sent",
        "accepted",
        "declined",
    }
    declined = cli("list", "--status", "declined", "--format", "json", cwd=example_repo).json()
    assert declined and all(r["status"] == "declined" for r in declined)
    sales = cli("list", "--department", "sales", "--format", "json", cwd=example_repo).json()
    assert sales and all(r["department"] == "Sales" for r in sales)
    offer_id = rows[0]["id"]
    shown = cli("show", offer_id, "--format", "json", cwd=example_repo)
    assert shown.json()["id"] == offer_id
    text = cli("show", offer_id, cwd=example_repo)
    assert offer_id in text.out and "Compensation" in text.out
    table = cli("list", cwd=example_repo)
    assert offer_id in table.out


def test_show_formats_money_per_locale(example_repo: Path, cli: Cli) -> None:
    text = cli("show", "OFF-2026-6RM1PQ9C", cwd=example_repo).out
    assert "$195,000" in text


def test_list_rejects_unknown_status(example_repo: Path, cli: Cli) -> None:
    result = cli("list", "--status", "signed", cwd=example_repo)
    assert result.code == 2 and "not a status" in result.err


def test_show_unknown_offer_is_a_usage_error(example_repo: Path, cli: Cli) -> None:
    result = cli("show", "OFF-2026-NOPE", cwd=example_repo)
    assert result.code == 2
    assert "no offer 'OFF-2026-NOPE'" in result.err and "Traceback" not in result.err


def test_check_formats(example_repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = example_repo / "offers" / "OFF-2026-BROKEN01.yaml"
    bad.write_text(
        (example_repo / "offers" / "OFF-2026-3QX7M2KD.yaml")
        .read_text()
        .replace("OFF-2026-3QX7M2KD", "OFF-2026-BROKEN01")
        .replace("base_salary: 148000", "base_salary: '148k'")
    )
    text = cli("check", cwd=example_repo)
    assert text.code == 1
    assert "offers/OFF-2026-BROKEN01.yaml:" in text.out and "S104 [error]" in text.out
    data = cli("check", "--format", "json", cwd=example_repo).json()
    assert data["ok"] is False
    assert set(data) == {"ok", "checked", "findings"}
    assert set(data["findings"][0]) == {"code", "severity", "offer", "path", "line", "message"}
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    gh = cli("check", cwd=example_repo)
    assert gh.code == 1
    assert "::error file=offers/OFF-2026-BROKEN01.yaml,line=" in gh.out


def test_check_outside_a_repository(tmp_path: Path, cli: Cli) -> None:
    result = cli("check", cwd=tmp_path)
    assert result.code == 2
    assert "no offerctl.yaml" in result.err and "offerctl init" in result.err


def test_check_in_a_non_git_directory(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "offerctl.yaml").write_text("version: 1\ncompany: {name: X}\n")
    result = cli("check", cwd=tmp_path)
    assert result.code == 2
    assert "not inside a git repository" in result.err


def test_unreadable_config_is_exit_2_with_line(offer_repo: Path, cli: Cli) -> None:
    (offer_repo / "offerctl.yaml").write_text("version: 1\nversion: 2\n")
    result = cli("check", cwd=offer_repo)
    assert result.code == 2
    assert "offerctl.yaml:2: duplicate key 'version'" in result.err


def test_schema_command(cli: Cli, tmp_path: Path) -> None:
    for name in ("offer", "routing", "bands", "approvers"):
        result = cli("schema", name)
        schema = json.loads(result.out)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["additionalProperties"] is False
    assert cli("schema", "nope").code == 2
    assert cli("schema", "--write", str(tmp_path / "s")).code == 0
    assert (tmp_path / "s" / "offer.schema.json").is_file()


def test_bundled_schemas_match_the_package(cli: Cli) -> None:
    root = Path(__file__).resolve().parent.parent
    for name in ("offer", "routing", "bands", "approvers", "config"):
        assert (root / "schemas" / f"{name}.schema.json").read_text() == cli("schema", name).out


def test_help_is_fast_path_and_exit_codes() -> None:
    proc = subprocess.run([sys.executable, "-m", "offerctl", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "check" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "offerctl", "check", "--format", "xml"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_offerctl_now_fixes_the_clock_for_backfills(
    offer_repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (offer_repo / "intake.yaml").write_text(INTAKE)
    monkeypatch.setenv("OFFERCTL_NOW", "2026-10-01T09:30:00Z")
    result = cli("new", "--no-input", "--from", "intake.yaml", "--format", "json", cwd=offer_repo)
    data = yamlio.load((offer_repo / result.json()["path"]).read_bytes())
    assert data["events"][0]["at"] == "2026-10-01T09:30:00Z"
    assert data["expires_on"] == "2026-10-08"
    assert result.json()["id"].startswith("OFF-2026-")
    monkeypatch.setenv("OFFERCTL_NOW", "yesterday")
    bad = cli("new", "--no-input", "--from", "intake.yaml", cwd=offer_repo)
    assert bad.code == 2 and "OFFERCTL_NOW" in bad.err
