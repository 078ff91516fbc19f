"""`status` and `inbox` read each open offer's row from a cache keyed by the offer file's
content id, the policy, `offerctl.yaml` and the date (`store.derived`): an unchanged
repository routes nothing, and any change — a hand edit, a checkout, a policy edit, another
day — is seen at once. Start-up: commands are converted lazily and values that need no
conversion skip typer's pydantic coercion, with the same help and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offerctl.lifecycle import approval_flow
from offerctl.store import loader
from offerctl.store.repo import open_repo
from tests.conftest import git

TODAY = "2026-11-20"


@pytest.fixture(scope="module")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.test_scale import _make_repo_module

    root = tmp_path_factory.mktemp("status-cache") / "generated"
    _make_repo_module().build(120, root, settle=False)
    return root


@pytest.fixture
def repo(_built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A generated, committed repository of 120 plain offers (sharded layout), 3 of them open."""
    import shutil

    root = tmp_path / "generated"
    shutil.copytree(_built, root, symlinks=True)
    monkeypatch.setenv("OFFERCTL_TODAY", TODAY)
    return root


def _status(cli: Any, root: Path, *more: str) -> list[dict[str, Any]]:
    result = cli("status", "--repo", str(root), "--format", "json", *more)
    assert result.code == 0, result.err
    rows: list[dict[str, Any]] = json.loads(result.out)
    return rows


def _count_routing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every offer ``status`` routes (a cache miss) from now on, by path."""
    routed: list[str] = []
    real = approval_flow._row

    def counting(repo: Any, policy: Any, offer: Any, *args: Any) -> Any:
        routed.append(offer.path)
        return real(repo, policy, offer, *args)

    monkeypatch.setattr(approval_flow, "_row", counting)
    return routed


def _open_file(root: Path, rows: list[dict[str, Any]]) -> Path:
    waiting = next(r["offer"] for r in rows if r["waiting"])  # one waiting on an approver
    return loader.find_offer_path(open_repo(root), waiting)


def test_an_unchanged_repository_routes_nothing(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _status(cli, repo)
    assert first, "the generated repository has open offers"
    routed = _count_routing(monkeypatch)
    assert _status(cli, repo) == first
    assert routed == []
    # inbox reads the same rows
    person = next(r for r in first if r["waiting"])["waiting"][0]["people"][0]
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", person)
    result = cli("inbox", "--repo", str(repo), "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["items"]
    assert routed == []


def test_a_hand_edit_and_a_checkout_are_seen(repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _status(cli, repo)
    path = _open_file(repo, first)
    rel = path.relative_to(repo).as_posix()
    text = path.read_text("utf-8")
    offer_id = path.stem
    old_name = next(r["candidate"] for r in first if r["offer"] == offer_id)
    assert old_name in text
    routed = _count_routing(monkeypatch)

    path.write_text(text.replace(old_name, "Renamed Byhand", 1), "utf-8")  # not committed
    edited = _status(cli, repo)
    assert next(r["candidate"] for r in edited if r["offer"] == offer_id) == "Renamed Byhand"
    # the generated policy has a rule reading the budget ledger (every offer): all open
    # offers are routed again; the edited one among them
    every = {loader.find_offer_path(open_repo(repo), r["offer"]).relative_to(repo).as_posix() for r in first}
    assert rel in routed
    assert set(routed) == every

    git(repo, "checkout", "--", rel)  # back to the committed version: the old rows again
    routed.clear()
    assert _status(cli, repo) == first
    assert set(routed) == every
    routed.clear()
    assert _status(cli, repo) == first
    assert routed == []


def test_a_value_that_read_other_offers_goes_stale_with_them(repo: Path) -> None:
    from offerctl.store import git as offgit
    from offerctl.store.derived import DerivedCache

    target = open_repo(repo)
    rels = loader.offer_files(target)
    a, b = rels[0], rels[1]

    def cache() -> DerivedCache:
        return DerivedCache(target, "test-values", TODAY, 1, offgit.content_ids(repo, rels, ["offers"]))

    first = cache()
    first.put(a, {"n": 1})
    first.put(b, {"n": 2}, every_offer=True)
    first.save(rels)
    assert (cache().get(a), cache().get(b)) == ({"n": 1}, {"n": 2})
    other = repo / rels[2]
    other.write_text(other.read_text("utf-8") + "\n# edited\n", "utf-8")
    assert (cache().get(a), cache().get(b)) == ({"n": 1}, None)  # only b read the others
    assert DerivedCache(target, "test-values", "2026-11-21", 1, cache().ids).get(a) is None  # another day
    assert DerivedCache(target, "test-values", TODAY, 2, cache().ids).get(a) is None  # another format


def test_closing_an_offer_by_hand_drops_its_row(repo: Path, cli: Any) -> None:
    first = _status(cli, repo)
    path = _open_file(repo, first)
    text = path.read_text("utf-8")
    status = next(r["status"] for r in first if r["offer"] == path.stem)
    path.write_text(text.replace(f"status: {status}", "status: withdrawn", 1), "utf-8")
    assert path.stem not in {r["offer"] for r in _status(cli, repo)}


def test_a_policy_edit_or_another_day_routes_again(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _status(cli, repo)
    routed = _count_routing(monkeypatch)
    approvers = repo / "policies" / "approvers.yaml"
    approvers.write_text(approvers.read_text("utf-8") + "\n# reviewed\n", "utf-8")
    assert _status(cli, repo) == first  # same rows (a comment changes nothing) ...
    assert len(routed) == len(first)  # ... but every one was routed again
    routed.clear()
    later = _status(cli, repo, "--as-of", "2026-11-27")
    assert len(routed) == len(first)
    assert [r["offer"] for r in later] == [r["offer"] for r in first]


def test_rows_whose_routing_read_history_are_not_cached(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = approval_flow._row
    routed: list[str] = []

    def reads_history(
        repo: Any, policy: Any, offer: Any, day: Any, calendar: Any, history: Any = None
    ) -> Any:
        routed.append(offer.path)
        if history is not None:
            history.append(offer.path)  # as routing.snapshots does when it reads git history
        return real(repo, policy, offer, day, calendar)

    monkeypatch.setattr(approval_flow, "_row", reads_history)
    first = _status(cli, repo)
    count = len(routed)
    assert _status(cli, repo) == first
    assert len(routed) == 2 * count


def test_cached_rows_are_the_rows(repo: Path) -> None:
    rows, _ = approval_flow.status_table(open_repo(repo))
    assert rows
    for row in rows:
        again = approval_flow.row_from_json(json.loads(json.dumps(approval_flow.row_json(row))))
        assert again == row
    assert approval_flow.row_from_json({"offer": "x"}) is None  # a damaged entry is a miss
    assert approval_flow.row_from_json("nonsense") is None


def test_an_id_resolves_in_the_sharded_layout(repo: Path) -> None:
    repo = open_repo(repo)
    ids = loader.offer_ids(repo)
    assert any("/" in path.relative_to(repo.offers_dir).as_posix() for path in ids.values())
    for offer_id, path in ids.items():
        assert loader.resolve_offer(repo, offer_id.lower()) == (offer_id, path)
    one = next(iter(ids))
    assert loader.resolve_offer(repo, one.split("-", 2)[-1]) == (one, ids[one])  # random part


# --- start-up ---------------------------------------------------------------------------


def test_a_command_runs_without_pydantic(example_repo: Path) -> None:
    code = (
        "import sys; from offerctl.cli import run; "
        "code = run(['status', '--format', 'json', '--repo', sys.argv[1]]); "
        "print('pydantic' in sys.modules, code, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(example_repo)], capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == "False 0", done.stderr


def test_lazy_and_eager_help_are_the_same(cli: Any) -> None:
    import typer.main

    from offerctl.cli import app

    eager = typer.main.get_command(app)
    ctx = eager.context_class(eager, info_name="offerctl", **eager.context_settings)
    result = cli("--help")
    assert result.code == 0
    assert result.out == eager.get_help(ctx) + "\n"


def test_a_wrong_value_is_reported_as_typer_reports_it(cli: Any) -> None:
    result = cli("status", "--format", "jsonx")
    assert result.code == 2
    assert "'jsonx' is not one of 'text', 'json'" in result.err
    result = cli("check", "--jobs", "-3")
    assert result.code == 2
    assert "--jobs" in result.err
