"""Reading every offer for a report: only the fields it uses, cached by content, in parallel.

``offerctl report`` needs a few fields of each offer (status, segments, events, approval
times, money for the band position), never the schema explanations: a file that is not a
mapping is skipped, every other file is counted, as before. So instead of
``loader.load_offers`` (parse + python-jsonschema findings for every file) this module:

- parses each file with the fast YAML reader only (``loader.read_data``; same data as
  ``loader.read_document``, which also validates),
- keeps a *projection* of the data (``project``: the paths a ``Fields`` spec names; values
  that are not mappings/lists where the spec expects one are kept whole, so every lookup the
  metrics make returns what it returned on the full document),
- stores the projection per file in a cache keyed by the file's git blob id
  (``offerctl.store.cache``: same fingerprint, atomic write and corruption tolerance as
  ``check``'s, in its own file ``report-<repo>.json``), JSON with exact Decimals,
- parses the files the cache does not answer in a process pool above
  ``PARALLEL_MIN_FILES`` files.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offerctl.core.model import Offer
from offerctl.store import loader
from offerctl.store.repo import OFFERS_DIR, Repo
from offerctl.store.summaries import json_exact, project  # shared with the daily commands

Fields = Mapping[str, Any]
"""A projection spec: ``{"key": True}`` keeps a value whole, ``{"key": {...}}`` keeps the
named keys of a mapping, ``{"key": [{...}]}`` keeps the named keys of each mapping in a list."""

PARALLEL_MIN_FILES = 400
"""Below this many files to parse, one process is faster than starting a pool."""

CACHE_KIND = "report"


def read_projection(root: Path, rel: str, fields: Fields) -> dict[str, Any] | None:
    """The projected data of one offer file; None when it is not a readable mapping."""
    data = loader.read_data(root, rel)
    return project(data, fields) if isinstance(data, dict) else None


Read = tuple[str | None, dict[str, Any] | None, bool]
"""One file as a worker hands it back: (the projection as cacheable JSON text, or None; the
projection itself when it is not exactly JSON-representable, else None; whether it holds
encrypted values). (None, None, False): not a readable mapping."""


def _read_one(root: Path, rel: str, fields: Fields) -> Read:
    """Parse, project, flag and encode one file — all in the worker, so that a cold report
    spends the main process's time only on one batch ``json.loads`` of every projection."""
    import json

    from offerctl.store.cache import encode
    from offerctl.store.privacy import has_encrypted_values

    data = read_projection(root, rel, fields)
    if data is None:
        return None, None, False
    encrypted = has_encrypted_values(data)
    if not json_exact(data):
        return None, data, encrypted
    return json.dumps(encode(data), ensure_ascii=False, separators=(",", ":")), None, encrypted


def _read_chunk(root: Path, fields: Fields, rels: Sequence[str]) -> list[tuple[str, Read]]:
    return [(rel, _read_one(root, rel, fields)) for rel in rels]


def _default_jobs() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _read_files(root: Path, rels: Sequence[str], fields: Fields, jobs: int | None) -> dict[str, Read]:
    """``_read_one`` of every file in ``rels``, by path (so the result never depends on
    scheduling)."""
    workers = jobs or _default_jobs()
    if workers <= 1 or len(rels) < PARALLEL_MIN_FILES:
        return dict(_read_chunk(root, fields, rels))
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, min(500, len(rels) // (workers * 4) + 1))
    chunks = [rels[i : i + size] for i in range(0, len(rels), size)]
    results: dict[str, Read] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk in pool.map(functools.partial(_read_chunk, root, fields), chunks):
            results.update(chunk)
    return results


def _loads(summary: Mapping[str, Any] | None) -> dict[str, Any] | None:
    import json

    from offerctl.store.cache import decimal_hook

    if summary is None:
        return None
    text = summary["json"]
    data = json.loads(text, object_hook=decimal_hook) if "$decimal" in text else json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a projection")
    return data


_OPENERS = frozenset("{")  # a cached projection: a JSON object


def _loads_all(texts: Sequence[str]) -> list[dict[str, Any]] | None:
    """Many cached projections in one C-speed ``json.loads`` (10k separate calls cost
    ~0.3 s); None when any of them is damaged (then they are decoded one by one)."""
    import json

    from offerctl.store.cache import decimal_hook

    if not texts:
        return []
    joined = "[" + ",".join(texts) + "]"
    try:
        data = json.loads(joined, object_hook=decimal_hook) if "$decimal" in joined else json.loads(joined)
    except (ValueError, ArithmeticError):
        return None
    if type(data) is not list or len(data) != len(texts) or not all(type(d) is dict for d in data):
        return None  # e.g. "{}, {}" smuggled into one entry
    return data


def _decode_into(
    found: dict[str, dict[str, Any] | None],
    plain: set[str],
    texts: Sequence[tuple[str, str, bool]],
    misses: list[str],
) -> None:
    """Decode (path, JSON text, encrypted) projections into ``found`` in one ``json.loads``;
    when one is damaged, one by one, and the damaged ones go to ``misses``."""
    decoded = _loads_all([text for _, text, _ in texts])
    if decoded is None:
        for rel, text, encrypted in texts:
            try:
                found[rel] = _loads({"json": text})
            except (KeyError, TypeError, ValueError, ArithmeticError):
                misses.append(rel)
                continue
            if not encrypted:
                plain.add(rel)
        return
    for (rel, _, encrypted), projection in zip(texts, decoded, strict=True):
        found[rel] = projection
        if not encrypted:
            plain.add(rel)


@dataclass(frozen=True)
class ReadResult:
    offers: tuple[Offer, ...]
    """Every offer file that is a readable mapping, in the order of ``rels``."""
    unreadable: tuple[str, ...]
    """Files that are not (not readable, not YAML, not a mapping)."""
    cached: int = 0
    """How many files the cache answered (not part of any output)."""


ENTRY_FORMAT = 2
"""Version of a cache entry's shape (2: the ``encrypted`` flag beside the JSON text)."""


def _spec_text(fields: Fields) -> str:
    import json

    return json.dumps({"fields": fields, "entry": ENTRY_FORMAT}, sort_keys=True)


def read_offers(
    repo: Repo,
    rels: Sequence[str],
    fields: Fields,
    *,
    cache: bool = True,
    jobs: int | None = None,
) -> ReadResult:
    """The ``fields`` of every offer in ``rels`` (see the module docstring).

    ``cache``: read and update the content-keyed cache under the git dir (skipped outside
    git); ``jobs``: processes for the files the cache does not answer (default one per core).
    """
    from offerctl.store.cache import CheckCache, FileResult

    # the sops block travels with the projection: it holds the wrapped data key
    fields = {**fields, "sops": True}

    store: CheckCache | None = None
    ids: dict[str, str] = {}
    if cache and rels:
        from offerctl.core.errors import GitError
        from offerctl.store import git
        from offerctl.store.cache import CACHE_DIR, cache_file, fingerprint

        try:
            location = cache_file(git.git_path(repo.root, CACHE_DIR), repo.root, CACHE_KIND)
            if location is not None:
                store = CheckCache(location, fingerprint(repo.root, "", [project], [_spec_text(fields)]))
                ids = git.content_ids(repo.root, rels, [OFFERS_DIR])
        except GitError:
            store, ids = None, {}
    found: dict[str, dict[str, Any] | None] = {}
    plain: set[str] = set()  # cached projections known to hold no encrypted value
    todo: list[str] = []
    wanted: list[tuple[str, str, bool]] = []  # (path, projection as JSON text, encrypted)
    for rel in rels:
        summary = store.raw_summary(rel, ids[rel]) if store is not None and rel in ids else None
        if summary is not None:
            if type(summary) is dict:
                text, encrypted = summary.get("json"), summary.get("encrypted")
                if type(text) is str and text[:1] in _OPENERS and type(encrypted) is bool:
                    wanted.append((rel, text, encrypted))
                    continue
            todo.append(rel)  # a damaged entry is a miss
            continue
        entry = store.get(rel, ids[rel]) if store is not None and rel in ids else None
        if entry is not None and entry.summary is None:  # cached: not a readable mapping
            found[rel] = None
            continue
        todo.append(rel)
    _decode_into(found, plain, wanted, todo)
    computed = _read_files(repo.root, todo, fields, jobs)
    fresh: list[tuple[str, str, bool]] = []
    for rel, (text, data, encrypted) in computed.items():
        if text is not None:
            fresh.append((rel, text, encrypted))
        else:
            found[rel] = data  # None: not a readable mapping
            if data is not None and not encrypted:
                plain.add(rel)
        if store is not None and rel in ids and (text is not None or data is None):
            summary = None if text is None else {"json": text, "encrypted": encrypted}
            store.put(rel, ids[rel], FileResult((), summary))  # else: read again next time
    _decode_into(found, plain, fresh, [])
    if store is not None:
        store.prune(rels)
        store.save()
    # The cache holds the files as stored (ciphertexts); confidential offers are opened here,
    # after it, with the reader's keys (values no key opens refuse computation: exit 2).
    from offerctl.store.privacy import open_offer

    offers = tuple(
        Offer(rel, data) if rel in plain else open_offer(repo, rel, data)
        for rel in rels
        if (data := found[rel]) is not None
    )
    unreadable = tuple(rel for rel in rels if found[rel] is None)
    return ReadResult(offers, unreadable, cached=len(rels) - len(todo))
