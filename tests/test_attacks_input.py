"""The bad-input attacks of issue 12 (items 7 to 12) and the id handling of issue 13 item 16,
each on a real temporary repository: what a careless user or a hostile file gives offerctl,
and the clear error or finding it must get back — never a traceback, a hang, or a file
written halfway. Read top to bottom, this file is the attack suite's input half (docs/security.md,
"Attack suite: bad input")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.trust_helpers import new_offer

# --- 7. numbers ------------------------------------------------------------------------------

BAD_AMOUNTS = {
    "1e30": "must be < 1,000,000,000,000",
    "1e309": "must be < 1,000,000,000,000",
    "1" + "0" * 30: "must be < 1,000,000,000,000",  # 10^30 written out
    "9" * 20 + ".99": "must be < 1,000,000,000,000",
    "-1": "must be ≥ 0",
    "12.345": "at most 2 decimal place(s)",
    "0.0100000000000000001": "at most 2 decimal place(s)",  # equal to 0.01 as a binary float
    "NaN": "must be a number",
    ".nan": "must be a number",
    "Infinity": "must be a number",
    "-.inf": "must be a number",
}


@pytest.mark.parametrize("value", sorted(BAD_AMOUNTS))
def test_new_refuses_an_amount_out_of_range_or_precision(offer_repo: Path, cli: Any, value: str) -> None:
    before = git(offer_repo, "rev-parse", "HEAD")
    (offer_repo / "intake.yaml").write_text("candidate: {name: A}\n")
    result = cli(
        "new", "--no-input", "--set", f"compensation.base_salary={value}", "--format", "text", cwd=offer_repo
    )
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err
    assert BAD_AMOUNTS[value] in result.err
    assert git(offer_repo, "rev-parse", "HEAD") == before
    assert not list((offer_repo / "offers").glob("*.yaml"))


def test_amounts_inside_the_range_are_accepted(offer_repo: Path, cli: Any) -> None:
    for value in ("999999999999.99", "0.07", "185000.5", "0"):
        new_offer(offer_repo, cli, compensation__base_salary=value)


HAND_EDITS = ["1E+30", "1e309", "-5", "12.345", ".nan", ".inf", "1" + "0" * 40]
REPO_WIDE = [
    ("check",),
    ("status",),
    ("inbox",),
    ("list",),
    ("report",),
    ("export", "--format", "csv"),
    ("remind",),
    ("headroom", "OFF-2026-5NB2RC8P"),
    ("route", "OFF-2026-5NB2RC8P"),
]


@pytest.mark.parametrize("value", HAND_EDITS)
def test_one_hand_edited_amount_never_takes_down_a_repository_wide_command(
    example_repo: Path, cli: Any, value: str
) -> None:
    """A pending offer hand-edited to an absurd amount: `check` names that file and line;
    every other repository-wide command still answers for the other offers."""
    bad = example_repo / "offers" / "OFF-2026-9KD3VX6Q.yaml"
    text = bad.read_text()
    bad.write_text(re.sub(r"base_salary: [0-9.]+", f"base_salary: {value}", text, count=1))
    line = next(n for n, ln in enumerate(bad.read_text().splitlines(), 1) if "base_salary" in ln)
    for args in REPO_WIDE:
        result = cli(*args, cwd=example_repo)
        assert result.code in (0, 1), (args, result.out, result.err)
        assert "Traceback" not in result.err
    checked = cli("check", "--format", "json", cwd=example_repo).json()
    [finding] = [f for f in checked["findings"] if f["path"] == "offers/OFF-2026-9KD3VX6Q.yaml"]
    assert (finding["code"], finding["line"]) in {("S105", line), ("S104", line)}
    assert "compensation.base_salary" in finding["message"]
    # the other offers are still shown: the bad file is skipped and said to be skipped
    status = cli("status", cwd=example_repo)
    assert "OFF-2026-5NB2RC8P" in status.out
    assert "offers/OFF-2026-9KD3VX6Q.yaml" in status.err


GARBAGE = [
    (r"^events:", "events: 5\nxevents:"),
    (r"^approvals:", "approvals: 7\nxapprovals:"),
    (r"^compensation:", "compensation: 5\nxcompensation:"),
    (r"^status: .*", "status: [a]"),
    (r"^role:", "role: 5\nxrole:"),
    (r"^id: .*", "id: [x]"),
    (r"at: '[^']*'", "at: 'yesterday'"),
    (r"^start_date: .*", "start_date: 2027-13-45"),
    (r"^candidate:", "candidate:\n  name: [x]\nxcandidate:"),
]


@pytest.mark.parametrize(("pattern", "replacement"), GARBAGE)
def test_a_structurally_broken_file_is_a_finding_in_every_repository_wide_command(
    example_repo: Path, cli: Any, pattern: str, replacement: str
) -> None:
    """Hand edits that break the shape of an offer (a number where a list belongs, a list
    where text belongs): reports, history, CI and every listing keep working."""
    bad = example_repo / "offers" / "OFF-2026-9KD3VX6Q.yaml"
    bad.write_text(re.sub(pattern, replacement, bad.read_text(), count=1, flags=re.M))
    for args in [*REPO_WIDE, ("log", "OFF-2026-9KD3VX6Q"), ("check", "--verify-history")]:
        result = cli(*args, cwd=example_repo)
        assert result.code in (0, 1, 2), (args, result.out, result.err)
        assert "Traceback" not in result.err
        if result.code == 2:  # only the command aimed at the broken offer itself
            assert "OFF-2026-9KD3VX6Q" in " ".join(args) and "OFF-2026-9KD3VX6Q" in result.err, args
    checked = cli("check", "--format", "json", cwd=example_repo).json()
    assert any(f["path"] == "offers/OFF-2026-9KD3VX6Q.yaml" for f in checked["findings"])


def test_a_broken_yaml_file_gives_log_an_input_error_not_a_traceback(example_repo: Path, cli: Any) -> None:
    bad = example_repo / "offers" / "OFF-2026-9KD3VX6Q.yaml"
    bad.write_text(bad.read_text().replace("status:", "status: [", 1))
    result = cli("log", "OFF-2026-9KD3VX6Q", cwd=example_repo)
    assert result.code == 2
    assert "offers/OFF-2026-9KD3VX6Q.yaml:" in result.err
    assert "Traceback" not in result.err
