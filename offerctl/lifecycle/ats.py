"""ATS exports → intake values (``offerctl new --from FILE --ats NAME``), through a mapping in
``offerctl.yaml`` (``import.<name>``), so a new ATS is a new mapping, not code.

A mapping has:

* ``fields``: *source* → offer path. A source is a dotted path into the export (list items
  by index: ``candidate.email_addresses.0.value``) or a template with ``{path}``
  placeholders (``"{candidate.first_name} {candidate.last_name}"``). A source that is
  absent or null in the export maps to nothing (the prompt or ``--set`` supplies it).
* ``values``: offer path → {ATS value → offer value}, for values spelt differently
  (``Full-time`` → ``full_time``). A value with no entry is kept as is (and the schema says
  whether it fits).
* ``ignore``: sources known and deliberately not imported (exact paths, or prefixes ending
  in ``.*``).
* ``detect``: sources that must exist for ``--ats`` to be inferred from the file.

Every non-null leaf of the export that no ``fields`` source read and ``ignore`` does not
cover is listed as **unmapped**; every ``fields`` source absent from the export is listed as
**missing**. Nothing is dropped silently. Numbers are read from JSON as exact Decimals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from offerctl.core.errors import InputError, UsageError
from offerctl.core.model import set_path
from offerctl.store.repo import Repo

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")
_MISSING = object()


@dataclass(frozen=True)
class Imported:
    ats: str
    values: dict[str, Any]
    """Offer path → value (the intake's ``--from`` part)."""
    mapped: tuple[tuple[str, str], ...]
    """(source, offer path) pairs that produced a value."""
    unmapped: tuple[str, ...]
    """Export leaves no mapping reads (and ``ignore`` does not cover)."""
    missing: tuple[str, ...]
    """Mapping sources absent (or null) in this export."""
    unmatched_values: tuple[str, ...] = ()
    """``path: value`` pairs whose field has a value map without an entry for the value."""
    ignored: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "ats": self.ats,
            "mapped": [{"source": s, "field": f} for s, f in self.mapped],
            "unmapped": list(self.unmapped),
            "missing": list(self.missing),
            "unmatched_values": list(self.unmatched_values),
            "ignored": self.ignored,
        }

    def intake(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for path, value in self.values.items():
            set_path(data, path, value)
        return data


def read_export(path: Path) -> Any:
    """The export as JSON (numbers as Decimal, never float)."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"--from {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError("an ATS export must be UTF-8 JSON", path=str(path), line=1) from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg}", path=str(path), line=exc.lineno, hint="ATS exports are JSON files"
        ) from None


def _get(data: Any, dotted: str) -> Any:
    current = data
    for part in dotted.split("."):
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def _leaves(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, Mapping):
        out: list[str] = []
        for key, child in value.items():
            out += _leaves(child, f"{prefix}{key}.")
        return out
    if isinstance(value, list):
        out = []
        for i, child in enumerate(value):
            out += _leaves(child, f"{prefix}{i}.")
        return out
    if value is None or value == "" or value == []:
        return []
    return [prefix[:-1]]


def _sources(source: str) -> list[str]:
    found = _PLACEHOLDER.findall(source)
    return found if found else [source]


def _covered(leaf: str, used: set[str], ignore: list[str]) -> bool:
    for path in used:
        if leaf == path or leaf.startswith(path + "."):
            return True
    for pattern in ignore:
        if pattern.endswith(".*") and (leaf == pattern[:-2] or leaf.startswith(pattern[:-1])):
            return True
        if leaf == pattern:
            return True
    return False


def mappings(repo: Repo) -> dict[str, Mapping[str, Any]]:
    found = repo.setting("import") or {}
    return (
        {str(k): v for k, v in found.items() if isinstance(v, Mapping)} if isinstance(found, Mapping) else {}
    )


def detect(repo: Repo, export: Any) -> str | None:
    """The one mapping whose ``detect`` sources all exist in ``export`` (None: none or several)."""
    hits = [
        name
        for name, spec in mappings(repo).items()
        if spec.get("detect") and all(_get(export, s) is not _MISSING for s in spec["detect"])
    ]
    return hits[0] if len(hits) == 1 else None


def _map_one(
    export: Any,
    source: str,
    target: str,
    value_maps: Mapping[str, Mapping[str, Any]],
    values: dict[str, Any],
    mapped: list[tuple[str, str]],
    missing: list[str],
    unmatched: list[str],
    used: set[str],
) -> None:
    paths = _sources(source)
    used.update(paths)
    got = {p: _get(export, p) for p in paths}
    absent = [p for p, v in got.items() if v is _MISSING or v is None or v == ""]
    if absent:
        missing.extend(absent)
        return
    if _PLACEHOLDER.search(source):
        value: Any = _PLACEHOLDER.sub(lambda m: str(got[m.group(1)]), source).strip()
    else:
        value = got[source]
        if isinstance(value, Mapping | list):
            missing.append(f"{source} (a {type(value).__name__}, not a value: map one of its fields)")
            return
    table = value_maps.get(target)
    if table is not None:
        key = str(value).lower() if isinstance(value, bool) else str(value)
        if key in table:
            value = table[key]
        else:
            unmatched.append(f"{target}: {value!r}")
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    values[target] = value
    mapped.append((source, target))


def convert(repo: Repo, export: Any, ats: str | None) -> Imported:
    """Map ``export`` through ``import.<ats>`` (inferred with ``detect`` when None)."""
    known = mappings(repo)
    name = ats or detect(repo, export)
    if name is None:
        raise UsageError(
            "cannot tell which ATS exported this file",
            hint=f"pass --ats NAME (offerctl.yaml import: has {', '.join(known) or 'no mappings'})",
        )
    spec = known.get(name)
    if spec is None:
        raise UsageError(
            f"--ats {name}: no mapping import.{name} in offerctl.yaml",
            hint='docs/workflow.md "ATS import" shows the mapping format',
        )
    if not isinstance(export, Mapping):
        raise InputError("an ATS export must be a JSON object", line=1)
    fields: Mapping[str, Any] = spec.get("fields") or {}
    value_maps: Mapping[str, Mapping[str, Any]] = spec.get("values") or {}
    ignore = [str(p) for p in spec.get("ignore") or []]
    values: dict[str, Any] = {}
    mapped: list[tuple[str, str]] = []
    missing: list[str] = []
    unmatched: list[str] = []
    used: set[str] = set()
    for source, targets in fields.items():
        for target in [targets] if isinstance(targets, str) else list(targets):
            _map_one(export, source, str(target), value_maps, values, mapped, missing, unmatched, used)
    leaves = _leaves(export)
    ignored = [leaf for leaf in leaves if not _covered(leaf, used, []) and _covered(leaf, set(), ignore)]
    unmapped = [leaf for leaf in leaves if not _covered(leaf, used, ignore)]
    return Imported(
        name,
        values,
        tuple(mapped),
        tuple(unmapped),
        tuple(dict.fromkeys(missing)),
        tuple(unmatched),
        len(ignored),
    )


__all__ = ["Imported", "convert", "detect", "mappings", "read_export"]
