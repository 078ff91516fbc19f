"""Issue 17: `report` caches mined history by commit, `log ID` asks git's changed-path
filters, `export` reads the per-offer cards. Every fast path must give exactly what the
slow one gives, also after history changed outside offerctl (new commits, amend, reset,
rebase, another branch, merges, hand edits), and a damaged cache is rebuilt, never a crash."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

from offerctl.core.bizdays import BusinessCalendar
from offerctl.reports import export, history, report
from offerctl.reports.metrics import _CountedDays
from offerctl.store import cache
from offerctl.store import git as offgit
from offerctl.store.repo import open_repo
from tests.conftest import git
from tests.report_fixture import build

OFFER = "offers/OFF-2026-AAAA0001.yaml"


def _history_file(root: Path) -> Path:
    path = cache.cache_file(offgit.git_path(root, cache.CACHE_DIR), root, history.CACHE_KIND)
    assert path is not None
    return path


def _report(root: Path, *, use_cache: bool = True) -> dict[str, Any]:
    return report.build(open_repo(root), cache=use_cache).as_json()


def _captures(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The git commands the history pass starts (to see which revisions it mines)."""
    seen: list[list[str]] = []
    real = offgit.Capture

    def spy(args: list[str], cwd: Path) -> offgit.Capture:
        seen.append(list(args))
        return real(args, cwd)

    monkeypatch.setattr(history.git, "Capture", spy)
    return seen


def _commit_with_trailers(root: Path, action: str, *, when: str = "2026-11-29 10:00:00 +0000") -> str:
    path = root / OFFER
    path.write_text(path.read_text("utf-8") + f"# {action}\n", "utf-8")
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    message = f"{action} by offerctl\n\nOffer-Id: OFF-2026-AAAA0001\nOffer-Action: {action}\n"
    git(root, "commit", "-qam", message, env=env)
    return git(root, "rev-parse", "HEAD").strip()


def test_new_commits_are_mined_alone_and_the_report_equals_a_full_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(tmp_path / "fixture")
    first = _report(root)
    old_head = git(root, "rev-parse", "HEAD").strip()
    assert json.loads(_history_file(root).read_bytes())["head"] == old_head
    seen = _captures(monkeypatch)
    assert _report(root) == first and seen == []  # same HEAD: no git log at all
    _commit_with_trailers(root, "approve")
    (root / OFFER).write_text((root / OFFER).read_text("utf-8") + "# by hand\n", "utf-8")
    git(root, "commit", "-qam", "a hand edit, no trailers")
    new_head = git(root, "rev-parse", "HEAD").strip()
    after = _report(root)
    assert seen and seen[-1][-2:] == [f"{old_head}..{new_head}", "--"]  # only the new commits
    assert after == _report(root, use_cache=False)
    assert after["metrics"]["history"] != first["metrics"]["history"]
    assert after["metrics"]["history"]["hand_edits"] == first["metrics"]["history"]["hand_edits"] + 1


@pytest.mark.parametrize("change", ["amend", "reset", "rebase", "other-branch"])
def test_history_rewritten_outside_offerctl_is_mined_again(
    change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(tmp_path / "fixture")
    git(root, "branch", "older", "HEAD~3")
    _commit_with_trailers(root, "approve")
    _commit_with_trailers(root, "send", when="2026-11-29 11:00:00 +0000")
    _report(root)  # caches the history of this HEAD
    cached_head = git(root, "rev-parse", "HEAD").strip()
    if change == "amend":
        message = "send, reworded\n\nOffer-Id: OFF-2026-AAAA0001\nOffer-Action: decline"
        git(root, "commit", "-q", "--amend", "-m", message)
    elif change == "reset":
        git(root, "reset", "-q", "--hard", "HEAD~2")
    elif change == "rebase":
        git(root, "rebase", "-q", "--onto", "older", "HEAD~2")
    else:
        git(root, "checkout", "-q", "older")
    seen = _captures(monkeypatch)
    rewritten = _report(root)
    assert not any(".." in part for args in seen for part in args)  # a full pass, not OLD..NEW
    assert rewritten == _report(root, use_cache=False)
    head = git(root, "rev-parse", "HEAD").strip()
    assert head != cached_head
    assert json.loads(_history_file(root).read_bytes())["head"] == head


def test_merges_are_mined_incrementally_with_the_same_result(tmp_path: Path) -> None:
    root = build(tmp_path / "fixture")
    _report(root)
    git(root, "checkout", "-q", "-b", "side", "HEAD~2")
    side = root / "offers/OFF-2026-SIDE0001.yaml"
    side.write_text("id: OFF-2026-SIDE0001\nstatus: draft\n", "utf-8")
    git(root, "add", "--", str(side.relative_to(root)))
    git(root, "commit", "-qm", "side offer\n\nOffer-Id: OFF-2026-SIDE0001\nOffer-Action: create")
    git(root, "checkout", "-q", "main")
    _commit_with_trailers(root, "approve")
    git(root, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    assert _report(root) == _report(root, use_cache=False)


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"key": "x", "head": "y", "records": {}}',
        "columns",  # the right key, columns of different lengths
        "types",  # the right key, a number where a commit id belongs
    ],
)
def test_a_damaged_history_cache_is_rebuilt(damage: bytes | str, tmp_path: Path) -> None:
    root = build(tmp_path / "fixture")
    expected = _report(root)
    location = _history_file(root)
    if isinstance(damage, bytes):
        location.write_bytes(damage)
    else:
        payload = json.loads(location.read_bytes())
        if damage == "columns":
            payload["records"]["role"].pop()
        else:
            payload["records"]["commit"][0] = 42
        location.write_text(json.dumps(payload), "utf-8")
    assert _report(root) == expected
    assert json.loads(location.read_bytes())["head"] == git(root, "rev-parse", "HEAD").strip()


def test_a_window_and_a_shallow_clone_use_no_history_cache(tmp_path: Path) -> None:
    root = build(tmp_path / "fixture")
    report.build(open_repo(root), since="2026-11-01", until="2026-11-30")
    assert not _history_file(root).exists()  # --since mines only the window, uncached
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{root}", str(shallow))
    assert _report(shallow) == _report(shallow, use_cache=False)
    assert not _history_file(shallow).exists()  # its history can grow under the same HEAD


def test_counted_business_days_equal_the_calendar() -> None:
    config = {"country": "US", "subdivision": "CA", "extra": ["2026-12-24"]}
    counted = _CountedDays(BusinessCalendar.from_config(config))
    walked = BusinessCalendar.from_config(config)
    pick = random.Random(17)
    for _ in range(2000):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=pick.randrange(1500))
        end = start + dt.timedelta(days=pick.randrange(-90, 400))
        assert counted.between(start, end) == walked.between(start, end), (start, end)
    for start, end in [
        (dt.date(1, 1, 5), dt.date(1, 2, 1)),  # the ends of the calendar: counted day by day
        (dt.date(1990, 1, 1), dt.date(2026, 1, 1)),
        (dt.date(9999, 12, 1), dt.date(9999, 12, 30)),
        (dt.date(2026, 11, 26), dt.date(2026, 11, 26)),
    ]:
        assert counted.between(start, end) == walked.between(start, end)


def _log(cli: Any, root: Path, offer_id: str) -> str:
    result = cli("log", offer_id, "--format", "json", "--repo", str(root))
    assert result.code == 0, result.err
    return str(result.out)


def test_log_reads_git_path_filters_and_says_the_same(tmp_path: Path, cli: Any) -> None:
    root = build(tmp_path / "fixture")
    chain = root / ".git/objects/info/commit-graphs/commit-graph-chain"
    git(root, "config", "core.commitGraph", "false")
    plain = _log(cli, root, "OFF-2026-AAAA0001")
    assert not chain.exists()  # the user's "no commit-graph" is respected
    git(root, "config", "--unset", "core.commitGraph")
    assert _log(cli, root, "OFF-2026-AAAA0001") == plain
    assert chain.exists()
    # history rewritten under the filters: the log follows git, not a stale list
    _commit_with_trailers(root, "approve")
    git(root, "commit", "-q", "--amend", "-m", "approve, reworded")
    filtered = _log(cli, root, "OFF-2026-AAAA0001")
    git(root, "config", "core.commitGraph", "false")
    assert _log(cli, root, "OFF-2026-AAAA0001") == filtered
    assert json.loads(filtered)["commits"] == json.loads(plain)["commits"] + 1


@pytest.mark.parametrize("status", ["accepted", "declined", "sent", "draft"])
def test_export_from_the_cards_equals_parsing_every_offer(status: str, tmp_path: Path) -> None:
    root = build(tmp_path / "fixture")
    (root / "offers/OFF-2026-ODD00001.yaml").write_text("id: [unclosed\n", "utf-8")
    (root / "offers/OFF-2026-ODD00002.yaml").write_text(f"id: OFF-2026-ODD00002\nstatus: {status}\n", "utf-8")
    repo = open_repo(root)
    for _ in range(2):  # cold cards, then warm ones
        assert export.collect(repo, status=status) == export.collect(repo, status=status, cache=False)
    # a status changed by hand outside offerctl is seen
    text = (root / OFFER).read_text("utf-8")
    current = next(line.split(": ")[1] for line in text.splitlines() if line.startswith("status: "))
    (root / OFFER).write_text(text.replace(f"status: {current}", f"status: {status}", 1), "utf-8")
    fresh = export.collect(open_repo(root), status=status)
    assert fresh == export.collect(open_repo(root), status=status, cache=False)
    assert "OFF-2026-AAAA0001" in {r["offer_id"] for r in fresh.rows} or status != "accepted"


def test_no_decrypted_value_reaches_a_cache(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/privacy.md: report, export and log of a confidential repository, run with a
    reader's key, leave only what is stored (ciphertexts) in $GIT_DIR/offerctl-cache."""
    root = example_repo
    keys = Path(__file__).resolve().parents[1] / "examples" / "keys"
    config = root / "offerctl.yaml"
    # The bundled example's privacy section (its demo keys), without the demo key-store seed.
    root_config = (keys.parents[1] / "offerctl.yaml").read_text("utf-8")
    section = root_config[root_config.index("\nprivacy:") + 1 :]
    section = "".join(line for line in section.splitlines(keepends=True) if "key_store:" not in line)
    config.write_text(config.read_text("utf-8") + section, "utf-8")
    git(root, "commit", "-qam", "Enable confidential offers")
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(keys / "hr-demo.agekey"))
    assert cli("rekey", cwd=root).code == 0
    stored = (root / "offers/OFF-2026-7CG5XB2R.yaml").read_text("utf-8")
    assert "Grace Okafor" not in stored and "ENC[" in stored
    for args in (("report", "--format", "json"), ("export",), ("log", "OFF-2026-7CG5XB2R")):
        result = cli(*args, cwd=root)
        assert result.code == 0, (args, result.err)
    assert "Clara Hoffmann" in cli("export", cwd=root).out  # the reader sees the values...
    caches = list((root / ".git" / cache.CACHE_DIR).iterdir())
    assert any(p.name.startswith("report-history-") for p in caches)
    for path in caches:  # ...and no cache holds them
        text = path.read_text("utf-8")
        for plain in ("Grace Okafor", "Clara Hoffmann", '"base_salary":156000', '"base_salary":66000'):
            assert plain not in text, (path.name, plain)
