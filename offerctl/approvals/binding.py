"""What an approval is bound to, and whether it still holds.

* ``digest(offer_data, covers)``: sha256 of the canonical JSON of the covered fields. Keys
  sorted, no whitespace, numbers written exactly from int/Decimal (``185000`` and
  ``185000.00`` are the same amount), so YAML formatting, quoting and comments never change it.
* Staleness: a digest that no longer matches means a covered field changed. To say *which*
  field, and to apply a rule's tolerance, the approved version is reconstructed — first by
  undoing the ``changes`` of later ``revised`` events, else from git history (the first
  version of the file carrying that digest).
* Signatures: ``ssh-keygen -Y sign`` with the namespace ``offerctl-approval@v1`` over the
  canonical JSON of ``{offer, role, by, at, digest}``; verified against the key listed for
  the approver in ``policies/approvers.yaml``.
"""

from __future__ import annotations

import copy
import hashlib
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import get_path, to_decimal
from offerctl.store import git

NAMESPACE = "offerctl-approval@v1"
_MISSING = object()


# --- canonical JSON and digests -----------------------------------------------------------


def _number(value: int | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, exact numbers (Decimal-safe). An encrypted
    value nobody opened cannot be digested: it raises (exit 2) rather than hash a marker."""
    import json

    from offerctl.core.model import Unreadable

    if isinstance(value, Unreadable):
        raise value.refuse()

    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | Decimal):
        return _number(value)
    if isinstance(value, float):  # never produced by the loader; kept exact via repr
        return _number(Decimal(repr(value)))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def covered(offer_data: Mapping[str, Any], covers: Iterable[str]) -> dict[str, Any]:
    return {path: get_path(offer_data, path) for path in sorted(set(covers))}


def digest(offer_data: Mapping[str, Any], covers: Iterable[str], *, scheme: str | None = None) -> str:
    """``sha256:<hex>`` of the canonical JSON of the covered fields — or, for a confidential
    offer (one with ``privacy.digest_key``), ``hmac-sha256:<hex>`` keyed per offer so that a
    guessed salary cannot be confirmed against it (docs/privacy.md). ``scheme`` (``sha256``
    or ``hmac-sha256``, from the approval being checked) keeps approvals given before privacy
    was enabled verifiable. A keyed digest of an offer read without its key raises (exit 2)."""
    text = canonical(covered(offer_data, covers))
    root = get_path(offer_data, "privacy.digest_key")
    if scheme is None:
        scheme = "hmac-sha256" if root is not None else "sha256"
    if scheme == "hmac-sha256":
        import base64

        from offerctl.core.model import Unreadable
        from offerctl.privacy import digest as keyed

        if isinstance(root, Unreadable):
            raise root.refuse()
        if not isinstance(root, str):
            return "hmac-sha256:(no digest key)"
        key = keyed.derive_key(base64.b64decode(root), str(offer_data.get("id", "")))
        return keyed.keyed_digest(text, key)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def scheme_of(approval_digest: Any) -> str | None:
    """The digest scheme an approval line uses (None when it is not a known one)."""
    if isinstance(approval_digest, str) and ":" in approval_digest:
        head = approval_digest.split(":", 1)[0]
        return head if head in ("sha256", "hmac-sha256") else None
    return None


def sealed_digest(stored: Mapping[str, Any], covers: Iterable[str]) -> str:
    """``sha256`` of the covered fields *as stored* (ciphertexts): recorded with an approval
    of a confidential offer so that anyone can check, without a key, that nothing it covers
    changed (unchanged values keep their ciphertext). Reveals nothing about the values."""
    text = canonical(covered(stored, covers))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def leaves(value: Any, prefix: str) -> dict[str, Any]:
    """Leaf paths under ``prefix`` (lists compared whole)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(leaves(child, f"{prefix}.{key}"))
        return out
    return {prefix: value}


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any], covers: Iterable[str]) -> list[str]:
    """Covered leaf fields whose value differs (exact: 185000 == 185000.00)."""
    changed: list[str] = []
    for path in sorted(set(covers)):
        before, after = leaves(get_path(old, path), path), leaves(get_path(new, path), path)
        for leaf in sorted(set(before) | set(after)):
            if canonical(before.get(leaf)) != canonical(after.get(leaf)):
                changed.append(leaf)
    return changed


def within_tolerance(old: Any, new: Any, tolerance: Mapping[str, Any]) -> bool:
    """A move of ``new - old`` (either direction) no larger than ``pct`` % of the approved
    value or ``amount``; both given: the larger allowance applies."""
    before, after = to_decimal(old), to_decimal(new)
    if before is None or after is None:
        return False
    allowed = Decimal(0)
    if tolerance.get("pct") is not None:
        allowed = max(allowed, abs(before) * (to_decimal(tolerance["pct"]) or Decimal(0)) / 100)
    if tolerance.get("amount") is not None:
        allowed = max(allowed, to_decimal(tolerance["amount"]) or Decimal(0))
    return abs(after - before) <= allowed


def tolerance_bounds(old: Any, tolerance: Mapping[str, Any]) -> tuple[Decimal, Decimal] | None:
    before = to_decimal(old)
    if before is None:
        return None
    allowed = Decimal(0)
    if tolerance.get("pct") is not None:
        allowed = max(allowed, abs(before) * (to_decimal(tolerance["pct"]) or Decimal(0)) / 100)
    if tolerance.get("amount") is not None:
        allowed = max(allowed, to_decimal(tolerance["amount"]) or Decimal(0))
    return before - allowed, before + allowed


# --- the approved version ----------------------------------------------------------------


def undo_revisions(data: Mapping[str, Any], events: Sequence[Mapping[str, Any]], at: str) -> dict[str, Any]:
    """The offer as it was at ``at``: later ``revised`` events' changes undone, newest first."""
    from offerctl.core.model import set_path

    restored: dict[str, Any] = copy.deepcopy(dict(data))
    later = [e for e in events if isinstance(e, Mapping) and str(e.get("at", "")) > at and e.get("changes")]
    for event in reversed(later):
        for change in reversed(event.get("changes") or []):
            if not isinstance(change, Mapping) or not change.get("field"):
                continue
            field_path = str(change["field"])
            if change.get("old") is None:
                parent = (
                    get_path(restored, ".".join(field_path.split(".")[:-1]))
                    if "." in field_path
                    else restored
                )
                if isinstance(parent, dict):
                    parent.pop(field_path.split(".")[-1], None)
            else:
                set_path(restored, field_path, change["old"])
    return restored


def approved_version_from_history(root: Path, rel: str, approval_digest: str) -> dict[str, Any] | None:
    """The first committed version of the offer file that carries ``approval_digest``."""
    from offerctl.store import yamlio

    needle = approval_digest.encode("ascii")
    for commit in git.file_commits(root, rel):
        content = git.show_file(root, commit, rel)
        if content is None or needle not in content:
            continue
        try:
            data = yamlio.load(content)
        except yamlio.YamlProblem:
            return None
        return data if isinstance(data, dict) else None
    return None


# --- signatures --------------------------------------------------------------------------


def signing_payload(offer_id: str, role: str, by: str, at: str, approval_digest: str) -> bytes:
    return canonical(
        {"offer": offer_id, "role": role, "by": by, "at": at, "digest": approval_digest}
    ).encode()


_BEGIN, _END = "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"


def _ssh_keygen(args: list[str], payload: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["ssh-keygen", *args], input=payload, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("ssh-keygen is not installed", hint="install OpenSSH (ssh-keygen >= 8.1)") from None


def sign(payload: bytes, key_path: Path) -> str:
    """An SSH signature over ``payload``; stored as its base64 body (armour and newlines removed)."""
    if not key_path.is_file():
        raise UsageError(
            f"signing key {key_path} does not exist", hint="pass --sign-key PATH to a private key"
        )
    proc = _ssh_keygen(["-Y", "sign", "-q", "-f", str(key_path), "-n", NAMESPACE], payload)
    if proc.returncode != 0:
        raise Refused(
            f"ssh-keygen could not sign: {proc.stderr.decode(errors='replace').strip()}",
            hint="check the key file and its passphrase (use ssh-agent for protected keys)",
        )
    armored = proc.stdout.decode("ascii")
    return "".join(line.strip() for line in armored.splitlines() if line and not line.startswith("-----"))


def verify(payload: bytes, sig: str, email: str, public_key: str) -> bool:
    body = "\n".join(sig[i : i + 70] for i in range(0, len(sig), 70))
    with tempfile.TemporaryDirectory(prefix="offerctl-sig-") as tmp:
        sig_path, signers = Path(tmp) / "sig", Path(tmp) / "allowed_signers"
        sig_path.write_text(f"{_BEGIN}\n{body}\n{_END}\n")
        signers.write_text(f'{email} namespaces="{NAMESPACE}" {" ".join(public_key.split()[:2])}\n')
        proc = _ssh_keygen(
            ["-Y", "verify", "-f", str(signers), "-I", email, "-n", NAMESPACE, "-s", str(sig_path)], payload
        )
    return proc.returncode == 0


__all__ = [
    "NAMESPACE",
    "approved_version_from_history",
    "canonical",
    "changed_fields",
    "digest",
    "sign",
    "signing_payload",
    "undo_revisions",
    "verify",
    "within_tolerance",
]
