"""Findings as text: one function per output format, no printing here."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence

from offerctl.core.model import Finding, Severity

SKIPPED = "V701"
"""Checks skipped on a confidential offer for want of a key: one per check and offer, so a
keyless run of a whole repository has many. Text and GitHub output summarise them (grouped
by reason); ``--verbose`` and JSON list every one."""
_SKIPPED_MESSAGE = re.compile(r"^skipped the (?P<check>.+?) check: (?P<why>.*?); readers: (?P<readers>.*)$")
_GROUP = re.compile(r"^group \S+$")


def skipped_summary(findings: Sequence[Finding]) -> tuple[list[Finding], list[str]]:
    """The findings other than the per-offer V701 notices, and one summary message per
    reason those notices give (which checks, on how many offers, who can run them)."""
    rest: list[Finding] = []
    groups: dict[str, list[tuple[Finding, re.Match[str]]]] = {}
    for f in findings:
        match = _SKIPPED_MESSAGE.match(f.message) if f.code == SKIPPED and f.offer else None
        if match is None:
            rest.append(f)
            continue
        why = re.sub(r" \([^)]*\)", "", match["why"]).removeprefix("it ")
        groups.setdefault(why, []).append((f, match))
    if sum(len(g) for g in groups.values()) <= 1:
        return list(findings), []
    summaries = []
    for why, members in groups.items():
        offers = sorted({f.offer for f, _ in members if f.offer})
        checks = sorted({m["check"] for _, m in members})
        reader_sets = [[r.strip() for r in m["readers"].split(",")] for _, m in members]
        common = [r for r in reader_sets[0] if _GROUP.match(r) and all(r in s for s in reader_sets)]
        own = any(any(not _GROUP.match(r) for r in s) for s in reader_sets)
        if own:
            common.append("each offer's recruiter, hiring manager and approvers")
        readers = ", ".join(common)
        summaries.append(
            f"skipped {len(members)} check(s) on {len(offers)} confidential offer(s) "
            f"({', '.join(checks)}): each {why}; readers: {readers}. "
            "`offerctl check --verbose` (or --format json) lists each"
        )
    return rest, summaries


def text(findings: Sequence[Finding], checked: int, *, verbose: bool = False) -> str:
    """``path:line: CODE [severity] message (offer)`` lines, then a summary line. Unless
    ``verbose``, the V701 notices (a check skipped without a key) are summarised."""
    lines = []
    shown, summaries = (list(findings), []) if verbose else skipped_summary(findings)
    for f in shown:
        where = f"{f.path}:{f.line}" if f.line else f.path
        offer = f" ({f.offer})" if f.offer else ""
        lines.append(f"{where}: {f.code} [{f.severity}] {f.message}{offer}")
    lines.extend(f"offers: {SKIPPED} [warning] {s}" for s in summaries)
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


def github(findings: Sequence[Finding], checked: int, *, verbose: bool = False) -> str:
    """GitHub Actions workflow commands: one annotation per finding, on the file and line
    (the V701 notices summarised unless ``verbose``: GitHub shows only a few per step)."""
    lines: list[str] = []
    shown, summaries = (list(findings), []) if verbose else skipped_summary(findings)
    lines.extend(f"::warning title={SKIPPED}::{_escape_data(s)}" for s in summaries)
    for f in shown:
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
