"""Reading offer and policy files into values plus findings.

``read_document`` is the unit of work: bytes in, (data, findings) out, no shared state, so
many files can be read in parallel and cached by content.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offerctl.core.errors import InputError, UsageError
from offerctl.core.model import Finding, Offer, Severity
from offerctl.store import schema, yamlio
from offerctl.store.repo import POLICY_FILES, Repo


@dataclass(frozen=True)
class Document:
    path: str
    data: Any
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return self.data is not None and not any(f.severity == Severity.ERROR for f in self.findings)


def read_document(kind: str, rel: str, raw: bytes) -> Document:
    """Parse and schema-validate one file. ``kind`` is a schema name (offer, routing…)."""
    try:
        text = yamlio.decode(raw)
        data, decimals = yamlio.load_text_numbers(text)
    except yamlio.YamlProblem as exc:
        message = exc.message + (f"; {exc.hint}" if exc.hint else "")
        return Document(rel, None, (Finding(rel, exc.line, exc.code, message),))
    if not isinstance(data, dict):
        return Document(
            rel,
            None,
            (
                Finding(
                    rel,
                    1,
                    "S104",
                    f"the document must be a mapping of fields, not {type(data).__name__}",
                ),
            ),
        )
    offer_id = data.get("id") if kind == "offer" and isinstance(data.get("id"), str) else None
    sealed = None
    if kind == "offer":
        from offerctl.store.privacy import encrypted_path_test

        sealed = encrypted_path_test(data)
    findings = tuple(schema.iter_findings(kind, data, rel, text, offer_id, decimals, sealed=sealed))
    return Document(rel, data, findings)


def read_file(kind: str, root: Path, rel: str) -> Document:
    try:
        raw = yamlio.read_capped(root / rel)
    except yamlio.YamlProblem as exc:
        return Document(rel, None, (Finding(rel, None, exc.code, f"{exc.message}; {exc.hint}"),))
    except OSError as exc:
        return Document(rel, None, (Finding(rel, None, "Y601", f"cannot read file: {exc.strerror}"),))
    return read_document(kind, rel, raw)


def read_data(root: Path, rel: str) -> Any:
    """The parsed document of one file, without schema validation: what ``read_file``
    gives as ``data`` (None when the file cannot be read or parsed). For readers that need
    the values, not the findings (reports)."""
    try:
        data, _ = yamlio.load_text_numbers(yamlio.decode(yamlio.read_capped(root / rel)))
    except (OSError, yamlio.YamlProblem):
        return None
    return data


def offer_files(repo: Repo, paths: Sequence[Path] = ()) -> list[str]:
    """Offer files (relative paths) under ``offers/``, or the given subset."""
    if paths:
        rels: list[str] = []
        for path in paths:
            full = path if path.is_absolute() else Path.cwd() / path
            if full.is_dir():
                rels.extend(repo.rel(p) for p in sorted(full.rglob("*.yaml")))
            elif full.exists():
                rels.append(repo.rel(full))
            else:
                raise UsageError(f"{path}: no such file or directory")
        return [r for r in rels if r.startswith("offers/")]
    if not repo.offers_dir.is_dir():
        return []
    return _walk_yaml(repo.offers_dir, f"{repo.rel(repo.offers_dir)}/")


def _walk_yaml(top: Path, prefix: str) -> list[str]:
    """Relative paths of ``*.yaml`` files below ``top``, sorted (scandir: no per-file
    ``resolve()``, which cost seconds on 10k files)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(top).as_posix()
        base = prefix if rel_dir == "." else f"{prefix}{rel_dir}/"
        found.extend(base + name for name in filenames if name.endswith(".yaml"))
    return sorted(found)


@dataclass(frozen=True)
class Policies:
    """The three policy files as validated data (empty mapping where a file is broken)."""

    routing: Mapping[str, Any] = field(default_factory=dict)
    bands: Mapping[str, Any] = field(default_factory=dict)
    approvers: Mapping[str, Any] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    def people(self) -> dict[str, Mapping[str, Any]]:
        return {
            str(p["email"]).lower(): p
            for p in self.approvers.get("people", []) or []
            if isinstance(p, Mapping) and "email" in p
        }

    def roles(self) -> dict[str, list[str]]:
        roles = self.approvers.get("roles", {}) or {}
        return {
            str(name): [str(e).lower() for e in (spec.get("people") or [])]
            for name, spec in roles.items()
            if isinstance(spec, Mapping)
        }


def load_policies(repo: Repo) -> Policies:
    docs: dict[str, Any] = {}
    findings: list[Finding] = []
    for kind, filename in POLICY_FILES.items():
        rel = f"policies/{filename}"
        if not (repo.policy_base / rel).is_file():
            findings.append(
                Finding(
                    rel,
                    None,
                    "P201",
                    f"policy file {rel} is missing; `offerctl init` writes a starter one",
                )
            )
            docs[kind] = {}
            continue
        doc = read_file(kind, repo.policy_base, rel)
        findings.extend(doc.findings)
        docs[kind] = doc.data if doc.ok else {}
    return Policies(docs["routing"], docs["bands"], docs["approvers"], tuple(findings))


def load_offer(repo: Repo, offer_id: str) -> Offer:
    """One offer by id, for commands that act on it. Unreadable or invalid: exit 2."""
    path = find_offer_path(repo, offer_id)
    rel = repo.rel(path)
    doc = read_file("offer", repo.root, rel)
    errors = [f for f in doc.findings if f.severity == Severity.ERROR]
    if doc.data is None or errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more; run `offerctl check {rel}`)" if len(errors) > 1 else ""
        raise InputError(first.message + more, path=rel, line=first.line, hint="fix the file, then retry")
    from offerctl.store.privacy import open_offer

    return open_offer(repo, rel, doc.data)  # type: ignore[no-any-return]


ID_CHARS = re.compile(r"[A-Za-z0-9-]{1,64}")
"""What an offer id given on the command line may contain, checked before any file lookup:
no path separators, dots, glob characters (``* ? [ ]``), spaces or control characters."""

MIN_PREFIX = 4
"""A unique prefix (of the id or of its random part) must be at least this long."""


def example_id(repo: Repo) -> str:
    """An id of the shape this repository makes (prefix, year, 8 random characters)."""
    from offerctl.core.clock import today

    return f"{repo.id_prefix}-{today().year}-7K3QXM2B"


def offer_ids(repo: Repo) -> dict[str, Path]:
    """Every offer file under ``offers/`` by its id (the file name, upper-cased)."""
    return ids_in(repo.offers_dir)


def ids_in(base: Path) -> dict[str, Path]:
    """Offer files below ``base`` by id, without reading any (``resolve_offer`` and shell
    completion share it, so what completes is what resolves)."""
    if not base.is_dir():
        return {}
    found: dict[str, Path] = {}
    for rel in _walk_yaml(base, ""):
        found.setdefault(Path(rel).stem.upper(), base / rel)
    return found


def _file_of(base: Path, wanted: str) -> Path | None:
    """The file ``ids_in(base)[wanted]`` names, without building the whole mapping (10k
    ``Path`` objects cost ~0.3 s): the first in sorted order whose stem is ``wanted``."""
    if not base.is_dir():
        return None
    matches: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(base):
        for name in filenames:
            if name.endswith(".yaml") and len(name) == len(wanted) + 5 and name[:-5].upper() == wanted:
                rel_dir = Path(dirpath).relative_to(base).as_posix()
                matches.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return base / min(matches) if matches else None


def resolve_offer(repo: Repo, given: str) -> tuple[str, Path]:
    """The one resolver of an offer id typed by a person: (canonical id, its file).

    Every command that takes an ID goes through it (``find_offer_path``). The text is
    checked against ``ID_CHARS`` before anything touches the disk, so ``../x``, ``*`` or
    ``/etc/passwd`` never reach a path. Case does not matter (``off-2026-7qn46wqt``); a
    unique prefix of the id or of its random part (like git's short ids, at least
    ``MIN_PREFIX`` characters) is enough; an ambiguous one lists the candidates; an unknown
    one suggests the nearest ids ("did you mean"). Errors are usage errors (exit 2).
    """
    given = given.strip()  # pasted with a space or a newline
    shown = given if len(given) <= 40 else given[:37] + "..."
    hint = f"`offerctl list` shows the offers; ids look like {example_id(repo)}"
    if not ID_CHARS.fullmatch(given):
        raise UsageError(
            f"{shown!r} is not an offer id (letters, digits and '-' only, at most 64)", hint=hint
        )
    wanted = given.upper()
    direct = repo.offer_path(wanted)
    if direct.is_file():
        return wanted, direct
    found = _file_of(repo.offers_dir, wanted)
    if found is not None:
        return wanted, found
    ids = offer_ids(repo)
    if wanted in ids:
        return wanted, ids[wanted]
    where = f"{repo.rel(repo.offers_dir)}/"
    candidates = sorted(
        i
        for i in ids
        if len(wanted) >= MIN_PREFIX and (i.startswith(wanted) or _random_part(i).startswith(wanted))
    )
    if len(candidates) == 1:
        return candidates[0], ids[candidates[0]]
    if candidates:
        listed = ", ".join(candidates[:10]) + (
            f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        )
        raise UsageError(
            f"{shown!r} is ambiguous: it matches {listed}", hint="give more characters of the id"
        )
    close = difflib.get_close_matches(wanted, list(ids), n=3, cutoff=0.75)
    if not close and len(wanted) >= MIN_PREFIX:
        by_random = {_random_part(i): i for i in ids}
        close = [by_random[r] for r in difflib.get_close_matches(wanted, list(by_random), n=3, cutoff=0.75)]
    if close:
        hint = "did you mean " + " or ".join(close) + "?"
    raise UsageError(f"no offer {shown!r} in {where}", hint=hint)


def _random_part(offer_id: str) -> str:
    return offer_id.split("-", 2)[-1]


def find_offer_path(repo: Repo, offer_id: str) -> Path:
    """The file of an offer id typed by a person (see ``resolve_offer``)."""
    return resolve_offer(repo, offer_id)[1]


def load_offers(repo: Repo, rels: Iterable[str]) -> tuple[list[Offer], list[Finding]]:
    offers: list[Offer] = []
    findings: list[Finding] = []
    for rel in rels:
        doc = read_file("offer", repo.root, rel)
        findings.extend(doc.findings)
        if doc.data is not None and isinstance(doc.data, dict):
            from offerctl.store.privacy import open_offer

            offers.append(open_offer(repo, rel, doc.data, extra={"valid": doc.ok}))
    return offers, findings
