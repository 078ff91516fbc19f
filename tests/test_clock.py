"""The one clock (issue 11): pinned dates, whole-day ``--since``, letters that do not depend on
the clock or on optional system libraries."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from offerctl.core import clock
from offerctl.core.errors import UsageError
from offerctl.reports import history
from offerctl.store.repo import open_repo
from tests.conftest import TEST_TODAY, git

# The bundled example's open offers and their expiry dates (offers/*.yaml).
EXPIRING = {
    "OFF-2026-4JZ6HN3T": "2026-11-27",  # sent
    "OFF-2026-6RM1PQ9C": "2026-11-28",  # sent
    "OFF-2026-9KD3VX6Q": "2026-11-28",  # pending_approval
}


# --- the clock itself -------------------------------------------------------------------


def test_offerctl_today_pins_the_date_and_keeps_the_time_of_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFERCTL_TODAY", "2031-06-01")
    assert clock.today() == dt.date(2031, 6, 1)
    assert clock.now().date() == dt.date(2031, 6, 1) and clock.now().tzinfo == dt.UTC
    assert clock.utc_now().startswith("2031-06-01T") and clock.utc_now().endswith("Z")


def test_offerctl_now_is_more_precise_and_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFERCTL_TODAY", "2031-06-01")
    monkeypatch.setenv("OFFERCTL_NOW", "2026-11-20T17:02:11+01:00")
    assert clock.utc_now() == "2026-11-20T16:02:11Z"
    assert clock.today() == dt.date(2026, 11, 20)


@pytest.mark.parametrize(("name", "value"), [("OFFERCTL_TODAY", "next week"), ("OFFERCTL_NOW", "noon")])
def test_a_bad_pin_is_a_usage_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.delenv("OFFERCTL_TODAY")
    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError, match=name):
        clock.today()


def test_real_clock_is_used_when_nothing_pins_it() -> None:
    before = dt.datetime.now(dt.UTC).date()
    assert clock.current_pin() is None
    assert before <= clock.today() <= dt.datetime.now(dt.UTC).date()


def test_library_calls_ignore_a_repositorys_demo_pin(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a command-line run honours offerctl.yaml's clock.today; code calling the library
    directly is never surprised by a config file (and nothing leaks between calls)."""
    monkeypatch.delenv("OFFERCTL_TODAY")
    open_repo(example_repo)
    assert clock.current_pin() is None


# --- the bundled example stays meaningful ------------------------------------------------


def _expired(result: Any) -> dict[str, str]:
    return {f["offer"]: f["severity"] for f in result.json()["findings"] if f["code"] == "S119"}


def test_bundled_example_checks_clean_on_its_story_date_in_any_year(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing pinned by the caller: the example's own offerctl.yaml clock.today applies.
    monkeypatch.delenv("OFFERCTL_TODAY")
    result = cli("check", "--format", "json", cwd=example_repo)
    assert result.code == 0 and result.json()["findings"] == []


def test_bundled_example_before_and_after_its_expiries(example_repo: Path, cli: Any) -> None:
    before = cli("check", "--format", "json", "--as-of", "2026-11-27", cwd=example_repo)
    assert before.code == 0 and _expired(before) == {}
    after = cli("check", "--format", "json", "--as-of", "2026-11-29", cwd=example_repo)
    assert after.code == 0  # warnings only
    assert _expired(after) == dict.fromkeys(EXPIRING, "warning")


@pytest.mark.parametrize("how", ["env", "option"])
def test_as_of_beats_the_demo_pin_and_the_environment(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("OFFERCTL_TODAY", "2026-11-20")
    if how == "env":
        monkeypatch.setenv("OFFERCTL_TODAY", "2031-06-01")
        result = cli("check", "--format", "json", cwd=example_repo)
    else:
        result = cli("check", "--format", "json", "--as-of", "2031-06-01", cwd=example_repo)
    assert set(EXPIRING) <= set(_expired(result))


@pytest.mark.parametrize("command", ["check", "status", "inbox", "report", "remind"])
def test_as_of_is_offered_and_validated(example_repo: Path, cli: Any, command: str) -> None:
    bad = cli(command, "--as-of", "soon", cwd=example_repo)
    assert bad.code == 2 and "--as-of 'soon' is not a date" in bad.err and "Traceback" not in bad.err
    good = cli(command, "--as-of", "2026-11-24", "--format", "json", cwd=example_repo)
    assert good.code == 0, good.err


def test_status_counts_business_days_to_the_pinned_date(example_repo: Path, cli: Any) -> None:
    def days(as_of: str) -> int:
        rows = cli("status", "--as-of", as_of, "--format", "json", cwd=example_repo).json()
        row = next(r for r in rows if r["offer"] == "OFF-2026-9KD3VX6Q")
        return int(row["business_days"])

    # Submitted Wed 2026-11-18; Thanksgiving (Thu 26th, Fri 27th) is no business day.
    assert days("2026-11-23") == 3
    assert days("2026-11-30") == days("2026-11-25") + 1


def test_a_pinned_cli_run_does_not_leak_into_the_next(example_repo: Path, cli: Any) -> None:
    cli("check", "--as-of", "2031-06-01", cwd=example_repo)
    assert clock.current_pin() == clock.Pin(dt.date.fromisoformat(TEST_TODAY), None, "OFFERCTL_TODAY")


# --- --since means the start of that day (UTC) -------------------------------------------


def _commit_at(repo: Path, when: str, name: str) -> None:
    (repo / name).write_text(name)
    git(repo, "add", name)
    stamp = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    git(
        repo,
        "commit",
        "-q",
        "-m",
        f"{name}\n\nOffer-Id: OFF-2026-AAAA000{name[-1]}\nOffer-Action: create",
        env=stamp,
    )


@pytest.mark.parametrize("time_of_day", ["23:59:00", "00:01:00"])
def test_since_is_the_start_of_the_day_whenever_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, time_of_day: str
) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "offerctl.yaml").write_text("version: 1\n")
    git(repo, "init", "-q")
    _commit_at(repo, "2026-11-24T23:59:59Z", "o1")
    _commit_at(repo, "2026-11-25T00:00:00Z", "o2")
    _commit_at(repo, "2026-11-25T10:00:00Z", "o3")
    # git's own idea of "now" (its test hook); approxidate used to fill in this time of day.
    day = "2026-11-25" if time_of_day == "23:59:00" else "2026-11-26"
    monkeypatch.setenv(
        "GIT_TEST_DATE_NOW", str(int(dt.datetime.fromisoformat(f"{day}T{time_of_day}+00:00").timestamp()))
    )
    plain = git(repo, "log", "--since=2026-11-25", "--format=%s").split()
    if time_of_day == "23:59:00":
        assert plain == []  # the defect: a bare date meant 23:59 that day
    records = history.scan(open_repo(repo), since="2026-11-25")
    assert sorted(r.offer_id or "" for r in records) == ["OFF-2026-AAAA0002", "OFF-2026-AAAA0003"]
    assert history.scan(open_repo(repo), since=dt.date(2026, 11, 25)) == records


def test_since_must_be_a_date(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "offerctl.yaml").write_text("version: 1\n")
    git(repo, "init", "-q")
    _commit_at(repo, "2026-11-24T10:00:00Z", "o1")
    with pytest.raises(UsageError, match="--since"):
        history.scan(open_repo(repo), since="2 weeks ago")


# --- letters do not depend on the clock or on optional system libraries -----------------


def test_pdf_is_byte_identical_without_harfbuzz_subset(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without libharfbuzz-subset WeasyPrint subsets fonts with fontTools, which stamps each
    subset with the current time: two renders a second apart used to differ."""
    pytest.importorskip("weasyprint")
    import fontTools.misc.timeTools as time_tools
    import weasyprint.pdf.fonts as fonts

    from offerctl.letters import render as letters
    from offerctl.store import loader

    monkeypatch.setattr(fonts, "harfbuzz_subset", None)  # force the fontTools path

    class Ticking:
        """time.time() that advances an hour per call, as if renders were far apart."""

        value = 1_800_000_000.0

        def time(self) -> float:
            Ticking.value += 3600
            return Ticking.value

    monkeypatch.setattr(time_tools, "time", Ticking())
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    repo = open_repo(example_repo)
    offer = loader.load_offer(repo, "OFF-2026-6RM1PQ9C")
    assert offer is not None
    first = letters.render(repo, offer, "pdf").content
    second = letters.render(repo, offer, "pdf").content
    assert first.startswith(b"%PDF-") and first == second
    assert "SOURCE_DATE_EPOCH" not in os.environ  # restored after rendering
