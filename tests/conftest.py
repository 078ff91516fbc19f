"""Shared fixtures: real temporary git repositories with a fixed identity, never the network."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Cli, CliResult, invoke
from tests.smtp_server import Inbox, smtp_server

ROOT = Path(__file__).resolve().parent.parent
PLAIN_EXAMPLE = ROOT / "tests" / "data" / "example"
"""The bundled example as it was before it was made confidential: its ``offerctl.yaml``
without ``privacy:`` and its offers in plaintext. The repository root holds the same example
encrypted with the demo keys of examples/keys/; tests/test_example_privacy.py proves that the
root decrypts to exactly these files, so the two cannot drift apart."""


def example_source(name: str) -> Path:
    """Where a part of the plaintext example comes from: ``offerctl.yaml`` and ``offers/``
    from ``PLAIN_EXAMPLE``, the rest (policies, letter templates, schemas) from the root."""
    plain = PLAIN_EXAMPLE / name
    return plain if plain.exists() else ROOT / name


@pytest.fixture(autouse=True)
def git_identity(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own global git config with a fixed identity and no system config."""
    home = tmp_path_factory.mktemp("home")
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Rita Ramos\n\temail = rita.ramos@acme.example\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GITHUB_ACTIONS",
        "CI",
        "OFFERCTL_REPO",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


# The date every test runs on (the bundled example's story date, offerctl.yaml clock.today).
TEST_TODAY = "2026-11-23"


@pytest.fixture(autouse=True)
def pinned_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite gives the same result on any day of any year: every test runs with
    OFFERCTL_TODAY pinned (a test may pin OFFERCTL_NOW or --as-of on top). A test that must
    read the real clock says so in its name (``real_clock``) and gets no pin."""
    monkeypatch.delenv("OFFERCTL_NOW", raising=False)
    if "real_clock" in request.node.name:
        monkeypatch.delenv("OFFERCTL_TODAY", raising=False)
    else:
        monkeypatch.setenv("OFFERCTL_TODAY", TEST_TODAY)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=full_env
    ).stdout


def declare_correction(repo: Path, offer_id: str, message: str) -> None:
    """An empty commit declaring a deliberate correction of a closed offer (G501 baseline)."""
    git(
        repo,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        message,
        "--trailer",
        f"Offer-Id: {offer_id}",
        "--trailer",
        "Offer-Action: correct",
    )


@pytest.fixture
def offer_repo(tmp_path: Path) -> Path:
    """A fresh `offerctl init` repository (starter policies, one commit)."""
    from offerctl.setup.scaffold import init_repo

    return init_repo(tmp_path / "repo").root


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A git copy of the bundled example repository (offerctl.yaml, policies, templates,
    offers) in plaintext, as it was before it was made confidential (``PLAIN_EXAMPLE``)."""
    import shutil

    target = tmp_path / "example"
    target.mkdir()
    for name in ("offerctl.yaml", "policies", "letter_templates", "offers", "schemas"):
        source = example_source(name)
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.exists():
            shutil.copy2(source, target / name)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "example")
    return target


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    def run(*args: str, cwd: Path | None = None, input: str | None = None) -> CliResult:
        return invoke(list(args), cwd=cwd, monkeypatch=monkeypatch, capfd=capfd, input=input)

    yield run


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 (no auth, no TLS); its ``Inbox`` collects what arrives."""
    with smtp_server() as inbox:
        yield inbox
