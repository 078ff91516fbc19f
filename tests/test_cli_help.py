"""`offerctl --help`: commands in panels with whole one-line descriptions, examples in every
command's help, readable placeholders, --version, and shell completion from the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PANELS = ["Offers", "Approvals", "Letters", "Lifecycle", "Reports", "Privacy", "CI and setup", "Git plumbing"]


def _sections(help_text: str) -> dict[str, list[str]]:
    """``Title:`` sections of a click help page → the first word of each entry line."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in help_text.splitlines():
        if re.fullmatch(r"[A-Z][A-Za-z ]*:", line):
            current = sections.setdefault(line[:-1], [])
        elif current is not None and line.startswith("  ") and not line.startswith("   "):
            current.append(line.split()[0])
    return sections


def _help(*args: str, columns: int = 80) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "offerctl", *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_groups_commands_in_panels_at_80_columns() -> None:
    text = _help("--help")
    sections = _sections(text)
    assert [s for s in sections if s in PANELS or s == "Other commands"] == PANELS
    assert sections["Offers"][:3] == ["new", "show", "list"]
    assert sections["Approvals"][:3] == ["route", "submit", "approve"]
    assert sections["Git plumbing"] == ["git-setup", "merge-driver"]
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for name in (n for panel in PANELS for n in sections[panel]):
        (line,) = [line for line in lines if line.split()[:1] == [name]]
        # the whole description on the command's own line: never cut off with "..."
        assert "..." not in line and len(line.split()) > 2, line


def test_every_command_has_a_panel_a_short_line_and_examples() -> None:
    from offerctl.cli import COMMAND_ORDER, app, command_name
    from offerctl.cli import help as cli_help

    names = [command_name(info) for info in app.registered_commands]
    assert len(names) >= 28
    unplaced = [n for n in names if n not in COMMAND_ORDER]
    assert unplaced == [], "add new commands to a panel in offerctl.cli.help.PANELS"
    missing = [n for n in names if n not in cli_help.EXAMPLES]
    assert missing == [], "add examples to offerctl.cli.help.EXAMPLES"
    width = max(len(n) for n in names)
    for _panel, commands in cli_help.PANELS:
        for name, text in commands:
            assert 2 + width + 2 + len(text) <= 80, f"{name}: one-line description too long"


@pytest.mark.parametrize("command", ["list", "accept", "report", "new", "check", "render"])
def test_command_help_has_examples_and_readable_placeholders(command: str) -> None:
    text = _help(command, "--help")
    assert "\nExamples:\n" in text.replace("  Examples:", "Examples:")
    assert f"  $ offerctl {command}" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for internal in ("<str>", "<list[str]>", "<int range>", "<int>", "<path>", "<file>"):
        assert internal not in text, f"{command} --help shows {internal}"


def test_placeholders_name_what_to_type() -> None:
    assert "--signed-on DATE" in _help("accept", "--help")
    assert "ID  Offer id" in _help("accept", "--help")
    revise = _help("revise", "--help")
    assert "--set PATH=VALUE" in revise and "--push-retries N" in revise
    assert "--by DIMENSION" in _help("report", "--help")


def test_no_input_help_is_true_for_each_command() -> None:
    # `new` prompts: --no-input changes what it does. `accept` never prompts: the help says so.
    assert "fail with what is missing instead of asking" in " ".join(_help("new", "--help").split())
    accept = " ".join(_help("accept", "--help").split())
    assert "this command never prompts" in accept
    assert "missing field" not in accept


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    from offerctl import __version__

    assert _help(flag) == f"offerctl {__version__}\n"


def _complete(words: str, cwd: Path) -> list[str]:
    """What bash would offer for the last word of ``words`` (typer's completion protocol)."""
    parts = words.split(" ")
    env = {
        **os.environ,
        "_OFFERCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    env.pop("OFFERCTL_REPO", None)
    done = subprocess.run(
        [sys.executable, "-c", "from offerctl.cli import main; main()"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.split()


def test_completion_of_ids_statuses_departments_roles_and_people(example_repo: Path) -> None:
    ids = sorted(p.stem for p in (example_repo / "offers").rglob("*.yaml"))
    assert _complete("offerctl show ", example_repo) == ids
    assert _complete(f"offerctl log {ids[0][:10]}", example_repo) == [
        i for i in ids if i.startswith(ids[0][:10])
    ]
    assert _complete(f"offerctl log {ids[0][:10].lower()}", example_repo)[0] == ids[0]
    assert _complete("offerctl list --status ne", example_repo) == ["negotiating"]
    assert _complete("offerctl list --department ", example_repo) == [
        "Engineering",
        "Product",
        "Sales",
        "People",
    ]
    assert "finance" in _complete(f"offerctl approve {ids[0]} --role ", example_repo)
    assert _complete("offerctl revise X --set compensation.base", example_repo) == [
        "compensation.base_salary="
    ]
    assert _complete("offerctl new --set recruiter=rita", example_repo) == [
        "recruiter=rita.ramos@acme.example"
    ]
    assert _complete("offerctl sh", example_repo) == ["show"]


def test_completion_outside_a_repository_offers_nothing_and_does_not_fail(tmp_path: Path) -> None:
    assert _complete("offerctl show ", tmp_path) == []
    assert _complete("offerctl list --status dr", tmp_path) == ["draft"]


def test_completion_script_and_install_options_exist() -> None:
    script = _help("--show-completion", "bash")
    assert "_OFFERCTL_COMPLETE=complete_bash" in script
    assert "--install-completion" in _help("--help")


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "complete_bash"), ("zsh", "complete_zsh"), ("fish", "complete_fish")]
)
def test_show_completion_honours_the_shell_named_without_a_shell_above(shell: str, marker: str) -> None:
    """In CI or a container there is no interactive shell among the parent processes, so
    detection finds none: the shell named on the command line decides (it used to fail
    with "Shell  not supported" when the test suite ran without a shell above it)."""
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "offerctl", "--show-completion", shell],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert f"_OFFERCTL_COMPLETE={marker}" in done.stdout


def test_completion_reads_no_offer_file(example_repo: Path) -> None:
    """Offer ids come from file names: an unreadable offer still completes, fast."""
    bad = example_repo / "offers" / "OFF-2026-ZZZZZZZZ.yaml"
    bad.write_text("{{{ not yaml")
    bad.chmod(0)
    try:
        assert "OFF-2026-ZZZZZZZZ" in _complete("offerctl show OFF-2026-Z", example_repo)
    finally:
        bad.chmod(0o644)


def test_help_stays_free_of_heavy_imports() -> None:
    code = "import sys; from offerctl.cli import app; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("rich", "yaml", "jinja2", "babel"):
        assert heavy not in loaded.split(), heavy
