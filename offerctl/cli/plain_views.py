"""Plain-text views: tab-separated lines for pipes, grep, cut and awk (no rich import)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PLAIN_FIELDS = (
    "id",
    "status",
    "candidate",
    "title",
    "department",
    "level",
    "country",
    "recruiter",
    "expires_on",
    "updated",
)


def offer_lines(rows: Sequence[Any]) -> list[str]:
    """``offerctl list`` piped: one offer per line, every field (``PLAIN_FIELDS``), tab-separated,
    no header; tabs and newlines inside a value become spaces so a line is always one offer."""
    return ["\t".join(" ".join(str(getattr(r, name)).split()) for name in PLAIN_FIELDS) for r in rows]
