"""The YAML layer: YAML 1.2 semantics, limits, and the fast and round-trip readers agreeing."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("country: NO", {"country": "NO"}),
        ("v: yes", {"v": "yes"}),
        ("v: on", {"v": "on"}),
        ("v: true", {"v": True}),
        ("v: 012000", {"v": "012000"}),
        ("v: 0o17", {"v": "0o17"}),
        ("v: 1_000", {"v": "1_000"}),
        ("v: 12:30", {"v": "12:30"}),
        ("v: 2026-11-20", {"v": "2026-11-20"}),
        ("v: 185000", {"v": 185000}),
        ("v: 20000.50", {"v": Decimal("20000.50")}),
        ("v: ~", {"v": None}),
        ("<<: {a: 1}", {"<<": {"a": 1}}),  # no merge keys in YAML 1.2: just a (bad) key
    ],
)
def test_yaml_1_2_scalars(source: str, expected: dict[str, Any]) -> None:
    assert yamlio.load_text(source + "\n") == expected


def test_money_is_never_a_float() -> None:
    value = yamlio.load_text("v: 0.1\nw: 0.2\n")
    assert isinstance(value["v"], Decimal)
    assert value["v"] + value["w"] == Decimal("0.3")


@pytest.mark.parametrize(
    ("raw", "code", "line"),
    [
        (b"a: 1\na: 2\n", "Y603", 2),
        (b"a:\n\tb: 1\n", "Y610", 2),
        (b"", "Y607", 1),
        (b"# just a comment\n", "Y607", 1),
        (b"a: &x 1\nb: *x\n", "Y604", 1),
        (b"a: 'Jos\xe9'\n", "Y601", 1),
        (b"\xef\xbb\xbfa: 1\n", "Y608", 1),
        (b"a: 1\n---\nb: 2\n", "Y609", 2),
        (b"a: [1, 2\n", "Y602", 2),
        (b"1: a\n", "Y602", 1),
        (b"a: !!python/object:os.system ls\n", "Y602", 1),
    ],
)
def test_hazards(raw: bytes, code: str, line: int) -> None:
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load(raw)
    assert (info.value.code, info.value.line) == (code, line)


def test_size_limit() -> None:
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load(b"a: '" + b"x" * (yamlio.MAX_BYTES + 1) + b"'\n")
    assert info.value.code == "Y605"


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_flow_nesting_is_refused_before_the_parser(depth: int) -> None:
    # libyaml segfaults on 100k-deep flow nesting: the guard must run first.
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load(b"[" * depth + b"]" * depth)
    assert info.value.code == "Y606"


def test_deep_block_sequence_on_one_line() -> None:
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load(b"- " * 50_000 + b"x\n")
    assert info.value.code == "Y606"


def test_nesting_within_the_limit_is_fine() -> None:
    assert yamlio.load_text("a: " + "[" * 30 + "]" * 30 + "\n")


def test_line_of_points_at_keys_and_items() -> None:
    text = "a: 1\nb:\n  c: [1, 2]\n  d:\n    - x\n    - y\n"
    assert yamlio.line_of(text, ["b", "d", 1]) == 6
    assert yamlio.line_of(text, ["b", "c"]) == 3
    assert yamlio.line_of(text, ["b", "missing"]) == 2


def _normalise(value: Any) -> Any:
    """ruamel's round-trip types → plain values, as the fast reader produces them."""
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))  # ruamel's ScalarFloat; compared by value, not spelling
    if isinstance(value, int):
        return int(value)
    return str(value)


def _corpus_files() -> list[Path]:
    # The example's offers in plaintext (tests/data/example) and as committed, encrypted.
    files = sorted((ROOT / "tests" / "data" / "example" / "offers").rglob("*.yaml"))
    files += sorted((ROOT / "offers").rglob("*.yaml"))
    files += sorted((ROOT / "policies").glob("*.yaml"))
    files += sorted((ROOT / "tests" / "corpus" / "valid").glob("*.yaml"))
    return files


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_fast_and_round_trip_readers_agree(path: Path) -> None:
    text = path.read_text("utf-8")
    fast = yamlio.load_text(text)
    slow = _normalise(yamlio.RoundTrip().load(text))
    assert _normalise(fast) == slow


@pytest.mark.parametrize(
    "path", [p for p in _corpus_files() if p.parent.name != "policies"], ids=lambda p: p.name
)
def test_round_trip_reproduces_files_byte_for_byte(path: Path) -> None:
    # Offer files are the ones offerctl edits; policies are only ever read.
    rt = yamlio.RoundTrip()
    text = path.read_text("utf-8")
    assert rt.dump(rt.load(text)) == text


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "offer.yaml"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    yamlio.atomic_write(target, "new\n")
    assert target.read_text() == "new\n"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["offer.yaml"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "offer.yaml"
    target.write_text("old\n")

    class Boom(str):
        def encode(self, *args: Any, **kwargs: Any) -> bytes:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        yamlio.atomic_write(target, Boom("new"))
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["offer.yaml"]
