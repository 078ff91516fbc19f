"""The erasure key store: one key per offer, wrapped for the offer's readers, kept where
it can be destroyed without touching the audited history.

The store is a set of small files ``<offer-id>.json`` (``{"kid", "recipients", "age"}``, the
key itself only inside the armored age file). Where the files live is a backend: offerctl's
default keeps them as the tree of a single parentless commit on ``refs/offerctl/keys`` in the
offer repository (``offerctl.git`` owns that I/O). Every change replaces the commit, so an
old version of the store is never reachable from any ref: destroying an offer's key and
pruning unreachable objects leaves no copy in the repository (docs/privacy.md says what the
git host and backups still need).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from offerctl.privacy import keys as keymod
from offerctl.privacy.document import ErasureKey

KEYS_REF = "refs/offerctl/keys"
FETCH_COMMAND = f"git fetch origin +{KEYS_REF}:{KEYS_REF}"
"""What a clone without the store runs to get it (``offerctl git-setup`` makes a plain
``git fetch`` do it from then on)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.json$")

ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "offerctl erasure key store entry (<offer-id>.json)",
    "type": "object",
    "additionalProperties": False,
    "required": ["offer", "kid", "recipients", "age"],
    "properties": {
        "offer": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$"},
        "kid": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "recipients": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "age": {"type": "string", "pattern": "^-----BEGIN AGE ENCRYPTED FILE-----\n"},
    },
}
"""One entry of the key store, as stored on the ref and in a demo seed directory."""


class EntryProblem(ValueError):
    """A key store file that is not a usable entry (the message says why)."""


def parse_entry(name: str, raw: bytes) -> KeyEntry:
    """The entry in file ``name`` (``<offer-id>.json``), schema-validated; ``EntryProblem``
    when it is not JSON, breaks the schema, or names another offer than its file name."""
    import jsonschema

    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EntryProblem(f"not JSON ({exc})") from None
    validator = jsonschema.Draft202012Validator(ENTRY_SCHEMA)
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.path])
    if errors:
        where = ".".join(str(p) for p in errors[0].path) or "the entry"
        raise EntryProblem(f"{where}: {errors[0].message}")
    entry = KeyEntry.from_bytes(raw)
    if name != file_name(entry.offer_id):
        raise EntryProblem(f"holds the key of {entry.offer_id}, so it must be named {entry.offer_id}.json")
    return entry


class KeyStoreBackend(Protocol):
    def read(self) -> dict[str, bytes]:
        """Every file in the store (name -> content)."""
        ...

    def write(self, files: Mapping[str, bytes], message: str) -> None:
        """Replace the whole store with ``files`` so that no earlier version stays reachable."""
        ...


class MemoryBackend:
    """A store in memory (tests, dry runs)."""

    def __init__(self, files: Mapping[str, bytes] | None = None) -> None:
        self.files: dict[str, bytes] = dict(files or {})
        self.writes = 0

    def read(self) -> dict[str, bytes]:
        return dict(self.files)

    def write(self, files: Mapping[str, bytes], message: str) -> None:
        self.files = dict(files)
        self.writes += 1


@dataclass(frozen=True)
class KeyEntry:
    offer_id: str
    kid: str
    recipients: tuple[str, ...]
    wrapped: str

    def to_bytes(self) -> bytes:
        body = {
            "offer": self.offer_id,
            "kid": self.kid,
            "recipients": list(self.recipients),
            "age": self.wrapped,
        }
        return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> KeyEntry:
        body = json.loads(raw.decode("utf-8"))
        return cls(
            str(body["offer"]), str(body["kid"]), tuple(str(r) for r in body["recipients"]), str(body["age"])
        )


def file_name(offer_id: str) -> str:
    name = f"{offer_id}.json"
    if not _NAME.match(name):
        raise ValueError(f"not a usable offer id for the key store: {offer_id!r}")
    return name


class KeyStore:
    """Load once, change in memory, ``save`` once (one store commit per command)."""

    def __init__(self, backend: KeyStoreBackend) -> None:
        self.backend = backend
        self.entries: dict[str, KeyEntry] = {}
        for name, raw in backend.read().items():
            if name.endswith(".json"):
                entry = KeyEntry.from_bytes(raw)
                self.entries[entry.offer_id] = entry
        self.dirty = False

    def get(self, offer_id: str) -> KeyEntry | None:
        return self.entries.get(offer_id)

    def create(self, offer_id: str, recipients: Sequence[str]) -> ErasureKey:
        key = ErasureKey(kid=secrets.token_hex(8), key=os.urandom(32))
        self.put(offer_id, key, recipients)
        return key

    def put(self, offer_id: str, key: ErasureKey, recipients: Sequence[str]) -> None:
        normal = tuple(dict.fromkeys(keymod.normalize_recipient(r) for r in recipients))
        file_name(offer_id)
        self.entries[offer_id] = KeyEntry(offer_id, key.kid, normal, keymod.wrap(key.key, normal))
        self.dirty = True

    def unwrap(self, offer_id: str, identities: Sequence[keymod.Identity]) -> ErasureKey | None:
        entry = self.entries.get(offer_id)
        if entry is None:
            return None
        raw = keymod.unwrap(entry.wrapped, identities)
        return ErasureKey(entry.kid, raw) if raw is not None and len(raw) == 32 else None

    def destroy(self, offer_id: str) -> bool:
        if offer_id not in self.entries:
            return False
        del self.entries[offer_id]
        self.dirty = True
        return True

    def offers(self) -> Iterable[str]:
        return sorted(self.entries)

    def save(self, message: str) -> bool:
        if not self.dirty:
            return False
        files = {file_name(e.offer_id): e.to_bytes() for e in self.entries.values()}
        self.backend.write(files, message)
        self.dirty = False
        return True
