"""Plain-text views of routing, status and headroom (stable text: snapshot-tested)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from offerctl.core.model import to_jsonable


def _people(people: Sequence[str]) -> str:
    return ", ".join(people) if people else "nobody"


def waiting_lines(waiting: Iterable[Any]) -> list[str]:
    lines = []
    for w in waiting:
        again = " to re-approve" if w.stale else ""
        who = f"{w.role} ({_people(w.people)}){again}"
        lines.append(f"waiting on {who} for rule {w.rule_id} [stage {w.stage}]")
        lines.extend(f"  stale: {detail}" for detail in w.stale)
    return lines


def edit_lines(result: Any) -> list[str]:
    """What `offerctl edit` did: each field old → new, the status, stale approvals, who acts."""
    lines = [f"edited {result.offer_id}:"]
    for change in result.changes:
        old, new = to_jsonable(change.get("old")), to_jsonable(change.get("new"))
        lines.append(f"  {change['field']}: {'(absent)' if old is None else old} → {new}")
    moved = f" (was {result.source})" if result.target != result.source else ""
    lines.append(f"status: {result.target}{moved}")
    for stale in result.stale:
        lines.append(
            f"now stale: {stale.role} approval by {stale.by} (rules {', '.join(stale.rules)}): "
            f"{stale.detail or 'a covered field changed'} — they must approve again"
        )
    lines.extend(waiting_lines(result.waiting))
    if result.commit:
        lines.append(f"committed {result.commit[:12]} (author: {result.by})")
    else:
        lines.append("staged, not committed")
    return lines


def route_text(result: Any, status: str, overrides: Mapping[str, Any], policy: Any) -> str:
    out = [
        f"{result.offer_id} ({status})"
        + (" — what-if: " + ", ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")
    ]
    out.append(f"band: {result.band}")
    values = to_jsonable(dict(result.values))
    out.append(
        "derived: "
        + ", ".join(
            f"{k} {v if not isinstance(v, list) else '[' + ', '.join(v) + ']'}" for k, v in values.items()
        )
    )
    from offerctl.cli.workflow_views import budget_lines

    out.extend(budget_lines(getattr(result, "budget", None)))
    for stage in result.stages:
        rules = [r for r in result.rules if r.stage == stage]
        triggered = [r for r in rules if r.triggered]
        if not triggered:
            state = "not needed"
        elif all(r.satisfied for r in triggered):
            state = "done"
        elif rules and rules[0].open:
            state = "OPEN"
        else:
            state = "not open yet"
        out.append(f"stage {stage}: {state}")
        for r in rules:
            if not r.triggered:
                out.append(f"  - {r.rule_id}: skipped — {r.explanation}")
                continue
            mark = "ok" if r.satisfied else "needs"
            quorum = f"{r.quorum} of " if r.quorum > 1 else ""
            out.append(f"  * {r.rule_id}: {mark} {quorum}{r.role} — {r.explanation}")
            acting = f" (acting now: {_people(r.acting)})" if tuple(r.acting) != tuple(r.principals) else ""
            out.append(
                f"      approvers: {_people(r.principals)}{acting}; covers: {', '.join(r.covers) or '-'}"
            )
            for a in r.approvals:
                behalf = f" on behalf of {a.on_behalf_of}" if a.on_behalf_of else ""
                detail = f": {a.detail}" if a.detail else ""
                out.append(f"      {a.state}: {a.by}{behalf} at {a.at}{detail}")
            if not r.satisfied:
                stale = any(a.state == "stale" for a in r.approvals)
                out.append("      needs a fresh approval" if stale else "      missing")
    if result.complete:
        out.append("complete: every triggered rule has fresh approvals")
    else:
        out.append(f"waiting in stage {result.current_stage}:" if result.current_stage else "incomplete:")
        for line in waiting_lines(result.waiting()):
            out.append("  " + line)
    return "\n".join(out)


def status_text(rows: Sequence[Any]) -> str:
    if not rows:
        return "no open offers"
    out = []
    for row in rows:
        head = f"{row.offer_id}  {row.status:<16} {row.title}"
        if row.stage:
            late = "  ! SLA breached" if row.breached else ""
            head += f"  — stage {row.stage}, {row.business_days} business day(s) since {row.since}{late}"
        out.append(head)
        for w in row.waiting:
            sla = f", SLA {w.sla_days}d" if w.sla_days is not None else ""
            mark = " !" if w.breached else ""
            esc = f", escalate to {w.escalation}" if w.breached and w.escalation else ""
            again = " to re-approve" if w.stale else ""
            out.append(f"    waiting on {w.role} ({_people(w.people)}){again} for {w.rule}{sla}{mark}{esc}")
            out.extend(f"      stale: {detail}" for detail in w.stale)
        for b in getattr(row, "blockers", ()):
            if not row.waiting:
                out.append(f"    blocked: {b}")
        out.extend(followup_lines(row))
    return "\n".join(out)


def followup_lines(row: Any) -> list[str]:
    """The candidate side of a status row: competing deadlines before ours, contingencies
    not cleared, and contact overdue (nothing when all is well)."""
    out = []
    for risk in getattr(row, "competing_deadlines", ()):
        when = f"in {risk.days_left} day(s)" if risk.days_left >= 0 else f"{-risk.days_left} day(s) ago"
        ours = f"before our expiry {risk.expires_on}" if risk.expires_on else "and ours has no expiry"
        out.append(f"    ! competing deadline: {risk.employer} on {risk.deadline} ({when}), {ours}")
    for c in getattr(row, "contingencies", ()):
        mark = "! " if c.status == "failed" else ""
        out.append(f"    {mark}contingency {c.label}: {c.status} since {c.updated_at[:10]}")
    if getattr(row, "contact_due", False):
        last = f"last contact {row.last_contact[:10]}" if row.last_contact else "no contact logged"
        out.append(f"    ! candidate not contacted for {row.contact_days} business day(s) ({last})")
    return out


def _money(value: int) -> str:
    return f"{value:,}"


def headroom_text(result: Any) -> str:
    """``base up to 193,000 keeps every approval; 193,001-210,000 needs finance again; above
    210,000 also needs vp_people`` — one line per field, then who those roles are."""
    out = [f"{result.offer_id} headroom ({result.currency}), upwards from the current value, then downwards"]
    if result.pending:
        out.append(f"already pending (not counted below): {', '.join(result.pending)}")
    who: dict[str, tuple[str, ...]] = {}
    for f in result.fields:
        upwards = _segments_text(f.segments, _up_range(f.label), who)
        out.append(f"{f.field} (now {_money(f.current)}): {upwards}")
        down = _down_text(f, who)
        if down:
            out.append(f"  downwards: {down}")
    for gap in getattr(result, "competing", ()):
        theirs = _money_any(gap.base) + (f"–{_money_any(gap.base_max)}" if gap.base_max is not None else "")  # noqa: RUF001
        if gap.gap is None:
            line = f"competing: {gap.employer} base {theirs} {gap.currency} (another currency; not compared)"
        elif gap.gap <= 0:
            line = (
                f"competing: {gap.employer} base {theirs} {gap.currency}, {_money_any(-gap.gap)} below ours"
            )
        else:
            needs = _needs_text(gap.match_needs)
            line = (
                f"competing: {gap.employer} base {theirs} {gap.currency}, {_money_any(gap.gap)} above ours; "
                + (f"matching it needs {needs}" if needs else "matching it keeps every approval")
            )
            for n in gap.match_needs:
                who[n.role] = n.people
        out.append(line)
    from offerctl.cli.workflow_views import budget_lines

    out.extend(budget_lines(getattr(result, "budget", None)))
    for role, people in sorted(who.items()):
        out.append(f"  {role}: {_people(people)}")
    return "\n".join(out)


def _money_any(value: Any) -> str:
    return f"{value:,}"


def _down_text(f: Any, who: dict[str, tuple[str, ...]]) -> str:
    """``down to 189,150 keeps every approval; 189,149-185,250 needs hiring_manager again;
    below 157,000 also needs vp_people`` (ranges read from the current value down)."""
    return _segments_text(f.down, _down_range, who)


def _up_range(label: str) -> Callable[[int, Any], str]:
    def rng(i: int, seg: Any) -> str:
        if i == 0:
            return f"{label} up to {_money(seg.high)}" if seg.high is not None else f"{label}: any amount"
        if seg.high is None:
            return f"above {_money(seg.low - 1)}"
        return f"{_money(seg.low)}–{_money(seg.high)}"  # noqa: RUF001 (en dash for ranges)

    return rng


def _down_range(i: int, seg: Any) -> str:
    if i == 0:
        return f"down to {_money(seg.high)}" if seg.high is not None else "down to 0"
    if seg.high is None:
        return f"below {_money(seg.low + 1)}"
    if seg.high == seg.low:
        return f"at {_money(seg.low)}"
    return f"{_money(seg.low)}–{_money(seg.high)}"  # noqa: RUF001


def _segments_text(segments: Any, rng: Callable[[int, Any], str], who: dict[str, tuple[str, ...]]) -> str:
    """One headroom direction: each segment's range (``rng``) and what it needs beyond the
    segment before it; records who holds each role in ``who``."""
    parts = []
    previous: set[str] = set()
    for i, seg in enumerate(segments):
        roles = {n.role for n in seg.needs}
        if not seg.needs:
            what = "keeps every approval"
        else:
            new = [n for n in seg.needs if n.role not in previous] or list(seg.needs)
            also = "also " if previous and roles - previous else ""
            what = f"{also}needs " + _needs_text(new)
        for n in seg.needs:
            who[n.role] = n.people
        previous = roles
        parts.append(f"{rng(i, seg)} {what}")
    return "; ".join(parts)


def _needs_text(needs: Any) -> str:
    return " and ".join(n.role + (" again" if n.again else "") for n in needs)


def ago(stamp: str | None, today: Any) -> str:
    """``2 days ago (2026-11-20)``: how long ago, and the local calendar date of ``stamp``
    (stored times are UTC; people read their own time zone)."""
    import datetime as dt

    if not stamp:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    local = moment.astimezone() if moment.tzinfo else moment
    days = (today - local.date()).days
    if days <= 0:
        when = "today"
    elif days == 1:
        when = "yesterday"
    else:
        when = f"{days} days ago"
    return f"{when} ({local.date().isoformat()})"


def _changed(detail: str) -> str:
    """``who: what changed`` → ``what changed`` (the reader is who)."""
    return detail.partition(": ")[2] or detail


def inbox_text(me: str, rows: Sequence[Any], offers: Mapping[str, Any], today: Any) -> str:
    """``offerctl inbox``: per offer, the candidate, role and pay, then what is asked of
    ``me`` and since when."""
    from offerctl.core.money import format_money

    if not rows:
        return f"nothing waits for you ({me})"
    noun = "offer waits" if len(rows) == 1 else "offers wait"
    out = [f"{len(rows)} {noun} for you ({me}), oldest first:"]
    for row in rows:
        offer = offers.get(row.offer_id)
        pay = ""
        if offer is not None:
            comp = offer.compensation()
            if comp.get("base_salary") is not None and comp.get("currency"):
                pay = f", {format_money(comp['base_salary'], str(comp['currency']))}"
                if comp.get("pay_period", "annual") != "annual":
                    pay += f" {comp['pay_period']}"
        out.append("")
        out.append(f"{row.offer_id}  {row.candidate} — {row.title}{pay}")
        days = row.business_days
        bd = "" if days is None else f", {days} business day{'' if days == 1 else 's'}"
        out.append(f"    waiting since {ago(row.since, today)}{bd}")
        for w in row.waiting:
            sla = f"; SLA {w.sla_days} business day{'' if w.sla_days == 1 else 's'}" if w.sla_days else ""
            late = " — overdue" if w.breached else ""
            verb = "approve again" if w.stale else "approve"
            out.append(f"    {verb} as {w.role} (rule {w.rule}){sla}{late}")
            out.extend(f"      your approval went stale: {_changed(detail)}" for detail in w.stale)
        out.append(f"    offerctl show {row.offer_id}  ·  offerctl approve {row.offer_id}")
    return "\n".join(out)
