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
from decimal import Decimal
from pathlib import Path
from typing import Any

from offerctl.core.model import Offer
from offerctl.store import loader
from offerctl.store.repo import OFFERS_DIR, Repo

Fields = Mapping[str, Any]
"""A projection spec: ``{"key": True}`` keeps a value whole, ``{"key": {...}}`` keeps the
named keys of a mapping, ``{"key": [{...}]}`` keeps the named keys of each mapping in a list."""

PARALLEL_MIN_FILES = 400
"""Below this many files to parse, one process is faster than starting a pool."""

CACHE_KIND = "report"


def project(value: Any, spec: Any) -> Any:
    """The parts of ``value`` that ``spec`` names (see ``Fields``)."""
    if spec is True:
        return value
    if isinstance(spec, list):
        if not isinstance(value, list):
            return value
        return [project(item, spec[0]) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: project(value[key], sub) for key, sub in spec.items() if key in value}


def read_projection(root: Path, rel: str, fields: Fields) -> dict[str, Any] | None:
    """The projected data of one offer file; None when it is not a readable mapping."""
    data = loader.read_data(root, rel)
    return project(data, fields) if isinstance(data, dict) else None


def _read_chunk(root: Path, fields: Fields, rels: Sequence[str]) -> list[tuple[str, dict[str, Any] | None]]:
    return [(rel, read_projection(root, rel, fields)) for rel in rels]


def _default_jobs() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _read_files(
    root: Path, rels: Sequence[str], fields: Fields, jobs: int | None
) -> dict[str, dict[str, Any] | None]:
    """Projections of ``rels`` by path (so the result never depends on scheduling)."""
    workers = jobs or _default_jobs()
    if workers <= 1 or len(rels) < PARALLEL_MIN_FILES:
        return dict(_read_chunk(root, fields, rels))
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, min(500, len(rels) // (workers * 4) + 1))
    chunks = [rels[i : i + size] for i in range(0, len(rels), size)]
    results: dict[str, dict[str, Any] | None] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk in pool.map(functools.partial(_read_chunk, root, fields), chunks):
            results.update(chunk)
    return results


_JSON_LEAVES = (str, int, Decimal, type(None))  # bool is an int


def json_exact(value: Any) -> bool:
    """True when ``value`` comes back equal *and of the same types* from the JSON cache:
    mappings with text keys, lists, text, int, bool, None, Decimal. A YAML mapping with a
    number key (``1: x``, possible in a broken file) would come back with a text key, so
    such a projection is not cached."""
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


def _dumps(data: dict[str, Any] | None) -> dict[str, str] | None:
    """A projection as a cache summary: one JSON text (Decimals as ``{"$decimal": "…"}``),
    so that reading it back is one C-speed ``json.loads`` rather than a Python walk."""
    import json

    from offerctl.store.cache import encode

    if data is None:
        return None
    return {"json": json.dumps(encode(data), ensure_ascii=False, separators=(",", ":"))}


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


@dataclass(frozen=True)
class ReadResult:
    offers: tuple[Offer, ...]
    """Every offer file that is a readable mapping, in the order of ``rels``."""
    unreadable: tuple[str, ...]
    """Files that are not (not readable, not YAML, not a mapping)."""
    cached: int = 0
    """How many files the cache answered (not part of any output)."""


def _spec_text(fields: Fields) -> str:
    import json

    return json.dumps(fields, sort_keys=True)


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
    todo: list[str] = []
    for rel in rels:
        hit = store.get(rel, ids[rel]) if store is not None and rel in ids else None
        if hit is not None:
            try:
                found[rel] = _loads(hit.summary)
                continue
            except (KeyError, TypeError, ValueError, ArithmeticError):  # a damaged entry is a miss
                pass
        todo.append(rel)
    computed = _read_files(repo.root, todo, fields, jobs)
    found.update(computed)
    if store is not None:
        for rel, data in computed.items():
            if rel in ids and (data is None or json_exact(data)):  # else: read again next time
                store.put(rel, ids[rel], FileResult((), _dumps(data)))
        store.prune(rels)
        store.save()
    # The cache holds the files as stored (ciphertexts); confidential offers are opened here,
    # after it, with the reader's keys (values no key opens refuse computation: exit 2).
    from offerctl.store.privacy import open_offer

    offers = tuple(open_offer(repo, rel, data) for rel in rels if (data := found[rel]) is not None)
    unreadable = tuple(rel for rel in rels if found[rel] is None)
    return ReadResult(offers, unreadable, cached=len(rels) - len(todo))
