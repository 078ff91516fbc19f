"""Reading keys: age and ssh-ed25519 recipients (public) and identities (private).

Every public-key operation goes through pyrage (age, including its ``ssh-ed25519`` recipient
type); ssh private keys are parsed with ``cryptography`` only to learn their public half. The
data keys offerctl wraps are always 32 random bytes; a wrapped key is an ASCII-armored age
file, exactly what SOPS stores under ``sops.age[].enc``.

Identities are found the way SOPS users expect (``discover_identities``):
``OFFERCTL_AGE_KEY_FILE``, ``OFFERCTL_AGE_KEY``, ``SOPS_AGE_KEY_FILE``, ``SOPS_AGE_KEY``, the
default SOPS key file (``$XDG_CONFIG_HOME/sops/age/keys.txt``; on macOS
``~/Library/Application Support/sops/age/keys.txt``), then ``~/.ssh/id_ed25519``.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyrage
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

AGE_RECIPIENT = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")
AGE_SECRET = re.compile(r"^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$")
SSH_ED25519 = re.compile(r"^ssh-ed25519 [A-Za-z0-9+/]+={0,2}(?:\s.*)?$")

ENV_ORDER = ("OFFERCTL_AGE_KEY_FILE", "OFFERCTL_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY")
"""Environment variables consulted, in this order (before the default files)."""


class KeyProblem(Exception):
    """A key that was asked for cannot be used; the message names it, never its secret."""


def normalize_recipient(text: str) -> str:
    """``age1…`` as is; ``ssh-ed25519 AAAA… comment`` without its comment (SOPS compares
    recipients as strings, so one spelling per key)."""
    value = " ".join(text.split())
    if AGE_RECIPIENT.match(value):
        return value
    if SSH_ED25519.match(value):
        return " ".join(value.split(" ")[:2])
    raise KeyProblem(f"{_short(value)!r} is not an age recipient (age1…) or an ssh-ed25519 public key")


def is_recipient(text: str) -> bool:
    try:
        normalize_recipient(text)
    except KeyProblem:
        return False
    return True


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "…"


def _pyrage_recipient(recipient: str) -> Any:
    try:
        if recipient.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(recipient)
        return pyrage.ssh.Recipient.from_str(recipient)
    except Exception as exc:  # pyrage raises its own RecipientError/ValueError
        raise KeyProblem(f"cannot use recipient {_short(recipient)!r}: {exc}") from None


@dataclass(frozen=True)
class Identity:
    """A private key offerctl may decrypt with. ``public`` is its recipient string;
    ``source`` says where it was found (an env var or a path), never the secret."""

    public: str
    source: str
    secret: Any = field(repr=False, compare=False)
    material: bytes = field(default=b"", repr=False, compare=False)
    """The private key as read (age secret text or the OpenSSH file): only ever used as
    input to a key derivation (``store.keyed_cache``), never written anywhere."""

    @property
    def kind(self) -> str:
        return "age" if self.public.startswith("age1") else "ssh-ed25519"


def age_identity(secret: str, source: str) -> Identity:
    text = secret.strip()
    if not AGE_SECRET.match(text):
        raise KeyProblem(f"{source}: not an age secret key (AGE-SECRET-KEY-1…)")
    ident = pyrage.x25519.Identity.from_str(text)
    return Identity(public=str(ident.to_public()), source=source, secret=ident, material=text.encode("ascii"))


def ssh_identity(private_key: bytes, source: str) -> Identity:
    """An unencrypted OpenSSH ed25519 private key (what ``ssh-keygen -t ed25519 -N ''`` writes)."""
    try:
        key = serialization.load_ssh_private_key(private_key, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(
            f"{source}: cannot read the ssh key ({exc}); passphrase-protected keys are not "
            "supported: use an age key (age-keygen) or `ssh-keygen -p` a copy without passphrase"
        ) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyProblem(f"{source}: only ssh-ed25519 keys can decrypt (age supports no other ssh type)")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    try:
        ident = pyrage.ssh.Identity.from_buffer(private_key)
    except Exception as exc:
        raise KeyProblem(f"{source}: age cannot use this ssh key: {exc}") from None
    return Identity(
        public=normalize_recipient(public.decode("ascii")),
        source=source,
        secret=ident,
        material=bytes(private_key),
    )


def parse_identities(text: str, source: str) -> list[Identity]:
    """An age keys file (``age-keygen`` output: comments and ``AGE-SECRET-KEY-1…`` lines) or
    one OpenSSH private key."""
    if "-----BEGIN OPENSSH PRIVATE KEY-----" in text:
        return [ssh_identity(text.encode("ascii", "replace"), source)]
    found: list[Identity] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found.append(age_identity(line, f"{source}:{number}"))
    if not found:
        raise KeyProblem(f"{source}: no age secret key in it")
    return found


@dataclass(frozen=True)
class Discovery:
    """The identities found and every place looked at, in order (for messages)."""

    identities: tuple[Identity, ...]
    looked_at: tuple[str, ...]


def default_sops_key_file(env: Mapping[str, str], home: Path, platform: str) -> Path:
    """Where SOPS looks by default: ``$XDG_CONFIG_HOME/sops/age/keys.txt`` (falling back to
    ``~/.config``); on macOS ``~/Library/Application Support`` unless XDG_CONFIG_HOME is set."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg:
        base = Path(xdg)
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = home / ".config"
    return base / "sops" / "age" / "keys.txt"


def discover_identities(env: Mapping[str, str], home: Path, platform: str) -> Discovery:
    """All identities in the documented order. An environment variable that is set but
    unusable is an error (``KeyProblem``): a mistyped path must not silently fall back to
    another key. Default files that do not exist are skipped."""
    found: list[Identity] = []
    looked: list[str] = []
    for name in ENV_ORDER:
        value = env.get(name)
        if not value:
            continue
        looked.append(name)
        if name.endswith("_FILE"):
            path = Path(value).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise KeyProblem(f"{name}={path}: cannot read it ({exc.strerror})") from None
            found.extend(parse_identities(text, f"{name} ({path})"))
        else:
            found.extend(parse_identities(value, name))
    default = default_sops_key_file(env, home, platform)
    looked.append(str(default))
    if default.is_file():
        found.extend(parse_identities(default.read_text(encoding="utf-8"), str(default)))
    ssh_key = home / ".ssh" / "id_ed25519"
    looked.append(str(ssh_key))
    if ssh_key.is_file():
        # an encrypted personal ssh key is not an error unless it was asked for
        with contextlib.suppress(KeyProblem):
            found.append(ssh_identity(ssh_key.read_bytes(), str(ssh_key)))
    unique: dict[str, Identity] = {}
    for ident in found:
        unique.setdefault(ident.public, ident)
    return Discovery(tuple(unique.values()), tuple(looked))


# --- wrapping data keys ---------------------------------------------------------------------


def wrap(key: bytes, recipients: Sequence[str]) -> str:
    """``key`` as one armored age file for all ``recipients``."""
    if not recipients:
        raise KeyProblem("no recipient to encrypt for")
    targets = [_pyrage_recipient(normalize_recipient(r)) for r in recipients]
    armored: bytes = pyrage.encrypt(key, targets, armored=True)
    return armored.decode("ascii")


def unwrap(armored: str, identities: Iterable[Identity]) -> bytes | None:
    """The wrapped key, or None when none of ``identities`` is among its recipients."""
    secrets = [ident.secret for ident in identities]
    if not secrets:
        return None
    try:
        key: bytes = pyrage.decrypt(armored.encode("ascii"), secrets)
    except Exception:  # pyrage.DecryptError: no matching identity (or a damaged file)
        return None
    return key


def fingerprint(recipient: str) -> str:
    """A short, stable label for a recipient in messages (never the secret)."""
    body = recipient.split(" ")[1] if recipient.startswith("ssh-") else recipient
    if recipient.startswith("ssh-"):
        raw = base64.b64decode(body)
        import hashlib

        return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    return body[:12] + "…" + body[-6:]
