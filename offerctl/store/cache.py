"""Per-file results of ``offerctl check``, kept between runs under ``$GIT_DIR/offerctl-cache/``.

An entry is keyed by the file's path and content id (its git blob id), and the whole cache
by a *fingerprint* of everything else a per-offer result depends on: the tool (version and
source), the installed files of the libraries that parse and validate, ``offerctl.yaml``, every file under
``policies/`` and ``letter_templates/``, the registered offer checks and the as-of date.
Change any of them and every entry is recomputed; change one offer and only its entry is.
The cache also keeps the findings of *repository* checks that are a pure function of that
fingerprint alone (``check_letters``: templates, clauses and the letter configuration), so
a warm run does not render the sample letters again (``get_repo``/``put_repo``).

Safety: the cache file is replaced atomically (temp file + rename), so concurrent runs each
see a complete file (the last writer wins, and entries are keyed by content so no run can
use another file's result); a file that cannot be read or parsed is ignored and rebuilt.
It is JSON (never pickle: reading a cache must not run code).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from offerctl.core.model import Finding, Severity

FORMAT = 2
CACHE_DIR = "offerctl-cache"
_LIBRARIES = (
    "yaml",
    "_yaml",
    "jsonschema",
    "jsonschema_rs",
    "rfc3339_validator",
    # letters (per-offer and repository letter findings are cached too)
    "jinja2",
    "markupsafe",
    "babel",
    "num2words",
    "markdown_it",
)


@dataclass(frozen=True)
class FileResult:
    """What checking one offer file produced: its findings, and the few fields repository
    checks need (``summary``: None when the file is not a readable mapping)."""

    findings: tuple[Finding, ...]
    summary: Mapping[str, Any] | None


@functools.cache
def _tool_digest() -> str:
    """Version and source of offerctl itself (an editable install changes without a version bump)."""
    from offerctl import __version__

    package = Path(__file__).resolve().parent.parent  # the offerctl package
    digest = hashlib.sha256(__version__.encode())
    for path in sorted([*package.rglob("*.py"), *package.glob("schemas/*.json")]):
        if "starter" in path.parts:
            continue
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    digest.update(_libraries_key().encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _libraries_key() -> str:
    """Where the parsing and validating libraries live and when their files were written:
    any reinstall or upgrade rewrites them. (``importlib.metadata`` was measured at ~20 ms
    per package on a warm run; ``find_spec`` plus a ``stat`` costs microseconds.)"""
    from importlib.util import find_spec

    parts = []
    for module in _LIBRARIES:
        spec = find_spec(module)
        origin = spec.origin if spec is not None else None
        try:
            stat = os.stat(origin) if origin else None
        except OSError:
            stat = None
        parts.append(f"{module}={origin}:{stat.st_size if stat else '-'}:{stat.st_mtime_ns if stat else '-'}")
    return "\0".join(parts)


def _tree_digest(digest: Any, root: Path, rel: str) -> None:
    base = root / rel
    if base.is_file():
        digest.update(rel.encode() + b"\0" + base.read_bytes() + b"\0")
        return
    if not base.is_dir():
        digest.update(rel.encode() + b"\0-\0")
        return
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def fingerprint(
    root: Path,
    as_of: str,
    checks: Sequence[Callable[..., Any]],
    extra: Sequence[str] = (),
) -> str:
    """Everything except the offer file that a per-offer result depends on."""
    digest = hashlib.sha256(f"format={FORMAT}\0as_of={as_of}\0".encode())
    digest.update(_tool_digest().encode())
    for check in checks:
        digest.update(f"{check.__module__}.{check.__qualname__}\0".encode())
    for item in extra:
        digest.update(item.encode() + b"\0")
    for rel in ("offerctl.yaml", "policies", "letter_templates"):
        _tree_digest(digest, root, rel)
    return digest.hexdigest()


# --- JSON encoding (Decimal and findings kept exact) -------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def encode(value: Any) -> Any:
    """``value`` ready for ``json.dumps``: every Decimal becomes ``{"$decimal": "<exact text>"}``."""
    return _encode(value)


def decimal_hook(mapping: dict[str, Any]) -> Any:
    """``json.loads(..., object_hook=decimal_hook)`` reverses ``encode`` in one pass."""
    if len(mapping) == 1 and "$decimal" in mapping:
        text = mapping["$decimal"]
        if not isinstance(text, str):
            raise ValueError("bad decimal")
        return Decimal(text)
    return mapping


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$decimal"}:
            return Decimal(value["$decimal"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """``encode`` reversed (a value with no encoded Decimal is returned as it is)."""
    return value if _is_plain(value) else _decode(value)


def _is_plain(value: Any) -> bool:
    """A flat mapping of text/number/bool/null values needs no decoding (the usual summary)."""
    return type(value) is dict and all(type(v) in _SCALARS for v in value.values())


_SCALARS = frozenset({str, int, bool, float, type(None)})


def finding_row(f: Finding) -> list[Any]:
    """A finding as a JSON row (the cache's and the sealed cache's format)."""
    return [f.path, f.line, f.code, f.message, str(f.severity), f.offer]


def finding_from_row(row: Sequence[Any]) -> Finding:
    """``finding_row`` reversed; ValueError for a row that is not one."""
    path, line, code, message, severity, offer = row
    if not (isinstance(path, str) and isinstance(code, str) and isinstance(message, str)):
        raise ValueError("bad finding row")
    if line is not None and not isinstance(line, int):
        raise ValueError("bad line")
    return Finding(path, line, code, message, Severity(severity), offer if isinstance(offer, str) else None)


class CheckCache:
    """Entries ``rel -> (content id, FileResult)`` valid for one fingerprint."""

    def __init__(self, path: Path | None, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._entries: dict[str, list[Any]] = {}
        self._repo: dict[str, list[Any]] = {}
        self._meta: dict[str, Any] = {}
        self._dirty = False
        self.hits = 0
        if path is not None:
            self._entries, self._repo, self._meta = self._read(path, fingerprint)

    @staticmethod
    def _read(
        path: Path, fingerprint: str
    ) -> tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, Any]]:
        try:
            payload = json.loads(path.read_bytes())
        except (OSError, ValueError):  # missing, truncated, not JSON: start afresh
            return {}, {}, {}
        if (
            not isinstance(payload, dict)
            or payload.get("format") != FORMAT
            or payload.get("fingerprint") != fingerprint
            or not isinstance(payload.get("entries"), dict)
        ):
            return {}, {}, {}
        entries: dict[str, list[Any]] = payload["entries"]
        repo, meta = payload.get("repo"), payload.get("meta")
        return entries, repo if isinstance(repo, dict) else {}, meta if isinstance(meta, dict) else {}

    def get_repo(self, name: str, key: str = "") -> tuple[Finding, ...] | None:
        """The findings repository check ``name`` produced under this fingerprint and ``key``
        (what else the check depends on, e.g. the commit at HEAD), or None."""
        entry = self._repo.get(name)
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != key:
            return None
        try:
            return tuple(finding_from_row(row) for row in entry[1])
        except (TypeError, ValueError):  # a damaged entry is a miss
            return None

    def put_repo(self, name: str, findings: Iterable[Finding], key: str = "") -> None:
        self._repo[name] = [key, [finding_row(f) for f in findings]]
        self._dirty = True

    def get(self, rel: str, content_id: str) -> FileResult | None:
        entry = self._entries.get(rel)
        if not isinstance(entry, list) or len(entry) != 3 or entry[0] != content_id:
            return None
        if entry[2] is None:  # summary only: its findings were dropped by ``bind``
            return None
        try:
            raw_summary, rows = entry[1], entry[2]
            summary = raw_summary if _is_plain(raw_summary) else _decode(raw_summary)
            findings = tuple(finding_from_row(row) for row in rows) if rows else ()
        except (TypeError, ValueError, ArithmeticError):  # a damaged entry is a miss
            return None
        if summary is not None and not isinstance(summary, dict):
            return None
        self.hits += 1
        return FileResult(findings, summary)

    def summary(self, rel: str, content_id: str) -> dict[str, Any] | None:
        """The decoded summary of ``rel`` at ``content_id`` (not counted as a hit), or None.
        A summary is a function of the file's bytes alone, so it stays usable after ``bind``
        dropped the entry's findings."""
        raw = self.raw_summary(rel, content_id)
        if raw is None:
            return None
        try:
            summary = raw if _is_plain(raw) else _decode(raw)
        except (TypeError, ValueError, ArithmeticError):
            return None
        return summary if isinstance(summary, dict) else None

    def bind(self, name: str, key: str) -> bool:
        """Per-offer findings also depend on ``key`` (e.g. the budget ledger over every
        offer, which routing reads). When it differs from the key the entries were computed
        under, every entry keeps its summary but loses its findings (a miss for ``get``).
        True when the key was unchanged."""
        if self._meta.get(name) == key:
            return True
        for entry in self._entries.values():
            if isinstance(entry, list) and len(entry) == 3:
                entry[2] = None
        self._meta[name] = key
        self._dirty = True
        return False

    def raw_summary(self, rel: str, content_id: str) -> Any:
        """The stored summary of ``rel`` at ``content_id`` as it is in the file (not decoded,
        not counted as a hit), or None: for readers that decode only the entries they want
        (``store.summaries``)."""
        entry = self._entries.get(rel)
        if type(entry) is not list or len(entry) != 3 or entry[0] != content_id:
            return None
        return entry[1]

    def put(self, rel: str, content_id: str, result: FileResult) -> None:
        self._entries[rel] = [
            content_id,
            _encode(result.summary) if result.summary is not None else None,
            [finding_row(f) for f in result.findings],
        ]
        self._dirty = True

    def prune(self, keep: Iterable[str]) -> None:
        """Forget entries of files that no longer exist (after a run over every offer)."""
        wanted = set(keep)
        stale = [rel for rel in self._entries if rel not in wanted]
        for rel in stale:
            del self._entries[rel]
        self._dirty = self._dirty or bool(stale)

    def save(self) -> None:
        """Write atomically; a failure to write (read-only .git, full disk) is not an error."""
        if self.path is None or not self._dirty:
            return
        payload = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "entries": self._entries,
            "repo": self._repo,
            "meta": self._meta,
        }
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if atomic_write(self.path, data):
            self._dirty = False


class TreeAnswer:
    """What ``check`` found for a whole tree, stored by ``TreeMemo`` (see there)."""

    def __init__(self, findings: tuple[Finding, ...], offers: list[tuple[str, str | None, str | None]]):
        self.findings = findings
        self.offers = offers
        """(path, id, status) of every readable offer file: what history verification reads."""


class TreeMemo:
    """The findings of a whole ``check`` run keyed by everything they depend on at once: the
    fingerprint, the commit at HEAD and the content id of every offer file (from ``git
    ls-files -s``). An unchanged tree is answered from this one small file, without reading
    or decoding the 10k per-file entries of ``CheckCache`` (which stay the fallback for a
    tree where something changed). Same safety rules: atomic replace, JSON, anything
    unreadable or of another key is a miss."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key

    def get(self) -> TreeAnswer | None:
        try:
            payload = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("key") != self.key:
            return None
        try:
            findings = tuple(finding_from_row(row) for row in payload["findings"])
            offers = [
                (str(p), i if isinstance(i, str) else None, s if isinstance(s, str) else None)
                for p, i, s in payload["offers"]
            ]
        except (KeyError, TypeError, ValueError):
            return None
        return TreeAnswer(findings, offers)

    def put(self, findings: Iterable[Finding], offers: Iterable[tuple[str, str | None, str | None]]) -> None:
        payload = {
            "format": FORMAT,
            "key": self.key,
            "findings": [finding_row(f) for f in findings],
            "offers": [list(o) for o in offers],
        }
        atomic_write(self.path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


def atomic_write(path: Path, data: bytes, prefix: str = ".check-") -> bool:
    """Temp file + rename; True when written. A failure to write (read-only .git, full
    disk) is not an error: the caller computes again next time. The one writer of every
    cache file under ``$GIT_DIR/offerctl-cache`` (check, trees, report history, sealed)."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        tmp = None
        return True
    except OSError:
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def cache_file(git_dir_path: Path | None, root: Path, kind: str = "check") -> Path | None:
    """The cache file for the offer repository at ``root`` (several may share one git dir);
    ``kind`` names what is cached (``check`` results, ``report`` projections)."""
    if git_dir_path is None:
        return None
    name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return git_dir_path / f"{kind}-{name}.json"
