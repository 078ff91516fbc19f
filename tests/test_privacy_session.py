"""The privacy session on a real offer file of the example: sealing into the round-trip
YAML keeps every unchanged line, opening gives the original data back, a revision's diff
shows only the changed field."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pyrage
import pytest

from offerctl.privacy import keys
from offerctl.store import sealing as rtyaml
from offerctl.store import yamlio
from offerctl.store.privacy import PrivacySession

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "data" / "example" / "offers" / "OFF-2026-0TB8WD5K.yaml"
"""A plaintext offer of the bundled example (the root's offers are encrypted)."""
NOW = "2026-11-20T17:02:11Z"


def changed_lines(a: str, b: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(a.splitlines(), b.splitlines(), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = tmp_path / "repo"
    (root / "offers").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    shutil.copy(EXAMPLE, root / "offers" / EXAMPLE.name)
    return root


def session_for(root: Path, secret: str) -> PrivacySession:
    s = PrivacySession.create(root, {"enabled": True, "groups": {}, "readers": []}, {})
    s.env = {"OFFERCTL_AGE_KEY": secret}
    return s


def seal_file(
    s: PrivacySession, path: Path, plain: dict[str, object], recipients: list[str], now: str = NOW
) -> str:
    text = path.read_text()
    previous = yamlio.load(text.encode())
    sealed = s.seal("OFF-2026-0TB8WD5K", plain, previous, recipients, now)
    rt = yamlio.RoundTrip().load(text)
    rtyaml.apply(rt, sealed, s.config.layout())
    return yamlio.RoundTrip().dump(rt)


def test_seal_open_and_minimal_revision_diff(repo: Path) -> None:
    me = pyrage.x25519.Identity.generate()
    outsider = pyrage.x25519.Identity.generate()
    recipient = str(me.to_public())
    path = repo / "offers" / EXAMPLE.name
    original_text = path.read_text()
    plain = yamlio.load(original_text.encode())
    s = session_for(repo, str(me))
    text = seal_file(s, path, plain, [recipient])
    for secret in ("Clara", "clara.hoffmann@example.de", "66000", "4y-1y-cliff"):
        assert secret not in text
    # the audit trail is untouched, line for line
    for line in original_text.splitlines():
        if line.startswith("  - {"):
            assert line in text
    path.write_text(text)
    stored = yamlio.load(text.encode())
    opened = s.open("OFF-2026-0TB8WD5K", stored)
    assert opened.problems == () and opened.complete and opened.mac_verified
    expected = dict(plain)
    assert {k: v for k, v in opened.data.items() if k != "privacy"} == expected
    # no key: markers, and a seal with the store created the erasure key in refs/offerctl/keys
    blind = session_for(repo, str(outsider)).open("OFF-2026-0TB8WD5K", stored)
    assert str(blind.data["compensation"]["base_salary"]) == "\u2039encrypted\u203a"
    assert str(blind.data["candidate"]["name"]) == "\u2039encrypted\u203a"
    assert blind.data["candidate"]["source"] == "referral"
    assert (
        subprocess.run(
            ["git", "rev-parse", "-q", "--verify", "refs/offerctl/keys"], cwd=repo, capture_output=True
        ).returncode
        == 0
    )

    # same data again: the file does not change at all
    assert seal_file(session_for(repo, str(me)), path, dict(opened.data), [recipient]) == text
    # a revision: exactly the changed field (and the MAC with its timestamp) change
    revised = dict(opened.data)
    revised["compensation"] = dict(revised["compensation"], base_salary=68000)
    later = seal_file(session_for(repo, str(me)), path, revised, [recipient], "2026-11-21T08:00:00Z")
    keys_changed = sorted({line[1:].split(":")[0].strip() for line in changed_lines(text, later)})
    assert keys_changed == ["base_salary", "lastmodified", "mac"], changed_lines(text, later)


def test_ssh_reader_key_file(repo: Path, tmp_path: Path) -> None:
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = key.with_suffix(".pub").read_text().strip()
    ident = keys.ssh_identity(key.read_bytes(), "t")
    s = PrivacySession.create(repo, {"enabled": True}, {})
    s.env = {"OFFERCTL_AGE_KEY_FILE": str(key)}
    path = repo / "offers" / EXAMPLE.name
    text = seal_file(s, path, yamlio.load(path.read_bytes()), [public])
    stored = yamlio.load(text.encode())
    assert s.identities()[0].public == ident.public
    assert s.open("OFF-2026-0TB8WD5K", stored).complete
