"""The fast path of `check` (result cache, process pool, jsonschema-rs, fast YAML reader)
must give exactly the findings of the plain path; and the benchmark generator must build a
repository that `offerctl check` accepts. Speed itself is measured by benchmarks/run.py,
never asserted here."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import subprocess
import sys
from copy import deepcopy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from offerctl.checks import runner
from offerctl.store import cache, loader, schema, yamlio
from offerctl.store.repo import open_repo
from tests.conftest import git

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "corpus"
AS_OF = dt.date(2026, 11, 22)


def _make_repo_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_repo", ROOT / "benchmarks" / "make_repo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_repo", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def corpus_repo(example_repo: Path) -> Path:
    """The example repository plus every corpus file (valid and defective), a copy of an
    offer under another name (S110 + S111), all committed except one untracked file."""
    for path in sorted((CORPUS / "invalid").glob("*.yaml")) + sorted((CORPUS / "valid").glob("*.yaml")):
        shutil.copy(path, example_repo / "offers" / path.name)
    first = sorted((example_repo / "offers").glob("OFF-2026-*.yaml"))[0]
    shutil.copy(first, example_repo / "offers" / "OFF-2026-DUPLICAT.yaml")
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-q", "-m", "corpus")
    shutil.copy(
        CORPUS / "valid" / "OFF-2026-VALID001.yaml", example_repo / "offers" / "OFF-2026-UNTRACKD.yaml"
    )
    return example_repo


def _cache_dir(repo: Path) -> Path:
    return Path(git(repo, "rev-parse", "--absolute-git-dir").strip()) / cache.CACHE_DIR


def _plain(repo: Path, as_of: dt.date = AS_OF) -> runner.CheckResult:
    return runner.run(open_repo(repo), as_of=as_of, jobs=1, cache=False)


def test_cached_and_parallel_paths_match_the_plain_path(
    corpus_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _plain(corpus_repo)
    codes = {f.code for f in plain.findings}
    assert {"S110", "S111", "Y601", "Y603", "S104", "S115"} <= codes  # the corpus is really checked
    monkeypatch.setattr(runner, "PARALLEL_MIN_FILES", 1)
    parallel = runner.run(open_repo(corpus_repo), as_of=AS_OF, jobs=2, cache=False)
    cold = runner.run(open_repo(corpus_repo), as_of=AS_OF, jobs=2)
    warm = runner.run(open_repo(corpus_repo), as_of=AS_OF, jobs=1)
    assert parallel.findings == plain.findings
    assert cold.findings == plain.findings
    assert warm.findings == plain.findings
    assert (cold.cached, warm.cached) == (0, plain.checked)
    assert warm.checked == plain.checked


def test_editing_one_file_recomputes_only_that_file(corpus_repo: Path) -> None:
    runner.run(open_repo(corpus_repo), as_of=AS_OF)
    target = corpus_repo / "offers" / "OFF-2026-VALID002.yaml"
    original = target.read_text("utf-8")
    target.write_text(original.replace("status:", "statuss:", 1), "utf-8")
    edited = runner.run(open_repo(corpus_repo), as_of=AS_OF)
    assert edited.cached == edited.checked - 1
    assert edited.findings == _plain(corpus_repo).findings
    assert any(f.path == "offers/OFF-2026-VALID002.yaml" and f.code == "S102" for f in edited.findings)
    target.write_text(original, "utf-8")
    restored = runner.run(open_repo(corpus_repo), as_of=AS_OF)
    assert restored.cached == restored.checked - 1
    assert not any(f.path == "offers/OFF-2026-VALID002.yaml" for f in restored.findings)


def test_a_policy_change_invalidates_every_entry(example_repo: Path) -> None:
    first = runner.run(open_repo(example_repo), as_of=AS_OF)
    assert first.ok
    approvers = example_repo / "policies" / "approvers.yaml"
    approvers.write_text(
        "\n".join(line for line in approvers.read_text("utf-8").splitlines() if "sam.lee@" not in line)
        + "\n",
        "utf-8",
    )
    after = runner.run(open_repo(example_repo), as_of=AS_OF)
    assert after.cached == 0
    assert any(f.code == "S115" and "sam.lee" in f.message for f in after.findings)
    assert after.findings == _plain(example_repo).findings


def test_the_tool_version_and_the_date_are_part_of_the_key(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.run(open_repo(example_repo), as_of=AS_OF)
    assert runner.run(open_repo(example_repo), as_of=AS_OF).cached > 0
    # A later date: open offers whose expiry passed now warn (S119); stale entries would hide it.
    later = runner.run(open_repo(example_repo), as_of=dt.date(2099, 1, 1))
    assert later.cached == 0
    assert any(f.code == "S119" for f in later.findings)
    assert later.findings == _plain(example_repo, dt.date(2099, 1, 1)).findings
    import offerctl

    cache._tool_digest.cache_clear()
    monkeypatch.setattr(offerctl, "__version__", "999.0")
    try:
        assert runner.run(open_repo(example_repo), as_of=AS_OF).cached == 0
    finally:
        monkeypatch.undo()
        cache._tool_digest.cache_clear()


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b'{"format": 1, "fingerprint": "x", "entries": {}}',
        None,  # valid JSON with the right fingerprint, but damaged entries
    ],
    ids=["empty", "garbage", "other-fingerprint", "damaged-entries"],
)
def test_a_broken_cache_is_ignored_and_rebuilt(corpus_repo: Path, damage: bytes | None) -> None:
    expected = _plain(corpus_repo).findings
    runner.run(open_repo(corpus_repo), as_of=AS_OF)
    [cache_file] = list(_cache_dir(corpus_repo).glob("check-*.json"))
    if damage is None:
        payload = json.loads(cache_file.read_bytes())
        for index, rel in enumerate(sorted(payload["entries"])):
            entry = payload["entries"][rel]
            payload["entries"][rel] = [entry[0], 42, [["x"]]] if index % 2 else "nonsense"
        cache_file.write_text(json.dumps(payload))
    else:
        cache_file.write_bytes(damage)
    for memo in _cache_dir(corpus_repo).glob("checktree-*.json"):
        memo.unlink()  # the whole-tree answer would be read first (tested below)
    result = runner.run(open_repo(corpus_repo), as_of=AS_OF)
    assert result.findings == expected
    assert result.cached == 0
    again = runner.run(open_repo(corpus_repo), as_of=AS_OF)
    assert again.cached == again.checked
    assert again.findings == expected


def test_concurrent_runs_agree_and_leave_a_valid_cache(corpus_repo: Path) -> None:
    expected = subprocess.run(
        [sys.executable, "-m", "offerctl", "check", "--format", "json", "--no-cache", "--jobs", "1"],
        cwd=corpus_repo,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert json.loads(expected)["findings"]
    for _ in range(3):
        shutil.rmtree(_cache_dir(corpus_repo), ignore_errors=True)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "offerctl", "check", "--format", "json"],
                cwd=corpus_repo,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate()[0] for p in procs]
        assert outputs == [expected, expected]
    files = sorted(p.name for p in _cache_dir(corpus_repo).iterdir())
    assert len(files) == 2 and files[0].startswith("check-") and files[1].startswith("checktree-")
    for name in files:
        payload = json.loads((_cache_dir(corpus_repo) / name).read_bytes())
        assert payload["format"] == cache.FORMAT


def test_cli_output_is_the_same_serial_parallel_and_cached(
    corpus_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PARALLEL_MIN_FILES", 1)
    serial = cli("check", "--jobs", "1", "--no-cache", cwd=corpus_repo)
    parallel = cli("check", "--jobs", "2", cwd=corpus_repo)
    cached = cli("check", cwd=corpus_repo)
    assert serial.code == parallel.code == cached.code == 1
    assert serial.out == parallel.out == cached.out
    assert "S111" in serial.out


def test_the_cache_lives_in_the_git_directory_and_is_never_committed(example_repo: Path) -> None:
    runner.run(open_repo(example_repo), as_of=AS_OF)
    assert list(_cache_dir(example_repo).glob("check-*.json"))
    assert git(example_repo, "status", "--porcelain") == ""


def test_summaries_feed_repository_checks(example_repo: Path) -> None:
    source = sorted((example_repo / "offers").glob("*.yaml"))[0]
    shutil.copy(source, example_repo / "offers" / "OFF-2026-SECONDCP.yaml")
    cold = runner.run(open_repo(example_repo), as_of=AS_OF)
    warm = runner.run(open_repo(example_repo), as_of=AS_OF)
    dupes = [f for f in warm.findings if f.code == "S111"]
    assert len(dupes) == 2 and warm.cached == warm.checked
    assert cold.findings == warm.findings


# --- the fast readers agree with the reference readers -----------------------------------


def _corpus_texts() -> list[Path]:
    return [
        *sorted((ROOT / "offers").glob("*.yaml")),
        *sorted((CORPUS / "valid").glob("*.yaml")),
        *sorted((CORPUS / "invalid").glob("*.yaml")),
    ]


def _reference_load(raw: bytes) -> Any:
    """offerctl's rules with PyYAML's full constructor only (the pre-fast-path reader)."""
    text = yamlio.decode(raw)
    yamlio._check_depth(text)
    yamlio._check_anchors(text)
    data = yamlio._load_full(text)
    if data is None:
        raise yamlio.YamlProblem("Y607", "empty", 1)
    return data


@pytest.mark.parametrize("path", _corpus_texts(), ids=lambda p: p.name)
def test_fast_converter_agrees_with_the_full_constructor(path: Path) -> None:
    raw = path.read_bytes()
    try:
        expected: Any = ("ok", _reference_load(raw))
    except yamlio.YamlProblem as exc:
        expected = ("problem", exc.code, exc.line)
    try:
        got: Any = ("ok", yamlio.load(raw))
    except yamlio.YamlProblem as exc:
        got = ("problem", exc.code, exc.line)
    assert got == expected


def _python_errors(name: str, data: Any) -> list[Any]:
    return list(schema.validator(name).iter_errors(data))


def _mutations(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each leaf replaced by values of other types and edge cases, one at a time."""
    replacements: list[Any] = [
        "",
        "x",
        "US\n",
        "2027-02-30",
        "not-an-email",
        "a@b",
        "2026-11-20T17:02:11",
        -1,
        0,
        10**30,
        Decimal("0.001"),
        Decimal("5.0"),
        Decimal("1E+3"),
        True,
        None,
        [],
        {},
    ]
    out: list[dict[str, Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            if isinstance(value, dict | list):
                walk(value, [*path, key])
                continue
            for replacement in replacements:
                copy = deepcopy(data)
                target = copy
                for part in path:
                    target = target[part]
                target[key] = replacement
                out.append(copy)

    walk(data, [])
    return out


def test_jsonschema_rs_never_accepts_what_python_jsonschema_rejects() -> None:
    sample = yamlio.load((CORPUS / "valid" / "OFF-2026-VALID001.yaml").read_bytes())
    sample["compensation"]["relocation"] = Decimal("12000.50")
    sample["compensation"]["equity"] = {"type": "rsu", "units": 100, "vesting": "4y"}
    mutated = _mutations(sample)
    assert len(mutated) > 300
    proven = 0
    for data in mutated:
        if schema.surely_valid("offer", data):
            proven += 1
            assert _python_errors("offer", data) == [], data
    assert proven > 20  # the fast validator is really used, not always deferring


def test_an_integral_decimal_is_left_to_python_jsonschema() -> None:
    # jsonschema-rs counts 1200.0 as an integer; python jsonschema (the reference) does not.
    text = (CORPUS / "valid" / "OFF-2026-VALID001.yaml").read_text("utf-8")
    data = yamlio.load_text(text)
    data["compensation"]["equity"] = {"type": "rsu", "units": Decimal("1200.0")}
    assert not schema.surely_valid("offer", data)
    assert any(e.validator == "type" for e in _python_errors("offer", data))
    doc = loader.read_document("offer", "offers/x.yaml", _with_units(text, "1200.0").encode())
    assert [f.code for f in doc.findings] == ["S104"]
    assert schema.surely_valid("offer", yamlio.load_text(_with_units(text, "1200")))


def _with_units(text: str, units: str) -> str:
    lines = [line for line in text.splitlines() if not line.startswith("approvals") and "equity" not in line]
    body = "\n".join(lines)
    return (
        body.replace("compensation:\n", f"compensation:\n  equity: {{type: rsu, units: {units}}}\n", 1) + "\n"
    )


# --- the generator and start-up -----------------------------------------------------------


def test_make_repo_builds_a_repository_that_checks_clean(tmp_path: Path, cli: Any) -> None:
    make_repo = _make_repo_module()
    first, second = tmp_path / "a", tmp_path / "b"
    counts = make_repo.build(30, first, settle=False)
    make_repo.build(30, second, settle=False)
    assert counts["offers"] == 30
    assert counts["commits"] > 3 * 30
    assert git(first, "rev-parse", "HEAD") == git(second, "rev-parse", "HEAD")  # deterministic
    log = git(first, "log", "--format=%ae%x09%(trailers:key=Offer-Action,valueonly,separator=)")
    actions = {line.split("\t")[1] for line in log.splitlines() if "\t" in line}
    assert {"init", "create", "submit", "approve", "send"} <= actions
    assert len({line.split("\t")[0] for line in log.splitlines()}) > 3  # several authors
    assert "Offer-Role: hiring_manager" in git(first, "log", "--format=%B")
    result = cli("check", "--format", "json", cwd=first)
    assert result.code == 0, result.out
    assert result.json()["checked"] == 30
    assert git(first, "status", "--porcelain") == ""


def _policy_source(tmp_path: Path, make_repo: Any, edits: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of the files the generator copies, with text replacements in some of them."""
    source = tmp_path / "source"
    source.mkdir()
    for name in make_repo.COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, source / name)
        elif src.is_file():
            shutil.copy(src, source / name)
    for rel, replacements in edits.items():
        target = source / rel
        text = target.read_text("utf-8")
        for old, new in replacements:
            assert old in text, (rel, old)
            text = text.replace(old, new)
        target.write_text(text, "utf-8")
    return source


def test_make_repo_writes_the_approvals_the_policy_requires(tmp_path: Path, cli: Any) -> None:
    """The generator asks the routing engine, so a different policy gives different approval
    lines that still check clean: finance needs both of its people, legal is delegated."""
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route
    from offerctl.store import loader

    make_repo = _make_repo_module()
    source = _policy_source(
        tmp_path,
        make_repo,
        {
            "policies/routing.yaml": [("{role: finance, quorum: any}", "{role: finance, quorum: all}")],
            "policies/approvers.yaml": [
                (
                    "{email: lena.vogel@acme.example, name: Lena Vogel, title: Employment Counsel}",
                    "{email: lena.vogel@acme.example, name: Lena Vogel, title: Employment Counsel, "
                    "delegate: {to: chris.ito@acme.example, from: 2024-01-01, until: 2026-12-31}}",
                )
            ],
        },
    )
    out = tmp_path / "repo"
    make_repo.build(80, out, seed=3, source=source, settle=False)
    result = cli("check", "--format", "json", cwd=out)
    assert result.code == 0, result.out
    repo = open_repo(out)
    policy, _ = load_policy_set(repo)
    offers, problems = loader.load_offers(repo, loader.offer_files(repo))
    assert not problems
    # this seed leaves a pending offer with part of its approvals among the open ones
    assert any(o.status == "pending_approval" and o.get("approvals") for o in offers)
    finance_people: set[str] = set()
    delegated = 0
    for offer in offers:
        lines = offer.get("approvals") or []
        finance = {a["by"] for a in lines if a["role"] == "finance"}
        assert finance in (set(), {"fiona.chen@acme.example", "oscar.grant@acme.example"}) or (
            offer.status == "pending_approval"
        )
        finance_people |= finance
        ceo = any(a["role"] == "ceo" for a in lines)  # then Chris may not act for legal too
        for a in lines:
            if a["role"] == "legal" and not ceo:
                assert (a["by"], a.get("on_behalf_of")) == (
                    "chris.ito@acme.example",
                    "lena.vogel@acme.example",
                )
                delegated += 1
            assert a["by"] != offer.get("recruiter")
        if offer.status == "draft":
            assert not lines
            continue
        routed = route(repo, policy, offer, as_of=AS_OF)
        # approved or later: every requirement met; pending: part of the way, never all of it
        assert routed.complete == (offer.status != "pending_approval"), offer.id
        assert all(a.state == "valid" for r in routed.rules for a in r.approvals), offer.id
    assert finance_people and delegated


def test_make_repo_refuses_a_policy_it_cannot_satisfy(tmp_path: Path) -> None:
    """Legal is only the US recruiter, who may never approve her own offers: the generator
    stops with the rule and the reason rather than writing offers `check` would reject."""
    make_repo = _make_repo_module()
    source = _policy_source(
        tmp_path,
        make_repo,
        {
            "policies/approvers.yaml": [
                ("people: [lena.vogel@acme.example]", "people: [rita.ramos@acme.example]")
            ]
        },
    )
    with pytest.raises(make_repo.GenerationError, match=r"non-standard-terms need 1 legal approval"):
        make_repo.build(40, tmp_path / "repo", source=source, settle=False)


def test_the_cli_package_imports_no_heavy_library() -> None:
    heavy = [
        "jsonschema",
        "jsonschema_rs",
        "ruamel",
        "rich",
        "weasyprint",
        "jinja2",
        "babel",
        "cel",
        "pydantic",
    ]
    code = (
        "import sys, offerctl.cli; "
        f"print([m for m in {heavy!r} "
        "if m in sys.modules or any(k.startswith(m + '.') for k in sys.modules)])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- the whole-tree answer and the budget ledger from summaries (issue 17) ---------------


def _no_entry_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an unchanged tree must not read per-file entries")

    monkeypatch.setattr(cache.CheckCache, "get", refuse)
    monkeypatch.setattr(cache.CheckCache, "summary", refuse)


def test_an_unchanged_tree_is_answered_whole_and_any_change_falls_back(
    corpus_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _plain(corpus_repo)
    cold = runner.run(open_repo(corpus_repo), as_of=AS_OF)
    with monkeypatch.context() as patch:
        _no_entry_reads(patch)
        warm = runner.run(open_repo(corpus_repo), as_of=AS_OF)
    assert cold.findings == warm.findings == plain.findings
    assert (warm.checked, warm.cached) == (plain.checked, plain.checked)
    # an edited file, a new commit, another date: each misses the memo, never a stale answer
    target = corpus_repo / "offers" / "OFF-2026-VALID002.yaml"
    target.write_text(target.read_text("utf-8").replace("status:", "statuss:", 1), "utf-8")
    edited = runner.run(open_repo(corpus_repo), as_of=AS_OF)
    assert edited.findings == _plain(corpus_repo).findings != plain.findings
    git(corpus_repo, "add", "-A")
    git(corpus_repo, "commit", "-q", "-m", "edit")
    assert runner.run(open_repo(corpus_repo), as_of=AS_OF).findings == _plain(corpus_repo).findings
    later = dt.date(2099, 1, 1)
    assert runner.run(open_repo(corpus_repo), as_of=later).findings == _plain(corpus_repo, later).findings
    # a damaged memo is a miss
    for memo in _cache_dir(corpus_repo).glob("checktree-*.json"):
        memo.write_bytes(b"{not json")
    assert runner.run(open_repo(corpus_repo), as_of=AS_OF).findings == _plain(corpus_repo).findings


def test_history_verification_runs_on_the_whole_tree_answer(example_repo: Path) -> None:
    target = sorted((example_repo / "offers").glob("*.yaml"))[0]
    text = target.read_text("utf-8")
    git(example_repo, "commit", "-q", "--allow-empty", "-m", "base")
    target.write_text(text + "\n", "utf-8")
    git(example_repo, "commit", "-qam", "touch")
    plain = runner.run(open_repo(example_repo), as_of=AS_OF, cache=False, verify_history=True)
    runner.run(open_repo(example_repo), as_of=AS_OF)
    warm = runner.run(open_repo(example_repo), as_of=AS_OF, verify_history=True)
    assert warm.findings == plain.findings
    assert warm.cached == warm.checked


def test_the_budget_projection_answers_every_budget_question_like_the_offer(example_repo: Path) -> None:
    from offerctl.checks import budgets as budget_checks
    from offerctl.policy import budgets

    repo = open_repo(example_repo)
    book, _ = budgets.read(repo)
    assert book is not None and book.budgets
    datas = [d for _, d in budgets.offer_data(repo)]
    for path in sorted((CORPUS / "valid").glob("*.yaml")):
        data = loader.read_data(path.parent, path.name)
        if isinstance(data, dict):
            datas.append(data)
    consuming = 0
    for data in datas:
        for variant in (data, {**data, "status": "approved"}):
            seen = budget_checks.projection(variant)
            assert budgets.status_of(seen) == budgets.status_of(variant)
            assert budgets.consuming_since(seen) == budgets.consuming_since(variant)
            assert budgets.unreadable_in(seen.get("compensation")) == budgets.unreadable_in(
                variant.get("compensation")
            )
            budget = book.budget_for(variant)
            assert book.budget_for(seen) == budget
            if budget is not None:
                consuming += 1
                assert book.consumption(budget, seen) == book.consumption(budget, variant)
    assert consuming  # the example really has offers that count against a budget
    # and the projection survives the cache's JSON encoding unchanged
    for data in datas:
        projected = budget_checks.projection(data)
        assert json.loads(json.dumps(cache.encode(projected)), object_hook=cache.decimal_hook) == projected


def test_budget_findings_and_routing_follow_an_edit_of_another_offer(example_repo: Path) -> None:
    """Routing reads the ledger over all offers: editing one consuming offer's pay changes
    what is left for the others, so their cached results must not be reused."""
    from offerctl.policy import budgets

    repo = open_repo(example_repo)
    book, _ = budgets.read(repo)
    assert book is not None
    runner.run(open_repo(example_repo), as_of=AS_OF)
    consuming = [
        (offer_id, data)
        for offer_id, data in budgets.offer_data(repo)
        if budgets.status_of(data) in budgets.CONSUMING_STATUSES and book.budget_for(data) is not None
    ]
    assert consuming
    offer_id, data = consuming[0]
    [path] = [p for p in (example_repo / "offers").rglob(f"{offer_id}.yaml")]
    text = path.read_text("utf-8")
    base = str(data["compensation"]["base_salary"])
    assert f"base_salary: {base}" in text
    path.write_text(text.replace(f"base_salary: {base}", "base_salary: 9000000", 1), "utf-8")
    edited = runner.run(open_repo(example_repo), as_of=AS_OF)
    plain = _plain(example_repo)
    assert edited.findings == plain.findings
    assert any(f.code == "W701" or f.code == "A301" for f in plain.findings if f.offer != offer_id)
    assert runner.run(open_repo(example_repo), as_of=AS_OF).findings == plain.findings
