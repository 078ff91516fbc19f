"""How report values read, shared by the terminal tables (``cli/report_views.py``) and the
HTML dashboard (``dashboard.py``): rates, numbers, and the labels of stages and delay
buckets (a long form for tables, a short one for chart axes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STAGE_LABELS = {
    "created_to_approved": "created → approvals complete",
    "approved_to_sent": "approvals complete → sent",
    "created_to_sent": "created → sent",
    "sent_to_decided": "sent → decided",
    "created_to_decided": "created → decided",
}
"""Cycle-time stages, as table rows."""
STAGE_SHORT_LABELS = {
    "created_to_approved": "created →<br>approved",
    "approved_to_sent": "approved →<br>sent",
    "created_to_sent": "created →<br>sent",
    "sent_to_decided": "sent →<br>decided",
    "created_to_decided": "created →<br>decided",
}
"""Cycle-time stages, as chart axis labels (HTML line breaks)."""
BUCKET_LABELS = {
    "<=1": "≤1 business day",
    "2-3": "2–3 business days",  # noqa: RUF001
    ">3": ">3 business days",
}
"""Verbal → written delay buckets, as table rows."""
BUCKET_SHORT_LABELS = {"<=1": "≤1 day", "2-3": "2–3 days", ">3": ">3 days"}  # noqa: RUF001
"""Verbal → written delay buckets, as chart axis labels."""


def pct(value: Any) -> str:
    """A rate (0..1) as a percentage with one decimal; — when there is none."""
    return "—" if value is None else f"{value * 100:.1f}%"


def num(value: Any) -> str:
    """A count or a median: whole numbers without decimals, others with one; — for none."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value)) if isinstance(value, float) else str(value)


def rate_text(row: Mapping[str, Any]) -> str:
    """``rate (numerator/denominator)``, e.g. ``66.7% (2/3)``."""
    return f"{pct(row.get('rate'))} ({row.get('numerator', 0)}/{row.get('denominator', 0)})"


def comparison_cells(row: Mapping[str, Any]) -> tuple[str, str, str]:
    """One row of the previous-window comparison: current, previous and the change (rates
    in percentage points, counts and medians as signed numbers)."""
    metric = str(row["metric"])
    is_rate = "rate" in metric or "adherence" in metric or "fall-through" in metric
    show = pct if is_rate else num
    change = row["change"]
    if change is None:
        change_text = "—"
    elif is_rate:
        change_text = f"{change * 100:+.1f} pts"
    else:
        change_text = f"{change:+g}"
    return show(row["current"]), show(row["previous"]), change_text
