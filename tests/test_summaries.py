"""`list`, `status`, `inbox` and `remind` read per-offer cards (`store.summaries`) instead of
every offer file: their output must be byte-identical to reading every full document with
`loader.load_offers`, cold, warm, from the open index and through the process pool, and a
change made outside offerctl (hand edit, checkout, pull) must be seen at once."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import cache, loader, summaries
from offerctl.store.repo import Repo
from tests.conftest import git
from tests.test_report_cache import ODD_FILES

LIST_RUNS: tuple[tuple[str, ...], ...] = (
    ("list",),
    ("list", "--format", "json"),
    ("list", "--status", "sent"),
    ("list", "--status", "accepted", "--format", "json"),
    ("list", "--sort", "updated"),
    ("list", "--sort", "expiry", "--format", "json"),
    ("list", "--sort", "status", "--department", "engineering"),
)
DAILY_RUNS: tuple[tuple[str, ...], ...] = (
    *LIST_RUNS,
    ("status",),
    ("status", "--format", "json"),
    ("remind", "--format", "json"),
)


def _plain_load(
    repo: Repo,
    rels: Sequence[str] | None = None,
    *,
    statuses: Collection[str] | None = None,
    cache: bool = True,
    jobs: int | None = None,
    content_ids: dict[str, str] | None = None,
    known: Any = None,
) -> tuple[list[Any], list[Any]]:
    """What the daily commands did before the cards: every full document, parsed and validated
    (no content ids, so nothing derived from an offer is cached either: status routes all)."""
    return loader.load_offers(repo, loader.offer_files(repo) if rels is None else rels)


def _approvers(cli: Any, root: Path) -> list[str]:
    result = cli("status", "--repo", str(root), "--format", "json")
    assert result.code == 0, result.err
    people = {p for row in json.loads(result.out) for w in row["waiting"] for p in w["people"]}
    return sorted(people)[:3]


def _outputs(cli: Any, root: Path, people: Sequence[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    outputs = []
    for args in DAILY_RUNS:
        result = cli(*args, "--repo", str(root))
        assert result.code == 0, (args, result.err)
        outputs.append(f"{args}\n{result.out}\n{result.err}")
    for person in people:
        monkeypatch.setenv("GIT_AUTHOR_EMAIL", person)
        for args in (("inbox",), ("inbox", "--format", "json")):
            result = cli(*args, "--repo", str(root))
            assert result.code == 0, (args, result.err)
            outputs.append(f"{person} {args}\n{result.out}")
    monkeypatch.delenv("GIT_AUTHOR_EMAIL", raising=False)
    return outputs


def _cache_files(root: Path) -> list[Path]:
    from offerctl.store import git as offgit

    where = offgit.git_path(root, cache.CACHE_DIR)
    files = [cache.cache_file(where, root, kind) for kind in (summaries.CACHE_KIND, summaries.INDEX_KIND)]
    return [f for f in files if f is not None]


def _with_odd_files(root: Path) -> Path:
    for rel, text in ODD_FILES.items():
        (root / rel).write_text(text, "utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "odd files")
    return root


@pytest.fixture
def generated_repo(tmp_path: Path) -> Path:
    from tests.test_scale import _make_repo_module

    repo = tmp_path / "generated"
    _make_repo_module().build(40, repo, settle=False)
    return repo


@pytest.mark.parametrize("which", ["example", "generated"])
def test_fast_and_full_paths_give_identical_output(
    which: str,
    example_repo: Path,
    generated_repo: Path,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _with_odd_files(example_repo if which == "example" else generated_repo)
    people = _approvers(cli, root)
    for path in _cache_files(root):
        path.unlink(missing_ok=True)
    with monkeypatch.context() as patch:
        patch.setattr(summaries, "load", _plain_load)
        plain = _outputs(cli, root, people, monkeypatch)
    assert not any(path.exists() for path in _cache_files(root))
    assert any("OFF-2026-ODD001" in out for out in plain)  # invalid offers are listed, as before
    assert any("could not be read cleanly" in out for out in plain)
    cold = _outputs(cli, root, people, monkeypatch)
    assert all(path.exists() for path in _cache_files(root))
    warm = _outputs(cli, root, people, monkeypatch)
    for path in _cache_files(root):
        path.unlink()
    monkeypatch.setattr(summaries, "PARALLEL_MIN_FILES", 1)
    pooled = _outputs(cli, root, people, monkeypatch)
    assert cold == plain
    assert warm == plain
    assert pooled == plain


def _status_of(cli: Any, root: Path) -> dict[str, str]:
    result = cli("list", "--repo", str(root), "--format", "json")
    assert result.code == 0, result.err
    return {row["id"]: row["status"] for row in json.loads(result.out)}


def _open_ids(cli: Any, root: Path) -> set[str]:
    result = cli("status", "--repo", str(root), "--format", "json")
    assert result.code == 0, result.err
    return {row["offer"] for row in json.loads(result.out)}


def _closed_offer(root: Path) -> Path:
    for path in sorted((root / "offers").rglob("*.yaml")):
        if re.search(r"^status: declined$", path.read_text("utf-8"), re.M):
            return path
    raise AssertionError("no declined offer")


def _reopen(path: Path) -> None:
    """A hand edit: a declined offer becomes a draft again (no offerctl involved)."""
    text = path.read_text("utf-8")
    path.write_text(re.sub(r"^status: declined$", "status: draft", text, count=1, flags=re.M), "utf-8")


def test_hand_edits_checkouts_and_pulls_are_seen(example_repo: Path, cli: Any, tmp_path: Path) -> None:
    root = example_repo
    offer = _closed_offer(root)
    offer_id = offer.stem
    assert _status_of(cli, root)[offer_id] == "declined"  # cold: writes the cards
    assert offer_id not in _open_ids(cli, root)  # writes the open index
    assert offer_id not in _open_ids(cli, root)  # answered by the open index

    _reopen(offer)  # edited in the working tree, not staged
    assert _status_of(cli, root)[offer_id] == "draft"
    assert offer_id in _open_ids(cli, root)

    git(root, "commit", "-q", "-am", "reopen by hand")
    assert _status_of(cli, root)[offer_id] == "draft"  # committed: the index's blob id now
    assert offer_id in _open_ids(cli, root)

    git(root, "checkout", "-q", "HEAD~1", "--", str(offer.relative_to(root)))  # an older version
    assert _status_of(cli, root)[offer_id] == "declined"
    assert offer_id not in _open_ids(cli, root)
    git(root, "checkout", "-q", "HEAD", "--", str(offer.relative_to(root)))
    assert offer_id in _open_ids(cli, root)

    # a pull brings another version from elsewhere
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    assert _status_of(cli, clone)[offer_id] == "draft"
    assert offer_id in _open_ids(cli, clone)
    text = offer.read_text("utf-8")
    offer.write_text(text.replace("status: draft", "status: declined", 1), "utf-8")
    git(root, "commit", "-q", "-am", "declined again, upstream")
    git(clone, "pull", "-q", "--ff-only")
    assert _status_of(cli, clone)[offer_id] == "declined"
    assert offer_id not in _open_ids(cli, clone)

    # a new offer file and a removed one
    (clone / offer.relative_to(root)).unlink()
    assert offer_id not in _status_of(cli, clone)


def test_closed_offers_are_not_decoded_when_the_open_index_answers(
    generated_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = generated_repo
    assert cli("status", "--repo", str(root)).code == 0  # cards and open index written
    decoded: list[int] = []
    real = summaries._decode_all

    def counting(texts: Sequence[str]) -> Any:
        decoded.append(len(texts))
        return real(texts)

    monkeypatch.setattr(summaries, "_decode_all", counting)
    rows = _row_cache(root)
    rows.unlink()  # status's own row cache would spare decoding the open offers too
    opened = _open_ids(cli, root)
    every = sum(1 for _ in (root / "offers").rglob("*.yaml"))
    assert decoded and decoded[-1] < every
    assert len(opened) <= decoded[-1]
    assert rows.exists()
    decoded.clear()
    assert _open_ids(cli, root) == opened  # with the rows cached, no offer data is decoded
    assert decoded == [0]


def _row_cache(root: Path) -> Path:
    from offerctl.store import git as offgit

    path = cache.cache_file(offgit.git_path(root, cache.CACHE_DIR), root, "status-rows")
    assert path is not None and path.exists()
    return path


def test_a_damaged_cache_is_ignored(example_repo: Path, cli: Any) -> None:
    root = example_repo
    before = _status_of(cli, root)
    opened = _open_ids(cli, root)
    for path in _cache_files(root):
        text = path.read_text("utf-8")
        path.write_text(re.sub(r'"json":"\{', '"json":"}{', text), "utf-8")  # every card damaged
    assert _status_of(cli, root) == before
    assert _open_ids(cli, root) == opened
    for path in _cache_files(root):
        path.write_text("{not json", "utf-8")
    assert _status_of(cli, root) == before
    assert _open_ids(cli, root) == opened


def test_a_list_in_pieces_reads_as_one_table(example_repo: Path) -> None:
    from rich.console import Console

    from offerctl.cli.views import offers_table, offers_tables
    from offerctl.lifecycle.offers import summaries as list_rows
    from offerctl.store.repo import open_repo

    rows, _ = list_rows(open_repo(example_repo))
    assert len(rows) > 5

    def text(*renderables: object) -> str:
        console = Console(width=80, force_terminal=False, color_system=None)
        with console.capture() as captured:
            for renderable in renderables:
                console.print(renderable)
        return captured.get()

    assert text(*offers_tables(rows, 80, chunk=3)) == text(offers_table(rows, 80))


def test_a_list_taller_than_the_terminal_goes_through_the_pager(example_repo: Path, tmp_path: Path) -> None:
    import os
    import sys

    pexpect = pytest.importorskip("pexpect")
    paged = tmp_path / "paged.txt"
    offerctl = Path(sys.executable).parent / "offerctl"
    env = {**os.environ, "PAGER": f"cat > {paged}", "COLUMNS": "100", "LINES": "8"}
    env.pop("TTY_COMPATIBLE", None)
    child = pexpect.spawn(str(offerctl), ["list"], cwd=str(example_repo), env=env, dimensions=(8, 100))
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    assert child.exitstatus == 0
    lines = paged.read_text("utf-8").splitlines()
    ids = sorted(p.stem for p in (example_repo / "offers").glob("*.yaml"))
    assert lines[0].startswith("ID") and sum(line.startswith("ID ") for line in lines) == 1
    assert [line.split()[0] for line in lines[1:]] == ids
