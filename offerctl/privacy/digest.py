"""Keyed approval digests over encrypted fields.

A plain SHA-256 of ``{"compensation.base_salary": 185000}`` can be confirmed by anyone who
tries a few hundred thousand plausible salaries. For an offer with encrypted fields the
approval digest is ``hmac-sha256:<hex>``: HMAC-SHA256 over the same canonical JSON, keyed with
a per-offer key derived (HKDF-SHA256, info ``offerctl-approval-digest`` + offer id) from the
offer's digest root. The root is 32 random bytes stored *encrypted* in the offer
(``privacy.digest_key``, a SOPS field), so only the offer's readers can compute or check a
digest, and it survives data-key rotation (approvals are signed over their digest and must
stay verifiable).
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LABEL = b"offerctl-approval-digest"
PREFIX = "hmac-sha256:"


def new_root() -> bytes:
    return os.urandom(32)


def derive_key(root: bytes, offer_id: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL + b"\x00" + offer_id.encode("utf-8")
    ).derive(root)


def keyed_digest(canonical_json: str, key: bytes) -> str:
    return PREFIX + hmac.new(key, canonical_json.encode("utf-8"), hashlib.sha256).hexdigest()


def is_keyed(digest: str) -> bool:
    return digest.startswith(PREFIX)


def matches(digest: str, canonical_json: str, key: bytes) -> bool:
    return hmac.compare_digest(digest, keyed_digest(canonical_json, key))
