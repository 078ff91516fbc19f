"""Caches of results computed WITH a reader's key, sealed so that only that reader opens them.

``offerctl.store.cache`` keeps what a keyless run computes, in plain JSON under
``$GIT_DIR/offerctl-cache/``. What a run computes with a key — the findings of the checks that
read encrypted values, the offers' unwrapped data keys — would leak plaintext (or facts about
it: "salary above the band") if it were kept the same way, so it is kept here instead:

* **One sealed file per (repository, kind, reader).** The whole content of a cache — every
  entry — is one AES-256-GCM ciphertext (``cryptography``), so the file reveals neither which
  offers have findings nor how many: only its total size, padded to 64 KiB steps.
* **The key is derived from the reader's private keys** (HKDF-SHA256 over the secret material
  of every identity this run uses, salt ``offerctl-keyed-cache:v1``, info = kind + repository
  path): nobody without those private keys can open or forge an entry, and another reader
  (another key set) derives another key and another file name — the name is derived from
  the same material, so it says nothing about who ran it.
* **Bound to what it depends on.** The additional data of the ciphertext names the format,
  the kind and a *context* (for ``check``: its cache fingerprint — tool, policies, templates,
  as-of date), and entries are keyed by content id as in the plain cache: a changed file, a
  changed policy or another day is a miss, never a stale answer. A file that does not
  decrypt (another context, damage, tampering) is ignored and rewritten.
* Writes are atomic (temp file + rename); failing to write is not an error.

docs/privacy.md ("CI") gives the trust argument.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from offerctl.privacy import keys as keymod

FORMAT = 1
MAGIC = b"OFFERCTL-SEALED-CACHE\x00"
PAD = 64 * 1024
NONCE = 12


def derive(identities: Sequence[keymod.Identity], root: Path, kind: str) -> tuple[bytes, str] | None:
    """(sealing key, file-name id) for these identities, or None when none has secret
    material (nothing to derive from: no sealed cache)."""
    material = sorted({i.material for i in identities if i.material})
    if not material:
        return None
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    info = f"offerctl-keyed-cache\0{kind}\0{root.resolve()}".encode()
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=b"offerctl-keyed-cache:v1", info=info).derive(
        b"\0".join(hashlib.sha256(m).digest() for m in material)
    )
    return okm[:32], okm[32:].hex()


class SealedCache:
    """Entries ``name -> JSON value``, read once, sealed on ``save``."""

    def __init__(
        self,
        directory: Path | None,
        root: Path,
        kind: str,
        identities: Sequence[keymod.Identity],
        context: str = "",
    ) -> None:
        self.kind = kind
        self.context = context
        self.entries: dict[str, Any] = {}
        self.dirty = False
        self.hits = 0
        derived = derive(identities, root, kind) if directory is not None else None
        self._key: bytes | None = None
        self.path: Path | None = None
        if derived is not None and directory is not None:
            self._key, name = derived
            self.path = directory / f"keyed-{kind}-{name}.bin"
            self.entries = self._read()

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def _aad(self) -> bytes:
        return f"offerctl-keyed-cache:v{FORMAT}:{self.kind}:{self.context}".encode()

    def _read(self) -> dict[str, Any]:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        assert self.path is not None and self._key is not None
        try:
            blob = self.path.read_bytes()
        except OSError:
            return {}
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE + 16:
            return {}
        nonce = blob[len(MAGIC) : len(MAGIC) + NONCE]
        try:
            plain = AESGCM(self._key).decrypt(nonce, blob[len(MAGIC) + NONCE :], self._aad())
            payload = json.loads(plain)
        except (InvalidTag, ValueError):  # another context (policy, day), damage, tampering
            return {}
        entries = payload.get("entries") if isinstance(payload, dict) else None
        return entries if isinstance(entries, dict) else {}

    def get(self, name: str) -> Any:
        value = self.entries.get(name)
        if value is not None:
            self.hits += 1
        return value

    def put(self, name: str, value: Any) -> None:
        if self._key is None:
            return
        if self.entries.get(name) != value:
            self.entries[name] = value
            self.dirty = True

    def keep(self, names: Iterable[str]) -> None:
        """Forget every entry not in ``names``."""
        wanted = set(names)
        stale = [n for n in self.entries if n not in wanted]
        for name in stale:
            del self.entries[name]
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if self._key is None or self.path is None or not self.dirty:
            return
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        plain = json.dumps({"entries": self.entries}, ensure_ascii=False, separators=(",", ":")).encode()
        plain += b" " * (-len(plain) % PAD)  # JSON ignores trailing blanks; hides the exact size
        nonce = os.urandom(NONCE)
        blob = MAGIC + nonce + AESGCM(self._key).encrypt(nonce, plain, self._aad())
        from offerctl.store.cache import atomic_write

        if atomic_write(self.path, blob, prefix=".keyed-"):
            self.dirty = False


def cache_dir(root: Path) -> Path | None:
    """``$GIT_DIR/offerctl-cache`` of the repository at ``root`` (None outside git)."""
    from offerctl.core.errors import GitError
    from offerctl.store import git
    from offerctl.store.cache import CACHE_DIR

    try:
        return git.git_path(root, CACHE_DIR)
    except GitError:
        return None
