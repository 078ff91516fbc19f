"""The HTML dashboard: self-contained, deterministic, and rendering cleanly in Chromium."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import Cli
from tests.report_fixture import build

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists(),
    reason="chromium is not installed (.ci/run installs it)",
)

CHART_IDS = [
    "chart-acceptance",
    "chart-delay",
    "chart-funnel",
    "chart-cycle",
    "chart-latency",
    "chart-declines",
]


def _pixel_spread(png: bytes) -> tuple[int, int, float]:
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    stat = ImageStat.Stat(image)
    return image.width, image.height, stat.stddev[0]


def test_dashboard_is_self_contained_and_deterministic(tmp_path: Path, cli: Cli) -> None:
    repo = build(tmp_path / "repo")
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    args = (
        "report",
        "--repo",
        str(repo),
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-30",
        "--format",
        "html",
    )
    assert cli(*args, "-o", str(first)).code == 0
    assert cli(*args, "-o", str(second)).code == 0
    html = first.read_text()
    assert html == second.read_text()  # no "now", no random ids
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=", html), "scripts must be inlined"
    assert not re.search(r"<link[^>]+href=", html), "no external stylesheets"
    assert html.count("plotly.js v") >= 1 and html.count('id="chart-') == len(CHART_IDS)
    for chart in CHART_IDS:
        assert f'id="{chart}"' in html
    assert "Compared with 2026-10-02 to 2026-10-31" in html
    # the counts behind the charts, as in tests/test_report.py
    assert "<td>Engineering</td><td>5</td><td>3</td><td>1</td><td>1</td><td>1</td><td>33.3%</td>" in html
    assert "<td>vp_people</td><td>1</td><td>3</td><td>3</td><td>2</td><td>0.0%</td>" in html


def test_dashboard_renders_in_headless_chromium_without_errors_or_network(tmp_path: Path, cli: Cli) -> None:
    from tests.cdp import load

    repo = build(tmp_path / "repo")
    out = tmp_path / "report.html"
    assert cli("report", "--repo", str(repo), "--format", "html", "-o", str(out)).code == 0
    expression = (
        "JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".map(d => [d.id, d.querySelectorAll('.main-svg').length,"
        " d.querySelectorAll('.point, .bars path, .trace').length]))"
    )
    run = load(out.as_uri(), expression)
    assert run.console_errors == []
    assert run.exceptions == []
    outside = [u for u in run.requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert outside == [], f"the dashboard made network requests: {outside}"
    import json

    plots = json.loads(run.evaluated)
    assert [p[0] for p in plots] == CHART_IDS
    assert all(svgs >= 1 and marks > 0 for _, svgs, marks in plots), plots
    width, height, spread = _pixel_spread(run.screenshot)
    assert width >= 1000 and height >= 1000
    assert spread > 20, f"screenshot looks blank (pixel stddev {spread:.1f})"


LITTLE_OFFER = """\
id: OFF-2026-AAAABBBB
status: draft
candidate: {name: Jane Doe, email: jane.doe@example.com, source: referral}
role:
  title: Backend Engineer
  department: Engineering
  job_family: engineering
  level: L4
  employment_type: full_time
  location: {country: US, region: NY}
  hiring_manager: hiring.manager@example.com
recruiter: recruiter@example.com
start_date: '2027-01-11'
expires_on: '2027-01-04'
compensation: {currency: USD, base_salary: 150000}
events:
  - {type: created, at: '2026-11-21T09:00:00Z', by: recruiter@example.com}
"""


def test_dashboard_with_little_data_says_so_in_every_empty_panel(
    offer_repo: Path, tmp_path: Path, cli
) -> None:  # type: ignore[no-untyped-def]
    """One draft offer: the funnel has something to show, every other panel says
    "Not enough data" (in Chromium: no plotly chart with an empty -1…1 axis)."""
    import json

    from tests.cdp import load

    (offer_repo / "offers" / "OFF-2026-AAAABBBB.yaml").write_text(LITTLE_OFFER)
    out = tmp_path / "little.html"
    assert cli("report", "--repo", str(offer_repo), "-f", "html", "-o", str(out)).code == 0
    html = out.read_text()
    assert html.count('id="chart-') == len(CHART_IDS)
    assert " bd<" not in html and "business day" in html
    expression = (
        "JSON.stringify({plots: Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => d.id),"
        " empty: Array.from(document.querySelectorAll('.empty')).map(d => [d.id, d.innerText])})"
    )
    run = load(out.as_uri(), expression)
    assert run.console_errors == [] and run.exceptions == []
    seen = json.loads(run.evaluated)
    assert seen["plots"] == ["chart-funnel"]
    empty = dict(seen["empty"])
    assert sorted(empty) == sorted(set(CHART_IDS) - {"chart-funnel"})
    assert all(text.startswith("Not enough data") for text in empty.values())
    assert "no declined offers" in empty["chart-declines"]


def test_decline_chart_has_a_legend_and_the_funnel_no_red() -> None:
    from offerctl.reports import dashboard

    metrics = {
        "declines": {
            "by_reason": [{"reason": "compensation", "offers": 1}],
            "by": {"source": [{"segment": "referral", "reasons": {"compensation": 1}}]},
        },
        "funnel": [{"step": s, "offers": n} for s, n in (("created", 3), ("approved", 2), ("sent", 1))],
    }
    declines = dashboard._declines_figure(metrics)
    assert declines.layout.showlegend is True and declines.layout.legend.title.text == "reason"
    colours = dashboard._funnel_figure(metrics).data[0].marker.color
    assert "#dc2626" not in colours and len(colours) == 3
