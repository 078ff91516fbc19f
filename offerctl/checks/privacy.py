"""Checks of confidential offers (V7xx, docs/findings.md).

``file_findings`` runs inside the cached, keyless check of one file: plaintext left in a
field the configuration encrypts (V704), offers past their retention period (V703).
``privacy_pass`` runs after the cache, with the user's keys: integrity of the encrypted
values (V702), then the checks that read encrypted values on the opened offer with their
messages redacted — or, without a reader's key, one V701 notice per check it skipped, so a
keyless ``check`` never passes silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from offerctl.checks.context import Context, OfferCheck
from offerctl.core.errors import OfferctlError
from offerctl.core.model import Finding, Offer, Severity
from offerctl.privacy import erasure, values
from offerctl.store import loader
from offerctl.store import privacy as store_privacy

_NUMBER = re.compile(r"\d(?:[\d,.\u00a0\u202f' ]*\d)?")


def file_findings(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """V703 (warning): a closed offer past its retention period still holds erasable data.
    V704 (error): privacy is enabled but a field it encrypts holds plaintext.

    Passing: a declined offer erased within its retention period.
    Failing: `compensation.base_salary: 185000` in plain text after privacy was enabled."""
    try:
        config = store_privacy.session(ctx.repo).config
    except OfferctlError:
        return  # a broken privacy section is reported once, with offerctl.yaml
    raw = store_privacy.raw_of(offer)
    if config.enabled:
        layout = config.layout()
        plain = [
            ".".join(k)
            for k, v in store_privacy.walk_leaves(raw)
            if k[:1] not in (("sops",), ("approvals",), ("events",))
            and layout.tier(k) is not None
            and v not in (None, "", values.ERASED)
            and not values.is_token(v)
        ]
        if plain:
            shown = ", ".join(sorted(set(plain))[:4]) + (" …" if len(set(plain)) > 4 else "")
            yield ctx.finding(
                offer,
                plain[0].split(".")[0],
                "V704",
                f"{len(plain)} value(s) in encrypted fields are plaintext ({shown}); "
                "run `offerctl rekey` to encrypt them",
            )
    due = erasure.retention_due(raw, config)
    if due is not None and due <= ctx.as_of:
        yield ctx.finding(
            offer,
            "status",
            "V703",
            f"{offer.status} offer past its retention period (due {due.isoformat()}): its candidate data "
            f"should be erased; `offerctl erase --expired` does it",
            Severity.WARNING,
        )


def _redact(message: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 2:
            message = message.replace(secret, "\u2039encrypted\u203a")
    return _NUMBER.sub("\u2039n\u203a", message)


def _plain_leaves(raw: Any, opened: Any) -> list[str]:
    out: list[str] = []
    if isinstance(raw, dict) and isinstance(opened, dict):
        for key, value in raw.items():
            out.extend(_plain_leaves(value, opened.get(key)))
    elif isinstance(raw, list) and isinstance(opened, list):
        for a, b in zip(raw, opened, strict=False):
            out.extend(_plain_leaves(a, b))
    elif values.is_token(raw) and not isinstance(opened, values.Sealed) and opened is not None:
        out.append(str(opened))
    return out


def privacy_pass(ctx: Context, rels: Sequence[str], value_checks: Iterable[OfferCheck]) -> list[Finding]:
    """V701 (warning): a check skipped on a confidential offer because no key here opens it
    (the message names the check and who can read the offer). V702 (error): an encrypted
    value that does not decrypt with the offer's key, plaintext where the file says
    encrypted, or a MAC mismatch (changed outside offerctl/sops).

    Passing: `check` with the CI key on an untouched confidential offer.
    Failing: a `base_salary` ciphertext copied from another field (V702)."""
    checks = [c for c in value_checks]
    out: list[Finding] = []
    for rel in rels:
        # ``rels`` passed schema validation in this run's (cached) keyless pass: parse only
        data = loader.read_data(ctx.repo.root, rel)
        if not isinstance(data, dict):
            continue
        offer = store_privacy.open_offer(ctx.repo, rel, data, extra={"valid": True})
        for problem in offer.extra.get("privacy_problems") or ():
            out.append(ctx.finding(offer, "sops", "V702", problem))
        sealed = [p for p in offer.extra.get("sealed") or () if not _erased(data, p)]
        if sealed:
            out.extend(covered_ciphertexts(ctx, offer))
        secrets = _plain_leaves(data, offer.data)
        for check in checks:
            name = check.__name__.removeprefix("check_").replace("_", " ")
            if sealed and _needs(check, sealed):
                out.append(_skipped(ctx, offer, name, sealed))
                continue
            try:
                found = list(check(ctx, offer))
            except OfferctlError:  # an Unreadable value refused (erased data, missing key)
                out.append(_skipped(ctx, offer, name, sealed or ["an erased field"]))
                continue
            for f in found:
                out.append(Finding(f.path, f.line, f.code, _redact(f.message, secrets), f.severity, f.offer))
    return out


def covered_ciphertexts(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """V705 (error), without a key: an approval's covered fields as stored (ciphertexts)
    differ from what it recorded (``sealed``): a covered encrypted field changed since the
    approval. Unchanged values keep their ciphertext, so no key is needed to see this.

    Passing: an approved offer whose compensation ciphertexts are the approved ones.
    Failing: the same offer after `base_salary` was re-encrypted with another value."""
    from offerctl.approvals import binding

    raw = store_privacy.raw_of(offer)
    policy = ctx.policy_set
    for index, line in enumerate(raw.get("approvals") or []):
        if not isinstance(line, dict) or not isinstance(line.get("sealed"), str):
            continue
        rules = [r for r in line.get("rules") or [] if isinstance(r, str)]
        covers = sorted({c for rid in rules if (rule := policy.rule(rid)) for c in rule.covers})
        if covers and binding.sealed_digest(raw, covers) != line["sealed"]:
            yield ctx.finding(
                offer,
                f"approvals.{index}",
                "V705",
                f"approval by {line.get('by')} as {line.get('role')}: a field it covers "
                f"({', '.join(covers)}) changed since it was given (ciphertexts differ); "
                "a reader's key shows which",
            )


def _erased(raw: Any, dotted: str) -> bool:
    from offerctl.privacy.document import tokens_at

    return bool(tokens_at(raw, dotted) == values.ERASED)


def _needs(check: OfferCheck, sealed: Sequence[str]) -> bool:
    """Whether ``check`` reads one of the sealed paths (conservative: letters read all)."""
    tops = {p.split(".")[0] for p in sealed}
    if check.__name__ == "check_offer_letter":
        return True
    return bool(tops - {"candidate"})


def _skipped(ctx: Context, offer: Offer, name: str, sealed: Sequence[str]) -> Finding:
    raw = store_privacy.raw_of(offer)
    s = store_privacy.session(ctx.repo)
    readers = s.readers_text(raw)
    tops = {p.split(".")[0] for p in sealed}
    fields = ", ".join(sorted(tops))
    why = f"it needs encrypted fields ({fields}) that none of this run's keys opens"
    if tops <= {"candidate"} and s.identities() and s.store_missing():
        why = f"it needs the candidate's erasure key, but {s.missing_store_text()}"
    return ctx.finding(
        offer,
        "sops" if "sops" in raw else "id",
        "V701",
        f"skipped the {name} check: {why}; readers: {readers}",
        Severity.WARNING,
    )


def seed_findings(repo: Any) -> list[Finding]:
    """V711 (error): the demo seed of the erasure key store (``privacy.key_store.seed``) is
    missing or holds a file that is not a valid key store entry (schema, file name = offer).

    Passing: the bundled example's examples/keys/keystore/.
    Failing: an entry whose ``kid`` is not 16 hex digits, or OFF-1.json holding OFF-2's key."""
    from offerctl.store.keyref import seed_entries

    try:
        seed = store_privacy.session(repo).config.seed
    except OfferctlError:
        return []
    if seed is None:
        return []
    if not (repo.root / seed).is_dir():
        return [
            Finding(
                "offerctl.yaml",
                None,
                "V711",
                f"privacy.key_store.seed: {seed}/ is not a directory; create it with `offerctl rekey` "
                "or remove key_store.seed",
            )
        ]
    _, problems = seed_entries(repo.root, seed)
    return [
        Finding(rel, None, "V711", f"not a usable key store entry: {problem}; the seed ignores it")
        for rel, problem in problems
    ]
