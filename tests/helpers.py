"""Running the CLI in-process the way a user would, and reading what it printed."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def invoke(
    args: list[str],
    *,
    cwd: Path | None,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    input: str | None = None,
) -> CliResult:
    from offerctl.cli import run

    if cwd is not None:
        monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "stdin", io.StringIO(input or ""))
    capfd.readouterr()
    code = run(args)
    captured = capfd.readouterr()
    return CliResult(code, captured.out, captured.err)
