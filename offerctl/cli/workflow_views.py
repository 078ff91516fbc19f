"""Views of the candidate side of an offer (competing offers, contact, contingencies) and of
budget positions; shared by `show`, `headroom` and `route`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from offerctl.core import workflow


def workflow_json(
    data: Mapping[str, Any], cadence: int, contact_days: int | None, due: bool
) -> dict[str, Any]:
    """``show --format json``'s ``workflow`` object (derived from the events; read-only)."""
    from offerctl.core.model import to_jsonable

    last = workflow.last_contact(data)
    result: dict[str, Any] = to_jsonable(
        {
            "last_contact": {"at": last.get("at"), "type": last.get("type"), "by": last.get("by")}
            if last
            else None,
            "contact_cadence_business_days": cadence,
            "contact_business_days": contact_days,
            "contact_due": due,
            "touches": [t.as_json() for t in workflow.touches(data)],
            "competing_offers": [c.as_json() for c in workflow.competing_offers(data)],
            "contingencies": [c.as_json() for c in workflow.contingencies(data)],
        }
    )
    return result


def workflow_panel(
    data: Mapping[str, Any], today: dt.date, cadence: int, contact_days: int | None, due: bool
) -> Any:
    """A "Candidate" panel for `show`: last contact, competing offers, contingencies (None
    when there is nothing to say)."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from offerctl.core.money import format_money

    rows: list[tuple[str, str]] = []
    last = workflow.last_contact(data)
    if last is not None:
        text = f"{str(last.get('at'))[:10]} ({last.get('type')}, {last.get('by')})"
        if contact_days is not None:
            text += f"; {contact_days} business day(s) ago" + (
                f", over the {cadence}-day cadence" if due else ""
            )
        rows.append(("Last contact", text))
    elif due:
        rows.append(("Last contact", f"none logged; {contact_days} business day(s) since approval"))
    currency = str((data.get("compensation") or {}).get("currency", ""))
    for c in workflow.competing_offers(data):
        parts = [c.stage.replace("_", " ")]
        if c.deadline:
            parts.append(f"deadline {c.deadline} ({(c.deadline - today).days} day(s))")
        if c.base is not None:
            amount = format_money(c.base, c.currency or currency)
            if c.base_max is not None:
                amount += " – " + format_money(c.base_max, c.currency or currency)  # noqa: RUF001
            parts.append(f"base {amount}")
        parts.append(f"learned {c.learned_at[:10]} by {c.by}")
        rows.append((f"Competing: {c.employer}", "; ".join(parts)))
    for item in workflow.contingencies(data):
        rows.append(
            (f"Contingency: {item.label}", f"{item.status} ({item.updated_at[:10]}, {item.updated_by})")
        )
    if not rows:
        return None
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    title = Text("Candidate", style="bold underline")
    return Group(Text(""), title, Padding(table, (0, 0, 0, 2), expand=False))


def _amount(value: Any) -> str:
    """``577,760`` for whole amounts, ``1,234.50`` otherwise (exact Decimal, no float)."""
    from decimal import Decimal

    if isinstance(value, Decimal) and value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,}"


def budget_lines(position: Any) -> list[str]:
    """``budget eng-fy27 (department Engineering, 2026-07-01..2027-06-30): 1,200,000 USD;
    committed 1,010,000 by 6 offer(s); this offer 160,000; left after it 30,000 (2.5 %)``."""
    if position is None:
        return []
    b = position.budget
    after = position.remaining_after
    line = (
        f"budget {b.id} ({b.scope}, {b.start}..{b.end}, {b.measure.replace('_', ' ')}): "
        f"{_amount(b.amount)} {b.currency}; committed {_amount(position.committed)} "
        f"by {len(position.counted)} "
        + ("offer(s) approved before it; " if position.first_come else "other offer(s); ")
    )
    if position.offer_amount is None:
        line += "this offer cannot be converted (no rate for its currency)"
    else:
        line += (
            f"this offer {_amount(position.offer_amount)}; left after it {_amount(after)} "
            f"({position.remaining_pct_after} %)"
        )
        if after is not None and after < 0:
            line += " — OVER BUDGET"
    out = [line]
    if position.uncounted:
        out.append(
            "  not counted (no conversion rate, or pay your keys cannot read): "
            + ", ".join(position.uncounted)
        )
    return out
