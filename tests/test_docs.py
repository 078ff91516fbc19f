"""Docs that cannot drift: every finding code the code can emit is catalogued, every command
is in the README's command table, every docs/ page the README links to exists, and the
command reference docs/cli.md is what the commands' own help says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from offerctl.cli import app, command_name, reference

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
    """The README's command table has one row per command (`| `offerctl NAME ...` | ... |`)."""
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| `offerctl ([a-z-]+)", readme, re.M))
    names = [command_name(info) for info in app.registered_commands]
    undocumented = [n for n in names if n not in rows]
    assert not undocumented, f"commands missing from the README's command table: {undocumented}"
    assert rows <= set(names), f"README rows for commands that do not exist: {sorted(rows - set(names))}"


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown page (headings inside code fences excluded)."""
    anchors: set[str] = set()
    fenced = False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"#{1,6} (.+)", line)):
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            anchor, n = slug, 0
            while anchor in anchors:
                n += 1
                anchor = f"{slug}-{n}"
            anchors.add(anchor)
    return anchors


def test_every_readme_link_into_the_repository_resolves() -> None:
    """Every relative link in README.md and docs/*.md names a file (and heading) that exists,
    and every docs/*.md page is reachable from the README."""
    broken = []
    linked: set[Path] = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", page.read_text()):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            resolved = (page.parent / target).resolve() if target else page
            if page.name == "README.md":
                linked.add(resolved)
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{page.relative_to(ROOT)} -> {target}#{anchor} (no such heading)")
    assert not broken, f"links to missing files: {broken}"
    unlinked = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert not unlinked, f"docs pages the README does not link to: {unlinked}"


def test_cli_reference_is_up_to_date() -> None:
    current = (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert current == reference.render(), (
        f"docs/cli.md is out of date with the commands' help; regenerate it with: {reference.REGENERATE}"
    )


@pytest.mark.parametrize("columns", ["40", "300"])
def test_cli_reference_does_not_depend_on_the_terminal(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = reference.render()
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert reference.render() == baseline


def test_cli_reference_covers_help_conventions() -> None:
    """Verbatim (\\b) blocks stay text blocks, Markdown in help is escaped, a command's help
    panel names its group, and subcommand groups are walked."""
    demo = typer.Typer(rich_markup_mode=None)
    sub = typer.Typer(help="Edit drafts.")

    @demo.command(rich_help_panel="Approvals")
    def approve(
        offer: str = typer.Argument(..., help="Offer id."),
        fmt: str = typer.Option("text", "--format", help="text|json <default> *now*"),
    ) -> None:
        """Approve an offer.

        \b
        Examples:
          offerctl approve OFF-1   # as yourself
        \f
        Internal note that is not help.
        """

    @sub.command("set")
    def set_field() -> None:
        """Set one field."""

    demo.add_typer(sub, name="draft")
    text = reference.render(demo)
    assert "## Approvals\n\n### `offerctl approve`" in text
    assert "```text\nExamples:\n  offerctl approve OFF-1   # as yourself\n```" in text
    assert "Internal note" not in text
    assert "text\\|json \\<default\\> \\*now\\*" in text
    assert "### `offerctl draft`" in text and "#### `offerctl draft set`" in text
    assert "Set one field." in text


def test_cli_reference_check_mode_reports_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text("# old\n")
    assert reference.main(["--check", "--output", str(stale)]) == 1
    assert reference.REGENERATE in capsys.readouterr().err
    assert reference.main(["--output", str(stale)]) == 0
    assert reference.main(["--check", "--output", str(stale)]) == 0
