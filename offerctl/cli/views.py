"""rich renderables for people to read (the core never builds these)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from offerctl.core.model import Offer, Unreadable

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


LABEL_WIDTH = len("Hiring manager")


def _kv(rows: Sequence[tuple[str, Any]]) -> Table:
    """Label/value lines; values wrap at spaces (or fold, for one long word such as an email)
    instead of being cut off."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=LABEL_WIDTH)
    table.add_column(overflow="fold")
    for key, value in rows:
        if value not in (None, "", []):
            table.add_row(key, value if isinstance(value, Text) else str(value))
    return table


def _section(title: str, body: Any) -> Group:
    return Group(Text(""), Text(title, style="bold underline"), Padding(body, (0, 0, 0, 2), expand=False))


def _when(at: Any) -> str:
    """An event time for people: ``2026-11-20 17:02 UTC`` (stored times are UTC)."""
    text = str(at or "")
    if len(text) >= 16 and text[10] == "T":
        return f"{text[:10]} {text[11:16]} UTC"
    return text


def humanise_level(job_family: Any, level: Any) -> str | None:
    """``L5 (engineering)``: the level first, the job family it belongs to after it."""
    if not level:
        return str(job_family) if job_family else None
    return f"{level} ({job_family})" if job_family else str(level)


_EQUITY_NOUN = {
    "rsu": ("RSU", "RSUs"),
    "options": ("option", "options"),
    "phantom": ("phantom share", "phantom shares"),
}
_UNITS = {"y": "y", "m": "mo", "w": "w", "d": "d"}


def humanise_equity(equity: Any) -> str | None:
    """``1,200 RSUs, vesting 4y, 1y cliff`` (``units``, ``type``, ``vesting: 4y-1y-cliff``)."""
    import re

    if not isinstance(equity, dict) or not equity or equity.get("type") == "none":
        return None
    kind = str(equity.get("type", ""))
    singular, plural = _EQUITY_NOUN.get(kind, (kind, kind))
    units = equity.get("units")
    parts = [f"{units:,} {singular if units == 1 else plural}" if isinstance(units, int) else plural]
    if equity.get("strike_price") is not None:
        parts.append(f"strike {equity['strike_price']}")
    vesting = str(equity.get("vesting") or "")
    match = re.match(r"^(\d+)([ymwd])(?:-(\d+)([ymwd])-cliff)?$", vesting.strip(), re.I)
    if match:
        parts.append(f"vesting {match.group(1)}{_UNITS[match.group(2).lower()]}")
        if match.group(3):
            parts.append(f"{match.group(3)}{_UNITS[match.group(4).lower()]} cliff")
    elif vesting:
        parts.append(f"vesting {vesting}")
    return ", ".join(parts)


def _words(value: Any) -> str | None:
    return str(value).replace("_", " ") if value else None


def last_rejection(offer: Offer) -> dict[str, Any] | None:
    """The ``rejected`` event that sent the offer back to draft, while it still matters: the
    offer has not been submitted again since."""
    events = [e for e in offer.get("events") or [] if isinstance(e, dict)]
    for event in reversed(events):
        if event.get("type") == "submitted":
            return None
        if event.get("type") == "rejected":
            return event
    return None


def offer_view(offer: Offer, approval_states: dict[int, Any] | None = None) -> Group:
    """``offerctl show``: sections of label/value lines (no boxes: nothing is cut at 80
    columns). ``approval_states`` maps an approval's index to routing's verdict on it."""
    from offerctl.core.money import format_money, percent

    cand, comp = offer.candidate(), offer.compensation()
    currency = str(comp.get("currency", ""))
    loc = offer.get("role.location", {}) or {}
    place = ", ".join(str(loc[k]) for k in ("city", "region", "country") if loc.get(k))

    def money(key: str) -> str | None:
        value = comp.get(key)
        if value is None:
            return None
        # An encrypted amount no key here opens shows as its marker (keyless `show`).
        return str(value) if isinstance(value, Unreadable) else format_money(value, currency)

    header = Text.assemble((offer.id, "bold"), "  ", status_text(offer.status))
    parts: list[Any] = [header]
    rejection = last_rejection(offer)
    if rejection is not None:
        who = rejection.get("by", "?")
        role = f" ({rejection['role']})" if rejection.get("role") else ""
        parts.append(
            Text.assemble(
                ("Rejected", "bold red"),
                f" by {who}{role} on {_when(rejection.get('at'))[:10]}: ",
                (str(rejection.get("comment") or "(no reason given)"), "bold"),
            )
        )
    outcome = _outcome(offer)
    if outcome is not None:
        parts.append(outcome)
    period = comp.get("pay_period", "annual")
    base = money("base_salary")
    parts.append(
        _section(
            "People",
            _kv(
                [
                    ("Candidate", f"{cand.get('name')} <{cand.get('email')}>"),
                    ("Source", _words(cand.get("source"))),
                    ("Recruiter", offer.get("recruiter")),
                    ("Hiring manager", offer.get("role.hiring_manager")),
                ]
            ),
        )
    )
    parts.append(
        _section(
            "Role",
            _kv(
                [
                    ("Title", offer.get("role.title")),
                    ("Department", offer.get("role.department")),
                    ("Level", humanise_level(offer.get("role.job_family"), offer.get("role.level"))),
                    ("Employment", _words(offer.get("role.employment_type"))),
                    (
                        "Location",
                        place + (f" ({_words(loc.get('work_mode'))})" if loc.get("work_mode") else ""),
                    ),
                    ("Start date", offer.get("start_date")),
                    ("Expires on", offer.get("expires_on")),
                ]
            ),
        )
    )
    parts.append(
        _section(
            "Compensation",
            _kv(
                [
                    ("Base salary", f"{base} ({period})" if base else None),
                    (
                        "Bonus target",
                        None
                        if comp.get("bonus_target_pct") is None
                        else str(comp["bonus_target_pct"])
                        if isinstance(comp["bonus_target_pct"], Unreadable)
                        else percent(comp["bonus_target_pct"]),
                    ),
                    ("Sign-on bonus", money("sign_on_bonus")),
                    ("Relocation", money("relocation")),
                    ("Equity", humanise_equity(comp.get("equity"))),
                ]
            ),
        )
    )
    verbal = offer.get("verbal")
    if verbal:
        promises = "; ".join(f"{p.get('field')} = {p.get('value')}" for p in verbal.get("promises", []))
        parts.append(_section("Verbal offer", _kv([("Made on", verbal.get("date")), ("Promised", promises)])))
    approvals = offer.get("approvals") or []
    if approvals:
        parts.append(_section("Approvals", _approvals_table(approvals, approval_states or {})))
    events = offer.get("events") or []
    if events:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for e in events:
            if not isinstance(e, dict):
                continue
            detail = _words(e.get("reason")) or e.get("comment") or e.get("channel") or ""
            who = str(e.get("by") or "")
            table.add_row(_when(e.get("at"))[:16], str(e.get("type")), f"{who}  {detail}".strip())
        parts.append(_section("Events", table))
    return Group(*parts)


_STATE_MARK = {
    "valid": ("✓", "green"),
    "stale": ("✗ stale", "bold yellow"),
    "superseded": ("- superseded", "dim"),
    "not_allowed": ("✗ not allowed", "red"),
    "duplicate": ("✗ duplicate", "red"),
    "unsigned": ("✗ unsigned", "red"),
}


def _approvals_table(approvals: Sequence[Any], states: dict[int, Any]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")

    def who(a: dict[str, Any]) -> str:
        return str(a.get("by")) + (f" for {a['on_behalf_of']}" if a.get("on_behalf_of") else "")

    lines = [(index, a) for index, a in enumerate(approvals) if isinstance(a, dict)]
    width = max((len(who(a)) for _, a in lines), default=0)
    for index, a in lines:
        check = states.get(index)
        mark, style = _STATE_MARK.get(check.state if check else "", ("•", ""))
        line = Text(f"{who(a).ljust(width)}  {_when(a.get('at'))[:10]}")
        if a.get("comment"):
            line.append(f"  “{a['comment']}”")
        if check is not None and check.state != "valid" and check.detail:
            line.append("\n" + check.detail, style=style)
        table.add_row(Text(mark, style=style), str(a.get("role")), line)
    return table


def _outcome(offer: Offer) -> Text | None:
    """For a closed offer, the decision in one line: who, when, why."""
    wanted = {"declined", "reneged", "rescinded", "accepted", "expired"}
    events = [e for e in offer.get("events") or [] if isinstance(e, dict) and e.get("type") in wanted]
    if not events or offer.status not in wanted | {"started"}:
        return None
    e = events[-1]
    bits = [str(e.get("reason") or "").replace("_", " "), str(e.get("detail") or "")]
    if e.get("competing_employer"):
        bits.append(f"joined {e['competing_employer']}")
    why = "; ".join(b for b in bits if b)
    label = str(e.get("type")).capitalize()
    return Text.assemble((label, "bold"), f" on {_when(e.get('at'))[:10]}" + (f": {why}" if why else ""))


# --- list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], str]
    priority: int | None = None
    """Optional columns are added in priority order (1 first) while they fit; None: always shown."""
    min_width: int | None = None
    """Set for columns that may be shortened (with …) rather than left out."""
    cap: int | None = None
    """A shortenable column takes at most this width until every column that fits is placed."""


LIST_COLUMNS = (
    Column("ID", lambda r: r.id),
    Column("STATUS", lambda r: r.status),
    Column("CANDIDATE", lambda r: r.candidate, min_width=8),
    Column("TITLE", lambda r: r.title, priority=1, min_width=14, cap=28),
    Column("DEPARTMENT", lambda r: r.department, priority=2),
    Column("LEVEL", lambda r: r.level, priority=4),
    Column("COUNTRY", lambda r: r.country, priority=5),
    Column("EXPIRES", lambda r: r.expires_on),
    Column("UPDATED", lambda r: r.updated[:10], priority=3),
)
GAP = 2


def fit_columns(columns: Sequence[Column], rows: Sequence[Any], width: int) -> list[tuple[Column, int]]:
    """Which columns to show and how wide, in ``width`` characters. Columns without a
    priority are always shown at full width (ids, statuses, dates are never cut); the others
    are added in priority order while they fit (title, department, updated, level, country),
    the title capped at first; what is left widens shortened columns again. Only the
    candidate's name is ever shortened to make the fixed columns fit."""
    natural = {c.header: max([len(c.header), *(len(c.value(r)) for r in rows)]) for c in columns}
    widths = {c.header: natural[c.header] for c in columns if c.priority is None}

    def used() -> int:
        return sum(widths.values()) + GAP * (len(widths) - 1)

    for column in columns:  # the fixed columns do not fit: shorten what may be shortened
        if column.header in widths and column.min_width and used() > width:
            widths[column.header] = max(column.min_width, widths[column.header] - (used() - width))
    for column in sorted((c for c in columns if c.priority is not None), key=lambda c: c.priority or 0):
        want = min(natural[column.header], column.cap or natural[column.header])
        room = width - used() - GAP
        if room >= want:
            widths[column.header] = want
        elif column.min_width and room >= column.min_width:
            widths[column.header] = room
    for column in columns:  # give what is left back to shortened columns
        if column.header in widths and widths[column.header] < natural[column.header]:
            widths[column.header] += max(
                0, min(width - used(), natural[column.header] - widths[column.header])
            )
    return [(c, widths[c.header]) for c in columns if c.header in widths]


def offers_table(rows: Sequence[Any], width: int = 80) -> Table:
    """``offerctl list`` in a terminal: as many columns as fit in ``width``."""
    return next(offers_tables(rows, width, len(rows) or 1))


def offers_tables(rows: Sequence[Any], width: int = 80, chunk: int = 200) -> Iterator[Table]:
    """``offers_table`` in pieces of ``chunk`` rows (the header on the first only), with the
    column widths fitted to every row: printed one after the other they read as one table,
    and a pager shows the first screen before 10,000 rows are laid out."""
    fitted = fit_columns(LIST_COLUMNS, rows, width)
    for start in range(0, max(len(rows), 1), chunk):
        table = Table(
            box=None,
            pad_edge=False,
            padding=(0, GAP // 2),
            header_style="bold",
            show_edge=False,
            show_header=start == 0,
        )
        for column, size in fitted:
            table.add_column(column.header, width=size, no_wrap=True, overflow="ellipsis")
        for r in rows[start : start + chunk]:
            table.add_row(*(status_text(r.status) if c.header == "STATUS" else c.value(r) for c, _ in fitted))
        yield table


# ``list`` piped is plain text: it lives where no rich import is paid for it.
from offerctl.cli.plain_views import PLAIN_FIELDS as PLAIN_FIELDS  # noqa: E402
from offerctl.cli.plain_views import offer_lines as offer_lines  # noqa: E402
