"""Confidential offers as commands (docs/privacy.md): who reads an offer (``readers``),
bringing every offer in line with the configuration (``rekey``), and erasure of candidate
data by destroying its key (``erase``, ``erase --expired``). Values in, values out; the CLI
prints them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offerctl.core.clock import today, utc_now
from offerctl.core.errors import Refused, UsageError
from offerctl.core.model import Offer
from offerctl.privacy import document, erasure
from offerctl.privacy import keys as keymod
from offerctl.privacy.config import Readers
from offerctl.store import git, loader, yamlio
from offerctl.store import privacy as store_privacy
from offerctl.store.edit import OfferEdit
from offerctl.store.repo import Repo


def _approvers(repo: Repo, offer: Offer) -> dict[str, list[str]]:
    """Everyone the offer's routing asks (or may ask) to approve: they read what they approve."""
    from offerctl.lifecycle.approval_flow import approvers_of
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route

    policy, _ = load_policy_set(repo)
    try:
        result = route(repo, policy, offer)
    except UsageError:  # rules read values no key here opens: keep the file's readers
        return {}
    return approvers_of(result)


@dataclass(frozen=True)
class ReadersReport:
    offer: str
    readers: Readers
    recipients_now: tuple[str, ...]
    encrypted: bool

    def as_json(self) -> dict[str, Any]:
        expected = set(self.readers.recipients)
        return {
            "offer": self.offer,
            "encrypted": self.encrypted,
            "readers": [r.as_json() for r in self.readers.readers],
            "recipients": list(self.recipients_now),
            "missing_from_file": sorted(expected - set(self.recipients_now)),
            "not_readers_any_more": sorted(set(self.recipients_now) - expected),
        }


def readers(repo: Repo, offer_id: str) -> ReadersReport:
    """Who can read ``offer_id`` and why (reader rules, role in the offer, routing), and whom
    the file is encrypted for now (a difference means: run ``offerctl rekey``)."""
    offer = loader.load_offer(repo, offer_id)
    raw = store_privacy.raw_of(offer)
    s = store_privacy.session(repo)
    found = s.readers(raw, _approvers(repo, offer))
    return ReadersReport(
        offer.id, found, document.recipients_of(raw), store_privacy.has_encrypted_values(raw)
    )


@dataclass
class RekeyResult:
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commit: str | None = None
    seeded: list[str] = field(default_factory=list)
    """Seed entries (``privacy.key_store.seed``) written or refreshed by this rekey."""
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "unchanged": self.unchanged,
            "skipped": [{"offer": o, "reason": r} for o, r in self.skipped],
            "warnings": self.warnings,
            "seeded": self.seeded,
            "notes": self.notes,
            "commit": self.commit,
        }


def rekey(repo: Repo, actor: git.Identity, *, rotate: bool = False, commit: bool = True) -> RekeyResult:
    """Bring every offer in line with ``privacy:`` in one commit: encrypt plaintext fields,
    wrap data keys for exactly the offer's readers now, and with ``rotate`` new data keys."""
    s = store_privacy.session(repo)
    if not s.config.enabled:
        raise UsageError(
            "privacy is not enabled in offerctl.yaml",
            hint="add `privacy: {enabled: true, ...}` (docs/privacy.md)",
        )
    result = RekeyResult()
    writes: list[tuple[str, str]] = []
    had_plain = 0
    removed: set[str] = set()
    kept: list[str] = []
    for rel in loader.offer_files(repo):
        doc = loader.read_file("offer", repo.root, rel)
        if not isinstance(doc.data, dict):
            result.skipped.append((rel, "not a readable offer"))
            continue
        offer = store_privacy.open_offer(repo, rel, doc.data)
        raw = store_privacy.raw_of(offer)
        encrypted_before = store_privacy.has_encrypted_values(raw)
        if offer.extra.get("sealed") and any(not p.startswith("candidate") for p in offer.extra["sealed"]):
            result.skipped.append((offer.id, f"none of your keys opens it (readers: {s.readers_text(raw)})"))
            continue
        kept.append(offer.id)
        edit = OfferEdit.open(repo, offer.id)
        before_recipients = set(document.recipients_of(raw))
        recipients = store_privacy.seal_into(
            repo,
            offer.id,
            edit.doc,
            edit.original,
            _approvers(repo, offer),
            rotate=rotate,
            exact_readers=True,
        )
        text = yamlio.RoundTrip().dump(edit.doc)
        removed |= before_recipients - set(recipients)
        if text == edit.original:
            result.unchanged += 1
            continue
        if not encrypted_before:
            had_plain += 1
        loader.read_document("offer", rel, text.encode("utf-8"))
        writes.append((rel, text))
        result.changed.append(offer.id)
        store = s.store()
        if store.get(offer.id) is not None:  # the erasure key follows the offer's readers
            key = store.unwrap(offer.id, s.identities())
            if key is not None:
                store.put(offer.id, key, recipients)
    s.store().save("offerctl: rekey")
    seed_writes = _seed_writes(repo, kept)
    result.seeded = [rel for rel, _ in seed_writes]
    if had_plain:
        result.warnings.append(
            f"{had_plain} offer(s) were plaintext until now: their earlier versions stay readable in git "
            "history. Removing them takes a history rewrite (git filter-repo over offers/, a force-push, "
            "every clone re-cloned, approvals re-verified); offerctl does not do that for you"
        )
    if removed:
        result.warnings.append(
            f"{len(removed)} key(s) no longer read some offers, but versions already in history stay "
            "readable to them"
            + ("" if rotate else "; `offerctl rekey --rotate` gives future values new data keys")
        )
    if writes or seed_writes:
        for rel, text in [*writes, *seed_writes]:
            yamlio.atomic_write(repo.root / rel, text)
        paths = [rel for rel, _ in [*writes, *seed_writes]]
        if commit:
            result.commit = git.commit(
                repo.root,
                paths,
                f"offers: rekey {len(writes)} offer(s)"
                + (" with new data keys" if rotate else "")
                + (f", {len(seed_writes)} demo seed key(s)" if seed_writes else ""),
                author=actor,
                trailers={"Offer-Action": erasure.REKEY_ACTION, "Offer-Id": result.changed},
            )
        else:
            git.add(repo.root, paths)
    if s.config.seed is not None:
        result.notes.append(seed_note(repo))
    return result


def _seed_writes(repo: Repo, offer_ids: Sequence[str]) -> list[tuple[str, str]]:
    """With a demo seed (``privacy.key_store.seed``): the seed files that differ from the key
    store's entries of ``offer_ids`` — ``rekey`` keeps the committed seed equal to the store."""
    s = store_privacy.session(repo)
    if s.config.seed is None:
        return []
    store = s.store()
    out: list[tuple[str, str]] = []
    for offer_id in offer_ids:
        entry = store.get(offer_id)
        rel = s.seed_file(offer_id)
        if entry is None or rel is None:
            continue
        text = entry.to_bytes().decode("utf-8")
        path = repo.root / rel
        if not path.is_file() or path.read_text("utf-8") != text:
            out.append((rel, text))
    return out


def seed_note(repo: Repo) -> str:
    """What a committed demo seed means, said plainly (``check``, ``rekey``, ``erase``)."""
    from offerctl.store.keyref import seed_entries

    s = store_privacy.session(repo)
    seed = s.config.seed or ""
    files, _ = seed_entries(repo.root, seed)
    return (
        f"privacy.key_store.seed: {seed}/ holds the erasure keys of {len(files)} offer(s) in git "
        "history (demo only): erasing those offers cannot make their candidate data unreadable; "
        "a real repository leaves key_store.seed out (docs/privacy.md)"
    )


@dataclass(frozen=True)
class EraseResult:
    offer: str
    erased: tuple[str, ...]
    commit: str | None
    notes: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer,
            "erased": list(self.erased),
            "commit": self.commit,
            "notes": list(self.notes),
        }


def erase(
    repo: Repo,
    offer_id: str,
    actor: git.Identity,
    reason: str,
    *,
    commit: bool = True,
    purge: bool = True,
) -> EraseResult:
    """Crypto-shred one offer's candidate data: destroy its erasure key (the key store ref is
    rewritten, its old versions pruned from the local repository), replace the erasable values
    in the file by ``ERASED`` and record an ``erased`` event, in a commit with
    ``Offer-Action: erase``. Nothing else in the offer changes."""
    if not reason.strip():
        raise UsageError("--reason is required: say why (e.g. the candidate's erasure request)")
    s = store_privacy.session(repo)
    offer = loader.load_offer(repo, offer_id)
    raw = store_privacy.raw_of(offer)
    new_raw, erased = erasure.erase_plain_fields(raw, s.config)
    store = s.store()
    had_key = store.get(offer.id) is not None
    if not erased and not had_key:
        raise Refused(
            f"{offer.id} holds no erasable data (already erased, or nothing is configured as erasable)"
        )
    notes: list[str] = []
    plain_before = [p for p in erased if not _was_token(raw, p)]
    if plain_before:
        notes.append(
            f"{', '.join(plain_before)} were plaintext in this file: earlier versions in git history still "
            "hold them (a history rewrite would be needed; docs/privacy.md)"
        )
    seed_rel = s.seed_file(offer.id)
    seeded = seed_rel is not None and (repo.root / seed_rel).is_file()
    edit = OfferEdit.open(repo, offer.id)
    for path in erased:
        edit.set(path, document.tokens_at(new_raw, path))
    at = utc_now()
    edit.append("events", {"type": "erased", "at": at, "by": actor.email.lower(), "reason": reason})
    subject = f"offer {offer.id}: erase candidate data"
    body = f"Erasable fields: {', '.join(erased) or 'none left in the file'}."
    trailers = {"Offer-Id": offer.id, "Offer-Action": erasure.ERASE_ACTION}
    if seeded:
        assert seed_rel is not None
        # The offer file and the removal of its demo seed entry in one commit.
        edit.save(subject, author=actor, body=body, trailers=trailers, commit=False)
        (repo.root / seed_rel).unlink()
        paths = [repo.rel(edit.path), seed_rel]
        if commit:
            commit_id = git.commit(repo.root, paths, subject, author=actor, body=body, trailers=trailers)
        else:
            commit_id = None
            git.add(repo.root, [seed_rel])
        notes.append(
            f"removed its entry {seed_rel} from the demo seed; the seed's git history still holds the key, "
            "so for this demo offer the erasure is not effective (docs/privacy.md)"
        )
    else:
        commit_id = edit.save(subject, author=actor, body=body, trailers=trailers, commit=commit)
    if had_key:
        store.destroy(offer.id)
        store.save(f"offerctl: erase {offer.id}")
        if purge:
            from offerctl.store.keyref import GitRefBackend

            GitRefBackend(repo.root).purge()
        notes.append(
            "the erasure key is destroyed locally; push the key store with "
            "`git push --force origin refs/offerctl/keys` and have your git host prune unreachable "
            "objects; other clones and backups keep the old key until they do (docs/privacy.md)"
        )
    return EraseResult(offer.id, erased, commit_id, tuple(notes))


def _was_token(raw: Mapping[str, Any], dotted: str) -> bool:
    from offerctl.privacy import values

    return values.is_erasable_token(document.tokens_at(raw, dotted))


def expired(repo: Repo, as_of: dt.date | None = None) -> list[tuple[str, dt.date]]:
    """Closed offers past their retention period that still hold erasable data."""
    s = store_privacy.session(repo)
    day = as_of or today()
    due: list[tuple[str, dt.date]] = []
    for rel in loader.offer_files(repo):
        data = loader.read_data(repo.root, rel)
        if isinstance(data, dict):
            when = erasure.retention_due(data, s.config)
            if when is not None and when <= day:
                due.append((str(data.get("id", rel)), when))
    return due


def erase_expired(repo: Repo, actor: git.Identity, *, commit: bool = True) -> list[EraseResult]:
    """``erase`` every offer past retention (idempotent: an erased offer is not due again)."""
    results = []
    for offer_id, when in expired(repo):
        results.append(
            erase(
                repo,
                offer_id,
                actor,
                f"retention period ended {when.isoformat()}",
                commit=commit,
                purge=False,
            )
        )
    if results:
        from offerctl.store.keyref import GitRefBackend

        GitRefBackend(repo.root).purge()
    return results


def can_decrypt(identities: Sequence[keymod.Identity], raw: Mapping[str, Any]) -> bool:
    return document.data_key_of(raw, identities) is not None
