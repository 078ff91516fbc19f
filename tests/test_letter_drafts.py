"""Letters of offers that are not approved carry a DRAFT watermark; approved letters stay
byte-identical; a template in another language than the offer's locale is a warning (L430);
the email that carries the letter reads like a letter."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_letters import FRESH_OFFER, SNAPSHOTS, pdf_text

DRAFT = "OFF-2026-3QX7M2KD"  # draft, US
PENDING = "OFF-2026-5NB2RC8P"  # pending_approval
SENT = "OFF-2026-6RM1PQ9C"
ACCEPTED_DE = "OFF-2026-0TB8WD5K"
DE_DRAFT = "OFF-2026-8HT4WZ1N"  # Berlin, draft


@pytest.mark.parametrize("offer_id", [DRAFT, PENDING])
def test_unapproved_letters_carry_draft_in_every_format(example_repo: Path, cli: Any, offer_id: str) -> None:
    md = cli("render", offer_id, cwd=example_repo)
    assert md.code == 0, md.err
    assert md.out.startswith("> **DRAFT** — not approved; this letter is not an offer of employment\n")
    html = cli("render", offer_id, "-f", "html", cwd=example_repo).out
    assert 'class="offerctl-draft"' in html and "position:fixed" in html
    pdf = cli("render", offer_id, "-f", "pdf", "-o", "d.pdf", cwd=example_repo)
    assert pdf.code == 0, pdf.err
    assert "DRAFT — not approved" in pdf_text((example_repo / "d.pdf").read_bytes())
    report = json.loads(cli("render", offer_id, "-f", "json", cwd=example_repo).out)
    assert report["draft"] is True


def test_a_german_draft_says_entwurf(example_repo: Path, cli: Any) -> None:
    assert cli("render", DE_DRAFT, cwd=example_repo).out.startswith("> **ENTWURF** — nicht genehmigt")


@pytest.mark.parametrize(("offer_id", "fmt"), [(SENT, "md"), (SENT, "html"), (ACCEPTED_DE, "md")])
def test_approved_letters_are_byte_identical(example_repo: Path, cli: Any, offer_id: str, fmt: str) -> None:
    out = cli("render", offer_id, "-f", fmt, cwd=example_repo).out
    assert out == (SNAPSHOTS / f"{offer_id}.{fmt}").read_text("utf-8")
    assert "DRAFT" not in out and "offerctl-draft" not in out
    report = json.loads(cli("render", offer_id, "-f", "json", cwd=example_repo).out)
    md = (SNAPSHOTS / f"{offer_id}.md").read_bytes()
    assert report["letter_version"] == hashlib.sha256(md).hexdigest() and report["draft"] is False


def test_a_revised_offer_is_a_draft_until_approved_again(example_repo: Path, cli: Any) -> None:
    revised = cli(
        "revise",
        SENT,
        "--set",
        "compensation.base_salary=212000",
        "--reason",
        "competing offer",
        cwd=example_repo,
    )
    assert revised.code == 0, revised.err
    assert cli("render", SENT, cwd=example_repo).out.startswith("> **DRAFT**")


GERMAN_OFFER = (
    FRESH_OFFER.replace("{country: US, region: NY}", "{country: DE, region: BE, city: Berlin}")
    .replace("currency: USD", "currency: EUR")
    .replace("clauses: [confidentiality, at_will]", "clauses: [confidentiality]")
)


def test_a_german_offer_with_the_english_starter_template_is_a_warning(offer_repo: Path, cli: Any) -> None:
    config = offer_repo / "offerctl.yaml"
    if "DE: de_DE" not in config.read_text():
        pytest.skip("the starter has no German locale default")  # pragma: no cover
    path = offer_repo / "offers" / "OFF-2026-AAAABBBB.yaml"
    path.write_text(GERMAN_OFFER)
    result = cli("check", "--format", "json", cwd=offer_repo)
    found = [f for f in result.json()["findings"] if f["code"] == "L430"]
    assert len(found) == 1, result.out
    finding = found[0]
    assert finding["severity"] == "warning" and finding["offer"] == "OFF-2026-AAAABBBB"
    assert "de_DE (German)" in finding["message"] and "written in English" in finding["message"]
    assert (
        finding["line"]
        == GERMAN_OFFER.splitlines().index("  location: {country: DE, region: BE, city: Berlin}") + 1
    )
    path.write_text(GERMAN_OFFER.replace("clauses:", "letter: {locale: en_US}\nclauses:"))
    again = cli("check", "--format", "json", cwd=offer_repo).json()["findings"]
    assert [f for f in again if f["code"] == "L430"] == []


def test_the_bundled_german_template_declares_german(example_repo: Path, cli: Any) -> None:
    result = cli("check", "--format", "json", cwd=example_repo)
    assert [f for f in result.json()["findings"] if f["code"] == "L430"] == []


def test_a_template_without_a_declaration_is_not_judged(example_repo: Path, cli: Any) -> None:
    template = example_repo / "letter_templates" / "de" / "arbeitsvertrag.md.j2"
    template.write_text(template.read_text().replace("\n    language: de -#}", " -#}", 1))
    # it extends base.md.j2 (language: en): German offers now get the warning
    findings = cli("check", "--format", "json", cwd=example_repo).json()["findings"]
    assert {f["offer"] for f in findings if f["code"] == "L430"} == {DE_DRAFT}
    base = example_repo / "letter_templates" / "base.md.j2"
    base.write_text(base.read_text().replace("\n    language: en -#}", " -#}", 1))
    findings = cli("check", "--format", "json", "--no-cache", cwd=example_repo).json()["findings"]
    assert [f for f in findings if f["code"] == "L430"] == []


def test_the_email_body_reads_like_a_letter(example_repo: Path) -> None:
    from offerctl.lifecycle.delivery import compose
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    repo = open_repo(example_repo)
    us = compose(repo, loader.load_offer(repo, SENT), b"")
    paragraphs = us.body.split("\n\n")
    assert paragraphs[0] == "Dear Elena,"
    assert paragraphs[1].startswith("We are delighted")
    assert "let us know your decision by November 27, 2026." in us.body
    de = compose(repo, loader.load_offer(repo, "OFF-2026-4JZ6HN3T"), b"")
    assert de.subject.startswith("Ihr Angebot von Acme Robotics")
    assert "bis zum 28. November 2026 mit" in de.body
