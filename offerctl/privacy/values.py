"""One encrypted value: the SOPS ``ENC[AES256_GCM,…]`` form and offerctl's erasable form.

SOPS value format (read from getsops/sops ``aes/cipher.go``; our own code):
``ENC[AES256_GCM,data:<b64 ciphertext>,iv:<b64 32-byte nonce>,tag:<b64 16-byte tag>,type:<t>]``
AES-256-GCM with the value's key path as additional data (``a:b:c:``, list indexes left
out), so a value cannot be moved to another field. ``type`` is ``str``, ``int``, ``float`` or
``bool``; the plaintext is the value's text (``True``/``False`` for booleans, as SOPS writes).

Money: a Decimal is written as ``type:float`` whose plaintext is the *exact* decimal text
(``85000.50``). offerctl parses that text straight into a Decimal, so money never passes
through a binary float; stock SOPS and sops-age read it as a number. For the MAC, a float
contributes the text Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` gives (what SOPS
recomputes after parsing), so stock SOPS verifies our MAC.

Erasable values use ``ENC[OFFERCTL_ERASABLE,kid:<id>,data:…,iv:…,tag:…,type:<t>]`` under a
per-offer erasure key kept outside git history. Neither SOPS nor sops-age touches a value
that does not start with ``ENC[AES256_GCM,``, and offerctl keeps erasable fields outside the
file's ``encrypted_regex``.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from offerctl.core.errors import UsageError
from offerctl.core.model import Unreadable

SOPS_PREFIX = "ENC[AES256_GCM,"
ERASABLE_PREFIX = "ENC[OFFERCTL_ERASABLE,"
ERASED = "ERASED"
"""What ``erase`` leaves in place of an erasable value in the current file."""

NONCE_SIZE = 32  # SOPS uses a 256-bit nonce with GCM
_SOPS_RE = re.compile(r"^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]$")
_ERASABLE_RE = re.compile(
    r"^ENC\[OFFERCTL_ERASABLE,kid:([A-Za-z0-9_-]+),data:(.*),iv:(.+),tag:(.+),type:(.+)\]$"
)


class CipherProblem(Exception):
    """A value that cannot be decrypted: wrong key, damaged or moved ciphertext. The
    message names the field path, never a value."""


Plain = str | int | bool | Decimal


def is_sops_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SOPS_PREFIX)


def is_erasable_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(ERASABLE_PREFIX)


def is_token(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(SOPS_PREFIX) or value.startswith(ERASABLE_PREFIX))


def sops_path(keys: tuple[str, ...] | list[str]) -> str:
    """The additional data SOPS binds a value to: ``compensation:base_salary:``."""
    return ":".join(keys) + ":"


# --- typed plaintext --------------------------------------------------------------------------


def go_float_text(value: Decimal) -> str:
    """What Go's ``strconv.FormatFloat(float64(v), 'f', -1, 64)`` prints: the shortest text
    that reads back as the same binary float, never an exponent."""
    number = float(value)
    if number == 0:
        return "-0" if str(number).startswith("-") else "0"
    text = format(Decimal(repr(number)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def encode(value: Plain) -> tuple[bytes, str]:
    """(plaintext bytes, SOPS type) for one value."""
    if isinstance(value, bool):
        return (b"True" if value else b"False"), "bool"
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return str(value).encode(), "int"
        return str(value).encode(), "str"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CipherProblem("only finite numbers can be encrypted")
        return format(value, "f").encode(), "float"
    if isinstance(value, str):
        return value.encode("utf-8"), "str"
    raise CipherProblem(f"cannot encrypt a value of type {type(value).__name__}")


def decode(raw: bytes, kind: str) -> Plain:
    text = raw.decode("utf-8")
    if kind == "str":
        return text
    if kind == "int":
        return int(text)
    if kind == "float":
        try:
            return Decimal(text)
        except InvalidOperation:
            raise CipherProblem("a float value that is not a number") from None
    if kind == "bool":
        if text in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if text in ("0", "f", "F", "FALSE", "false", "False"):
            return False
        raise CipherProblem("a bool value that is not a boolean")
    if kind in ("time", "comment", "bytes"):
        return text
    raise CipherProblem(f"unknown value type {kind!r}")


def mac_bytes(value: Plain) -> bytes:
    """The bytes SOPS's MAC hashes for a decrypted value (Go ``sops.ToBytes``)."""
    if isinstance(value, Decimal):
        return go_float_text(value).encode()
    return encode(value)[0]


# --- the two token forms ----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise CipherProblem(f"{what} is not base64") from None


def _seal(key: bytes, raw: bytes, aad: bytes, nonce: bytes | None) -> tuple[bytes, bytes, bytes]:
    iv = nonce if nonce is not None else os.urandom(NONCE_SIZE)
    out = AESGCM(key).encrypt(iv, raw, aad)
    return out[:-16], iv, out[-16:]


def _open(key: bytes, data: bytes, iv: bytes, tag: bytes, aad: bytes, where: str) -> bytes:
    try:
        return AESGCM(key).decrypt(iv, data + tag, aad)
    except InvalidTag:
        raise CipherProblem(
            f"{where}: the value does not decrypt with this key (wrong key, or the "
            "ciphertext was changed or moved)"
        ) from None
    except ValueError as exc:
        raise CipherProblem(f"{where}: {exc}") from None


def encrypt_sops(value: Plain, key: bytes, aad: str, *, nonce: bytes | None = None) -> str:
    """One SOPS value. ``aad`` is the key path (``sops_path``) or, for the MAC, the
    ``lastmodified`` timestamp. The empty string stays empty, as in SOPS."""
    if value == "" and isinstance(value, str):
        return ""
    raw, kind = encode(value)
    data, iv, tag = _seal(key, raw, aad.encode("utf-8"), nonce)
    return f"ENC[AES256_GCM,data:{_b64(data)},iv:{_b64(iv)},tag:{_b64(tag)},type:{kind}]"


def decrypt_sops(token: str, key: bytes, aad: str) -> Plain:
    if token == "":
        return ""
    match = _SOPS_RE.match(token)
    if not match:
        raise CipherProblem(f"{aad} is not a SOPS encrypted value")
    data, iv, tag, kind = match.groups()
    raw = _open(key, _unb64(data, aad), _unb64(iv, aad), _unb64(tag, aad), aad.encode("utf-8"), aad)
    return decode(raw, kind)


def erasable_aad(offer_id: str, aad_path: str) -> bytes:
    return f"offerctl-erasable:v1:{offer_id}:{aad_path}".encode()


def encrypt_erasable(
    value: Plain, key: bytes, kid: str, offer_id: str, aad_path: str, *, nonce: bytes | None = None
) -> str:
    """An erasable value, bound to its offer and field. Unlike SOPS, the empty string is
    encrypted too (its emptiness is personal data as well)."""
    raw, kind = encode(value)
    data, iv, tag = _seal(key, raw, erasable_aad(offer_id, aad_path), nonce)
    return f"ENC[OFFERCTL_ERASABLE,kid:{kid},data:{_b64(data)},iv:{_b64(iv)},tag:{_b64(tag)},type:{kind}]"


def erasable_kid(token: str) -> str | None:
    match = _ERASABLE_RE.match(token)
    return match.group(1) if match else None


def decrypt_erasable(token: str, key: bytes, offer_id: str, aad_path: str) -> Plain:
    match = _ERASABLE_RE.match(token)
    if not match:
        raise CipherProblem(f"{aad_path} is not an erasable encrypted value")
    _kid, data, iv, tag, kind = match.groups()
    raw = _open(
        key,
        _unb64(data, aad_path),
        _unb64(iv, aad_path),
        _unb64(tag, aad_path),
        erasable_aad(offer_id, aad_path),
        aad_path,
    )
    return decode(raw, kind)


class NeedsKey(UsageError):
    """A command needed the plaintext of an encrypted field it cannot decrypt (exit 2).
    The message names the field and who can read the offer, never a value."""


@dataclass(frozen=True, eq=False)
class Sealed(Unreadable):
    """What the loader leaves where a value could not be decrypted.

    Printing it shows the marker (angle-quoted "encrypted" or "erased"): listing and status work.
    Computing with it (comparing, adding, converting to a number) raises ``NeedsKey`` so a
    command that needs the plaintext stops with exit 2 instead of using a wrong value.
    """

    path: str
    tier: str  # "sops" | "erasable" | "erased"
    offer_id: str = ""
    readers: str = ""

    def __str__(self) -> str:
        return "\u2039erased\u203a" if self.tier == "erased" else "\u2039encrypted\u203a"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def needs_key(self) -> NeedsKey:
        offer = f"{self.offer_id}: " if self.offer_id else ""
        if self.tier == "erased":
            return NeedsKey(
                f"{offer}{self.path} was erased; this command needs its value",
                hint="erased values cannot be recovered",
            )
        who = f" ({self.readers})" if self.readers else ""
        return NeedsKey(
            f"{offer}{self.path} is encrypted and none of your keys can read it",
            hint=f"run this as a reader of the offer{who}; `offerctl readers {self.offer_id or 'ID'}` "
            "lists them. Keys are read from OFFERCTL_AGE_KEY_FILE, OFFERCTL_AGE_KEY, SOPS_AGE_KEY_FILE, "
            "SOPS_AGE_KEY, the sops keys.txt or ~/.ssh/id_ed25519",
        )

    def refuse(self) -> Exception:
        return self.needs_key()

    def _refuse(self, *_args: Any) -> Any:
        raise self.needs_key()

    __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __neg__ = __abs__ = _refuse
    __float__ = __int__ = __index__ = _refuse

    def __hash__(self) -> int:
        return hash((self.path, self.tier, self.offer_id))
