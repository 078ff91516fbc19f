"""rich renderables for people to read (the core never builds these)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from offerctl.core.model import Offer

_STATUS_STYLE = {
    "draft": "dim",
    "pending_approval": "yellow",
    "approved": "cyan",
    "sent": "blue",
    "negotiating": "magenta",
    "accepted": "green",
    "started": "green",
    "declined": "red",
    "reneged": "red",
    "rescinded": "red",
    "expired": "dim red",
}


def status_text(status: str) -> Text:
    return Text(status, style=_STATUS_STYLE.get(status, ""))


def _kv(rows: Sequence[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        if value not in (None, "", []):
            table.add_row(key, value if isinstance(value, Text) else str(value))
    return table


def offer_view(offer: Offer) -> Group:
    from offerctl.core.money import format_money, percent

    cand, comp = offer.candidate(), offer.compensation()
    currency = str(comp.get("currency", ""))
    loc = offer.get("role.location", {}) or {}
    place = ", ".join(str(loc[k]) for k in ("city", "region", "country") if loc.get(k))
    header = Text.assemble((offer.id, "bold"), "  ", status_text(offer.status))
    people = _kv(
        [
            ("Candidate", f"{cand.get('name')} <{cand.get('email')}>"),
            ("Source", cand.get("source")),
            ("Recruiter", offer.get("recruiter")),
            ("Hiring manager", offer.get("role.hiring_manager")),
        ]
    )
    role = _kv(
        [
            ("Title", offer.get("role.title")),
            ("Department", offer.get("role.department")),
            ("Level", f"{offer.get('role.job_family')} {offer.get('role.level')}"),
            ("Employment", offer.get("role.employment_type")),
            ("Location", place + (f" ({loc.get('work_mode')})" if loc.get("work_mode") else "")),
            ("Start date", offer.get("start_date")),
            ("Expires on", offer.get("expires_on")),
        ]
    )
    equity = comp.get("equity") or {}
    money = _kv(
        [
            (
                "Base salary",
                format_money(comp.get("base_salary"), currency) + f" ({comp.get('pay_period', 'annual')})",
            ),
            (
                "Bonus target",
                percent(comp["bonus_target_pct"]) if "bonus_target_pct" in comp else None,
            ),
            (
                "Sign-on bonus",
                format_money(comp["sign_on_bonus"], currency) if "sign_on_bonus" in comp else None,
            ),
            (
                "Relocation",
                format_money(comp["relocation"], currency) if "relocation" in comp else None,
            ),
            (
                "Equity",
                f"{equity.get('units')} {equity.get('type')} ({equity.get('vesting', '')})"
                if equity
                else None,
            ),
        ]
    )
    parts: list[Any] = [
        header,
        Panel(people, title="People", title_align="left"),
        Panel(role, title="Role", title_align="left"),
        Panel(money, title="Compensation", title_align="left"),
    ]
    verbal = offer.get("verbal")
    if verbal:
        promises = "; ".join(f"{p.get('field')} = {p.get('value')}" for p in verbal.get("promises", []))
        parts.append(
            Panel(
                _kv([("Verbal offer", verbal.get("date")), ("Promised", promises)]),
                title="Verbal",
                title_align="left",
            )
        )
    approvals = offer.get("approvals") or []
    if approvals:
        table = Table("role", "by", "at", "comment", box=None, pad_edge=False)
        for a in approvals:
            table.add_row(str(a.get("role")), str(a.get("by")), str(a.get("at")), str(a.get("comment", "")))
        parts.append(Panel(table, title="Approvals", title_align="left"))
    events = offer.get("events") or []
    if events:
        table = Table("event", "at", "by", "detail", box=None, pad_edge=False)
        for e in events:
            detail = e.get("reason") or e.get("comment") or e.get("channel") or ""
            table.add_row(str(e.get("type")), str(e.get("at")), str(e.get("by")), str(detail))
        parts.append(Panel(table, title="Events", title_align="left"))
    return Group(*parts)


def offers_table(rows: Sequence[Any]) -> Table:
    table = Table(title=f"{len(rows)} offer(s)", title_justify="left")
    for column in (
        "id",
        "status",
        "candidate",
        "title",
        "department",
        "level",
        "country",
        "expires",
    ):
        table.add_column(column, no_wrap=column in {"id", "status"})
    for r in rows:
        table.add_row(
            r.id,
            status_text(r.status),
            r.candidate,
            r.title,
            r.department,
            r.level,
            r.country,
            r.expires_on,
        )
    return table
