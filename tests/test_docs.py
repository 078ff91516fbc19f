"""Docs that cannot drift: every finding code the code can emit is catalogued, and every
command is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

from offerctl.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _emitted_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "offerctl").rglob("*.py"):
        codes |= set(re.findall(r"\"([SPALGY][1-6][0-9]{2})\"", path.read_text()))
    return codes


def test_every_emitted_code_is_catalogued() -> None:
    catalogue = (ROOT / "docs" / "findings.md").read_text()
    documented = set(re.findall(r"^\| ([SPALGY][1-6][0-9]{2}) \|", catalogue, re.M))
    missing = _emitted_codes() - documented
    assert not missing, f"codes without a docs/findings.md entry: {sorted(missing)}"


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    undocumented = [n for n in names if f"offerctl {n}" not in readme]
    assert not undocumented, f"commands missing from README.md: {undocumented}"
