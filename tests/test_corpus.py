"""The example corpus drives the CLI: every valid file checks clean, every invalid file
is rejected with the expected codes at the expected lines (exit 1), nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from offerctl.store import yamlio
from tests.helpers import Cli

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, list[str]] = yamlio.load((CORPUS / "expected.yaml").read_bytes())


def _ids(kind: str) -> list[str]:
    return sorted(p.stem for p in (CORPUS / kind).glob("*.yaml"))


def test_every_invalid_file_has_expectations() -> None:
    assert set(_ids("invalid")) == set(EXPECTED)


@pytest.mark.parametrize("offer_id", _ids("valid"))
def test_valid_offer_checks_clean(offer_id: str, example_repo: Path, cli: Cli) -> None:
    shutil.copy(CORPUS / "valid" / f"{offer_id}.yaml", example_repo / "offers")
    result = cli("check", "--format", "json", f"offers/{offer_id}.yaml", cwd=example_repo)
    data = result.json()
    assert (data["ok"], data["checked"]) == (True, 1)
    # VALID004 (a draft in Norway: `NO`, region "03") is valid, but the example policy has no
    # Norwegian band, so `check` warns that `submit` would refuse it (P240) — a warning only.
    expected_warnings = ["P240"] if offer_id == "OFF-2026-VALID004" else []
    assert [f["code"] for f in data["findings"]] == expected_warnings
    assert all(f["severity"] == "warning" for f in data["findings"])
    assert result.code == 0


@pytest.mark.parametrize("offer_id", _ids("invalid"))
def test_invalid_offer_is_rejected_at_its_line(offer_id: str, example_repo: Path, cli: Cli) -> None:
    shutil.copy(CORPUS / "invalid" / f"{offer_id}.yaml", example_repo / "offers")
    result = cli("check", "--format", "json", f"offers/{offer_id}.yaml", cwd=example_repo)
    assert result.code == 1
    report = result.json()
    assert report["ok"] is False
    found = {f"{f['code']}@{f['line']}" for f in report["findings"]}
    for expected in EXPECTED[offer_id]:
        assert expected in found, f"{offer_id}: expected {expected}, got {sorted(found)}"
    for finding in report["findings"]:
        assert finding["path"] == f"offers/{offer_id}.yaml"
        assert finding["severity"] in {"error", "warning"}
        assert finding["message"]


def _generated_hazards() -> dict[str, tuple[bytes, str]]:
    deep_flow = b"id: " + b"[" * 1000 + b"]" * 1000 + b"\n"
    deep_block = b"".join(b"  " * i + b"k:\n" for i in range(200))
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
        for i in range(9)
    )
    huge = b"notes: '" + b"x" * (5 * 1024 * 1024) + b"'\n"
    return {
        "OFF-2026-GENDEEP1": (deep_flow, "Y606"),
        "OFF-2026-GENDEEP2": (deep_block, "Y606"),
        "OFF-2026-GENBOMB1": (bomb, "Y604"),
        "OFF-2026-GENHUGE1": (huge, "Y605"),
    }


@pytest.mark.parametrize("offer_id", sorted(_generated_hazards()))
def test_generated_hazards_are_rejected(offer_id: str, example_repo: Path, cli: Cli) -> None:
    raw, code = _generated_hazards()[offer_id]
    (example_repo / "offers" / f"{offer_id}.yaml").write_bytes(raw)
    result = cli("check", "--format", "json", f"offers/{offer_id}.yaml", cwd=example_repo)
    assert result.code == 1
    assert [f["code"] for f in result.json()["findings"]] == [code]


def test_bundled_example_checks_clean(example_repo: Path, cli: Cli) -> None:
    result = cli("check", "--format", "json", cwd=example_repo)
    report = result.json()
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    assert report["checked"] >= 12
    assert result.code == 0
