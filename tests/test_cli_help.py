"""`offerctl --help` lists commands in the order a user meets them, not in import order."""

from __future__ import annotations

from typing import Any

# The order a person follows an offer through its life; git plumbing last.
EXPECTED = [
    "init",
    "new",
    "show",
    "list",
    "check",
    "schema",
    "route",
    "submit",
    "approve",
    "reject",
    "status",
    "inbox",
    "headroom",
    "policy-diff",
    "render",
    "send",
    "competing",
    "touch",
    "contingency",
    "revise",
    "accept",
    "decline",
    "rescind",
    "renege",
    "start",
    "expire",
    "log",
    "export",
    "report",
    "remind",
    "codeowners",
    "merge-driver",
    "git-setup",
]


def _listed(help_text: str) -> list[str]:
    lines = help_text.splitlines()
    start = lines.index("Commands:") + 1
    return [line.split()[0] for line in lines[start:] if line.startswith("  ") and not line.startswith("   ")]


def test_help_lists_commands_in_lifecycle_order(cli: Any) -> None:
    result = cli("--help")
    assert result.code == 0, result.err
    listed = _listed(result.out)
    assert listed == [name for name in EXPECTED if name in listed]
    assert listed[:3] == ["init", "new", "show"] and listed[-2:] == ["merge-driver", "git-setup"]


def test_every_command_has_a_place_in_the_help_order() -> None:
    from offerctl.cli import COMMAND_ORDER, PLUMBING_ORDER, app, command_name

    names = [command_name(info) for info in app.registered_commands]
    unplaced = [n for n in names if n not in COMMAND_ORDER and n not in PLUMBING_ORDER]
    assert unplaced == [], "add new commands to offerctl.cli.COMMAND_ORDER"
    assert len(names) >= 28
