"""The HTML dashboard of ``offerctl report --format html``: one self-contained file.

plotly.js is inlined once (no CDN, no network), every chart gets a fixed div id, and nothing
depends on the time of rendering, so the same report always gives the same bytes.
Pure: a ``Report`` in, a string out.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from offerctl.reports.formatting import BUCKET_SHORT_LABELS, STAGE_SHORT_LABELS, comparison_cells, num, pct
from offerctl.reports.report import Report

PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563", "#65a30d"]
FUNNEL_SHADES = ["#bfdbfe", "#93c5fd", "#60a5fa", "#3b82f6", "#2563eb", "#1d4ed8", "#1e40af", "#1e3a8a"]
PLOT_CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True}
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#f8fafc;padding:18px 28px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#cbd5e1;font-size:14px}
main{padding:18px 28px;display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:14px 16px}
section h2{font-size:16px;margin:0 0 8px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;grid-column:1/-1}
.kpi{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:12px 14px}
.kpi b{display:block;font-size:24px}.kpi span{color:#475569;font-size:13px}.kpi small{color:#64748b}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 6px;border-bottom:1px solid #e2e8f0;text-align:right}
th:first-child,td:first-child{text-align:left}.wide{grid-column:1/-1}
.empty{height:360px;display:flex;flex-direction:column;align-items:center;justify-content:center;
  color:#64748b;background:#f8fafc;border-radius:8px}.empty b{font-size:16px;color:#334155}
"""


def _figure_html(fig: Any, div_id: str, first: bool) -> str:
    import plotly.io as pio

    fig.update_layout(
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 30, "b": 50},
        height=360,
        font={"family": "system-ui, sans-serif", "size": 12},
        colorway=PALETTE,
        legend={"orientation": "h", "y": -0.2},
    )
    return str(
        pio.to_html(
            fig,
            include_plotlyjs=first,
            full_html=False,
            div_id=div_id,
            config=PLOT_CONFIG,
            validate=True,
        )
    )


def _acceptance_figure(m: Mapping[str, Any], dims: tuple[str, ...]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    buttons = []
    for i, dim in enumerate(dims):
        rows = [r for r in m["acceptance"]["by"][dim] if r["extended"]]
        fig.add_trace(
            go.Bar(
                x=[r["segment"] for r in rows],
                y=[(r["rate"] or 0) * 100 for r in rows],
                text=[f"{pct(r['rate'])} ({r['accepted']}/{r['extended']})" for r in rows],
                textposition="auto",
                name=dim.replace("_", " "),
                visible=i == 0,
                marker_color=PALETTE[i % len(PALETTE)],
                hovertemplate="%{x}: %{text}<extra></extra>",
            )
        )
        buttons.append(
            {
                "label": dim.replace("_", " "),
                "method": "update",
                "args": [{"visible": [j == i for j in range(len(dims))]}],
            }
        )
    fig.update_layout(
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "right",
                "x": 0,
                "y": 1.15,
                "xanchor": "left",
                "type": "buttons",
            }
        ],
        yaxis={"title": "accepted ÷ extended (%)", "range": [0, 105]},
        showlegend=False,
    )
    return fig


def _delay_figure(m: Mapping[str, Any]) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    delay = m["verbal_to_written"]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("offers by business days", "acceptance by delay"),
        column_widths=[0.6, 0.4],
    )
    hist = delay["histogram"]
    days = [r["business_days"] for r in hist]
    fig.add_trace(
        go.Bar(x=days, y=[r["accepted"] for r in hist], name="accepted", marker_color=PALETTE[1]),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=days,
            y=[r["offers"] - r["accepted"] for r in hist],
            name="not accepted",
            marker_color=PALETTE[2],
        ),
        row=1,
        col=1,
    )
    buckets = delay["buckets"]
    fig.add_trace(
        go.Bar(
            x=[BUCKET_SHORT_LABELS[b["bucket"]] for b in buckets],
            y=[(b["rate"] or 0) * 100 for b in buckets],
            text=[f"{pct(b['rate'])} ({b['accepted']}/{b['extended']})" for b in buckets],
            textposition="auto",
            name="acceptance %",
            marker_color=PALETTE[0],
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="business days verbal → written", dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="offers", row=1, col=1)
    fig.update_yaxes(title_text="accepted (%)", range=[0, 105], row=1, col=2)
    return fig


def _funnel_figure(m: Mapping[str, Any]) -> Any:
    import plotly.graph_objects as go

    steps = m["funnel"]
    return go.Figure(
        go.Funnel(
            y=[s["step"] for s in steps],
            x=[s["offers"] for s in steps],
            textinfo="value+percent initial",
            # one hue, darker as offers go further: no step reads as a failure (red)
            marker={
                "color": FUNNEL_SHADES[: len(steps)] + [FUNNEL_SHADES[-1]] * (len(steps) - len(FUNNEL_SHADES))
            },
        )
    )


def _latency_figure(m: Mapping[str, Any]) -> Any:
    import plotly.graph_objects as go

    rows = m["approval_latency"]["by_role"]
    roles = [r["role"] for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=roles, y=[r["median_business_days"] for r in rows], name="median", marker_color=PALETTE[0])
    )
    fig.add_trace(
        go.Bar(x=roles, y=[r["p90_business_days"] for r in rows], name="p90", marker_color=PALETTE[3])
    )
    fig.add_trace(
        go.Scatter(
            x=roles,
            y=[r["sla_business_days"] for r in rows],
            name="SLA",
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 36, "line": {"width": 3, "color": PALETTE[2]}},
        )
    )
    fig.update_layout(barmode="group", yaxis={"title": "business days"})
    return fig


def _declines_figure(m: Mapping[str, Any]) -> Any:
    import plotly.graph_objects as go

    dec = m["declines"]
    reasons = [r["reason"] for r in dec["by_reason"]]
    rows = dec["by"]["source"]
    fig = go.Figure()
    for i, reason in enumerate(reasons):
        fig.add_trace(
            go.Bar(
                y=[r["segment"] for r in rows],
                x=[r["reasons"].get(reason, 0) for r in rows],
                name=reason,
                orientation="h",
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    fig.update_layout(
        barmode="stack",
        xaxis={"title": "declined offers", "dtick": 1},
        yaxis={"title": "source"},
        # plotly hides the legend of a one-trace chart: the colours would mean nothing
        showlegend=True,
        legend={"title": {"text": "reason"}},
    )
    return fig


def _cycle_figure(m: Mapping[str, Any]) -> Any:
    import plotly.graph_objects as go

    rows = [r for r in m["cycle_time"] if r["median_days"] is not None]
    labels = [STAGE_SHORT_LABELS[r["stage"]] for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=labels, y=[r["median_days"] for r in rows], name="median", marker_color=PALETTE[0])
    )
    fig.add_trace(go.Bar(x=labels, y=[r["p90_days"] for r in rows], name="p90", marker_color=PALETTE[3]))
    fig.update_layout(barmode="group", yaxis={"title": "calendar days"})
    return fig


def not_enough_data(m: Mapping[str, Any], dims: tuple[str, ...]) -> dict[str, str]:
    """Panels that have nothing to draw, with what is missing: an empty plotly chart shows
    a -1…1 axis or blank bars, which reads as a broken report."""
    empty: dict[str, str] = {}
    if not any(r["extended"] for dim in dims for r in m["acceptance"]["by"].get(dim, [])):
        empty["acceptance"] = "no offer has been extended (sent) yet"
    if not m["verbal_to_written"]["histogram"]:
        empty["delay"] = "no extended offer has a verbal offer date (verbal.date)"
    if not m["offers"]:
        empty["funnel"] = "no offers yet"
    if all(r["median_days"] is None for r in m["cycle_time"]):
        empty["cycle"] = "no offer has completed a stage yet"
    if not m["approval_latency"]["by_role"]:
        empty["latency"] = "no approvals in these offers yet"
    if not m["declines"]["by_reason"]:
        empty["declines"] = "no declined offers"
    return empty


def _empty_panel(div_id: str, why: str) -> str:
    return f'<div class="empty" id="{div_id}"><b>Not enough data</b><span>{html.escape(why)}</span></div>'


def _business_days(value: Any) -> str:
    if value is None:
        return "—"
    text = num(value)
    return f"{text} business day" + ("" if text == "1" else "s")


def _kpi(label: str, value: str, note: str = "") -> str:
    small = f"<small>{html.escape(note)}</small>" if note else ""
    return f'<div class="kpi"><b>{html.escape(value)}</b><span>{html.escape(label)}</span> {small}</div>'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _numbers_section(m: Mapping[str, Any], dims: tuple[str, ...]) -> str:
    """The counts behind the charts, as tables (folded, for readers who check by hand)."""
    parts = []
    for dim in dims:
        rows = [
            [
                r["segment"],
                str(r["offers"]),
                str(r["extended"]),
                str(r["accepted"]),
                str(r["declined"]),
                str(r["open"]),
                pct(r["rate"]),
            ]
            for r in m["acceptance"]["by"][dim]
        ]
        headers = [dim.replace("_", " "), "offers", "extended", "accepted", "declined", "open", "acceptance"]
        parts.append(f"<h3>Acceptance by {html.escape(dim.replace('_', ' '))}</h3>" + _table(headers, rows))
    latency = [
        [
            r["role"],
            str(r["approvals"]),
            num(r["median_business_days"]),
            num(r["p90_business_days"]),
            num(r["sla_business_days"]),
            pct(r["sla_adherence"]),
        ]
        for r in m["approval_latency"]["by_role"]
    ]
    parts.append(
        "<h3>Approval latency by role (business days)</h3>"
        + _table(["role", "approvals", "median", "p90", "SLA", "within SLA"], latency)
    )
    declines = m["declines"]
    reasons = [r["reason"] for r in declines["by_reason"]]
    for dim, rows in declines["by"].items():
        body = [[r["segment"], *(str(r["reasons"].get(x, 0)) for x in reasons)] for r in rows]
        parts.append(f"<h3>Decline reasons by {html.escape(dim)}</h3>" + _table([dim, *reasons], body))
    parts.append(_workflow_tables(m))
    return (
        '<section class="wide" id="section-numbers"><details><summary><h2 style="display:inline">'
        "The numbers behind the charts</h2></summary>" + "".join(parts) + "</details></section>"
    )


def _workflow_tables(m: Mapping[str, Any]) -> str:
    """Competing offers (acceptance with/without, employers declined for) and contact gaps."""
    comp, contact = m.get("competition"), m.get("contact")
    out = ""
    if comp:
        rows = [
            [label, str(r["extended"]), str(r["accepted"]), str(r["declined"]), pct(r["rate"])]
            for label, r in (
                ("had a competing offer", comp["with_competing_offer"]),
                ("no competing offer known", comp["without_competing_offer"]),
            )
        ]
        out += "<h3>Acceptance with and without a competing offer</h3>" + _table(
            ["candidates", "extended", "accepted", "declined", "acceptance"], rows
        )
        lost = [
            [r["employer"], str(r["declined"]), ", ".join(f"{k} {v}" for k, v in r["reasons"].items())]
            for r in comp["declined_for"]
        ]
        out += "<h3>Employers candidates declined for</h3>" + (
            _table(["employer", "declined", "reasons"], lost) if lost else "<p>none recorded</p>"
        )
    if contact:
        rows = [
            [
                r["outcome"],
                str(r["offers"]),
                num(r["median_longest_gap"]),
                num(r["max_longest_gap"]),
                f"{r['over_cadence']} ({pct(r['rate'])})",
            ]
            for r in contact["by_outcome"]
        ]
        out += (
            f"<h3>Longest gap without candidate contact, sent → answer (business days; cadence "
            f"{contact['cadence_business_days']})</h3>"
            + _table(["outcome", "offers", "median", "max", "over cadence"], rows)
        )
    return out


def render(report: Report) -> str:
    m = report.current
    overall = m["acceptance"]["overall"]
    delay = m["verbal_to_written"]
    window = report.window
    span = "all offers"
    if window.since or window.until:
        span = f"offers created {window.since or '…'} to {window.until or '…'}"
    kpis = [
        _kpi("offers extended", str(overall["extended"]), f"of {m['offers']} offers"),
        _kpi("acceptance rate", pct(overall["rate"]), f"{overall['accepted']}/{overall['extended']}"),
        _kpi(
            "median verbal → written",
            _business_days(delay["median_business_days"]),
            f"{delay['offers']} offers",
        ),
        _kpi(
            "approval SLA adherence",
            pct(m["approval_latency"]["sla_adherence"]["rate"]),
            f"{m['approval_latency']['approvals']} approvals",
        ),
        _kpi("exception rate", pct(m["exceptions"]["exceptions"]["rate"])),
        _kpi("reneges", str(m["reneges"]["reneged"]), f"of {m['reneges']['accepted']} accepted"),
        _kpi(
            "acceptance with a competing offer",
            pct(m["competition"]["with_competing_offer"]["rate"]),
            f"{m['competition']['with_competing_offer']['accepted']}/{m['competition']['with_competing_offer']['extended']}",
        ),
        _kpi(
            "fall-through after verbal",
            pct(m["fall_through"]["rate"]),
            f"{m['fall_through']['fell_through']}/{m['fall_through']['denominator']}",
        ),
    ]
    charts = [
        ("acceptance", "Acceptance by segment", _acceptance_figure(m, report.by), ""),
        ("delay", "Verbal → written offer, and its effect on acceptance", _delay_figure(m), ""),
        ("funnel", "Stage funnel", _funnel_figure(m), ""),
        ("cycle", "Cycle time by stage (calendar days)", _cycle_figure(m), ""),
        ("latency", "Approval latency by role (business days)", _latency_figure(m), ""),
        ("declines", "Decline reasons by source", _declines_figure(m), ""),
    ]
    sections = []
    empty = not_enough_data(m, report.by)
    first = True  # plotly.js goes with the first chart actually drawn
    for key, title, fig, _ in charts:
        if key in empty:
            body = _empty_panel(f"chart-{key}", empty[key])
        else:
            body = _figure_html(fig, f"chart-{key}", first)
            first = False
        sections.append(f'<section id="section-{key}"><h2>{html.escape(title)}</h2>{body}</section>')
    sections.append(_numbers_section(m, report.by))
    if report.comparison is not None:
        rows = []
        for row in report.comparison:
            rows.append([row["metric"], *comparison_cells(row)])
        prev = report.previous_window
        assert prev is not None
        sections.append(
            '<section class="wide" id="section-comparison">'
            f"<h2>Compared with {prev.since} to {prev.until}</h2>"
            + _table(["metric", "current", "previous", "change"], rows)
            + "</section>"
        )
    title = f"Offer report — {report.company}" if report.company else "Offer report"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(span)} · generated by offerctl report</p></header>"
        f'<main><div class="kpis">{"".join(kpis)}</div>{"".join(sections)}</main>'
        "</body></html>\n"
    )
