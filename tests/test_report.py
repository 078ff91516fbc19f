"""`offerctl report`: every metric checked against numbers computed by hand.

The fixture (tests/report_fixture.py) documents each offer; the arithmetic is spelled out
next to each assertion. Business days use the example's US-CA holidays: Wed 2026-11-11
(Veterans Day), Thu 2026-11-26 (Thanksgiving) and Fri 2026-11-27 are not business days.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from offerctl.core.bizdays import BusinessCalendar
from offerctl.reports import history, report
from offerctl.store.repo import open_repo
from tests.helpers import Cli, assert_snapshot
from tests.report_fixture import build

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOV = ("--since", "2026-11-01", "--until", "2026-11-30")


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Path:
    return build(tmp_path / "offers-repo")


@pytest.fixture
def november(fixture_repo: Path) -> dict[str, Any]:
    built = report.build(open_repo(fixture_repo), since="2026-11-01", until="2026-11-30")
    return built.as_json()


def _row(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    return next(r for r in rows if r[key] == value)


def _rate(num: int, den: int) -> dict[str, Any]:
    return {"numerator": num, "denominator": den, "rate": round(num / den, 4) if den else None}


def test_business_days_skip_weekends_and_public_holidays() -> None:
    ca = BusinessCalendar.from_config({"country": "US", "subdivision": "CA"})
    assert ca.between(dt.date(2026, 11, 20), dt.date(2026, 11, 23)) == 1  # Fri -> Mon
    assert ca.between(dt.date(2026, 11, 23), dt.date(2026, 11, 30)) == 3  # 24, 25, 30
    assert ca.between(dt.date(2026, 11, 2), dt.date(2026, 11, 2)) == 0
    assert ca.between(dt.date(2026, 11, 10), dt.date(2026, 11, 12)) == 1  # 11th: Veterans Day
    weekends_only = BusinessCalendar.from_config(None)
    assert weekends_only.between(dt.date(2026, 11, 23), dt.date(2026, 11, 30)) == 5
    extra = BusinessCalendar.from_config({"extra": ["2026-11-24"]})
    assert extra.between(dt.date(2026, 11, 23), dt.date(2026, 11, 25)) == 1
    assert [name for _, name in ca.holidays_between(dt.date(2026, 11, 25), dt.date(2026, 11, 30))] == [
        "Thanksgiving Day",
        "Day After Thanksgiving",
    ]


def test_history_is_one_pass_over_trailers_plus_hand_edits(fixture_repo: Path) -> None:
    seen: list[int] = []
    records = history.scan(open_repo(fixture_repo), progress=seen.append)
    # 9 offers: 8 with two commits, A-G... the draft G has one create commit; + init + hand edit.
    actions = [(r.offer_id, r.action) for r in records]
    assert actions[0] == ("OFF-2026-AAAA0007", None)  # newest first: the hand edit
    assert actions[-1] == (None, "init")
    assert ("OFF-2026-AAAA0004", "renege") in actions
    assert sum(1 for r in records if r.hand_edit) == 1
    hand = next(r for r in records if r.hand_edit)
    assert (hand.author_email, hand.author_date) == ("sam.lee@acme.example", "2026-11-28T09:00:00Z")
    # The "Add notes" commit touches no offer and carries no trailer: not a record.
    assert len(records) == 1 + 8 * 2 + 1 + 1
    assert seen == [20]  # 20 commits read (incl. the notes commit), reported once at the end
    create_a = next(r for r in records if r.offer_id == "OFF-2026-AAAA0001" and r.action == "create")
    assert create_a.author_date == "2026-11-02T10:00:00Z"
    assert history.scan(open_repo(fixture_repo), since="2026-11-25") == [
        r for r in records if r.author_date >= "2026-11-25"
    ]


def test_acceptance_by_segment(november: dict[str, Any]) -> None:
    m = november["metrics"]
    # Cohort: A-G (created in November). Extended: A, B, C, D, E (F rescinded unsent, G draft).
    # Accepted: A, D (D later reneged: still an acceptance). Declined: B, C. Open: E.
    assert m["offers"] == 7
    assert m["acceptance"]["overall"] == {
        "offers": 7,
        "extended": 5,
        "accepted": 2,
        "declined": 2,
        "open": 1,
        **_rate(2, 5),
    }
    by = m["acceptance"]["by"]
    assert _row(by["department"], "segment", "Engineering") == {
        "segment": "Engineering",
        "offers": 5,
        "extended": 3,
        "accepted": 1,
        "declined": 1,
        "open": 1,
        **_rate(1, 3),
    }
    assert _row(by["department"], "segment", "Sales")["rate"] == 0.5
    assert _row(by["level"], "segment", "L4")["extended"] == 4  # A, C, D, E
    assert _row(by["level"], "segment", "L6")["rate"] == 0.0  # B
    assert _row(by["job_family"], "segment", "sales")["accepted"] == 1
    assert _row(by["location"], "segment", "Austin, US")["extended"] == 2
    assert _row(by["source"], "segment", "referral")["rate"] == 0.5  # A accepted, E open; G draft
    assert _row(by["source"], "segment", "sourced")["rate"] is None  # F never extended
    assert _row(by["recruiter"], "segment", "tom.becker@acme.example")["rate"] == 0.5


def test_verbal_to_written_delay_and_its_buckets(november: dict[str, Any]) -> None:
    d = november["metrics"]["verbal_to_written"]
    # A: Mon 11-02 -> Tue 11-03 = 1.  B: Fri 11-06 -> Wed 11-18 = 7 (11th is a holiday).
    # C: Thu 11-12 -> Mon 11-16 = 2.  D: Fri 11-20 -> Wed 11-25 = 3.
    # E: Mon 11-23 -> Mon 11-30 = 3 (Thanksgiving and the day after are skipped; 5 without).
    assert d["offers"] == 5
    assert d["median_business_days"] == 3  # [1, 2, 3, 3, 7]
    assert d["p90_business_days"] == 7  # nearest rank: ceil(0.9 * 5) = 5th
    assert d["median_calendar_days"] == 5  # [1, 4, 5, 7, 12]
    assert d["histogram"] == [
        {"business_days": 1, "offers": 1, "accepted": 1},
        {"business_days": 2, "offers": 1, "accepted": 0},
        {"business_days": 3, "offers": 2, "accepted": 1},
        {"business_days": 7, "offers": 1, "accepted": 0},
    ]
    assert d["buckets"] == [
        {"bucket": "<=1", "extended": 1, "accepted": 1, **_rate(1, 1)},
        {"bucket": "2-3", "extended": 3, "accepted": 1, **_rate(1, 3)},
        {"bucket": ">3", "extended": 1, "accepted": 0, **_rate(0, 1)},
    ]


def test_funnel_and_cycle_times(november: dict[str, Any]) -> None:
    m = november["metrics"]
    assert [s["offers"] for s in m["funnel"]] == [7, 6, 5, 5, 2, 0]
    cycle = {row["stage"]: row for row in m["cycle_time"]}
    # created -> approvals complete (last approval before sending), in days:
    # A 6h = 0.25, B 9.0, C 3d23h = 3.9583, D 3d1h = 3.0417, E 2.0 -> median 3.0417, p90 9.0
    assert cycle["created_to_approved"] == {
        "stage": "created_to_approved",
        "offers": 5,
        "median_days": 3.04,
        "p90_days": 9.0,
    }
    # approvals complete -> sent: A 23h, B 1h, C 1h, D 2.0, E 5.0 -> median 23h = 0.9583
    assert (cycle["approved_to_sent"]["median_days"], cycle["approved_to_sent"]["p90_days"]) == (0.96, 5.0)
    # created -> sent: A 1.2083, B 9.0417, C 4.0, D 5.0417, E 7.0
    assert (cycle["created_to_sent"]["median_days"], cycle["created_to_sent"]["p90_days"]) == (5.04, 9.04)
    # sent -> decided: A 1.875, B 2.0, C 3.0, D 5.0 -> median 2.5, p90 = 4th of 4 = 5.0
    assert cycle["sent_to_decided"] == {
        "stage": "sent_to_decided",
        "offers": 4,
        "median_days": 2.5,
        "p90_days": 5.0,
    }
    # created -> decided: A 3.0833, B 11.0417, C 7.0, D 10.0417 -> median (7 + 10.0417) / 2
    assert cycle["created_to_decided"]["median_days"] == 8.52
    assert cycle["created_to_decided"]["p90_days"] == 11.04


def test_approval_latency_and_sla(november: dict[str, Any]) -> None:
    latency = november["metrics"]["approval_latency"]
    roles = {r["role"]: r for r in latency["by_role"]}
    # hiring_manager: A 0 (same day), B 0, C 1, D 1 (Fri -> Mon), E 2 (SLA 1: late)
    assert roles["hiring_manager"] == {
        "role": "hiring_manager",
        "approvals": 5,
        "median_business_days": 1,
        "p90_business_days": 2,
        "sla_business_days": 1,
        "within_sla": 4,
        "sla_adherence": 0.8,
    }
    # B's finance stage reopened with the revision on 11-12: 11-12 -> 11-13 = 1 (SLA 2)
    assert (roles["finance"]["median_business_days"], roles["finance"]["within_sla"]) == (1, 1)
    # B's executive stage opened when finance approved (11-13): 16, 17, 18 = 3 > SLA 2
    assert (roles["vp_people"]["median_business_days"], roles["vp_people"]["sla_adherence"]) == (3, 0.0)
    # department_head opened after the hiring manager (11-09 15:00) -> 11-10 = 1; no SLA set
    assert roles["department_head"]["sla_adherence"] is None
    # C's legal stage opened with its hiring manager approval (Fri 11-13) -> Mon 11-16 = 1
    assert roles["legal"]["median_business_days"] == 1
    assert latency["approvals"] == 9
    assert latency["sla_adherence"] == _rate(6, 8)  # department_head is not judged


def test_revisions_exceptions_declines_reneges_fall_through(november: dict[str, Any]) -> None:
    m = november["metrics"]
    assert m["revisions"]["revisions"] == 3  # B 1, D 2
    assert m["revisions"]["mean_per_offer"] == 0.43  # 3 / 7
    assert m["revisions"]["revised_offers"] == _rate(2, 7)
    assert [r["offers"] for r in m["revisions"]["distribution"]] == [5, 1, 1, 0]
    exc = m["exceptions"]
    # Not drafts: A-F. B 265k > L6 max 259k; E 120k < L4 min 128k; C has non_compete.
    assert exc["offers"] == 6
    assert exc["band_position"] == {"below": 1, "within": 4, "above": 1, "unknown": 0}
    assert exc["out_of_band"] == _rate(2, 6)
    assert exc["nonstandard_clauses"] == _rate(1, 6)
    assert exc["exceptions"] == _rate(3, 6)
    assert [e["offer"] for e in exc["list"]] == [
        "OFF-2026-AAAA0002",
        "OFF-2026-AAAA0003",
        "OFF-2026-AAAA0005",
    ]
    dec = m["declines"]
    assert dec["by_reason"] == [
        {"reason": "compensation", "offers": 1},
        {"reason": "timing_process", "offers": 1},
    ]
    assert dec["by"]["source"] == [
        {"segment": "agency", "declined": 1, "reasons": {"timing_process": 1}},
        {"segment": "inbound", "declined": 1, "reasons": {"compensation": 1}},
    ]
    assert [r["segment"] for r in dec["by"]["level"]] == ["L4", "L6"]
    assert dec["by"]["department"][1] == {"segment": "Sales", "declined": 1, "reasons": {"timing_process": 1}}
    assert m["reneges"] == {
        **_rate(1, 2),
        "reneged": 1,
        "accepted": 2,
        "by_reason": [{"reason": "counter_offer", "offers": 1}],
    }
    # Verbal offers A-F; fell through B, C (declined), F (rescinded); accepted A, D; open E.
    assert m["fall_through"] == {
        "verbal_offers": 6,
        "fell_through": 3,
        "accepted": 2,
        "open": 1,
        **_rate(3, 5),
        "by_outcome": {"declined": 2, "expired": 0, "rescinded": 1},
    }
    assert m["history"] == {
        "commits": 14,
        "offers_with_history": 7,
        "hand_edits": 1,
        "by_action": {
            "accept": 1,
            "create": 7,
            "decline": 2,
            "hand_edit": 1,
            "renege": 1,
            "rescind": 1,
            "send": 1,
        },
    }


def test_previous_window_comparison(november: dict[str, Any]) -> None:
    assert november["previous_window"] == {"since": "2026-10-02", "until": "2026-10-31"}
    assert november["previous"]["offers"] == 1  # P; Q (September) is in neither window
    compared = {row["metric"]: row for row in november["comparison"]}
    assert compared["acceptance rate"] == {
        "metric": "acceptance rate",
        "current": 0.4,
        "previous": 1.0,
        "change": -0.6,
    }
    assert compared["median verbal→written (business days)"]["change"] == 2  # 3 vs 1 (Mon -> Tue)
    assert compared["median created→sent (days)"]["previous"] == 0.25  # 09:00 -> 15:00
    assert compared["approval SLA adherence"]["change"] == -0.25
    assert compared["fall-through after verbal"]["change"] == 0.6


def test_whole_history_without_a_window(fixture_repo: Path) -> None:
    everything = report.build(open_repo(fixture_repo)).as_json()
    assert everything["metrics"]["offers"] == 9
    assert everything["comparison"] is None
    assert everything["metrics"]["acceptance"]["overall"]["extended"] == 7  # + P and Q


def _snapshot(name: str, text: str) -> None:
    assert_snapshot(SNAPSHOTS / name, text)


def test_report_text_and_json_snapshots(fixture_repo: Path, cli: Cli) -> None:
    text = cli("report", "--repo", str(fixture_repo), *NOV)
    assert text.code == 0, text.err
    _snapshot("report.txt", text.out)
    line = next(x for x in text.out.splitlines() if "acceptance rate (accepted ÷ extended)" in x)
    assert line.rstrip(" │").endswith("40.0% (2/5)")
    as_json = cli("report", "--repo", str(fixture_repo), *NOV, "--format", "json")
    assert as_json.code == 0
    _snapshot("report.json", as_json.out)
    assert as_json.json()["metrics"]["acceptance"]["overall"]["rate"] == 0.4


def test_report_by_limits_the_breakdowns(fixture_repo: Path, cli: Cli) -> None:
    result = cli("report", "--repo", str(fixture_repo), "--by", "source", "--format", "json")
    assert list(result.json()["metrics"]["acceptance"]["by"]) == ["source"]
    text = cli("report", "--repo", str(fixture_repo), "--by", "recruiter")
    assert "Acceptance by recruiter" in text.out and "Acceptance by department" not in text.out


def test_report_usage_errors(fixture_repo: Path, cli: Cli) -> None:
    bad_by = cli("report", "--repo", str(fixture_repo), "--by", "salary")
    assert bad_by.code == 2 and "not a segment" in bad_by.err and "Traceback" not in bad_by.err
    bad_date = cli("report", "--repo", str(fixture_repo), "--since", "yesterday")
    assert bad_date.code == 2 and "YYYY-MM-DD" in bad_date.err
    backwards = cli("report", "--repo", str(fixture_repo), "--since", "2026-11-02", "--until", "2026-11-01")
    assert backwards.code == 2 and "before" in backwards.err


def test_since_alone_runs_to_today(fixture_repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-15T12:00:00Z")
    result = cli("report", "--repo", str(fixture_repo), "--since", "2026-11-01", "--format", "json").json()
    assert result["window"] == {"since": "2026-11-01", "until": "2026-11-15"}
    assert result["metrics"]["offers"] == 3  # A, B, C
    assert result["previous_window"] == {"since": "2026-10-17", "until": "2026-10-31"}


def test_report_on_the_bundled_example(example_repo: Path, cli: Cli) -> None:
    result = cli("report", "--repo", str(example_repo), "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["metrics"]["offers"] == 16
    overall = data["metrics"]["acceptance"]["overall"]
    assert overall["extended"] >= overall["accepted"] > 0
    assert json.loads(json.dumps(data)) == data


def test_text_report_to_a_file(fixture_repo: Path, cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    result = cli("report", "--repo", str(fixture_repo), *NOV, "-o", str(target))
    assert result.code == 0 and result.out == "" and "wrote" in result.err
    text = target.read_text()
    assert "Acceptance by department" in text and "\x1b[" not in text


def test_history_fills_timestamps_the_files_lack() -> None:
    from offerctl.core.model import Offer
    from offerctl.reports import metrics

    offer = Offer("offers/OFF-1.yaml", {"id": "OFF-1", "status": "accepted", "events": []})
    commits = [
        history.CommitRecord("c3", "r@a.example", "2026-11-05T12:00:00Z", "OFF-1", "accept", None),
        history.CommitRecord("c2", "r@a.example", "2026-11-03T15:00:00Z", "OFF-1", "send", None),
        history.CommitRecord("c1", "r@a.example", "2026-11-02T10:00:00Z", "OFF-1", "create", None),
    ]
    facts = metrics.facts_of(offer, commits)
    assert facts.created == dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    assert facts.sent == dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC)
    assert facts.written_on == dt.date(2026, 11, 3)
    assert facts.decided == dt.datetime(2026, 11, 5, 12, tzinfo=dt.UTC)
    assert facts.extended and facts.accepted


def test_trailers_are_read_like_git_reads_them(fixture_repo: Path) -> None:
    from tests.conftest import git

    (fixture_repo / "NOTES.md").write_text("more\n")
    git(fixture_repo, "add", "NOTES.md")
    message = (
        "Approve by hand\n\nOffer-Id: in the body is not a trailer\n\n"
        "offer-id: OFF-2026-AAAA0001\nOffer-Action: approve\nOffer-Role: finance\nOffer-Role: legal\n"
    )
    git(fixture_repo, "commit", "-q", "-m", message)
    newest = history.scan(open_repo(fixture_repo))[0]
    assert (newest.offer_id, newest.action, newest.role) == ("OFF-2026-AAAA0001", "approve", "finance")


def test_an_empty_repository_says_no_offers_yet_once(offer_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "--repo", str(offer_repo))
    assert result.code == 0, result.err
    assert result.out.count("no offers yet") == 1
    assert len(result.out.strip().splitlines()) == 2  # the title and that sentence, no empty tables
    window = cli("report", "--repo", str(offer_repo), "--since", "2026-11-01")
    assert "no offers were created in this window" in window.out
