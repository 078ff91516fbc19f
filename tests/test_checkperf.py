"""Repository-level results kept in the check cache (letter templates, closed offers) must
give exactly the findings of a run without the cache, and be recomputed when what they
depend on changes. Speed is measured by benchmarks/run.py, never asserted here."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from offerctl.checks import letters, runner
from offerctl.store.repo import open_repo
from tests.conftest import declare_correction, git

AS_OF = dt.date(2026, 11, 22)
DECLINED = "OFF-2026-5WQ9GA1D"


def _plain(repo: Path) -> runner.CheckResult:
    return runner.run(open_repo(repo), as_of=AS_OF, jobs=1, cache=False)


def _cached(repo: Path) -> runner.CheckResult:
    return runner.run(open_repo(repo), as_of=AS_OF, jobs=1)


@pytest.fixture
def template_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each time the repository letter check renders the templates."""
    calls: list[str] = []
    original = letters.check_templates

    def counting(letters: Any) -> Iterator[Any]:
        calls.append("rendered")
        return original(letters)

    monkeypatch.setattr(letters, "check_templates", counting)
    return calls


def test_letter_template_findings_come_from_the_cache_until_a_template_changes(
    example_repo: Path, template_renders: list[str]
) -> None:
    first = _cached(example_repo)
    assert first.ok and template_renders == ["rendered"]
    second = _cached(example_repo)
    assert second.findings == first.findings
    assert template_renders == ["rendered"]  # warm: no sample letter rendered

    template = example_repo / "letter_templates" / "us" / "full_time.md.j2"
    text = template.read_text("utf-8")
    assert "{% block opening %}\n" in text
    template.write_text(
        text.replace("{% block opening %}\n", "{% block opening %}\n{{ no_such_variable }}\n"), "utf-8"
    )
    broken = _cached(example_repo)
    assert len(template_renders) == 2
    assert broken.cached == 0  # the fingerprint covers letter_templates/: offers are re-rendered
    assert any(f.code == "L402" and f.path == "letter_templates/us/full_time.md.j2" for f in broken.findings)
    again = _cached(example_repo)
    assert len(template_renders) == 2
    assert again.findings == broken.findings == _plain(example_repo).findings


def test_a_configuration_change_recomputes_the_letter_findings(
    example_repo: Path, template_renders: list[str]
) -> None:
    _cached(example_repo)
    config = example_repo / "offerctl.yaml"
    text = config.read_text("utf-8")
    assert "template: us/full_time.md.j2" in text
    config.write_text(text.replace("template: us/full_time.md.j2", "template: us/missing.md.j2", 1), "utf-8")
    changed = _cached(example_repo)
    assert len(template_renders) == 2
    assert any(f.code == "L403" and f.path == "offerctl.yaml" for f in changed.findings)
    assert changed.findings == _cached(example_repo).findings == _plain(example_repo).findings


def test_closed_offer_findings_follow_the_history_and_the_files(example_repo: Path) -> None:
    assert _cached(example_repo).ok
    path = example_repo / "offers" / f"{DECLINED}.yaml"
    path.write_text(path.read_text().replace("status: declined", "status: declined\nnotes: by hand"))
    edited = _cached(example_repo)  # the file's content is part of the key
    assert [f.code for f in edited.findings if f.code == "G501"] == ["G501"]
    assert edited.findings == _cached(example_repo).findings == _plain(example_repo).findings
    git(example_repo, "commit", "-qam", "undeclared edit")
    assert not _cached(example_repo).ok
    declare_correction(example_repo, DECLINED, "Correct the notes")
    corrected = _cached(example_repo)  # same files, new history: recomputed
    assert corrected.ok
    assert corrected.findings == _plain(example_repo).findings


# --- per-process memoisation: the same findings with it and without it --------------------


def _without_memoisation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo every per-process shortcut of the cold path: Babel locales and currencies parsed
    on each call, durations spelled each time, the whole offer in every CEL context."""
    from offerctl.letters import filters
    from offerctl.policy import routing

    monkeypatch.setattr(filters, "babel_locale", lambda name: name)
    monkeypatch.setattr(filters, "spell_duration", filters.spell_duration.__wrapped__)
    monkeypatch.setattr(filters, "is_known_currency", filters.is_known_currency.__wrapped__)
    monkeypatch.setattr(routing, "offer_fields_used", lambda expressions: None)


def _corpus_repo(example_repo: Path) -> Path:
    corpus = Path(__file__).parent / "corpus"
    for path in sorted((corpus / "invalid").glob("*.yaml")) + sorted((corpus / "valid").glob("*.yaml")):
        shutil.copy(path, example_repo / "offers" / path.name)
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-q", "-m", "corpus")
    return example_repo


def _generated_repo(tmp_path: Path) -> Path:
    """A generated repository with offers edited after approval (stale digests, other
    pay, other levels) and a letter promise, so routing and letters produce findings."""
    from tests.test_scale import _make_repo_module

    repo = tmp_path / "generated"
    _make_repo_module().build(30, repo, settle=False)
    edited = 0
    for path in sorted((repo / "offers").rglob("*.yaml")):
        text = path.read_text("utf-8")
        if "approvals:\n  - {role: " not in text or "base_salary: " not in text:
            continue
        source = re.search(r"\n  source: (\w+)\n", text)
        if source and "\nverbal:\n" in text:  # a promise the letter does not print (L411)
            promise = f"\nverbal:\n  promises: [{{field: candidate.source, value: {source[1]}}}]\n"
            text = text.replace("\nverbal:\n", promise, 1)
        if edited % 2 == 0:
            text = re.sub(r"base_salary: (\d+)", lambda m: f"base_salary: {int(m[1]) + 50000}", text, count=1)
        else:
            text = re.sub(r"level: L\d", "level: L7", text, count=1)
        path.write_text(text, "utf-8")
        edited += 1
        if edited == 6:
            break
    assert edited == 6
    return repo


def test_memoisation_gives_the_same_findings(
    example_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos = [_corpus_repo(example_repo), _generated_repo(tmp_path)]
    fast = [_plain(repo) for repo in repos]
    codes = {f.code for result in fast for f in result.findings}
    assert {"S104", "L411"} <= codes and {c for c in codes if c.startswith("A")}  # really exercised
    _without_memoisation(monkeypatch)
    slow = [_plain(repo) for repo in repos]
    for quick, plain in zip(fast, slow, strict=True):
        assert quick.findings == plain.findings


def test_policy_findings_come_from_the_cache_only_while_the_policy_is_unchanged(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offerctl.policy import load as policy

    assert _cached(example_repo).ok
    loads: list[str] = []
    original = policy.load_policy_set

    def counting(*args: Any, **kwargs: Any) -> Any:
        loads.append("loaded")
        return original(*args, **kwargs)

    monkeypatch.setattr(policy, "load_policy_set", counting)
    assert _cached(example_repo).ok
    assert loads == []  # warm: the rules are not even compiled
    routing = example_repo / "policies" / "routing.yaml"
    text = routing.read_text("utf-8")
    assert "when: 'first_year_cash > 400000'" in text
    routing.write_text(text.replace("when: 'first_year_cash > 400000'", "when: 'first_year_cash >'"), "utf-8")
    broken = _cached(example_repo)
    assert loads and any(f.code == "P202" for f in broken.findings)
    warm = _cached(example_repo)
    assert warm.findings == broken.findings == _plain(example_repo).findings
