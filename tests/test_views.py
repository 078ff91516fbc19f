"""What people read from `list`, `show` and `log`: 80-column terminals, pipes, stale
approvals, rejections, humane values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"
SENT = "OFF-2026-6RM1PQ9C"
PENDING = "OFF-2026-9KD3VX6Q"
FINANCE = "fiona.chen@acme.example"


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout is an 80-column terminal without colour (rich: TTY_COMPATIBLE, TERM=dumb)."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("NO_COLOR", "1")


def as_user(monkeypatch: pytest.MonkeyPatch, email: str) -> None:
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", email)
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", email)


def test_list_fits_80_columns_without_cutting_ids_or_dates(
    example_repo: Path, cli: Any, terminal: None
) -> None:
    result = cli("list", cwd=example_repo)
    assert result.code == 0, result.err
    assert_snapshot(SNAPSHOTS / "list_80.txt", result.out)
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["ID", "STATUS", "CANDIDATE", "TITLE", "EXPIRES"]
    ids = {p.stem for p in (example_repo / "offers").glob("*.yaml")}
    for line in lines[1:]:
        offer_id, status, *_rest, expires = line.split()
        assert offer_id in ids and len(expires) == 10 and "…" not in status + expires
    assert "pending_approval" in result.out  # never "pending_ap…"


def test_list_drops_columns_before_cutting(
    example_repo: Path, cli: Any, terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERM")  # TERM=dumb makes rich assume 80 columns
    monkeypatch.setenv("COLUMNS", "200")
    wide = re.sub(r"\x1b\[[0-9;]*m", "", cli("list", cwd=example_repo).out).splitlines()
    assert wide[0].split() == [
        "ID",
        "STATUS",
        "CANDIDATE",
        "TITLE",
        "DEPARTMENT",
        "LEVEL",
        "COUNTRY",
        "EXPIRES",
        "UPDATED",
    ]
    assert "…" not in "".join(wide)
    monkeypatch.setenv("COLUMNS", "60")
    narrow = re.sub(r"\x1b\[[0-9;]*m", "", cli("list", cwd=example_repo).out).splitlines()
    assert narrow[0].split() == ["ID", "STATUS", "CANDIDATE", "EXPIRES"]
    assert max(len(line) for line in narrow) <= 60


def test_list_piped_prints_one_full_line_per_offer(example_repo: Path, cli: Any) -> None:
    result = cli("list", cwd=example_repo)  # stdout is not a terminal here
    rows = cli("list", "-f", "json", cwd=example_repo).json()
    lines = result.out.splitlines()
    assert len(lines) == len(rows)
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 10 for f in fields)
    by_id = {f[0]: f for f in fields}
    for row in rows:
        line = by_id[row["id"]]
        assert line[1:4] == [row["status"], row["candidate"], row["title"]]
        assert line[7] == row["recruiter"] and line[8] == row["expires_on"]
    assert "…" not in result.out


@pytest.mark.parametrize(
    ("order", "key"),
    [
        ("id", lambda r: r["id"]),
        ("expiry", lambda r: (r["expires_on"], r["id"])),
    ],
)
def test_list_sort(example_repo: Path, cli: Any, order: str, key: Any) -> None:
    rows = cli("list", "--sort", order, "-f", "json", cwd=example_repo).json()
    assert rows == sorted(rows, key=key)


def test_list_sort_by_status_and_update(example_repo: Path, cli: Any) -> None:
    from offerctl.core.model import Status

    order = [s.value for s in Status]
    rows = cli("list", "--sort", "status", "-f", "json", cwd=example_repo).json()
    assert [order.index(r["status"]) for r in rows] == sorted(order.index(r["status"]) for r in rows)
    rows = cli("list", "--sort", "updated", "-f", "json", cwd=example_repo).json()
    stamps = [r["updated"] for r in rows]
    assert stamps == sorted(stamps, reverse=True) and stamps[0].startswith("2026-")
    assert cli("list", "--sort", "salary", cwd=example_repo).code == 2


def test_show_fits_80_columns_and_reads_like_prose(example_repo: Path, cli: Any, terminal: None) -> None:
    result = cli("show", "OFF-2026-2WF8JT4M", cwd=example_repo)
    assert result.code == 0, result.err
    assert_snapshot(SNAPSHOTS / "show_80.txt", result.out)
    assert max(len(line) for line in result.out.splitlines()) <= 80
    assert "daniel.kim@example.com" in result.out and "rita.ramos@acme.example" in result.out
    assert "1,000 RSUs, vesting 4y, 1y cliff" in result.out
    assert "L5 (product)" in result.out and "$176,000 (annual)" in result.out
    assert "…" not in result.out and not any(line.endswith(" ") for line in result.out.splitlines())


def test_show_long_email_is_never_cut(example_repo: Path, cli: Any, terminal: None) -> None:
    path = example_repo / "offers" / "OFF-2026-2WF8JT4M.yaml"
    email = "maximilian.alexander.von.hohenzollern-sigmaringen@recruiting.example.com"
    path.write_text(path.read_text().replace("daniel.kim@example.com", email))
    out = cli("show", "OFF-2026-2WF8JT4M", cwd=example_repo).out
    assert email in "".join(out.split())  # folded onto the next line at worst, never cut


def test_show_marks_stale_approvals_and_the_rejection(
    example_repo: Path, cli: Any, terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    revised = cli(
        "revise",
        SENT,
        "--set",
        "compensation.base_salary=212000",
        "--reason",
        "competing offer",
        cwd=example_repo,
    )
    assert revised.code == 0, revised.err
    out = cli("show", SENT, cwd=example_repo).out
    stale = [line for line in out.splitlines() if "✗ stale" in line]
    assert len(stale) == 2 and any("finance" in line for line in stale)
    assert "compensation.base_salary changed 195,000 → 212,000" in " ".join(out.split())

    as_user(monkeypatch, FINANCE)
    rejected = cli("reject", PENDING, "--comment", "Base above band; talk to finance first", cwd=example_repo)
    assert rejected.code == 0, rejected.err
    lines = cli("show", PENDING, cwd=example_repo).out.splitlines()
    assert lines[0].split() == [PENDING, "draft"]
    assert lines[1].startswith(f"Rejected by {FINANCE} (finance) on 2026-11-23: Base above band")
    superseded = [line for line in lines if "superseded" in line]
    assert superseded, "the approval given before the rejection no longer counts"


def test_show_puts_a_decline_first(example_repo: Path, cli: Any, terminal: None) -> None:
    lines = cli("show", "OFF-2026-5WQ9GA1D", cwd=example_repo).out.splitlines()
    assert lines[1].startswith("Declined on 2026-11-13: timing process; Written offer arrived")


def test_log_tells_rejections_declines_and_money(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_user(monkeypatch, FINANCE)
    cli("reject", PENDING, "--comment", "Base above band", cwd=example_repo)
    out = cli("log", PENDING, cwd=example_repo).out
    assert "rejected; pending_approval → draft; as finance; comment: “Base above band”" in out
    assert "changed   status" not in out  # the event says it, once

    declined = cli("log", "OFF-2026-5WQ9GA1D", cwd=example_repo).out
    assert "detail: “Written offer arrived eleven days after the verbal offer" in declined

    as_user(monkeypatch, "rita.ramos@acme.example")
    cli(
        "revise",
        SENT,
        "--set",
        "compensation.base_salary=212000",
        "--reason",
        "competing offer",
        cwd=example_repo,
    )
    out = cli("log", SENT, cwd=example_repo).out
    assert "compensation.base_salary: $195,000 → $212,000" in out
    assert sum("sent → negotiating" in line for line in out.splitlines()) == 1


def test_fit_columns_keeps_fixed_columns_whole() -> None:
    from offerctl.cli.views import LIST_COLUMNS, fit_columns
    from offerctl.lifecycle.offers import Summary

    row = Summary(
        "OFF-2026-7K3QXM2B",
        "pending_approval",
        "Maximilian Alexander",
        "Principal Distributed Systems Engineer",
        "Engineering",
        "L7",
        "US",
        "rita.ramos@acme.example",
        "2026-12-04",
        "offers/x.yaml",
        "2026-11-20T10:00:00Z",
    )
    for width in (60, 80, 100, 120, 200):
        fitted = dict((c.header, w) for c, w in fit_columns(LIST_COLUMNS, [row], width))
        assert fitted["ID"] == 17 and fitted["STATUS"] == 16 and fitted["EXPIRES"] == 10
        assert sum(fitted.values()) + 2 * (len(fitted) - 1) <= width
    assert "TITLE" not in dict((c.header, w) for c, w in fit_columns(LIST_COLUMNS, [row], 64))


def test_inbox_shows_candidate_pay_and_human_times(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    as_user(monkeypatch, "dana.whit@acme.example")
    lines = cli("inbox", cwd=example_repo).out.splitlines()
    assert lines[0] == "1 offer waits for you (dana.whit@acme.example), oldest first:"
    assert lines[2] == "OFF-2026-5NB2RC8P  Maya Patel — Staff Engineer, $248,000"
    assert lines[3].startswith("    waiting since 6 days ago (2026-11-17), 4 business days")
    assert "T" not in lines[3]  # no raw ISO time


def test_inbox_tells_a_stranger_who_they_are(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_user(monkeypatch, "someone@elsewhere.example")
    result = cli("inbox", cwd=example_repo)
    assert result.code == 0
    assert result.out.startswith(
        "you are not an approver in policies/approvers.yaml (you are someone@elsewhere.example)"
    )
    assert "0 offer" not in result.out
    assert cli("inbox", "-f", "json", cwd=example_repo).json() == {
        "for": "someone@elsewhere.example",
        "listed": False,
        "items": [],
    }
    as_user(monkeypatch, "chris.ito@acme.example")
    assert cli("inbox", cwd=example_repo).out == "nothing waits for you (chris.ito@acme.example)\n"
