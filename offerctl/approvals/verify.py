"""Whether an approval line's signature counts: the ONE verification every command uses.

``route``, ``status``, ``inbox``, ``approve``, ``send``, ``headroom``, ``remind``, ``report``
and ``check`` (A306/A307) all call :func:`signature_verdict`, so a line CI rejects is never
counted by a local command, and the other way round.

* ``signatures: off`` — signatures are ignored (every line is judged on its other merits).
* ``optional`` — an unsigned line counts; a *signed* line counts only when the signature
  verifies.
* ``required`` — only a line whose signature verifies counts.

A signature verifies when ``ssh-keygen -Y verify`` (namespace ``offerctl-approval@v1``)
accepts it over ``{offer, role, by, at, digest}`` with the key ``policies/approvers.yaml``
lists for ``by``; a key under ``revoked_keys`` never verifies, whatever date the line
claims. The key that made the signature (read from the signature itself) names the signer:
a signature by another person's key, or by a key listed for nobody, is refused before
ssh-keygen runs.

``ssh-keygen`` is one process per signature (~5 ms), and routing evaluates the same lines
many times in one run (``headroom`` routes dozens of what-ifs), so results are memoised by
(payload, signature, key): a pure function of its inputs, never of the run.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offerctl.approvals import binding

MODES = ("off", "optional", "required")


def key_body(key: str) -> str:
    """The algorithm and base64 part of an OpenSSH public key (comments never matter)."""
    return " ".join(key.split()[:2])


@dataclass(frozen=True)
class Keyring:
    """What verification needs from the policy in force: the mode, each person's key and
    the revoked keys (``policy.routing.PolicySet.keyring`` builds it)."""

    mode: str = "optional"
    keys: Mapping[str, str] = field(default_factory=dict)
    """email (lower case) → ``<algorithm> <base64>``"""
    revoked: frozenset[str] = frozenset()

    @functools.cached_property
    def owners(self) -> dict[str, str]:
        return {body: email for email, body in self.keys.items()}

    def key_of(self, email: str) -> str | None:
        return self.keys.get(email.lower())


@dataclass(frozen=True)
class Verdict:
    ok: bool
    code: str = ""
    """``A306`` (missing, malformed, wrong key, does not verify) or ``A307`` (revoked key)."""
    reason: str = ""
    signed: bool = False


OK = Verdict(True)


def signer_key(sig: str) -> str | None:
    """The public key (``<algorithm> <base64>``, as in approvers.yaml) that made an SSH
    signature, read from the signature itself (``SSHSIG`` format, PROTOCOL.sshsig); None when
    ``sig`` is not one. Used to say *whose* key signed; ``ssh-keygen -Y verify`` decides."""
    try:
        blob = base64.b64decode(sig.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if not blob.startswith(b"SSHSIG") or len(blob) < 14:
        return None
    size = int.from_bytes(blob[10:14], "big")
    key = blob[14 : 14 + size]
    if len(key) != size or len(key) < 4:
        return None
    alg_size = int.from_bytes(key[:4], "big")
    algorithm = key[4 : 4 + alg_size].decode("ascii", "replace")
    return f"{algorithm} {base64.b64encode(key).decode('ascii')}"


@functools.lru_cache(maxsize=8192)
def _verified(payload: bytes, sig: str, email: str, key: str) -> bool:
    return binding.verify(payload, sig, email, key)


def signature_verdict(offer_id: str, line: Mapping[str, Any], keyring: Keyring) -> Verdict:
    """Whether ``line`` (an approval of offer ``offer_id``) may count as far as its
    signature goes, with the code and reason CI reports when it may not."""
    if keyring.mode == "off":
        return OK
    by = str(line.get("by", "")).lower()
    sig = line.get("sig")
    if not sig:
        if keyring.mode == "required":
            return Verdict(
                False,
                "A306",
                "it is not signed and policies/routing.yaml requires signatures; "
                "approve again with `offerctl approve --sign-key`",
            )
        return OK
    signer = signer_key(str(sig))
    if signer is None:
        return Verdict(False, "A306", "sig is not an SSH signature", True)
    if signer in keyring.revoked:
        return Verdict(
            False,
            "A307",
            "it is signed with a key revoked in policies/approvers.yaml; a revoked key never "
            "verifies, whatever date the approval claims — approve again with a current key",
            True,
        )
    owner = keyring.owners.get(signer)
    if owner is None:
        return Verdict(
            False,
            "A306",
            f"it is signed with a key ({signer.split()[0]} …{signer[-12:]}) that "
            "policies/approvers.yaml lists for nobody",
            True,
        )
    if owner != by:
        return Verdict(
            False,
            "A306",
            f"it is signed with {owner}'s key: the signer is the identity, and it is not {by}",
            True,
        )
    payload = binding.signing_payload(
        offer_id, str(line.get("role")), by, str(line.get("at")), str(line.get("digest"))
    )
    if not _verified(payload, str(sig), by, signer):
        return Verdict(
            False,
            "A306",
            f"{by}'s signature does not cover this approval — it was made for another offer, "
            f"role, time or set of terms (digest); namespace {binding.NAMESPACE}",
            True,
        )
    return Verdict(True, signed=True)


__all__ = ["MODES", "OK", "Keyring", "Verdict", "key_body", "signature_verdict", "signer_key"]
