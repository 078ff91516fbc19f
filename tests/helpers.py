"""Running the CLI in-process the way a user would, and reading what it printed; the shared
intake file the CLI tests start offers from."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli(Protocol):
    """The ``cli`` fixture: run ``offerctl ARGS`` in-process (in ``cwd``, with ``input`` on
    stdin) and return what it printed and its exit code."""

    def __call__(self, *args: str, cwd: Path | None = None, input: str | None = None) -> CliResult: ...


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


def intake(*, base_salary: int = 185000) -> str:
    """The intake file for a Senior Backend Engineer (Jane Doe) that `offerctl new` reads."""
    return f"""\
candidate: {{name: Jane Doe, email: jane.doe@example.com, source: referral}}
role:
  title: Senior Backend Engineer
  department: Engineering
  job_family: engineering
  level: L5
  employment_type: full_time
  location: {{country: US, region: CA, city: San Francisco}}
  hiring_manager: hiring.manager@example.com
recruiter: recruiter@example.com
start_date: 2027-01-11
compensation: {{base_salary: {base_salary}, sign_on_bonus: 20000}}
"""


def assert_snapshot(path: Path, actual: str) -> None:
    """Compare what people read with ``path``; ``UPDATE_SNAPSHOTS=1`` rewrites it (review the diff)."""
    import os

    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, "utf-8")
    assert path.is_file(), f"missing snapshot {path}; create it with UPDATE_SNAPSHOTS=1"
    assert actual == path.read_text("utf-8"), (
        f"{path.name} changed; rerun with UPDATE_SNAPSHOTS=1 if intended"
    )
