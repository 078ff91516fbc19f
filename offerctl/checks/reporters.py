"""Findings as text: one function per output format, no printing here."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from offerctl.core.model import Finding, Severity


def text(findings: Sequence[Finding], checked: int) -> str:
    """``path:line: CODE [severity] message (offer)`` lines, then a summary line."""
    lines = []
    for f in findings:
        where = f"{f.path}:{f.line}" if f.line else f.path
        offer = f" ({f.offer})" if f.offer else ""
        lines.append(f"{where}: {f.code} [{f.severity}] {f.message}{offer}")
    counts = Counter(f.severity for f in findings)
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    noun = "offer" if checked == 1 else "offers"
    if not findings:
        lines.append(f"ok: {checked} {noun} checked, no findings")
    else:
        verdict = "failed" if errors else "ok"
        lines.append(f"{verdict}: {checked} {noun} checked, {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def as_json(payload: object) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding], checked: int) -> str:
    """GitHub Actions workflow commands: one annotation per finding, on the file and line."""
    lines = []
    for f in findings:
        level = "error" if f.severity == Severity.ERROR else "warning"
        props = [f"file={_escape_property(f.path)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f.code + (' ' + f.offer if f.offer else ''))}")
        lines.append(f"::{level} {','.join(props)}::{_escape_data(f.message)}")
    errors = sum(1 for f in findings if f.severity == Severity.ERROR)
    lines.append(
        f"offerctl check: {checked} offers checked, {errors} error(s), {len(findings) - errors} warning(s)"
    )
    return "\n".join(lines)
