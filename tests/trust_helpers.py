"""Building offer histories for the CI-trust tests: real commits by named authors."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.conftest import git

INTAKE = """\
candidate: {name: Jane Doe, email: jane.doe@example.com, source: referral}
role:
  title: Senior Backend Engineer
  department: Engineering
  job_family: engineering
  level: L5
  employment_type: full_time
  location: {country: US, region: CA, city: San Francisco}
  hiring_manager: hiring.manager@example.com
recruiter: recruiter@example.com
start_date: 2027-01-11
compensation: {base_salary: 185000, sign_on_bonus: 20000}
"""

PEOPLE = {
    "hiring.manager@example.com": "Hana Manager",
    "fin.lead@example.com": "Finn Lead",
    "pat.example@example.com": "Pat Example",
    "recruiter@example.com": "Rae Cruiter",
    "mallory@example.com": "Mallory",
}

DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64


CREATED_AT = "2026-09-01T09:00:00Z"
"""When ``new_offer`` creates offers (unless the test pinned ``OFFERCTL_NOW``): before every
approval and event time these tests write by hand, which must not predate the offer."""


@contextlib.contextmanager
def clock_at(moment: str) -> Iterator[None]:
    """Pin ``OFFERCTL_NOW`` to ``moment`` for a block, unless the test pinned it already."""
    if os.environ.get("OFFERCTL_NOW"):
        yield
        return
    os.environ["OFFERCTL_NOW"] = moment
    try:
        yield
    finally:
        del os.environ["OFFERCTL_NOW"]


def new_offer(repo: Path, cli: Any, **sets: str) -> str:
    """A committed offer (authored by the recruiter, as `offerctl new` does); its id."""
    (repo / "intake.yaml").write_text(INTAKE)
    args = ["new", "--no-input", "--from", "intake.yaml", "--format", "json"]
    sets = {"expires_on": "2027-01-04", **sets}
    for key, value in sets.items():
        args += ["--set", f"{key.replace('__', '.')}={value}"]
    with clock_at(CREATED_AT):
        result = cli(*args, cwd=repo)
    assert result.code == 0, result.err
    (repo / "intake.yaml").unlink()
    offer_id: str = result.json()["id"]
    return offer_id


def commit_as(repo: Path, email: str, subject: str, *paths: str, **trailers: str) -> str:
    """Commit ``paths`` with ``email`` as git author (``--author``, as an attacker could)."""
    git(repo, "add", "--", *paths)
    message = subject + "\n"
    if trailers:
        message += "\n" + "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in trailers.items())
    git(repo, "commit", "-q", "-m", message, f"--author={PEOPLE.get(email, email)} <{email}>")
    return git(repo, "rev-parse", "HEAD").strip()


def approval(role: str, by: str, at: str = "2026-11-20T17:02:11Z", **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"role": role, "by": by, "at": at, "digest": DIGEST}
    line.update(extra)
    return line


def append_line(
    repo: Path,
    offer_id: str,
    kind: str,
    item: Mapping[str, Any],
    *,
    author: str | None,
) -> str | None:
    """Append one line through offerctl's own edit path; commit as ``author`` (None: stage)."""
    from offerctl.store import edit
    from offerctl.store import repo as repo_mod

    opened = edit.OfferEdit.open(repo_mod.open_repo(repo), offer_id)
    opened.append(kind, dict(item))
    text, _ = opened.validated()
    opened.path.write_text(text)
    rel = opened.rel
    if author is None:
        git(repo, "add", "--", rel)
        return None
    action = "approve" if kind == "approvals" else str(item.get("type"))
    return commit_as(repo, author, f"offer {offer_id}: {action}", rel, Offer_Id=offer_id, Offer_Action=action)


def replace_in_offer(repo: Path, offer_id: str, old: str, new: str) -> str:
    path = repo / "offers" / f"{offer_id}.yaml"
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1))
    return f"offers/{offer_id}.yaml"


def codes(result: Any) -> list[tuple[str, str | None, int | None]]:
    """(code, offer, line) of every finding of a `check --format json` result."""
    return [(f["code"], f["offer"], f["line"]) for f in result.json()["findings"]]


def line_of(repo: Path, offer_id: str, needle: str) -> int:
    lines = (repo / "offers" / f"{offer_id}.yaml").read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)
