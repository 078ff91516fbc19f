"""Offer letters: rendering, snapshots, PDF, selection, clauses, bad input and letter checks."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from offerctl.letters import render as letters_render
from offerctl.store import loader
from offerctl.store.clauses import clause_library
from offerctl.store.repo import open_repo
from tests.helpers import assert_snapshot

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "letters"
US = "OFF-2026-6RM1PQ9C"  # San Francisco, sent, verbal promise of a $20,000 sign-on bonus
DE = "OFF-2026-0TB8WD5K"  # Berlin, accepted, clauses confidentiality + probation_de
DE_PROMISE = "OFF-2026-8HT4WZ1N"  # Berlin, draft, promise of the base salary


def snapshot(name: str, actual: str) -> None:
    """Compare with tests/snapshots/letters/<name> (``UPDATE_SNAPSHOTS=1`` rewrites it)."""
    assert_snapshot(SNAPSHOTS / name, actual)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def render(repo_root: Path, offer_id: str, fmt: str) -> letters_render.RenderedLetter:
    repo = open_repo(repo_root)
    return letters_render.render(repo, loader.load_offer(repo, offer_id), fmt)  # type: ignore[arg-type]


# --- snapshots and determinism -----------------------------------------------------------


@pytest.mark.parametrize("offer_id", [US, DE])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_letter_snapshots(example_repo: Path, cli: Any, offer_id: str, fmt: str) -> None:
    result = cli("render", offer_id, "--format", fmt, cwd=example_repo)
    assert result.code == 0, result.err
    snapshot(f"{offer_id}.{fmt}", result.out)
    again = render(example_repo, offer_id, fmt)
    assert again.content.decode("utf-8") == result.out  # same offer + template -> same bytes


def test_german_letter_formats_money_and_dates_in_german(example_repo: Path) -> None:
    text = render(example_repo, DE_PROMISE, "md").content.decode()
    assert "121.000,00\xa0€ brutto pro Jahr" in text
    assert "1. Februar 2027" in text and "Angebot eines Arbeitsvertrags" in text
    assert "sechs Monate" not in text  # this offer has no probation clause
    de = render(example_repo, DE, "md").content.decode()
    assert "Die ersten sechs Monate" in de and "zwei Wochen" in de and "Cliff: ein Jahr" in de


def test_letter_version_is_the_markdown_hash_for_every_format(example_repo: Path) -> None:
    import hashlib

    md = render(example_repo, US, "md")
    html = render(example_repo, US, "html")
    assert md.sha256 == hashlib.sha256(md.content).hexdigest() == html.sha256
    assert re.fullmatch(r"[0-9a-f]{64}", md.sha256)
    assert html.content_sha256 == hashlib.sha256(html.content).hexdigest() != html.sha256
    assert md.sha256[:12] in html.content.decode()  # the footer prints the version
    assert md.template == "us/california.md.j2" and md.fmt == "md"


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_letter_text_page_size_metadata_and_determinism(example_repo: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    first = render(example_repo, US, "pdf")
    second = render(example_repo, US, "pdf")
    assert first.content.startswith(b"%PDF-")
    assert first.content == second.content  # byte-identical: no clock in the PDF
    text = pdf_text(first.content)
    assert "Elena García" in text
    assert "$195,000.00" in text  # the salary
    assert "$20,000.00" in text  # the verbal promise (sign-on bonus)
    assert "Page 1 of 2" in text and US in text and first.sha256[:12] in text  # running footer
    reader = PdfReader(io.BytesIO(first.content))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US Letter
    assert reader.metadata is not None and reader.metadata.creation_date is not None
    assert reader.metadata.creation_date.date().isoformat() == "2026-11-10"  # the offer's date

    german = render(example_repo, DE_PROMISE, "pdf")
    text = pdf_text(german.content)
    assert "Lukas Brandt" in text and "121.000,00 €" in text and "Seite 1 von" in text
    box = PdfReader(io.BytesIO(german.content)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4


def test_pdftoppm_renders_the_first_page(example_repo: Path, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(render(example_repo, US, "pdf").content)
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    png = pages[0].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_render_pdf_cli_writes_out_dir_and_json(example_repo: Path, cli: Any) -> None:
    result = cli("render", US, "--format", "pdf", cwd=example_repo)
    assert result.code == 0, result.err
    assert (example_repo / "out" / f"{US}.pdf").read_bytes().startswith(b"%PDF-")
    report = cli("render", US, "--format", "json", "-o", "letter.pdf", cwd=example_repo)
    assert report.code == 0, report.err
    data = report.json()
    assert data["template"] == "us/california.md.j2" and data["format"] == "pdf"
    assert data["output"] == "letter.pdf" and (example_repo / "letter.pdf").is_file()
    assert data["letter_version"] == render(example_repo, US, "md").sha256
    assert data["selection"]["rule"] == "us-california"
    bare = cli("render", US, "--format", "json", cwd=example_repo).json()
    assert bare["output"] is None and bare["format"] == "md"
    bad = cli("render", US, "--format", "json", "-o", "letter.txt", cwd=example_repo)
    # under --format json the error is a JSON object on stdout (README, "Exit codes")
    assert bad.code == 2 and ".pdf" in bad.json()["error"]["message"] + str(bad.json()["error"]["hint"])


# --- selection ---------------------------------------------------------------------------


def test_explain_says_which_template_and_why(example_repo: Path, cli: Any) -> None:
    result = cli("render", "OFF-2026-2WF8JT4M", "--explain", cwd=example_repo)
    assert result.code == 0
    assert "template: us/full_time.md.j2" in result.out
    assert "us-california: no (region is WA, not CA)" in result.out
    assert "germany: no (country is US, not DE)" in result.out
    assert "letter version: " in result.out
    assert "# Acme Robotics" not in result.out  # the letter itself only with -o


def test_offer_override_and_intern_template(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / "OFF-2026-2WF8JT4M.yaml"
    edit(path, "  employment_type: full_time\n", "  employment_type: intern\n  end_date: '2027-06-30'\n")
    result = cli("render", "OFF-2026-2WF8JT4M", cwd=example_repo)
    assert result.code == 0, result.err
    assert "Offer of internship" in result.out and "until June 30, 2027" in result.out
    edit(
        path,
        "clauses: [confidentiality]\n",
        "clauses: [confidentiality]\nletter: {template: us/full_time.md.j2}\n",
    )
    explained = cli("render", "OFF-2026-2WF8JT4M", "--explain", cwd=example_repo)
    assert "the offer sets letter.template: us/full_time.md.j2" in explained.out


def test_no_matching_rule(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / "OFF-2026-2WF8JT4M.yaml"
    edit(path, "    country: US\n    region: WA", "    country: GB\n    region: LND")
    result = cli("render", "OFF-2026-2WF8JT4M", cwd=example_repo)
    assert result.code == 2 and "no letter template rule matches" in result.err
    check = cli("check", "--format", "json", cwd=example_repo).json()
    assert "L407" in {f["code"] for f in check["findings"]}


# --- clauses -----------------------------------------------------------------------------


def test_clause_library_metadata(example_repo: Path) -> None:
    library = clause_library(open_repo(example_repo))
    assert {"confidentiality", "commission_plan", "probation_de", "non_compete", "at_will"} <= set(library)
    assert library["confidentiality"].standard is True
    assert library["non_compete"].standard is False
    assert library["at_will"].applies_to("US", "CA") and not library["at_will"].applies_to("DE", "BE")
    assert library["non_compete"].applies_to("US", "NY") and not library["non_compete"].applies_to("US", "CA")
    assert library["confidentiality"].template_for("de")[1] == "Verschwiegenheit"


def test_unknown_and_misplaced_clauses(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{DE}.yaml"
    edit(
        path,
        "clauses: [confidentiality, probation_de]",
        "clauses: [confidentiality, probation_de, no_such, at_will]",
    )
    result = cli("render", DE, "-o", "letter.md", cwd=example_repo)
    assert result.code == 2 and "unknown clause 'no_such'" in result.err
    assert f"offers/{DE}.yaml:{line_of(path, 'clauses:')}" in result.err
    assert not (example_repo / "letter.md").exists()
    findings = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    codes = {(f["code"], f["offer"]) for f in findings}
    assert ("L404", DE) in codes and ("L405", DE) in codes


def test_broken_clause_front_matter(example_repo: Path, cli: Any) -> None:
    (example_repo / "letter_templates" / "clauses" / "gardening.md").write_text(
        "---\ntitle: Leave\n---\nText\n"
    )
    result = cli("check", "--format", "json", cwd=example_repo)
    assert result.code == 1
    finding = next(f for f in result.json()["findings"] if f["code"] == "L406")
    assert finding["path"] == "letter_templates/clauses/gardening.md" and "standard" in finding["message"]


# --- bad input ---------------------------------------------------------------------------


def test_misspelled_variable_is_a_finding_and_writes_nothing(example_repo: Path, cli: Any) -> None:
    template = example_repo / "letter_templates" / "us" / "full_time.md.j2"
    edit(
        template,
        "starting on {{ start_date | date }}",
        "starting on {{ start_date | date }} {{ candidate.nmae }}",
    )
    line = line_of(template, "candidate.nmae")
    result = cli("render", US, "--format", "pdf", "-o", "letter.pdf", cwd=example_repo)
    assert result.code == 2
    assert f"letter_templates/us/full_time.md.j2:{line}" in result.err and "nmae" in result.err
    assert "Traceback" not in result.err
    assert not (example_repo / "letter.pdf").exists()
    check = cli("check", "--format", "json", cwd=example_repo)
    assert check.code == 1
    found = [f for f in check.json()["findings"] if f["code"] == "L402"]
    assert found and all(
        f["path"] == "letter_templates/us/full_time.md.j2" and f["line"] == line for f in found
    )


def test_syntax_error_points_at_the_line(example_repo: Path, cli: Any) -> None:
    template = example_repo / "letter_templates" / "de" / "arbeitsvertrag.md.j2"
    edit(template, "{% if role.team %}", "{% if role.team %")
    line = line_of(template, "{% if role.team %")
    check = cli("check", "--format", "json", cwd=example_repo)
    finding = next(f for f in check.json()["findings"] if f["code"] == "L401")
    assert finding["path"] == "letter_templates/de/arbeitsvertrag.md.j2" and finding["line"] == line
    result = cli("render", DE, cwd=example_repo)
    assert result.code == 2 and "syntax error" in result.err


def test_missing_template(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(path, "clauses: [confidentiality]", "clauses: [confidentiality]\nletter: {template: us/nope.md.j2}")
    result = cli("render", US, cwd=example_repo)
    assert result.code == 2 and "'us/nope.md.j2' does not exist" in result.err
    assert f"offers/{US}.yaml:{line_of(path, 'letter:')}" in result.err
    (example_repo / "letter_templates" / "us" / "fixed_term.md.j2").unlink()
    check = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    l403 = [f for f in check if f["code"] == "L403"]
    assert {f["path"] for f in l403} >= {"offerctl.yaml", f"offers/{US}.yaml"}
    config_line = line_of(example_repo / "offerctl.yaml", "template: us/fixed_term.md.j2")
    assert any(f["path"] == "offerctl.yaml" and f["line"] == config_line for f in l403)


def test_candidate_name_is_data_never_code(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(
        path,
        "name: Elena García",
        "name: '{{ 7*7 }} <script>alert(1)</script> *Elena* [x](https://evil.example)'",
    )
    md = cli("render", US, cwd=example_repo)
    assert md.code == 0, md.err
    assert "Dear {{ 7*7 }} <script>alert(1)</script> *Elena* [x](https://evil.example)," in md.out
    assert "49" not in md.out
    html = cli("render", US, "--format", "html", cwd=example_repo)
    assert html.code == 0, html.err
    assert "<script>" not in html.out and "&lt;script&gt;alert(1)&lt;/script&gt;" in html.out
    assert "{{ 7*7 }}" in html.out and "<em>Elena</em>" not in html.out
    assert 'href="https://evil.example"' not in html.out


def test_sandbox_refuses_python_internals(example_repo: Path, cli: Any) -> None:
    template = example_repo / "letter_templates" / "us" / "full_time.md.j2"
    edit(
        template,
        "{% block opening %}\n",
        "{% block opening %}\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n",
    )
    result = cli("render", US, "--format", "html", cwd=example_repo)
    assert result.code == 2
    assert "sandbox refused" in result.err and "__class__" in result.err
    assert "letter_templates/us/full_time.md.j2:" in result.err and "Traceback" not in result.err
    check = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    assert any(f["code"] == "L408" for f in check)


def test_currency_babel_does_not_know(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(path, "currency: USD", "currency: XYZ")
    result = cli("render", US, cwd=example_repo)
    assert result.code == 2 and "'XYZ' is not an ISO 4217 currency" in result.err
    assert f"offers/{US}.yaml:{line_of(path, 'currency: XYZ')}" in result.err
    check = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    assert any(f["code"] == "L409" and f["offer"] == US for f in check)


def test_unguarded_optional_field_is_caught_by_the_template_check(example_repo: Path, cli: Any) -> None:
    template = example_repo / "letter_templates" / "us" / "full_time.md.j2"
    edit(
        template,
        "{% block opening %}\n",
        "{% block opening %}\nBonus: {{ compensation.sign_on_bonus | money }}\n",
    )
    findings = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    assert any(
        f["code"] == "L412" and f["path"] == "letter_templates/us/full_time.md.j2" and "empty" in f["message"]
        for f in findings
    )
    edit(
        template, "Bonus: {{ compensation.sign_on_bonus | money }}", "Bonus: {{ compensation.sign_on_bonus }}"
    )
    findings = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    assert any(f["code"] == "L413" for f in findings)


# --- promises ----------------------------------------------------------------------------


def test_bundled_example_checks_clean(example_repo: Path, cli: Any) -> None:
    result = cli("check", "--format", "json", cwd=example_repo)
    assert result.code == 0 and result.json()["findings"] == []


def test_promise_that_differs_from_the_offer(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(path, "      value: 20000", "      value: 25000")
    result = cli("check", "--format", "json", cwd=example_repo)
    assert result.code == 1
    finding = next(f for f in result.json()["findings"] if f["code"] == "L410")
    assert finding["offer"] == US and finding["line"] == line_of(path, "- field: compensation.sign_on_bonus")
    assert "25000" not in finding["message"]  # compensation values stay out of CI logs


def test_promise_of_a_field_the_offer_lacks(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(path, "  sign_on_bonus: 20000\n", "")
    findings = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    assert any(f["code"] == "L410" and "is not in the offer" in f["message"] for f in findings)


def test_promised_field_the_template_does_not_print(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(
        path,
        "      value: 20000\n",
        "      value: 20000\n    - field: candidate.source\n      value: sourced\n",
    )
    findings = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    l411 = [f for f in findings if f["code"] == "L411"]
    assert len(l411) == 1 and "candidate.source" in l411[0]["message"]
    assert l411[0]["line"] == line_of(path, "- field: candidate.source")


# --- filters -----------------------------------------------------------------------------


def _ctx(locale: str, currency: str = "USD") -> dict[str, Any]:
    return {"letter": {"locale": locale, "currency": currency}}


def test_filters_format_for_the_locale() -> None:
    from offerctl.letters import filters as f

    assert f.money(_ctx("en_US"), 185000) == "$185,000.00"
    assert f.money(_ctx("de_DE", "EUR"), 185000) == "185.000,00\xa0€"
    assert f.money(_ctx("de_DE"), 185000, "EUR", cents=False) == "185.000\xa0€"
    assert f.date(_ctx("de_DE"), "2027-01-11") == "11. Januar 2027"
    assert f.date(_ctx("en_US"), "2027-01-11") == "January 11, 2027"
    assert f.percent(_ctx("en_US"), 10) == "10%" and f.percent(_ctx("de_DE"), 10) == "10\xa0%"
    assert f.number(_ctx("de_DE"), 2500) == "2.500"
    assert f.duration(_ctx("en_US"), "P6M") == "six months"
    assert f.duration(_ctx("de_DE"), "6m") == "sechs Monate"
    assert f.duration(_ctx("de_DE"), "P1Y") == "ein Jahr" and f.duration(_ctx("de_DE"), "P1W") == "eine Woche"
    assert f.duration(_ctx("en_US"), 18, "months") == "18 months"
    assert f.vesting("4y-1y-cliff") == {"total": "P4Y", "cliff": "P1Y"}
    assert f.words(_ctx("de_DE"), 3) == "drei"
    with pytest.raises(f.FilterProblem, match="not a currency"):
        f.money(_ctx("en_US", "XYZ"), 1)
    with pytest.raises(f.FilterProblem, match="empty"):
        f.money(_ctx("en_US"), None)


# --- a fresh repository ------------------------------------------------------------------

FRESH_OFFER = """\
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
compensation: {currency: USD, base_salary: 150000, sign_on_bonus: 10000}
clauses: [confidentiality, at_will]
verbal: {date: '2026-12-20', promises: [{field: compensation.sign_on_bonus, value: 10000}]}
events:
  - {type: created, at: '2026-12-21T09:00:00Z', by: recruiter@example.com}
"""


def test_init_ships_starter_templates_that_render(offer_repo: Path, cli: Any) -> None:
    assert (offer_repo / "letter_templates" / "base.md.j2").is_file()
    assert (offer_repo / "letter_templates" / "clauses" / "at_will.md").is_file()
    (offer_repo / "offers" / "OFF-2026-AAAABBBB.yaml").write_text(FRESH_OFFER)
    md = cli("render", "OFF-2026-AAAABBBB", cwd=offer_repo)
    assert md.code == 0, md.err
    assert "Jane Doe" in md.out and "$150,000.00" in md.out and "At-will employment" in md.out
    assert "December 21, 2026" in md.out
    pdf = cli("render", "OFF-2026-AAAABBBB", "-f", "pdf", "-o", "jane.pdf", cwd=offer_repo)
    assert pdf.code == 0, pdf.err
    assert "$10,000.00" in pdf_text((offer_repo / "jane.pdf").read_bytes())
    check = cli("check", "--format", "json", cwd=offer_repo)
    assert check.code == 0, check.out


def test_written_on_option(example_repo: Path, cli: Any) -> None:
    result = cli("render", US, "--written-on", "2026-11-20", cwd=example_repo)
    assert "November 20, 2026" in result.out
    bad = cli("render", US, "--written-on", "soon", cwd=example_repo)
    assert bad.code == 2 and "YYYY-MM-DD" in bad.err


def test_render_json_keys_are_stable(example_repo: Path, cli: Any) -> None:
    data = json.loads(cli("render", DE, "--format", "json", cwd=example_repo).out)
    assert set(data) == {
        "offer",
        "template",
        "format",
        "locale",
        "letter_version",
        "content_sha256",
        "bytes",
        "output",
        "selection",
        "draft",
    }
    assert data["locale"] == "de_DE" and data["template"] == "de/arbeitsvertrag.md.j2"


def test_template_includes_a_clause_by_id(example_repo: Path, cli: Any) -> None:
    template = example_repo / "letter_templates" / "us" / "full_time.md.j2"
    edit(template, "{% block benefits %}\n", "{% block benefits %}\n{{ clause('at_will').text }}\n")
    result = cli("render", "OFF-2026-2WF8JT4M", cwd=example_repo)
    assert result.code == 0, result.err
    assert 'Your employment with Acme Robotics is "at will"' in result.out
    edit(template, "clause('at_will')", "clause('at_wil')")
    line = line_of(template, "at_wil")
    check = cli("check", "--format", "json", cwd=example_repo)
    assert check.code == 1
    finding = next(f for f in check.json()["findings"] if f["code"] == "L404")
    assert finding["path"] == "letter_templates/us/full_time.md.j2" and finding["line"] == line
    rendered = cli("render", "OFF-2026-2WF8JT4M", cwd=example_repo)
    assert rendered.code == 2 and "(L404)" in rendered.err and "unknown clause 'at_wil'" in rendered.err


def test_template_override_cannot_leave_letter_templates(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(
        path, "clauses: [confidentiality]", "clauses: [confidentiality]\nletter: {template: ../offerctl.yaml}"
    )
    result = cli("render", US, cwd=example_repo)
    assert result.code == 2 and "(L403)" in result.err


def test_text_built_in_the_template_cannot_become_a_link(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / f"{US}.yaml"
    edit(path, "name: Elena García", "name: '[Elena](https://evil.example)'")
    template = example_repo / "letter_templates" / "us" / "full_time.md.j2"
    edit(template, "{% block opening %}\n", "{% block opening %}\n{{ 'Hello ' ~ candidate.name }}\n")
    html = cli("render", US, "--format", "html", cwd=example_repo)
    assert html.code == 0, html.err
    assert "Hello [Elena](https://evil.example)" in html.out and "<a " not in html.out


def test_new_offers_get_only_default_clauses_of_their_jurisdiction(offer_repo: Path, cli: Any) -> None:
    from offerctl.store import yamlio

    intake = FRESH_OFFER.split("recruiter:")[0].replace("id: OFF-2026-AAAABBBB\nstatus: draft\n", "")
    intake += (
        "recruiter: recruiter@example.com\nstart_date: '2027-01-11'\ncompensation: {base_salary: 150000}\n"
    )
    (offer_repo / "us.yaml").write_text(intake)
    (offer_repo / "de.yaml").write_text(intake.replace("country: US, region: NY", "country: DE, region: BE"))
    made_us = cli("new", "--no-input", "--from", "us.yaml", "--format", "json", cwd=offer_repo)
    made_de = cli("new", "--no-input", "--from", "de.yaml", "--format", "json", cwd=offer_repo)
    assert made_us.code == 0 and made_de.code == 0, made_us.err + made_de.err
    us_data = yamlio.load((offer_repo / made_us.json()["path"]).read_bytes())
    de_data = yamlio.load((offer_repo / made_de.json()["path"]).read_bytes())
    assert us_data["clauses"] == ["confidentiality", "at_will"]
    assert de_data["clauses"] == ["confidentiality"]  # at_will applies only in the US


def test_misspelled_variable_inside_a_filter_is_undefined_not_formatted(example_repo: Path, cli: Any) -> None:
    template = example_repo / "letter_templates" / "us" / "full_time.md.j2"
    edit(template, "starting on {{ start_date | date }}", "starting on {{ start_dte | date }}")
    result = cli("render", "OFF-2026-2WF8JT4M", cwd=example_repo)
    assert result.code == 2 and "'start_dte' is undefined (L402)" in result.err
    assert f"letter_templates/us/full_time.md.j2:{line_of(template, 'start_dte')}" in result.err
