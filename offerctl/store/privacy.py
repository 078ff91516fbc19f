"""The privacy state of one command run on one repository: configuration, the user's
identities, the erasure key store, and the single accessor through which offer data is
opened (decrypted) and sealed (encrypted). Built lazily: a command that reads no encrypted
offer never looks for keys.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offerctl.core.errors import InputError, UsageError
from offerctl.privacy import config as pconfig
from offerctl.privacy import digest as pdigest
from offerctl.privacy import document, keystore, values
from offerctl.privacy import keys as keymod


def has_encrypted_values(raw: Any) -> bool:
    """Whether a parsed offer holds encrypted data (a ``sops:`` block or erasable values).

    An explicit stack, not recursion with generators: ``check`` asks this of every offer
    several times, and the recursive form cost ~4 s of CPU per 10k offers."""
    prefix, erased, meta = values.ERASABLE_PREFIX, values.ERASED, document.METADATA_KEY
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item == erased or item.startswith(prefix):
                return True
        elif isinstance(item, Mapping):
            if isinstance(item.get(meta), Mapping):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item == erased:
            return True
    return False


def people_keys(approvers: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """email -> reading public keys from policies/approvers.yaml (``age_key``, and an
    ``ssh-ed25519`` ``ssh_key``)."""
    out: dict[str, tuple[str, ...]] = {}
    for person in approvers.get("people") or ():
        if not isinstance(person, Mapping) or "email" not in person:
            continue
        found = [str(person[k]) for k in ("age_key", "ssh_key") if isinstance(person.get(k), str)]
        out[str(person["email"]).lower()] = tuple(k for k in found if keymod.is_recipient(k))
    return out


@dataclass
class PrivacySession:
    root: Path
    config: pconfig.PrivacyConfig
    approvers: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _identities: tuple[keymod.Identity, ...] | None = None
    _looked_at: tuple[str, ...] = ()
    _store: keystore.KeyStore | None = None
    _store_missing: bool | None = None
    _opened: dict[tuple[str, int], tuple[Mapping[str, Any], document.Opened]] = field(default_factory=dict)
    _data_keys: Any = None
    """Unwrapped data keys, sealed for this reader (``store.keyed_cache``); loaded on first use."""
    _data_keys_used: set[str] = field(default_factory=set)
    _erasure_memo: dict[tuple[str, str], document.ErasureKey | None] = field(default_factory=dict)

    @classmethod
    def create(
        cls, root: Path, section: Mapping[str, Any] | None, approvers: Mapping[str, Any]
    ) -> PrivacySession:
        try:
            config = pconfig.parse(section)
        except pconfig.ConfigProblem as exc:
            raise InputError(str(exc), path="offerctl.yaml", hint="see docs/privacy.md") from None
        return cls(root, config, approvers)

    # --- keys -------------------------------------------------------------------------

    def identities(self) -> tuple[keymod.Identity, ...]:
        if self._identities is None:
            try:
                found = keymod.discover_identities(self.env, Path.home(), sys.platform)
            except keymod.KeyProblem as exc:
                raise UsageError(str(exc), hint="fix or unset the variable (docs/privacy.md, Keys)") from None
            self._identities, self._looked_at = found.identities, found.looked_at
        return self._identities

    def store(self) -> keystore.KeyStore:
        """The erasure key store (``refs/offerctl/keys``). A clone that lacks the ref gets it
        from the demo seed (``privacy.key_store.seed``) when one is configured."""
        if self._store is None:
            from offerctl.store.keyref import GitRefBackend, seed_entries

            backend = GitRefBackend(self.root)
            if self.config.seed is not None:
                _seed_store(backend, *seed_entries(self.root, self.config.seed)[:1], self.config.seed)
            self._store = keystore.KeyStore(backend)
        return self._store

    def store_missing(self) -> bool:
        """No erasure key store here (a clone that never fetched ``refs/offerctl/keys``)."""
        if self._store_missing is None:
            from offerctl.store.keyref import GitRefBackend

            self.store()
            self._store_missing = GitRefBackend(self.root).head() is None
        return self._store_missing

    def missing_store_text(self) -> str:
        return (
            f"this clone has no erasure key store ({keystore.KEYS_REF}), which holds the keys of "
            f"candidate data: `{keystore.FETCH_COMMAND}`"
        )

    def seed_file(self, offer_id: str) -> str | None:
        """The seed entry of ``offer_id`` (repository-relative) when a seed is configured."""
        if self.config.seed is None:
            return None
        return f"{self.config.seed}/{keystore.file_name(offer_id)}"

    def people_keys(self) -> dict[str, tuple[str, ...]]:
        return people_keys(self.approvers)

    # --- reading ----------------------------------------------------------------------

    def readers_text(self, raw: Mapping[str, Any]) -> str:
        """Who can read an offer, short, for messages: its reader groups and people."""
        groups = [g for rule in self.config.readers if rule.applies(raw) for g in rule.groups]
        parts = [f"group {g}" for g in dict.fromkeys(groups)]
        if isinstance(raw.get("recruiter"), str):
            parts.append(f"the recruiter {raw['recruiter']}")
        role = raw.get("role")
        if isinstance(role, Mapping) and isinstance(role.get("hiring_manager"), str):
            parts.append(f"the hiring manager {role['hiring_manager']}")
        parts.append("its approvers")
        return ", ".join(parts)

    def open(self, offer_id: str, raw: Mapping[str, Any]) -> document.Opened:
        """The single accessor: an offer's data with everything our keys open decrypted."""
        memo = (offer_id, id(raw))
        cached = self._opened.get(memo)
        if cached is not None and cached[0] is raw:
            return cached[1]
        identities = self.identities()
        data_key = self.data_key(raw)
        erasure: dict[str, bytes] = {}
        if _has_erasable(raw) and identities:
            key = self._erasure_key(offer_id, identities)
            if key is not None:
                erasure[key.kid] = key.key
        readers = self.readers_text(raw)
        if not erasure and identities and _has_erasable(raw) and self.store_missing():
            readers += f" ({self.missing_store_text()})"
        opened = document.open_document(
            raw, offer_id=offer_id, data_key=data_key, erasure_keys=erasure, readers=readers
        )
        self._opened[memo] = (raw, opened)
        return opened

    def _erasure_key(
        self, offer_id: str, identities: Sequence[keymod.Identity]
    ) -> document.ErasureKey | None:
        """The offer's erasure key, unwrapped once per run (in memory only: never cached
        on disk, so that destroying it in the key store leaves no copy)."""
        entry = self.store().get(offer_id)
        if entry is None:
            return None
        memo = (offer_id, entry.wrapped)
        if memo not in self._erasure_memo:
            self._erasure_memo[memo] = self.store().unwrap(offer_id, identities)
        return self._erasure_memo[memo]

    def data_key(self, raw: Mapping[str, Any]) -> bytes | None:
        """The offer's data key when one of our identities is among its recipients.

        One age decryption per distinct wrapped key, ever: unwrapped keys are kept in a
        cache sealed for this reader (``store.keyed_cache``, kind ``datakeys``), keyed by a
        hash of the wrapped keys addressed to us (so a re-wrapped or rotated key is a miss).
        Erasure keys are never cached: destroying one must leave no copy."""
        identities = self.identities()
        meta = document.metadata(raw)
        if meta is None or not identities:
            return None
        mine = {i.public for i in identities}
        wrapped = sorted(
            str(e["enc"])
            for e in meta.get("age") or ()
            if isinstance(e, Mapping) and e.get("recipient") in mine and isinstance(e.get("enc"), str)
        )
        if not wrapped:
            return None
        import base64
        import hashlib

        name = hashlib.sha256("\0".join(wrapped).encode("utf-8")).hexdigest()[:40]
        cache = self._data_key_cache()
        hit = cache.get(name) if cache is not None else None
        if isinstance(hit, str):
            try:
                known = base64.b64decode(hit, validate=True)
            except ValueError:
                known = b""
            if len(known) == 32:
                self._data_keys_used.add(name)
                return known
        key = document.data_key_of(raw, identities)
        if key is not None and cache is not None:
            cache.put(name, base64.b64encode(key).decode("ascii"))
            self._data_keys_used.add(name)
        return key

    def _data_key_cache(self) -> Any:
        if self._data_keys is None:
            import atexit

            from offerctl.store import keyed_cache

            self._data_keys = keyed_cache.SealedCache(
                keyed_cache.cache_dir(self.root), self.root, "datakeys", self.identities()
            )
            atexit.register(self.save_caches)
        return self._data_keys if self._data_keys.enabled else None

    def save_caches(self) -> None:
        """Write the sealed data-key cache (also run at exit): keeps the keys this run used,
        and older ones while the cache stays small."""
        cache = self._data_keys
        if cache is None or not cache.dirty:
            return
        if len(cache.entries) > 4 * len(self._data_keys_used) + 1000:
            cache.keep(self._data_keys_used)
        cache.save()

    def digest_key(self, offer_id: str, opened: Mapping[str, Any]) -> bytes | None:
        """The offer's approval-digest key when we can read its root."""
        privacy = opened.get("privacy")
        root = privacy.get(pconfig.DIGEST_KEY_FIELD) if isinstance(privacy, Mapping) else None
        if not isinstance(root, str):
            return None
        import base64

        return pdigest.derive_key(base64.b64decode(root), offer_id)

    # --- writing ----------------------------------------------------------------------

    def readers(self, plain: Mapping[str, Any], approvers: Mapping[str, Sequence[str]]) -> pconfig.Readers:
        return pconfig.readers_of(plain, self.config, self.people_keys(), approvers)

    def seal(
        self,
        offer_id: str,
        plain: Mapping[str, Any],
        previous: Mapping[str, Any] | None,
        recipients: Sequence[str],
        now: str,
        *,
        rotate: bool = False,
    ) -> dict[str, Any]:
        """``plain`` (opened data, possibly with tokens/markers where we could not read)
        encrypted per the configuration, reusing every unchanged ciphertext of ``previous``."""
        if not self.config.enabled and (previous is None or not has_encrypted_values(previous)):
            return dict(plain)
        layout = self.config.layout()
        work = document.restore_tokens(plain, previous or {})
        old_key = self.data_key(previous) if previous is not None else None
        if old_key is not None:
            # Everything as plaintext first: values then keep their ciphertext when nothing
            # changed (same key), or are encrypted afresh (rotation, a field changing tier).
            old_erasure = self.store().unwrap(offer_id, self.identities()) if _has_erasable(work) else None
            work = _decrypt_tokens(work, (), old_key, old_erasure, offer_id)
        data_key: bytes | None = None
        if previous is not None and not rotate:
            data_key = self.data_key(previous)
        needs_plain_write = _has_plain_in(work, layout)
        if data_key is None and (previous is None or document.metadata(previous) is None or rotate):
            data_key = os.urandom(32)
        elif data_key is None and needs_plain_write:
            raise values.NeedsKey(
                f"{offer_id}: changing its encrypted fields needs a key that can read them",
                hint=f"readers: {self.readers_text(plain)}; `offerctl readers {offer_id}`",
            )
        if layout.sops_keys and data_key is not None:
            work = _ensure_digest_root(work)
        erasure = None
        if layout.erasable and _has_erasable_plain(work, layout):
            store = self.store()
            erasure = store.unwrap(offer_id, self.identities())
            if erasure is None:
                if store.get(offer_id) is not None:
                    raise values.NeedsKey(
                        f"{offer_id}: writing its candidate data needs a key that can read the offer",
                        hint=f"readers: {self.readers_text(plain)}",
                    )
                erasure = store.create(offer_id, recipients)
                # Saved now, before the offer is written: a key without an offer is harmless,
                # an offer whose key was never stored would be unreadable.
                store.save(f"offerctl: erasure key for {offer_id}")
        try:
            return document.seal(
                work,
                layout,
                offer_id=offer_id,
                data_key=data_key,
                erasure=erasure,
                recipients=recipients,
                now=now,
                previous=previous,
            )
        except keymod.KeyProblem as exc:
            raise UsageError(f"{offer_id}: {exc}") from None
        except values.CipherProblem as exc:
            raise InputError(f"{offer_id}: {exc}") from None


def _seed_store(backend: Any, seed: Mapping[str, bytes], where: str) -> None:
    """Create the key store from the demo seed, or add the seed's entries it lacks (a clone
    that had the ref before the seed gained offers). Entries already in the store win: it is
    the live copy (``erase`` removes an offer from both)."""
    from offerctl.core.errors import GitError

    if not seed:
        return
    if backend.head() is None and backend.create(seed, f"offerctl: key store created from the seed {where}/"):
        return
    have = backend.read()
    missing = {name: raw for name, raw in seed.items() if name not in have}
    if missing:
        # A GitError: changed meanwhile by another process; its version stands.
        with contextlib.suppress(GitError):
            backend.write({**have, **missing}, f"offerctl: key store entries from the seed {where}/")


def _decrypt_tokens(
    node: Any, keys: tuple[str, ...], data_key: bytes, erasure: document.ErasureKey | None, offer_id: str
) -> Any:
    if isinstance(node, Mapping):
        return {
            k: v
            if k == document.METADATA_KEY
            else _decrypt_tokens(v, (*keys, str(k)), data_key, erasure, offer_id)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_decrypt_tokens(v, keys, data_key, erasure, offer_id) for v in node]
    aad = values.sops_path(list(keys))
    try:
        if values.is_sops_token(node):
            return values.decrypt_sops(node, data_key, aad)
        if (
            values.is_erasable_token(node)
            and erasure is not None
            and values.erasable_kid(node) == erasure.kid
        ):
            return values.decrypt_erasable(node, erasure.key, offer_id, aad)
    except values.CipherProblem:
        return node  # not ours to open (or damaged): passes through unchanged
    return node


def _has_erasable(raw: Any) -> bool:
    if isinstance(raw, Mapping):
        return any(_has_erasable(v) for v in raw.values())
    if isinstance(raw, list):
        return any(_has_erasable(v) for v in raw)
    return values.is_erasable_token(raw)


def walk_leaves(node: Any, keys: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(node, Mapping):
        return [x for k, v in node.items() for x in walk_leaves(v, (*keys, str(k)))]
    if isinstance(node, list):
        return [x for v in node for x in walk_leaves(v, keys)]
    return [(keys, node)]


def _has_plain_in(data: Any, layout: document.Layout) -> bool:
    return any(
        layout.tier(k) == "sops" and v is not None and v != "" and not values.is_sops_token(v)
        for k, v in walk_leaves(data)
        if k[:1] != (document.METADATA_KEY,)
    )


def _has_erasable_plain(data: Any, layout: document.Layout) -> bool:
    return any(
        layout.tier(k) == "erasable"
        and v is not None
        and not values.is_erasable_token(v)
        and v != values.ERASED
        for k, v in walk_leaves(data)
    )


def _ensure_digest_root(data: Any) -> Any:
    import base64

    if not isinstance(data, Mapping):
        return data
    privacy = data.get("privacy")
    if isinstance(privacy, Mapping) and privacy.get(pconfig.DIGEST_KEY_FIELD):
        return data
    out = dict(data)
    root = base64.b64encode(pdigest.new_root()).decode("ascii")
    # Before approvals/events so that the file reads top-down: terms, then the audit trail.
    ordered: dict[str, Any] = {}
    for key, value in out.items():
        if key in ("approvals", "events") and "privacy" not in ordered:
            ordered["privacy"] = {pconfig.DIGEST_KEY_FIELD: root}
        ordered[key] = value
    ordered.setdefault("privacy", {pconfig.DIGEST_KEY_FIELD: root})
    return ordered


# --- the repository's session and the one accessor ----------------------------------------


def session(repo: Any) -> PrivacySession:
    """The privacy session of ``repo`` (a ``Repo``), built once per run."""
    found = repo.state.get("privacy")
    if isinstance(found, PrivacySession):
        return found
    from offerctl.store import loader

    approvers: Mapping[str, Any] = {}
    rel = "policies/approvers.yaml"
    if (repo.policy_base / rel).is_file():
        doc = loader.read_file("approvers", repo.policy_base, rel)
        approvers = doc.data if isinstance(doc.data, Mapping) else {}
    made = PrivacySession.create(repo.root, repo.config.get("privacy"), approvers)
    repo.state["privacy"] = made
    return made


def open_offer(repo: Any, rel: str, raw: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
    """THE accessor: an ``Offer`` whose data is opened with the user's keys. Plain offers
    pass through untouched (no key is looked for); in an encrypted one every value no key
    opens is a ``Sealed`` marker. ``offer.extra``: ``raw`` (as stored), ``sealed`` (paths
    not opened), ``privacy_problems`` (tampering, never values)."""
    from offerctl.core.model import Offer

    if not has_encrypted_values(raw):
        return Offer(rel, raw, extra=dict(extra or {}))
    offer_id = raw.get("id") if isinstance(raw.get("id"), str) else Path(rel).stem
    opened = session(repo).open(str(offer_id), raw)
    more = {**(extra or {}), "raw": raw, "sealed": opened.sealed, "privacy_problems": opened.problems}
    data = opened.data
    block = data.get("privacy")
    if isinstance(block, Mapping) and isinstance(block.get(pconfig.DIGEST_KEY_FIELD), str):
        from offerctl.core.model import Secret

        root = Secret(block[pconfig.DIGEST_KEY_FIELD])
        data = {**data, "privacy": {**block, pconfig.DIGEST_KEY_FIELD: root}}
    return Offer(rel, data, extra=more)


def raw_of(offer: Any) -> Mapping[str, Any]:
    """The offer's data as stored (ciphertexts) — what keyless checks compare."""
    raw = offer.extra.get("raw") if isinstance(offer.extra, Mapping) else None
    return raw if isinstance(raw, Mapping) else offer.data


def encrypted_path_test(data: Any) -> Callable[[Sequence[str | int]], bool] | None:
    """For schema validation of a stored offer: True for paths at or under an encrypted
    value (None for a plain offer: nothing to skip)."""
    if not has_encrypted_values(data):
        return None

    def sealed(path: Sequence[str | int]) -> bool:
        node: Any = data
        for part in path:
            if isinstance(node, Mapping) and isinstance(part, str):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return False
            if values.is_token(node) or node == values.ERASED:
                return True
        return values.is_token(node) or node == values.ERASED

    return sealed


def keyless_offer(rel: str, raw: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
    """An ``Offer`` opened with no key at all: what a cached check may see (plain offers as
    they are; encrypted values as markers)."""
    from offerctl.core.model import Offer

    if not has_encrypted_values(raw):
        return Offer(rel, raw, extra=dict(extra or {}))
    offer_id = raw.get("id") if isinstance(raw.get("id"), str) else Path(rel).stem
    opened = document.open_document(raw, offer_id=str(offer_id), data_key=None)
    return Offer(rel, opened.data, extra={**(extra or {}), "raw": raw, "sealed": opened.sealed})


def applies(repo: Any, previous: Mapping[str, Any] | None) -> bool:
    """Whether writing an offer goes through sealing: privacy is enabled, or the offer is
    already encrypted (a later ``enabled: false`` never silently writes plaintext)."""
    return session(repo).config.enabled or (previous is not None and has_encrypted_values(previous))


def seal_into(
    repo: Any,
    offer_id: str,
    rt_doc: Any,
    previous_text: str | None,
    approvers: Mapping[str, Sequence[str]] | None = None,
    *,
    rotate: bool = False,
    exact_readers: bool = False,
) -> tuple[str, ...]:
    """Encrypt ``rt_doc`` (ruamel's round-trip tree of an offer, edited) in place, reusing
    every unchanged ciphertext of ``previous_text``. Readers: the configuration's readers of
    the offer, ``approvers`` (email -> reasons), and — unless ``exact_readers`` (``rekey``)
    — everyone the file was already encrypted for. Returns the recipients."""
    from offerctl.core.clock import utc_now
    from offerctl.store import sealing, yamlio

    previous = yamlio.load(previous_text.encode("utf-8")) if previous_text else None
    if not applies(repo, previous if isinstance(previous, Mapping) else None):
        return ()
    s = session(repo)
    plain = yamlio.plain(rt_doc)
    readers = s.readers(plain, approvers or {})
    recipients = list(readers.recipients)
    if isinstance(previous, Mapping) and not exact_readers:
        recipients = list(dict.fromkeys([*document.recipients_of(previous), *recipients]))
    if not recipients:
        missing = "; ".join(r.problem or r.who for r in readers.missing) or "no reader group matches"
        raise UsageError(
            f"{offer_id}: nobody could read this offer once encrypted ({missing})",
            path="offerctl.yaml",
            hint="give the people an age_key (or ssh-ed25519 ssh_key) in policies/approvers.yaml, "
            "or add a reader group with a key under privacy.groups",
        )
    sealed = s.seal(
        offer_id,
        plain,
        previous if isinstance(previous, Mapping) else None,
        recipients,
        utc_now(),
        rotate=rotate,
    )
    sealing.apply(rt_doc, sealed, s.config.layout())
    s._opened.clear()
    return tuple(recipients)
