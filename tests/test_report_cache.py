"""`report` reads offers through `offer_reader` (projection, content-keyed cache, pool):
its output must be byte-identical to reading every full document with `loader.load_offers`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from offerctl.reports import metrics, offer_reader
from offerctl.store import cache, loader
from offerctl.store.repo import open_repo
from tests.conftest import git
from tests.helpers import Cli
from tests.report_fixture import build

NOV = ("--since", "2026-11-01", "--until", "2026-11-30")

ODD_FILES = {
    # Invalid but readable mappings: counted by report exactly as the full documents are.
    "offers/OFF-2026-ODD001.yaml": (
        "id: OFF-2026-ODD001\nstatus: sent\nrole: just text\nevents: oops\n"
        "approvals: [1, {role: finance, at: '2026-11-03T10:00:00Z', rules: [x]}]\n"
        "compensation: {base_salary: 123456.78, currency: USD}\n"
        "verbal: {date: '2026-11-02'}\n"
    ),
    "offers/OFF-2026-ODD002.yaml": (
        "id: OFF-2026-ODD002\nstatus: declined\ncandidate: {source: referral, name: X}\n"
        "events:\n  - {type: created, at: '2026-11-04T09:00:00Z'}\n  - text\n"
        "  - {type: declined, at: '2026-11-09T09:00:00Z', reason: compensation, extra: 1}\n"
        "clauses: [nonstandard_x]\n"
    ),
    # Not offers: skipped (listed in skipped_files).
    "offers/OFF-2026-ODD003.yaml": "- a list\n- not a mapping\n",
    "offers/OFF-2026-ODD004.yaml": "id: [unclosed\n",
    "offers/no-id.yaml": "status: draft\n",
}


def _with_odd_files(root: Path) -> Path:
    for rel, text in ODD_FILES.items():
        (root / rel).write_text(text, "utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "odd files")
    return root


def _plain_read(
    repo: object, rels: list[str], fields: object, *, cache: bool = True, jobs: int | None = None
) -> offer_reader.ReadResult:
    """What report did before offer_reader: every full document, parsed and validated."""
    offers, _ = loader.load_offers(repo, rels)  # type: ignore[arg-type]
    paths = {o.path for o in offers}
    return offer_reader.ReadResult(tuple(offers), tuple(r for r in rels if r not in paths))


def _outputs(cli: Cli, root: Path) -> list[str]:
    runs = [("--format", "json"), (*NOV, "--format", "json"), ("--by", "source", "--format", "json")]
    outputs = []
    for args in runs:
        result = cli("report", "--repo", str(root), *args)
        assert result.code == 0, result.err
        outputs.append(result.out)
    return outputs


def _cache_path(root: Path) -> Path:
    from offerctl.store import git as offgit

    path = cache.cache_file(offgit.git_path(root, cache.CACHE_DIR), root, offer_reader.CACHE_KIND)
    assert path is not None
    return path


@pytest.mark.parametrize("which", ["fixture", "example"])
def test_cached_and_parallel_reads_give_byte_identical_reports(
    which: str, tmp_path: Path, example_repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _with_odd_files(build(tmp_path / "fixture") if which == "fixture" else example_repo)
    with monkeypatch.context() as patch:
        patch.setattr(offer_reader, "read_offers", _plain_read)
        plain = _outputs(cli, root)
    assert not _cache_path(root).exists()
    assert "OFF-2026-ODD003" in plain[0] and "no-id.yaml" in plain[0]  # skipped files are listed
    cold = _outputs(cli, root)  # serial (few files), writes the cache
    assert _cache_path(root).exists()
    warm = _outputs(cli, root)  # every offer from the cache
    monkeypatch.setattr(offer_reader, "PARALLEL_MIN_FILES", 1)
    _cache_path(root).unlink()
    pooled = _outputs(cli, root)  # cold again, through the process pool
    assert cold == plain
    assert warm == plain
    assert pooled == plain


def test_editing_one_offer_recomputes_only_its_entry(tmp_path: Path) -> None:
    root = _with_odd_files(build(tmp_path / "fixture"))
    repo = open_repo(root)
    rels = loader.offer_files(repo)
    first = offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)
    assert first.cached == 0
    again = offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)
    assert again.cached == len(rels)
    assert [o.data for o in again.offers] == [o.data for o in first.offers]
    edited = "offers/OFF-2026-ODD001.yaml"
    path = root / edited
    path.write_text(path.read_text("utf-8").replace("status: sent", "status: accepted"), "utf-8")
    after = offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)  # unstaged edit: hashed
    assert after.cached == len(rels) - 1
    by_path = {o.path: o for o in after.offers}
    assert by_path[edited].status == "accepted"
    assert after.unreadable == first.unreadable


def test_money_survives_the_cache_exactly(tmp_path: Path) -> None:
    root = _with_odd_files(build(tmp_path / "fixture"))
    repo = open_repo(root)
    rels = loader.offer_files(repo)
    offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)
    warm = offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)
    assert warm.cached == len(rels)
    odd = next(o for o in warm.offers if o.id == "OFF-2026-ODD001")
    salary = odd.compensation()["base_salary"]
    assert type(salary) is Decimal and salary == Decimal("123456.78")
    assert "name" not in next(o for o in warm.offers if o.id == "OFF-2026-ODD002").candidate()


def test_a_corrupt_cache_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    root = _with_odd_files(build(tmp_path / "fixture"))
    repo = open_repo(root)
    rels = loader.offer_files(repo)
    expected = offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)
    location = _cache_path(root)
    location.write_bytes(b'{"format": 1, "fingerprint": "trunc')
    result = offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)
    assert result.cached == 0
    assert [o.data for o in result.offers] == [o.data for o in expected.offers]
    # One damaged entry (valid JSON around it) is a miss for that file only.
    payload = json.loads(location.read_bytes())
    victim = next(rel for rel, entry in payload["entries"].items() if entry[1] is not None)
    payload["entries"][victim][1] = {"json": '{"id": [unclosed'}
    location.write_text(json.dumps(payload), "utf-8")
    result = offer_reader.read_offers(repo, rels, metrics.OFFER_FIELDS)
    assert result.cached == len(rels) - 1
    assert [o.data for o in result.offers] == [o.data for o in expected.offers]


def test_only_json_exact_projections_are_cached() -> None:
    # yamlio rejects non-text keys (the file is skipped), so this guards the cache against
    # any future reader that produces values JSON cannot give back unchanged.
    assert offer_reader.json_exact({"a": [1, True, None, Decimal("1.50"), {"b": "c"}]})
    assert not offer_reader.json_exact({"clauses": [{1: "number key"}]})
    assert not offer_reader.json_exact({"at": 1.5})


def test_projection_keeps_unexpected_shapes_whole() -> None:
    spec = {"role": {"level": True}, "events": [{"type": True}], "id": True}
    data = {
        "id": "X",
        "role": "text",
        "events": [{"type": "sent", "by": "a"}, "odd", 3],
        "candidate": {"name": "secret"},
    }
    assert offer_reader.project(data, spec) == {
        "id": "X",
        "role": "text",
        "events": [{"type": "sent"}, "odd", 3],
    }
    assert offer_reader.project({"events": {"type": "sent"}}, spec) == {"events": {"type": "sent"}}
