"""What the daily commands know about every offer without reading every offer file.

``list``, ``status``, ``inbox`` and ``remind`` used to parse and schema-validate all 10,000
offer files on every run (2 to 3 s), although ``list`` shows a dozen fields and ``status`` /
``inbox`` / ``remind`` look only at open offers. This module keeps one *card* per offer
file, keyed by the file's git blob id (``git.content_ids``: the index for unmodified
tracked files, a hash for modified, untracked or conflicted ones — so hand edits,
checkouts and pulls are seen), in the same cache class, directory, fingerprint and atomic
write as ``check``'s and ``report``'s caches (``offerctl.store.cache``), in its own file
``$GIT_DIR/offerctl-cache/summary-<repo>.json``.

A card holds what ``loader.read_file`` said about the file — whether it is a readable
mapping, whether it is valid, how many findings it has — and its data:

* the **whole document** when the offer is open (``OPEN_STATUSES``): the commands that route
  offers (``status``, ``inbox``, ``remind``) need all of it, and there are few open offers;
* otherwise a **projection** (``LIST_FIELDS``: what ``list`` shows and sorts by).

The card's status sits beside the data as a plain value: that is the *open index*. A run
reads the cache file once (one ``json.loads``); a closed offer then costs a dictionary
lookup and a string comparison — its data is never decoded — and an open one one small
``json.loads``. Files with findings are read again in full every time (they are rare, and
the commands report those findings exactly as before). So ``load`` returns what
``loader.load_offers`` returns, except that the data of closed offers is the projection:
a command that reads a field of a closed offer must add it to ``LIST_FIELDS`` (the tests
compare the fast and the full path's output byte for byte).

Privacy: a card holds values exactly as they are stored in the file (never anything
decrypted); the cache lives under the git dir, next to the objects holding the same bytes.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from offerctl.core.model import OPEN_STATUSES, Finding, Offer
from offerctl.store import loader
from offerctl.store.repo import OFFERS_DIR, Repo

Fields = Mapping[str, Any]
"""A projection spec: ``{"key": True}`` keeps a value whole, ``{"key": {...}}`` keeps the
named keys of a mapping, ``{"key": [{...}]}`` keeps the named keys of each mapping in a list."""

LIST_FIELDS: Fields = {
    "id": True,
    "status": True,
    "candidate": {"name": True},
    "role": {"title": True, "department": True, "level": True, "location": {"country": True}},
    "recruiter": True,
    "expires_on": True,
    "approvals": [{"at": True}],
    "events": [{"at": True}],
    # a confidential offer's wrapped data key and privacy block travel with the projection
    "sops": True,
    "privacy": True,
}
"""What ``list`` reads of a closed offer (``lifecycle.offers.summaries``)."""

WHOLE_STATUSES: frozenset[str] = frozenset({*(s.value for s in OPEN_STATUSES), "accepted"})
"""Offers in these statuses are kept whole: the open ones are routed by ``status``/``inbox``/
``remind``, and an accepted offer stays on ``status`` while a contingency is not cleared."""

PARALLEL_MIN_FILES = 400
"""Below this many files to read, one process is faster than starting a pool."""

CACHE_KIND = "summary"


def project(value: Any, spec: Any) -> Any:
    """The parts of ``value`` that ``spec`` names (see ``Fields``). Where the data has an
    unexpected shape (a string where a mapping was expected) the value is kept whole, so
    every lookup returns exactly what it returns on the full document."""
    if spec is True:
        return value
    if isinstance(spec, list):
        if not isinstance(value, list):
            return value
        return [project(item, spec[0]) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: project(value[key], sub) for key, sub in spec.items() if key in value}


_JSON_LEAVES = (str, int, Decimal, type(None))  # bool is an int


def json_exact(value: Any) -> bool:
    """True when ``value`` comes back equal *and of the same types* from the JSON cache:
    mappings with text keys, lists, text, int, bool, None, Decimal. A YAML mapping with a
    number key (``1: x``, possible in a broken file) would come back with a text key, so
    such data is not cached."""
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            if not all(type(k) is str for k in node):
                return False
            stack.extend(node.values())
        elif type(node) is list:
            stack.extend(node)
        elif not isinstance(node, _JSON_LEAVES):
            return False
    return True


@dataclass(frozen=True)
class Card:
    """One offer file as the daily commands see it."""

    path: str
    data: dict[str, Any] | None
    """The whole document (open offers) or its ``LIST_FIELDS`` projection; None when the
    file is not a readable mapping."""
    valid: bool
    findings: int
    """How many findings ``loader.read_file`` reports for the file."""
    encrypted: bool = False
    """The data holds encrypted values (opened after the cache, never cached opened)."""

    @property
    def status(self) -> str:
        value = self.data.get("status") if self.data is not None else None
        return value if isinstance(value, str) else ""


def _card(root: Path, rel: str) -> Card:
    doc = loader.read_file("offer", root, rel)
    data = doc.data if isinstance(doc.data, dict) else None
    if data is not None and not (isinstance(data.get("status"), str) and data["status"] in WHOLE_STATUSES):
        data = project(data, LIST_FIELDS)
    from offerctl.store.privacy import has_encrypted_values

    encrypted = data is not None and has_encrypted_values(data)
    return Card(rel, data, doc.ok and data is not None, len(doc.findings), encrypted)


def _card_chunk(root: Path, rels: Sequence[str]) -> list[Card]:
    return [_card(root, rel) for rel in rels]


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _read_cards(root: Path, rels: Sequence[str], jobs: int | None) -> list[Card]:
    workers = jobs or _default_jobs()
    if workers <= 1 or len(rels) < PARALLEL_MIN_FILES:
        return _card_chunk(root, rels)
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, min(500, len(rels) // (workers * 4) + 1))
    chunks = [rels[i : i + size] for i in range(0, len(rels), size)]
    cards: list[Card] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk in pool.map(functools.partial(_card_chunk, root), chunks):
            cards.extend(chunk)
    return cards


def _summary(card: Card) -> dict[str, Any] | None:
    """A card as a flat cache summary (no decoding needed to read the status): the data is
    one JSON text, read back by one C-speed ``json.loads`` only when it is wanted."""
    from offerctl.store.cache import encode

    if card.data is not None and not json_exact(card.data):
        return None  # would not come back exactly: read the file again next time
    text = json.dumps(encode(card.data), ensure_ascii=False, separators=(",", ":"))
    return {
        "status": card.status,
        "valid": card.valid,
        "findings": card.findings,
        "encrypted": card.encrypted,
        "json": text,
    }


def _loads(text: Any) -> dict[str, Any] | None:
    from offerctl.store.cache import decimal_hook

    if not isinstance(text, str):
        raise ValueError("no data")
    data = json.loads(text, object_hook=decimal_hook) if "$decimal" in text else json.loads(text)
    if data is not None and not isinstance(data, dict):
        raise ValueError("not a mapping")
    return data


_OPENERS = frozenset("{n")  # a cached card's data: a JSON object, or null


def _decode_all(texts: Sequence[str]) -> list[dict[str, Any] | None] | None:
    """Decode many cards' data at once; None when any of them is damaged."""
    from offerctl.store.cache import decimal_hook

    if not texts:
        return []
    joined = "[" + ",".join(texts) + "]"
    try:
        data = json.loads(joined, object_hook=decimal_hook) if "$decimal" in joined else json.loads(joined)
    except (ValueError, ArithmeticError):
        return None
    if type(data) is not list or len(data) != len(texts):  # e.g. "{}],[{}" smuggled into one entry
        return None
    if not all(item is None or type(item) is dict for item in data):
        return None
    return data


def _fingerprint(root: Path) -> str:
    from offerctl.store.cache import fingerprint

    spec = json.dumps({"fields": LIST_FIELDS, "whole": sorted(WHOLE_STATUSES)}, sort_keys=True)
    return fingerprint(root, "", [_card, loader.read_file], [spec])


def is_open(status: str) -> bool:
    """The open index's question: is an offer in this status open (``OPEN_STATUSES``)?"""
    return status in WHOLE_STATUSES


def _listing_key(rels: Sequence[str], ids: Mapping[str, str]) -> str:
    """What the open index is valid for: every offer file's path and content id."""
    import hashlib

    digest = hashlib.sha1(usedforsecurity=False)
    for rel in rels:
        digest.update(f"{rel}\0{ids.get(rel, '-')}\n".encode())
    return digest.hexdigest()


@dataclass
class _Caches:
    cards: Any  # CheckCache of every card
    index: Any  # CheckCache of the open index: open cards, flagged files and the listing key
    ids: dict[str, str]
    key: str


def _open_caches(repo: Repo, rels: Sequence[str]) -> _Caches | None:
    from offerctl.core.errors import GitError
    from offerctl.store import git
    from offerctl.store.cache import CACHE_DIR, CheckCache, cache_file

    try:
        where = git.git_path(repo.root, CACHE_DIR)
        location = cache_file(where, repo.root, CACHE_KIND)
        index = cache_file(where, repo.root, INDEX_KIND)
        if location is None or index is None:
            return None
        ids = git.content_ids(repo.root, rels, [OFFERS_DIR])
    except GitError:
        return None
    fingerprint = _fingerprint(repo.root)
    return _Caches(
        _LazyCache(lambda: CheckCache(location, fingerprint)),
        CheckCache(index, fingerprint),
        ids,
        _listing_key(rels, ids),
    )


class _LazyCache:
    """The cards' cache, read from disk only when it is needed (an open-index hit does not)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._cache: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._cache is None:
            self._cache = self._make()
        return getattr(self._cache, name)


INDEX_KIND = "open-index"


def load(
    repo: Repo,
    rels: Sequence[str] | None = None,
    *,
    statuses: Collection[str] | None = None,
    cache: bool = True,
    jobs: int | None = None,
    content_ids: dict[str, str] | None = None,
    known: Callable[[str], bool] | None = None,
) -> tuple[list[Offer], list[Finding]]:
    """``loader.load_offers(repo, rels)`` (default: every offer file) from the cards.

    ``statuses`` selects offers by status *before* their data is decoded. When they are
    all open (``WHOLE_STATUSES``) and ``rels`` is every offer file, the *open index* alone
    may answer: the open offers' cards and the files with findings, valid while no offer
    file was added, removed or changed; then the cards of closed offers are not even
    read. Files with findings are always read in full and returned, whatever their status,
    with their findings exactly as ``load_offers`` gives them. Offers whose status is not in
    ``WHOLE_STATUSES`` carry only ``LIST_FIELDS``. ``content_ids``, when given, receives
    each offer file's content id (``git.content_ids``; empty when the cache is off), for
    callers that cache what they derive from an offer (``status``'s rows), filled before
    ``known`` is first asked: a cached card without findings for which ``known(path)`` is
    true is left out (not decoded, not returned) — the caller has what it needs of it.
    """
    every = rels is None
    rels = list(loader.offer_files(repo) if rels is None else rels)
    keep = None if statuses is None else frozenset(statuses).__contains__
    caches = _open_caches(repo, rels) if cache and rels else None
    ids = caches.ids if caches is not None else {}
    if content_ids is not None:
        content_ids.update(ids)
    use_index = (
        caches is not None
        and every
        and statuses is not None
        and WHOLE_STATUSES.issuperset(statuses)
        and caches.index.get_repo("listing", caches.key) is not None
    )
    cards: dict[str, Card | None] = {}  # None: skipped by ``keep``
    wanted: list[tuple[str, str, bool, bool]] = []  # (path, data as JSON text, valid, encrypted)
    full: list[str] = []  # files with findings: read in full for their findings
    todo: list[str] = []
    opened: dict[str, Any] = {}  # open cards' summaries, for the index
    for rel in rels:
        content = ids.get(rel)
        if caches is None or content is None:
            todo.append(rel)
            continue
        if use_index:
            summary = caches.index.raw_summary(rel, content)
            if summary is None:  # not in the index: a closed offer
                cards[rel] = None
                continue
        else:
            summary = caches.cards.raw_summary(rel, content)
        if type(summary) is dict:
            try:
                status, findings = summary["status"], summary["findings"]
                if findings:
                    full.append(rel)
                    opened[rel] = summary
                    continue
                if is_open(status):
                    opened[rel] = summary
                if keep is not None and not keep(status):
                    cards[rel] = None
                    continue
                if known is not None and known(rel):
                    cards[rel] = None
                    continue
                text = summary["json"]
                if type(text) is str and text[:1] in _OPENERS:
                    wanted.append((rel, text, bool(summary["valid"]), bool(summary["encrypted"])))
                    continue
            except (KeyError, TypeError):  # a damaged entry is a miss
                pass
        todo.append(rel)
    # every wanted card in one C-speed ``json.loads`` (10k separate calls cost ~0.2 s)
    decoded = _decode_all([text for _, text, _, _ in wanted])
    if decoded is None:  # a damaged entry somewhere: decode one by one, misses are read again
        for rel, text, valid, encrypted in wanted:
            try:
                cards[rel] = Card(rel, _loads(text), valid, 0, encrypted)
            except (ValueError, ArithmeticError):
                todo.append(rel)
    else:
        for (rel, _, valid, encrypted), data in zip(wanted, decoded, strict=True):
            cards[rel] = Card(rel, data, valid, 0, encrypted)
    fresh = _read_cards(repo.root, todo, jobs)
    if caches is not None:
        from offerctl.store.cache import FileResult

        complete = True
        for card in fresh:
            summary = _summary(card)
            if card.path in ids and summary is not None:
                caches.cards.put(card.path, ids[card.path], FileResult((), summary))
                if card.findings or is_open(card.status):
                    opened[card.path] = summary
            else:
                complete = False  # this file is read every time; the index cannot stand for it
        if not use_index:
            caches.cards.prune(rels)
            caches.cards.save()
        if every and complete and caches.index.get_repo("listing", caches.key) is None:
            caches.index.prune(opened)
            for rel, summary in opened.items():
                caches.index.put(rel, ids[rel], FileResult((), summary))
            caches.index.put_repo("listing", (), caches.key)
            caches.index.save()
    for card in fresh:
        if card.findings:
            full.append(card.path)
        else:
            cards[card.path] = card if keep is None or keep(card.status) else None
    documents = {rel: loader.read_file("offer", repo.root, rel) for rel in full}
    offers: list[Offer] = []
    problems: list[Finding] = []

    def open_offer(rel: str, data: dict[str, Any], extra: dict[str, Any]) -> Offer:
        from offerctl.store.privacy import open_offer  # imported only when needed (~30 ms)

        return open_offer(repo, rel, data, extra)  # type: ignore[no-any-return]

    # As ``load_offers``: confidential offers are opened here, after the cache, with the
    # reader's keys (the cache holds ciphertexts only); plain ones need no key lookup.
    for rel in rels:
        if rel in documents:
            doc = documents[rel]
            problems.extend(doc.findings)
            if isinstance(doc.data, dict):
                offers.append(open_offer(rel, doc.data, {"valid": doc.ok}))
        elif (kept := cards.get(rel)) is not None and kept.data is not None:
            extra = {"valid": kept.valid}
            offers.append(
                open_offer(rel, kept.data, extra) if kept.encrypted else Offer(rel, kept.data, extra=extra)
            )
    return offers, problems
