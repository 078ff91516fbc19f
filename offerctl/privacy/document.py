"""Sealing and opening one document (an offer): which values are encrypted, how, and the
``sops:`` block that makes the file a SOPS file.

File layout (SOPS 3.9+ YAML store; our implementation, checked against sops-age):

    compensation:
      base_salary: ENC[AES256_GCM,data:…,iv:…,tag:…,type:int]
    candidate:
      name: ENC[OFFERCTL_ERASABLE,kid:…,data:…,iv:…,tag:…,type:str]
    approvals: [...]          # plaintext, appended by anyone
    sops:
      age:
        - recipient: age1…            # or "ssh-ed25519 AAAA…"
          enc: |                       # the 32-byte data key, armored age
            -----BEGIN AGE ENCRYPTED FILE-----
      lastmodified: "2026-11-20T17:02:11Z"
      mac: ENC[AES256_GCM,…,type:str]  # additional data: lastmodified
      encrypted_regex: ^(compensation|promises|notes|digest_key|old|new)$
      mac_only_encrypted: true
      version: 3.9.0

The MAC (SHA-512 over the encrypted values' plaintexts in document order, seeded with SOPS's
fixed ``mac_only_encrypted`` prefix, upper-case hex, encrypted with the data key) covers
*only* the encrypted values (``mac_only_encrypted: true``): approvals, events and status are
appended by people without the key and must not break it. Their integrity comes from git
history, signatures and approval digests instead (docs/privacy.md).

Minimal diffs: sealing takes the previous version of the file; a value whose plaintext (and
type) did not change keeps its ciphertext byte for byte, ``lastmodified``/``mac`` change only
when an encrypted value changed, and a recipient's wrapped key is kept while the data key
stays the same.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offerctl.privacy import keys as keymod
from offerctl.privacy import values
from offerctl.privacy.values import CipherProblem, Plain, Sealed

SOPS_VERSION = "3.9.0"
"""The first SOPS release that understands ``mac_only_encrypted``."""

MAC_ONLY_ENCRYPTED_INIT = bytes.fromhex("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69")
"""SOPS seeds the MAC with these 32 bytes when ``mac_only_encrypted`` is set (sops.go)."""

METADATA_KEY = "sops"


@dataclass(frozen=True)
class ErasureKey:
    kid: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class Layout:
    """Which values a document encrypts. ``sops_keys``: key *names* — as in SOPS's
    ``encrypted_regex``, a value is encrypted when any key on its path has one of these
    names. ``erasable``: dotted path prefixes (``candidate.email``) sealed under the offer's
    erasure key instead; they must not contain a ``sops_keys`` name."""

    sops_keys: tuple[str, ...]
    erasable: tuple[str, ...] = ()

    @property
    def encrypted_regex(self) -> str:
        return "^(" + "|".join(re.escape(k) for k in self.sops_keys) + ")$"

    def tier(self, keys: tuple[str, ...]) -> str | None:
        if any(k in self.sops_keys for k in keys):
            return "sops"
        dotted = ".".join(keys)
        for prefix in self.erasable:
            if dotted == prefix or dotted.startswith(prefix + "."):
                return "erasable"
        return None


def _regex_tier(regex: str | None) -> Callable[[tuple[str, ...]], bool]:
    if not regex:
        return lambda keys: False
    compiled = re.compile(regex)
    return lambda keys: any(compiled.search(k) for k in keys)


def compute_mac(plaintexts: Sequence[Plain]) -> str:
    """SOPS's MAC over decrypted values with ``mac_only_encrypted``: upper-case hex SHA-512."""
    digest = hashlib.sha512()
    digest.update(MAC_ONLY_ENCRYPTED_INIT)
    for value in plaintexts:
        digest.update(values.mac_bytes(value))
    return digest.hexdigest().upper()


def _same(a: Plain, b: Plain) -> bool:
    return type(a) is type(b) and values.encode(a) == values.encode(b)


def _child(node: Any, key: str | int) -> Any:
    if isinstance(key, str) and isinstance(node, Mapping):
        return node.get(key)
    if isinstance(key, int) and isinstance(node, list) and key < len(node):
        return node[key]
    return None


def _dotted(pos: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in pos)


def seal(
    plain: Mapping[str, Any],
    layout: Layout,
    *,
    offer_id: str,
    data_key: bytes | None,
    erasure: ErasureKey | None,
    recipients: Sequence[str],
    now: str,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document to write. ``plain`` may already hold tokens (fields the writer could not
    read): they pass through unchanged. ``now``: UTC ``YYYY-MM-DDTHH:MM:SSZ``.
    ``data_key`` None means the writer cannot read the SOPS fields: every one must then be a
    token already and the previous ``sops:`` block is kept as it is."""
    macs: list[Plain] = []
    passthrough_unknown = False

    def leaf(node: Any, keys: tuple[str, ...], pos: tuple[str | int, ...], prev: Any) -> Any:
        nonlocal passthrough_unknown
        tier = layout.tier(keys)
        where = _dotted(pos)
        if isinstance(node, Sealed):  # a value nobody here could read, put somewhere new
            raise node.needs_key()
        if tier is None:
            if values.is_token(node):
                raise CipherProblem(
                    f"{where} holds an encrypted value but is not an encrypted field "
                    "(decrypt it before changing the configuration)"
                )
            return node
        if node is None:
            return None
        aad = values.sops_path(list(keys))
        if tier == "sops":
            if values.is_sops_token(node) or node == "":
                if data_key is not None:
                    macs.append(values.decrypt_sops(node, data_key, aad))
                else:
                    passthrough_unknown = True
                return node
            if values.is_erasable_token(node):
                raise CipherProblem(f"{where} is an erasable value in a SOPS field")
            if data_key is None:
                raise keymod.KeyProblem(f"{where}: changing an encrypted field needs the offer's key")
            macs.append(node)
            if values.is_sops_token(prev):
                try:
                    if _same(values.decrypt_sops(prev, data_key, aad), node):
                        return prev
                except CipherProblem:
                    pass  # another data key (rotation): encrypt afresh
            return values.encrypt_sops(node, data_key, aad)
        # erasable
        if values.is_erasable_token(node) or node == values.ERASED:
            return node
        if values.is_sops_token(node):
            raise CipherProblem(f"{where} is a SOPS value in an erasable field")
        if erasure is None:
            raise keymod.KeyProblem(f"{where}: writing an erasable field needs the offer's erasure key")
        if values.is_erasable_token(prev) and values.erasable_kid(prev) == erasure.kid:
            try:
                if _same(values.decrypt_erasable(prev, erasure.key, offer_id, aad), node):
                    return prev
            except CipherProblem:
                pass
        return values.encrypt_erasable(node, erasure.key, erasure.kid, offer_id, aad)

    def walk(node: Any, keys: tuple[str, ...], pos: tuple[str | int, ...], prev: Any) -> Any:
        if isinstance(node, Mapping):
            return {
                str(k): walk(v, (*keys, str(k)), (*pos, str(k)), _child(prev, str(k)))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(v, keys, (*pos, i), _child(prev, i)) for i, v in enumerate(node)]
        return leaf(node, keys, pos, prev)

    out: dict[str, Any] = {}
    for key, value in plain.items():
        if key == METADATA_KEY:
            continue
        out[str(key)] = walk(value, (str(key),), (str(key),), _child(previous, str(key)))
    if not layout.sops_keys:
        return out
    prev_meta = previous.get(METADATA_KEY) if isinstance(previous, Mapping) else None
    if data_key is None:
        if not isinstance(prev_meta, Mapping):
            raise keymod.KeyProblem("the document has no sops block and no key was given to create one")
        out[METADATA_KEY] = dict(prev_meta)
        return out
    if passthrough_unknown:  # unreachable: with a data key every SOPS value is decrypted
        raise CipherProblem("internal: a SOPS value was not decrypted")
    mac = compute_mac(macs)
    lastmodified, mac_token = now, ""
    same_key = False
    if isinstance(prev_meta, Mapping):
        old_lm, old_mac = prev_meta.get("lastmodified"), prev_meta.get("mac")
        if isinstance(old_lm, str) and isinstance(old_mac, str):
            try:
                same_key = True
                if (
                    values.decrypt_sops(old_mac, data_key, old_lm) == mac
                    and prev_meta.get("encrypted_regex") == layout.encrypted_regex
                ):
                    lastmodified, mac_token = old_lm, old_mac
            except CipherProblem:
                same_key = False
    if not mac_token:
        mac_token = values.encrypt_sops(mac, data_key, lastmodified)
    old_entries: dict[str, str] = {}
    if same_key and isinstance(prev_meta, Mapping):
        for entry in prev_meta.get("age") or ():
            if isinstance(entry, Mapping) and isinstance(entry.get("recipient"), str):
                old_entries[str(entry["recipient"])] = str(entry.get("enc", ""))
    entries = []
    for recipient in dict.fromkeys(keymod.normalize_recipient(r) for r in recipients):
        enc = old_entries.get(recipient) or keymod.wrap(data_key, [recipient])
        entries.append({"recipient": recipient, "enc": enc})
    out[METADATA_KEY] = {
        "age": entries,
        "lastmodified": lastmodified,
        "mac": mac_token,
        "encrypted_regex": layout.encrypted_regex,
        "mac_only_encrypted": True,
        "version": SOPS_VERSION,
    }
    return out


# --- reading --------------------------------------------------------------------------------


def metadata(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = doc.get(METADATA_KEY)
    return meta if isinstance(meta, Mapping) else None


def recipients_of(doc: Mapping[str, Any]) -> tuple[str, ...]:
    meta = metadata(doc)
    if meta is None:
        return ()
    return tuple(
        str(e["recipient"]) for e in meta.get("age") or () if isinstance(e, Mapping) and "recipient" in e
    )


def data_key_of(doc: Mapping[str, Any], identities: Sequence[keymod.Identity]) -> bytes | None:
    """The document's data key if one of ``identities`` is among its recipients."""
    meta = metadata(doc)
    if meta is None or not identities:
        return None
    mine = {i.public for i in identities}
    entries = [e for e in meta.get("age") or () if isinstance(e, Mapping)]
    # Try the entries addressed to our own public keys first: one age decryption, not n.
    entries.sort(key=lambda e: e.get("recipient") not in mine)
    for entry in entries:
        enc = entry.get("enc")
        if isinstance(enc, str) and entry.get("recipient") in mine:
            key = keymod.unwrap(enc, identities)
            if key is not None and len(key) == 32:
                return key
    return None


@dataclass(frozen=True)
class Opened:
    """A document with every value the given keys open decrypted. Values that stay
    encrypted are ``Sealed`` markers; ``sealed`` lists their dotted paths."""

    data: dict[str, Any]
    sealed: tuple[str, ...]
    problems: tuple[str, ...]
    mac_verified: bool

    @property
    def complete(self) -> bool:
        return not self.sealed


def open_document(
    doc: Mapping[str, Any],
    *,
    offer_id: str,
    data_key: bytes | None,
    erasure_keys: Mapping[str, bytes] | None = None,
    readers: str = "",
) -> Opened:
    """Decrypt what can be decrypted. Problems (a plaintext value where the file says
    encrypted, a value that does not decrypt, a MAC mismatch) are messages naming paths,
    never values."""
    meta = metadata(doc)
    in_sops = _regex_tier(str(meta.get("encrypted_regex")) if meta and meta.get("encrypted_regex") else None)
    erasure_keys = erasure_keys or {}
    sealed: list[str] = []
    problems: list[str] = []
    macs: list[Plain] = []

    def leaf(node: Any, keys: tuple[str, ...], pos: tuple[str | int, ...]) -> Any:
        where = _dotted(pos)
        aad = values.sops_path(list(keys))
        if meta is not None and in_sops(keys) and node is not None:
            if node == "":
                return ""
            if not values.is_sops_token(node):
                problems.append(f"{where} is plaintext but the file's sops block says it is encrypted")
                macs.append(node if isinstance(node, str | int | bool) else str(node))
                return node
            if data_key is None:
                sealed.append(where)
                return Sealed(where, "sops", offer_id, readers)
            try:
                value = values.decrypt_sops(node, data_key, aad)
            except CipherProblem as exc:
                problems.append(str(exc).replace(aad, where))
                sealed.append(where)
                return Sealed(where, "sops", offer_id, readers)
            macs.append(value)
            return value
        if node == values.ERASED:
            sealed.append(where)
            return Sealed(where, "erased", offer_id, readers)
        if values.is_erasable_token(node):
            key = erasure_keys.get(values.erasable_kid(node) or "")
            if key is None:
                sealed.append(where)
                return Sealed(where, "erasable", offer_id, readers)
            try:
                return values.decrypt_erasable(node, key, offer_id, aad)
            except CipherProblem as exc:
                problems.append(str(exc).replace(aad, where))
                sealed.append(where)
                return Sealed(where, "erasable", offer_id, readers)
        if values.is_sops_token(node):
            problems.append(f"{where} is encrypted but outside the file's encrypted_regex")
            sealed.append(where)
            return Sealed(where, "sops", offer_id, readers)
        return node

    def walk(node: Any, keys: tuple[str, ...], pos: tuple[str | int, ...]) -> Any:
        if isinstance(node, Mapping):
            return {str(k): walk(v, (*keys, str(k)), (*pos, str(k))) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, keys, (*pos, i)) for i, v in enumerate(node)]
        return leaf(node, keys, pos)

    data = {str(k): walk(v, (str(k),), (str(k),)) for k, v in doc.items() if k != METADATA_KEY}
    mac_verified = False
    if meta is not None and data_key is not None and not problems:
        lm, token = meta.get("lastmodified"), meta.get("mac")
        try:
            if not isinstance(lm, str) or not isinstance(token, str):
                raise CipherProblem("the sops block has no lastmodified/mac")
            expected = values.decrypt_sops(token, data_key, lm)
            if expected != compute_mac(macs):
                problems.append("MAC mismatch: encrypted fields were changed outside offerctl/sops")
            else:
                mac_verified = True
        except CipherProblem as exc:
            problems.append(f"sops.mac: {exc}")
    return Opened(data, tuple(sealed), tuple(problems), mac_verified)


def tokens_at(doc: Mapping[str, Any], dotted: str) -> Any:
    """The stored (possibly encrypted) value at a path: what a keyless check compares to
    prove a covered field is unchanged since an approval."""
    node: Any = doc
    for part in dotted.split("."):
        node = _child(node, int(part) if part.isdigit() and isinstance(node, list) else part)
        if node is None:
            return None
    return node


def restore_tokens(data: Any, stored: Any) -> Any:
    """``data`` (an ``Opened.data`` possibly edited) with every ``Sealed`` marker replaced
    by the stored token at the same place, so a writer without a key can save the file
    without touching what it could not read."""
    if isinstance(data, Sealed):
        return tokens_at(stored, data.path) if isinstance(stored, Mapping) else None
    return _restore(data, stored, stored)


def _restore(node: Any, here: Any, root: Any) -> Any:
    if isinstance(node, Sealed):
        return tokens_at(root, node.path)
    if isinstance(node, Mapping):
        return {k: _restore(v, _child(here, k), root) for k, v in node.items()}
    if isinstance(node, list):
        return [_restore(v, _child(here, i), root) for i, v in enumerate(node)]
    return node


def recompute_mac(doc: Mapping[str, Any], data_key: bytes, now: str) -> tuple[str, str]:
    """``(lastmodified, mac)`` for ``doc`` as it stands — e.g. a merge of two branches that
    changed different encrypted values: every value must decrypt with ``data_key`` (else
    ``CipherProblem``); the MAC is computed as ``seal`` computes it, over the decrypted SOPS
    values in document order, and encrypted with ``now`` as additional data."""
    meta = metadata(doc)
    if meta is None:
        raise CipherProblem("the document has no sops block")
    opened = open_document(doc, offer_id=str(doc.get("id", "")), data_key=data_key)
    problems = [p for p in opened.problems if not p.startswith(("MAC mismatch", "sops.mac"))]
    if problems:
        raise CipherProblem(problems[0])
    in_sops = _regex_tier(str(meta.get("encrypted_regex") or ""))
    macs: list[Plain] = []

    def walk(node: Any, keys: tuple[str, ...]) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, (*keys, str(k)))
        elif isinstance(node, list):
            for v in node:
                walk(v, keys)
        elif in_sops(keys) and node is not None and node != "" and not isinstance(node, Sealed):
            macs.append(node)

    walk(opened.data, ())
    return now, values.encrypt_sops(compute_mac(macs), data_key, now)
