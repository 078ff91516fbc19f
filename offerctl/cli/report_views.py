"""rich renderables for `offerctl report` (terminal tables; the core returns plain values)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from offerctl.reports.formatting import BUCKET_LABELS, STAGE_LABELS, comparison_cells, num, pct, rate_text


def count(n: Any, noun: str, plural: str | None = None) -> str:
    """``1 offer``, ``2 offers``, ``1 business day``; ``—`` for no value."""
    if n is None:
        return f"— {plural or noun + 's'}"
    text = num(n)
    return f"{text} {noun if text == '1' else (plural or noun + 's')}"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def acceptance_tables(metrics: Mapping[str, Any], by: Sequence[str]) -> list[Table]:
    tables = []
    for dim in by:
        table = _table(
            f"Acceptance by {dim.replace('_', ' ')}",
            dim,
            "offers",
            "extended",
            "accepted",
            "declined",
            "open",
            "acceptance",
        )
        for row in metrics["acceptance"]["by"].get(dim, []):
            table.add_row(
                row["segment"],
                str(row["offers"]),
                str(row["extended"]),
                str(row["accepted"]),
                str(row["declined"]),
                str(row["open"]),
                rate_text(row),
            )
        tables.append(table)
    return tables


def report_view(report: Any) -> Group:
    """The text report: one table per metric family, in the order of docs/reports.md (one
    sentence instead of empty tables when the window has no offers)."""
    m = report.current
    parts: list[Any] = [_title(report)]
    if not m["offers"]:
        parts.append(_no_offers(report))
        if report.skipped_files:
            parts.append(
                Text(f"skipped unreadable files: {', '.join(report.skipped_files)} (run `offerctl check`)")
            )
        return Group(*parts)
    parts.extend([_summary(m), *acceptance_tables(m, report.by)])
    parts.extend(_verbal_to_written(m["verbal_to_written"]))
    parts.append(_funnel(m["funnel"]))
    parts.append(_cycle_time(m["cycle_time"]))
    parts.append(_approval_latency(m["approval_latency"]))
    parts.append(_quality(m["revisions"], m["exceptions"]))
    parts.extend(_declines(m["declines"]))
    parts.append(_after_the_offer(m["reneges"], m["fall_through"]))
    parts.extend(workflow_tables(m))
    parts.append(_history(m["history"]))
    if report.comparison is not None:
        parts.append(_comparison(report.comparison, report.previous_window))
    if report.skipped_files:
        parts.append(
            Text(
                f"skipped unreadable files: {', '.join(report.skipped_files)} (run `offerctl check`)",
                style="yellow",
            )
        )
    return Group(*parts)


def _span(report: Any) -> str:
    window = report.window
    if window.since or window.until:
        return f"offers created {window.since or '…'} to {window.until or '…'}"
    return "all offers"


def _title(report: Any) -> Text:
    return Text.assemble((f"Offer report — {report.company}", "bold"), f"  ({_span(report)})")


def _no_offers(report: Any) -> Text:
    return Text(
        "no offers yet: create one with `offerctl new`"
        if _span(report) == "all offers"
        else "no offers were created in this window"
    )


def _summary(m: Mapping[str, Any]) -> Table:
    overall = m["acceptance"]["overall"]
    summary = _table("Summary", "metric", "value")
    summary.add_row("offers", str(m["offers"]))
    summary.add_row("offers extended (sent)", str(overall["extended"]))
    summary.add_row("acceptance rate (accepted ÷ extended)", rate_text(overall))
    summary.add_row("still open (sent, negotiating)", str(overall["open"]))
    summary.add_row("status", ", ".join(f"{k} {v}" for k, v in m["status"].items()) or "—")
    return summary


def _verbal_to_written(delay: Mapping[str, Any]) -> list[Table]:
    buckets = _table(
        f"Verbal → written offer ({count(delay['offers'], 'offer')}; "
        f"median {count(delay['median_business_days'], 'business day')}, "
        f"p90 {count(delay['p90_business_days'], 'business day')}; "
        f"{delay['without_verbal']} extended without a verbal date)",
        "delay",
        "extended",
        "accepted",
        "acceptance",
    )
    for row in delay["buckets"]:
        buckets.add_row(
            BUCKET_LABELS.get(row["bucket"], row["bucket"]),
            str(row["extended"]),
            str(row["accepted"]),
            rate_text(row),
        )
    histogram = _table("Verbal → written, offers by business days", "business days", "offers", "accepted")
    for row in delay["histogram"]:
        histogram.add_row(str(row["business_days"]), str(row["offers"]), str(row["accepted"]))
    return [buckets, histogram]


def _funnel(rows: Sequence[Mapping[str, Any]]) -> Table:
    funnel = _table("Funnel", "step", "offers")
    for row in rows:
        funnel.add_row(row["step"], str(row["offers"]))
    return funnel


def _cycle_time(rows: Sequence[Mapping[str, Any]]) -> Table:
    cycle = _table("Cycle time by stage (calendar days)", "stage", "offers", "median", "p90")
    for row in rows:
        cycle.add_row(
            STAGE_LABELS.get(row["stage"], row["stage"]),
            str(row["offers"]),
            num(row["median_days"]),
            num(row["p90_days"]),
        )
    return cycle


def _approval_latency(latency: Mapping[str, Any]) -> Table:
    roles = _table(
        "Approval latency by role (business days from stage opening; "
        f"SLA adherence {rate_text(latency['sla_adherence'])})",
        "role",
        "approvals",
        "median",
        "p90",
        "SLA",
        "within SLA",
    )
    for row in latency["by_role"]:
        judged = row["approvals"] if row["sla_business_days"] is not None else 0
        roles.add_row(
            row["role"],
            str(row["approvals"]),
            num(row["median_business_days"]),
            num(row["p90_business_days"]),
            num(row["sla_business_days"]),
            f"{pct(row['sla_adherence'])} ({row['within_sla']}/{judged})",
        )
    if not latency["by_role"]:
        roles.add_row("(no approval lines in these offers)", "0", "—", "—", "—", "—")
    return roles


def _quality(rev: Mapping[str, Any], exc: Mapping[str, Any]) -> Table:
    quality = _table("Revisions and exceptions", "metric", "value")
    quality.add_row("revisions (revised events)", str(rev["revisions"]))
    quality.add_row("revisions per offer (mean)", num(rev["mean_per_offer"]))
    quality.add_row("offers revised at least once", rate_text(rev["revised_offers"]))
    quality.add_row(
        "offers by revisions (0/1/2/3+)", " / ".join(str(r["offers"]) for r in rev["distribution"])
    )
    quality.add_row("exception rate (out of band or non-standard clause)", rate_text(exc["exceptions"]))
    quality.add_row("out of band", rate_text(exc["out_of_band"]))
    quality.add_row("non-standard clauses", rate_text(exc["nonstandard_clauses"]))
    positions = exc["band_position"]
    quality.add_row(
        "band position (below/within/above/unknown)",
        " / ".join(str(positions[k]) for k in ("below", "within", "above", "unknown")),
    )
    return quality


def _declines(dec: Mapping[str, Any]) -> list[Table]:
    reasons = _table(f"Decline reasons ({dec['declined']} declined)", "reason", "offers")
    for row in dec["by_reason"]:
        reasons.add_row(row["reason"], str(row["offers"]))
    tables = [reasons]
    reason_names = [r["reason"] for r in dec["by_reason"]]
    for dim, rows in dec["by"].items():
        if not rows:
            continue
        cross = _table(f"Decline reasons by {dim}", dim, *reason_names)
        for row in rows:
            cross.add_row(row["segment"], *(str(row["reasons"].get(r, 0)) for r in reason_names))
        tables.append(cross)
    return tables


def _after_the_offer(ren: Mapping[str, Any], fall: Mapping[str, Any]) -> Table:
    after = _table("After the offer", "metric", "value")
    after.add_row("reneges (of accepted offers)", rate_text(ren))
    if ren["by_reason"]:
        after.add_row("renege reasons", ", ".join(f"{r['reason']} {r['offers']}" for r in ren["by_reason"]))
    after.add_row("verbal offers", str(fall["verbal_offers"]))
    after.add_row("fall-through after verbal (of concluded)", rate_text(fall))
    after.add_row("  by outcome", ", ".join(f"{k} {v}" for k, v in fall["by_outcome"].items()))
    after.add_row("  still open", str(fall["open"]))
    return after


def _history(hist: Mapping[str, Any]) -> Table:
    git_table = _table("History (git)", "metric", "value")
    git_table.add_row("commits touching these offers", str(hist["commits"]))
    git_table.add_row("offers with history", str(hist["offers_with_history"]))
    git_table.add_row("hand edits (commits without offerctl trailers)", str(hist["hand_edits"]))
    return git_table


def _comparison(comparison: Sequence[Mapping[str, Any]], prev: Any) -> Table:
    table = _table(
        f"Compared with the previous window ({prev.since} to {prev.until})",
        "metric",
        "current",
        "previous",
        "change",
    )
    for row in comparison:
        table.add_row(row["metric"], *comparison_cells(row))
    return table


def workflow_tables(m: Mapping[str, Any]) -> list[Table]:
    """Competing offers and candidate contact (issue 16); nothing when no offer has either."""
    out: list[Table] = []
    comp = m.get("competition")
    if comp and comp["competing_offers_recorded"]:
        table = _table("Competing offers", "candidates", "extended", "accepted", "declined", "acceptance")
        for label, key in (
            ("had a competing offer", "with_competing_offer"),
            ("no competing offer known", "without_competing_offer"),
        ):
            row = comp[key]
            table.add_row(
                label, str(row["extended"]), str(row["accepted"]), str(row["declined"]), pct(row["rate"])
            )
        out.append(table)
        if comp["declined_for"]:
            lost = _table("Employers candidates declined for", "employer", "declined", "reasons")
            for row in comp["declined_for"]:
                lost.add_row(
                    row["employer"],
                    str(row["declined"]),
                    ", ".join(f"{k} {v}" for k, v in row["reasons"].items()),
                )
            out.append(lost)
    contact = m.get("contact")
    if contact and any(r["offers"] for r in contact["by_outcome"]):
        table = _table(
            "Longest gap without candidate contact, sent → answer "
            f"(business days; cadence {contact['cadence_business_days']})",
            "outcome",
            "offers",
            "median",
            "max",
            "over cadence",
        )
        for row in contact["by_outcome"]:
            if row["offers"]:
                table.add_row(
                    row["outcome"],
                    str(row["offers"]),
                    num(row["median_longest_gap"]),
                    num(row["max_longest_gap"]),
                    rate_text(row),
                )
        out.append(table)
    return out


def remind_view(result: Any, *, sent: bool = False) -> Group:
    """``offerctl remind``: the overdue approvals, the stale ones to give again, the candidate
    follow-ups per recruiter, and unless ``sent`` a plain statement that this was a dry run
    and nothing was mailed."""
    again = getattr(result, "reapprovals", ())
    follow = getattr(result, "follow_ups", ())
    parts: list[Any] = [_approvals_view(result, sent)]
    if follow:
        parts.append(_follow_ups_table(result.as_of, follow))
    if result.overdue or again or follow:
        parts.append(_delivery_line(result, sent))
    return Group(*parts)


def _follow_ups_table(as_of: Any, follow: Any) -> Table:
    table = Table(
        title=f"{len(follow)} candidate follow-up(s) as of {as_of}, per recruiter",
        title_justify="left",
        title_style="bold",
    )
    for column in ("recruiter", "offer", "what", "detail"):
        table.add_column(column, no_wrap=column in {"offer"})
    labels = {
        "competing_deadline": "competing deadline",
        "contingency": "contingency",
        "contact": "contact due",
    }
    for item in follow:
        table.add_row(item.recruiter, item.offer_id, labels.get(item.kind, item.kind), item.detail)
    return table


def _approvals_view(result: Any, sent: bool) -> Group:
    again = getattr(result, "reapprovals", ())
    if not result.overdue:
        quiet: list[Any] = [Text(f"no approval is past its SLA as of {result.as_of}")]
        if again:
            quiet.append(_reapprovals_table(again))
        return Group(*quiet)
    noun = "approval" if len(result.overdue) == 1 else "approvals"
    table = Table(
        title=f"{len(result.overdue)} {noun} past SLA as of {result.as_of} (business days)",
        title_justify="left",
        title_style="bold",
    )
    for column in ("offer", "stage", "role", "waiting on", "since", "days", "SLA", "escalation"):
        table.add_column(column, no_wrap=column in {"offer", "since", "days", "SLA"})
    for item in result.overdue:
        if not item.escalated:
            escalation = ""
        elif not item.escalation:
            escalation = "no escalation contact"
        else:
            escalation = f"{'escalated' if sent else 'would escalate'} to {item.escalation}"
        table.add_row(
            item.offer_id,
            item.stage,
            item.role,
            ", ".join(item.people),
            item.since[:10],
            str(item.business_days),
            str(item.sla),
            escalation,
        )
    notes = sorted({h for item in result.overdue for h in item.holidays})
    parts: list[Any] = [table]
    if notes:
        parts.append(Text("not counted: " + "; ".join(notes), style="dim"))
    if again:
        parts.append(_reapprovals_table(again))
    return Group(*parts)


def _delivery_line(result: Any, sent: bool) -> Text:
    count = len(result.digests)
    reminders = "reminder" if count == 1 else "reminders"
    to = ", ".join(d.to for d in result.digests)
    if sent:
        return Text(f"sent {count} {reminders}: {to}")
    return Text(
        f"dry run: {count} {reminders} would be sent ({to}); nothing was sent — use --send to email them"
    )


def _reapprovals_table(items: Any) -> Table:
    """Stale approvals wanted again: the terms changed after they were given."""
    table = Table(
        title=f"{len(items)} approval(s) to give again (terms changed after approval)",
        title_justify="left",
        title_style="bold",
    )
    for column in ("offer", "role", "approver", "since", "what changed"):
        table.add_column(column, no_wrap=column in {"offer", "since"})
    for item in items:
        table.add_row(
            item.offer_id,
            item.role,
            ", ".join(item.people),
            item.since[:10],
            "; ".join(d.partition(": ")[2] or d for d in item.stale),
        )
    return table
