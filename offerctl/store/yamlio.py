"""The only YAML code in offerctl.

Two readers, one set of rules:

* ``load`` — the fast path for reading many files: PyYAML's C parser with a YAML 1.2
  resolver (only ``true``/``false`` are booleans, no octal, no sexagesimal, no timestamps:
  dates stay text for schema validation), floats as ``Decimal`` (money never becomes a
  binary float), duplicate keys and anchors/aliases rejected, size and nesting limits,
  strict UTF-8 without BOM.
* ``RoundTrip`` — ruamel.yaml's round-trip mode, only for editing one file: comments, key
  order and quoting survive, so appending an approval changes exactly the lines appended.

``line_of`` maps a JSON path (as jsonschema reports it) to a 1-based line, by composing the
file again with the C parser; only files that have findings pay for it.
Writes are atomic: temp file in the same directory, fsync, ``os.replace``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from offerctl.core.errors import StorageError, storage_hint
from offerctl.core.model import set_path, to_jsonable

MAX_BYTES = 1024 * 1024
"""Largest file offerctl reads (an offer is ~3 KB; a 5 MB file is a mistake or an attack)."""
MAX_DEPTH = 32
"""Deepest nesting of mappings/lists accepted (an offer needs 5)."""
_MAX_LEADING = 128
"""Longest run of indentation/indicators at the start of a line (bounds block nesting)."""


@dataclass(eq=False)  # not frozen: raising sets __traceback__ (frozen turned it into FrozenInstanceError)
class YamlProblem(Exception):
    """Why a file cannot be read. ``code`` is a Y6xx finding code."""

    code: str
    message: str
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        return self.message


# --- YAML 1.2 core schema for the C loader ---------------------------------------------

_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
# YAML 1.2 JSON-schema style numbers: a leading zero (`012000`) is *not* a number, so it
# stays text and the schema reports it, instead of silently reading 5120 or 12000.
_FLOAT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$|^[-+]?\.[0-9]+$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


class _Loader(yaml.CSafeLoader):
    """CSafeLoader with YAML 1.2 resolution and strict mappings."""

    yaml_implicit_resolvers = {}  # noqa: RUF012 - PyYAML's own class-level registry, reset here

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            # Only an alias makes the composer hand us the same node twice.
            raise YamlProblem(
                "Y604",
                "anchors and aliases (&name / *name) are not allowed in offerctl files",
                node.start_mark.line + 1,
                "write the value out in full where it is used",
            )
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # pragma: no cover - guarded by the parser
            raise YamlProblem("Y602", "expected a mapping", node.start_mark.line + 1)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem("Y604", "merge keys (<<) are not allowed", key_node.start_mark.line + 1)
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise YamlProblem(
                    "Y602",
                    f"mapping keys must be text, not {type(key).__name__} ({key_node.value!r})",
                    key_node.start_mark.line + 1,
                    "quote the key",
                )
            if key in mapping:
                raise YamlProblem(
                    "Y603",
                    f"duplicate key {key!r}",
                    key_node.start_mark.line + 1,
                    "each key may appear once in a mapping; delete or rename one of them",
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_map(self, node: yaml.MappingNode) -> Any:
        data: dict[Any, Any] = {}
        yield data
        data.update(self.construct_mapping(node))

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Decimal:  # type: ignore[override]
        try:
            return Decimal(str(node.value))
        except InvalidOperation as exc:  # pragma: no cover - regex admits only numbers
            raise YamlProblem("Y602", f"not a number: {node.value!r}") from exc

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        return int(str(node.value))

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """The registered YAML 1.2 resolvers, without PyYAML's per-scalar generic lookup.

        Same answers as ``BaseResolver.resolve`` with the resolvers registered below (the
        composer calls this for every scalar, so it is the hot loop of bulk reading).
        """
        if kind is yaml.ScalarNode:
            if implicit[0]:
                if value == "":
                    return _NULL_TAG
                first = value[0]
                if first in "tTfF" and _BOOL.match(value):
                    return _BOOL_TAG
                if first in "-+0123456789":
                    if _INT.match(value):
                        return _INT_TAG
                    if _FLOAT.match(value):
                        return _FLOAT_TAG
                elif first == "." and _FLOAT.match(value):
                    return _FLOAT_TAG
                elif first in "~nN" and _NULL.match(value):
                    return _NULL_TAG
            return _STR_TAG
        if kind is yaml.SequenceNode:
            return _SEQ_TAG
        return _MAP_TAG


def _register() -> None:
    for tag, pattern, first in (
        ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
        ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
        ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
        ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
    ):
        _Loader.add_implicit_resolver(tag, pattern, list(first))
    _Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
    _Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
    _Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
    # Explicit !!timestamp / !!binary / !!set / python tags are refused as unknown tags.
    for tag in (
        "tag:yaml.org,2002:timestamp",
        "tag:yaml.org,2002:binary",
        "tag:yaml.org,2002:set",
        "tag:yaml.org,2002:omap",
        "tag:yaml.org,2002:pairs",
    ):
        _Loader.yaml_constructors = dict(_Loader.yaml_constructors)
        _Loader.yaml_constructors.pop(tag, None)


_register()


# --- guards that run before the parser ---------------------------------------------------

_LEADING = re.compile(rf"^[ \-?:]{{{_MAX_LEADING + 1}}}", re.M)
_QUOTED = re.compile(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*")
_FLOW = re.compile(r"[\[\]{}]")


def read_capped(path: Path | str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of ``path`` (``-``: standard input), reading at most ``limit + 1`` of them.

    Every file offerctl reads as input goes through here: ``/dev/zero``, a FIFO that never
    ends or a 10 GB file costs ``limit`` bytes and then fails (Y605), instead of growing until
    the machine runs out of memory. ``OSError`` propagates (the caller names the file).
    """
    if str(path) == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode("utf-8")
    else:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    if len(data) > limit:
        raise YamlProblem(
            "Y605",
            f"{path} is larger than {limit:,} bytes (reading stopped there)",
            None,
            "an offer is a few kilobytes: this is not an offer file, or it has pasted content",
        )
    return data


def read_text_capped(path: Path | str, limit: int = MAX_BYTES) -> str:
    """``read_capped`` decoded as UTF-8 (errors raise ``UnicodeDecodeError``)."""
    return read_capped(path, limit).decode("utf-8")


def decode(raw: bytes) -> str:
    """Strict UTF-8, no BOM, no NUL, within the size limit."""
    if len(raw) > MAX_BYTES:
        raise YamlProblem(
            "Y605",
            f"file is {len(raw):,} bytes; offerctl reads files of at most {MAX_BYTES:,} bytes",
            None,
            "an offer is a few kilobytes: this is not an offer file, or it has pasted content",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raise YamlProblem(
            "Y608",
            "file starts with a byte-order mark (BOM)",
            1,
            "save the file as UTF-8 without BOM",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlProblem(
            "Y601",
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            line,
            "re-save the file as UTF-8 (it looks like Latin-1 or Windows-1252)",
        ) from None
    if "\x00" in text:
        raise YamlProblem("Y601", "file contains NUL bytes; it is not a text file", None)
    return text


def _check_depth(text: str) -> None:
    match = _LEADING.search(text)
    if match:
        raise YamlProblem(
            "Y606",
            f"nesting is too deep (more than {_MAX_LEADING} columns of indentation)",
            text.count("\n", 0, match.start()) + 1,
            f"offerctl accepts at most {MAX_DEPTH} levels of nesting",
        )
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    stripped = _QUOTED.sub(lambda m: " " * len(m.group(0)), text)
    for match in _FLOW.finditer(stripped):
        depth += 1 if match.group(0) in "[{" else -1
        if depth > MAX_DEPTH:
            raise YamlProblem(
                "Y606",
                f"nesting is deeper than {MAX_DEPTH} levels",
                text.count("\n", 0, match.start()) + 1,
                "flatten the structure; an offer needs only a few levels",
            )


def _check_anchors(text: str) -> None:
    if "&" not in text and "*" not in text:
        return
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                raise YamlProblem(
                    "Y604",
                    "anchors and aliases (&name / *name) are not allowed in offerctl files",
                    token.start_mark.line + 1,
                    "write the value out in full where it is used",
                )
    except yaml.YAMLError:
        return  # the parser reports syntax errors with better context


def _problem_from_yaml_error(exc: yaml.YAMLError, text: str) -> YamlProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}, {problem}" if context else str(problem)
    hint = "fix the YAML syntax at this line"
    if line is not None:
        lines = text.splitlines()
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        if "\t" in source or "'\\t'" in message:
            return YamlProblem(
                "Y610",
                "tab character in indentation; YAML allows only spaces there",
                line,
                "replace the tab with spaces (offerctl files use 2-space indentation)",
            )
    if "expected a single document" in message:
        return YamlProblem(
            "Y609",
            "file holds more than one YAML document",
            line,
            "keep one offer per file; remove the extra '---'",
        )
    return YamlProblem("Y602", f"YAML syntax error: {message}", line, hint)


class _Unusual(Exception):
    """The fast converter met something only the full constructor handles or reports."""


def _convert(node: yaml.Node, depth: int, decimals: list[Decimal]) -> Any:
    """Node tree → plain data for the common case (text keys, known tags, no duplicates).

    Anything else raises ``_Unusual`` and the file is read again by the full constructor,
    which owns the error messages; aliases never get here (``_check_anchors`` ran first).
    """
    if depth > MAX_DEPTH:
        raise _Unusual
    cls = type(node)
    if cls is yaml.ScalarNode:
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        if tag == _INT_TAG and _INT.match(node.value):
            return int(node.value)
        if tag == _FLOAT_TAG and _FLOAT.match(node.value):
            number = Decimal(node.value)
            decimals.append(number)
            return number
        if tag == _BOOL_TAG and _BOOL.match(node.value):
            return node.value[0] in "tT"
        if tag == _NULL_TAG and _NULL.match(node.value):
            return None
        raise _Unusual
    if cls is yaml.MappingNode:
        if node.tag != _MAP_TAG:
            raise _Unusual
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode or key_node.tag != _STR_TAG:
                raise _Unusual
            key = key_node.value
            if key in mapping:
                raise _Unusual
            mapping[key] = _convert(value_node, depth + 1, decimals)
        return mapping
    if cls is yaml.SequenceNode and node.tag == _SEQ_TAG:
        return [_convert(item, depth + 1, decimals) for item in node.value]
    raise _Unusual


def _load_fast(text: str, decimals: list[Decimal]) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    return None if node is None else _convert(node, 1, decimals)


def load_text(text: str) -> Any:
    """Parse one YAML document with offerctl's rules. Raises ``YamlProblem``."""
    return load_text_numbers(text)[0]


def load_text_numbers(text: str) -> tuple[Any, list[Decimal] | None]:
    """``load_text``, plus every Decimal in the data (None: not tracked; walk the data).

    Common files go through ``_convert`` (about twice as fast as PyYAML's constructor);
    a file with anything unusual — or any error — is read again by the full constructor
    so every problem is reported the same way on both paths.
    """
    _check_depth(text)
    _check_anchors(text)
    decimals: list[Decimal] | None = []
    try:
        data = _load_fast(text, decimals)  # type: ignore[arg-type]
    except (_Unusual, yaml.YAMLError, RecursionError):
        decimals = None
        data = _load_full(text)
    if data is None:
        raise YamlProblem(
            "Y607",
            "file is empty (or holds only comments)",
            1,
            "write the document, or delete the file",
        )
    return data, decimals


def _load_full(text: str) -> Any:
    try:
        data = yaml.load(text, Loader=_Loader)
    except YamlProblem:
        raise
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise YamlProblem(
            "Y602",
            f"unsupported YAML tag: {exc.problem}",
            mark.line + 1 if mark else None,
            "remove the explicit '!!' tag; write plain values",
        ) from None
    except yaml.YAMLError as exc:
        raise _problem_from_yaml_error(exc, text) from None
    except RecursionError:
        raise YamlProblem("Y606", f"nesting is deeper than {MAX_DEPTH} levels") from None
    if data is not None:
        _check_data_depth(data)
    return data


def load(raw: bytes) -> Any:
    """Decode and parse a file's bytes (see ``decode`` and ``load_text``)."""
    return load_text(decode(raw))


def load_path(path: Path) -> Any:
    return load(read_capped(path))


def _check_data_depth(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise YamlProblem("Y606", f"nesting is deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def parse_scalar(text: str) -> Any:
    """A command-line value (``--set path=value``) read with the same YAML 1.2 rules."""
    if text == "":
        return ""
    if "\n" in text or "\r" in text:
        # YAML would fold the line break into a space and quietly change the value; taken
        # as it was typed, the schema then decides (one-line fields refuse it).
        return text
    try:
        return load_text(text)
    except YamlProblem as exc:
        if exc.code == "Y607":
            return None
        return text


# --- line numbers ------------------------------------------------------------------------


def line_of(text: str, path: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node of ``path`` that exists in ``text``.

    For a mapping key the line of the key is returned; for a missing key, the line of the
    nearest existing parent (so "missing field" findings point at the enclosing mapping).
    """
    return line_finder(text)(path)


def line_in_file(path: Path, keys: Sequence[str | int]) -> int | None:
    """``line_of`` for a file on disk; None when it cannot be read."""
    try:
        return line_of(read_text_capped(path), keys)
    except (OSError, UnicodeDecodeError, YamlProblem):
        return None


def _line_in(root: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The walk behind ``line_of``/``line_finder``: follow ``path`` down from ``root``."""
    node = root
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# --- round trip --------------------------------------------------------------------------


class RoundTrip:
    """ruamel.yaml round-trip reader/writer configured to reproduce offerctl files exactly.

    Measured (docs/design.md, Measurements): with ``preserve_quotes``, ``indent(mapping=2, sequence=4,
    offset=2)`` and a wide line width, saving an unchanged file reproduces it byte for byte.
    """

    def __init__(self) -> None:
        from ruamel.yaml import YAML

        self._yaml = YAML(typ="rt")
        self._yaml.preserve_quotes = True
        self._yaml.indent(mapping=2, sequence=4, offset=2)
        self._yaml.width = 4096
        self._yaml.allow_duplicate_keys = False
        self._yaml.representer.add_representer(Decimal, _represent_decimal)

    def load(self, text: str) -> Any:
        return self._yaml.load(text)

    def dump(self, data: Any) -> str:
        stream = io.StringIO()
        self._yaml.dump(data, stream)
        return stream.getvalue()


def _represent_decimal(representer: Any, value: Decimal) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:float", str(value))


def flow_map(items: dict[str, Any]) -> Any:
    """A mapping that round-trip dumps on one line (``{a: 1, b: 2}``): approval/event lines."""
    from ruamel.yaml.comments import CommentedMap

    mapping = CommentedMap()
    for key, value in items.items():
        mapping[key] = quoted(value) if isinstance(value, str) and _needs_quotes(value) else value
    mapping.fa.set_flow_style()
    return mapping


_PLAIN_UNSAFE = re.compile(r"[:,\[\]{}#]|^[-?!&*|>'\"%@`]|^\s|\s$")
_LOOKS_TYPED = re.compile(
    r"^(?:[-+]?[0-9][0-9_.:eE+-]*|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|~|null|Null|NULL"
    r"|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"
)


def round_trip_value(value: Any) -> Any:
    """Plain values as round-trip values that read back as the same type (dates stay text,
    ``sha256:…`` stays quoted); nested mappings and lists stay on one line."""
    from ruamel.yaml.comments import CommentedSeq

    if isinstance(value, Enum):  # a StrEnum such as core.model.Status: its text
        value = value.value
    if isinstance(value, str):
        return quoted(value) if _needs_quotes(value) else value
    if isinstance(value, Mapping):
        return flow_map({str(k): round_trip_value(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        seq = CommentedSeq([round_trip_value(v) for v in value])
        seq.fa.set_flow_style()
        return seq
    return value


def set_in(doc: Any, dotted: str, value: Any) -> Any:
    """Set ``a.b.c`` in a round-trip document (``core.model.set_path`` with block mappings
    for missing parents); returns the value it replaced (None when there was none)."""
    from ruamel.yaml.comments import CommentedMap

    return set_path(doc, dotted, value, mapping=CommentedMap)


def delete_in(doc: Any, dotted: str) -> Any:
    """Remove ``a.b.c`` from a round-trip document; returns the removed value (None when
    there was none)."""
    parts = dotted.split(".")
    node = doc
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and parts[-1] in node:
        return node.pop(parts[-1])
    return None


def plain(value: Any) -> Any:
    """Round-trip values as plain Python values (for events and digests): mappings and lists
    rebuilt, floats as ``Decimal``, dates as ISO text, text subclasses as ``str``."""
    import datetime as dt

    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def flow_line(item: Mapping[str, Any]) -> Any:
    """One approval or event line: a flow mapping (``{a: 1, b: [x, y]}``) whose values read
    back as the same types."""
    return round_trip_value(dict(item))


def new_document(
    data: Mapping[str, Any], *, line_lists: Iterable[str] = (), flow_lists: Iterable[str] = ()
) -> Any:
    """Plain data as a round-trip document for a new file: block mappings; the lists named
    in ``line_lists`` one flow line per item (approvals, events), those in ``flow_lists`` on
    one line (clauses, tags), other lists in block style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    lines, flows = frozenset(line_lists), frozenset(flow_lists)

    def convert(value: Any, key: str | None = None) -> Any:
        if isinstance(value, Mapping):
            mapping = CommentedMap()
            for k, v in value.items():
                mapping[k] = convert(v, k)
            return mapping
        if isinstance(value, list):
            if key in lines:
                return CommentedSeq(flow_line(item) for item in value)
            seq = CommentedSeq(convert(v) for v in value)
            if key in flows:
                seq.fa.set_flow_style()
            return seq
        return value

    return convert(data)


def line_key(item: Any) -> str:
    """A line's identity: its parsed content as canonical JSON (sorted keys, exact
    decimals), so formatting, quoting and flow/block style never matter and any changed
    value does. For comparing approval/event lines and field values across versions — not
    the approval digest, which has its own canonical form (``approvals.binding.canonical``)."""
    import json

    return json.dumps(to_jsonable(item), sort_keys=True, ensure_ascii=False)


def _needs_quotes(value: str) -> bool:
    """Quote what any YAML reader (1.1 or 1.2, C or pure) could read differently.

    Anything with ':' is quoted: libyaml rejects an unquoted ``sha256:…`` inside a flow
    mapping (docs/design.md, Measurements), and timestamps stay text for every reader.
    """
    return value == "" or bool(_PLAIN_UNSAFE.search(value)) or bool(_LOOKS_TYPED.match(value))


def quoted(value: str) -> Any:
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    return SingleQuotedScalarString(value)


# --- atomic writes -----------------------------------------------------------------------


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that readers see the old file or the new one, never half."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    offerctl's one temp-file-and-rename: offers, rendered letters, sent PDFs and ``.eml``
    files all go through it. The temp file lives in the same directory (so ``os.replace`` is a
    rename on one file system), is fsynced before the rename, and the directory is fsynced
    after it. An existing file keeps its mode; a new one is 0644.
    """
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".offerctl-tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if isinstance(exc, OSError):  # disk full, quota, read-only: the old file is untouched
            raise StorageError(
                f"cannot write {path}: {exc.strerror or exc}", hint=storage_hint(exc.errno)
            ) from None
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_many(items: Iterable[tuple[Path, str]]) -> None:
    for path, text in items:
        atomic_write(path, text)


needs_quotes = _needs_quotes
"""Public name: whether a string must be written quoted to read back as the same text."""


def line_finder(text: str | None) -> Callable[[Sequence[str | int]], int | None]:
    """``line_of`` for many paths of one document: the file is composed once.

    Returns a function ``path -> line | None`` (None for every path when ``text`` is None or
    does not parse)."""
    root: yaml.Node | None = None
    if text is not None:
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            root = None

    def find(path: Sequence[str | int]) -> int | None:
        return _line_in(root, path)

    return find
