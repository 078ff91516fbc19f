"""The clause library: ``letter_templates/clauses/*.md`` and their front matter.

Each clause file starts with a ``---`` front matter block (``id``, ``title``, ``standard``,
``jurisdictions``); ``<id>.<lang>.md`` files are translations. Letters render the clauses;
routing asks which clause ids are standard (``Clause.standard``), so both read them here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offerctl.core.model import Finding
from offerctl.store import yamlio

if TYPE_CHECKING:
    from offerctl.store.repo import Repo

CLAUSES_DIR = "clauses"


@dataclass(frozen=True)
class Clause:
    """One clause of ``letter_templates/clauses/``: metadata from its front matter."""

    id: str
    title: str
    standard: bool
    jurisdictions: tuple[str, ...]
    path: str
    """Repository-relative path of the clause file."""
    translations: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """language → (template name, title) for ``<id>.<lang>.md`` files."""

    def applies_to(self, country: str | None, region: str | None = None) -> bool:
        if not self.jurisdictions or "*" in self.jurisdictions:
            return True
        return country in self.jurisdictions or f"{country}-{region}" in self.jurisdictions

    def template_for(self, language: str) -> tuple[str, str]:
        """(template name, title) in ``language``, else the default text."""
        return self.translations.get(language) or (f"{CLAUSES_DIR}/{self.id}.md", self.title)


_FRONT = re.compile(r"\A---\n(.*?\n)---\n", re.S)
_CLAUSE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_TRANSLATION = re.compile(r"^(?P<id>.+)\.(?P<lang>[a-z]{2})$")


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(front matter, body with the front matter lines blanked so line numbers hold)."""
    match = _FRONT.match(text)
    if not match:
        return None, text
    blank = "\n" * match.group(0).count("\n")
    return match.group(1), blank + text[match.end() :]


def load_clauses(repo_root: Path) -> tuple[dict[str, Clause], list[Finding]]:
    """Every clause and its translations, plus L406 findings for broken clause files."""
    directory = repo_root / "letter_templates" / CLAUSES_DIR
    clauses: dict[str, Clause] = {}
    findings: list[Finding] = []
    if not directory.is_dir():
        return clauses, findings
    translations: list[tuple[str, str, str, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.md")):
        rel = f"letter_templates/{CLAUSES_DIR}/{path.name}"
        stem = path.name[: -len(".md")]
        meta, problem = _read_meta(path)
        if problem is not None:
            findings.append(Finding(rel, problem[0], "L406", problem[1]))
            continue
        translated = _TRANSLATION.match(stem)
        if translated:
            translations.append((translated["id"], translated["lang"], rel, meta))
            continue
        issue = _meta_problem(stem, meta)
        if issue:
            findings.append(Finding(rel, 1, "L406", issue))
            continue
        jurisdictions = meta.get("jurisdictions", ["*"])
        clauses[stem] = Clause(
            stem, str(meta["title"]), bool(meta["standard"]), tuple(map(str, jurisdictions)), rel, {}
        )
    for clause_id, lang, rel, meta in translations:
        base = clauses.get(clause_id)
        if base is None:
            findings.append(Finding(rel, 1, "L406", f"translation of unknown clause {clause_id!r}"))
            continue
        title = str(meta.get("title") or base.title)
        merged = {**base.translations, lang: (f"{CLAUSES_DIR}/{Path(rel).name}", title)}
        clauses[clause_id] = Clause(base.id, base.title, base.standard, base.jurisdictions, base.path, merged)
    return clauses, findings


def _read_meta(path: Path) -> tuple[dict[str, Any], tuple[int | None, str] | None]:
    try:
        text = yamlio.read_text_capped(path)
    except (OSError, UnicodeDecodeError, yamlio.YamlProblem) as exc:
        return {}, (None, f"cannot read clause file: {exc}")
    front, _ = split_front_matter(text)
    if front is None:
        return {}, (1, "clause file must start with a '---' front matter block (id, title, standard)")
    try:
        meta = yamlio.load_text(front)
    except yamlio.YamlProblem as exc:
        return {}, ((exc.line or 0) + 1, f"front matter: {exc.message}")
    if not isinstance(meta, dict):
        return {}, (2, "front matter must be a mapping (id, title, standard, jurisdictions)")
    return meta, None


def _meta_problem(stem: str, meta: Mapping[str, Any]) -> str | None:
    if not _CLAUSE_ID.match(stem):
        return f"clause file name {stem!r} is not a lower-case id (letters, digits, _ . -)"
    if meta.get("id", stem) != stem:
        return f"front matter id {meta.get('id')!r} differs from the file name {stem!r}"
    if not isinstance(meta.get("title"), str) or not meta["title"].strip():
        return "front matter needs a title"
    if not isinstance(meta.get("standard"), bool):
        return "front matter needs standard: true or false (non-standard clauses go to legal)"
    jurisdictions = meta.get("jurisdictions", ["*"])
    if not isinstance(jurisdictions, list) or not all(isinstance(j, str) for j in jurisdictions):
        return "jurisdictions must be a list like [US, US-CA, DE] (or ['*'] for everywhere)"
    unknown = set(meta) - {"id", "title", "standard", "jurisdictions", "description"}
    if unknown:
        return f"unknown front matter keys: {', '.join(sorted(unknown))}"
    return None


def clause_library(repo: Repo) -> dict[str, Clause]:
    """Clause id → ``Clause`` (``Clause.standard`` tells routing what legal must see).

    Broken clause files are left out (``check`` reports them as L406).
    """
    clauses, _ = load_clauses(repo.root)
    return clauses
