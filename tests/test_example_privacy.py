"""The bundled example is confidential, committed in place (issue 15 item 10).

The repository root holds the example encrypted with the public demo keys of
``examples/keys/``; ``tests/data/example`` holds the same example in plaintext, which the
rest of the suite uses. These tests prove that the two are the same example (the root
decrypts, with the HR demo key and the demo key store seed, to exactly the test data), that
the seed makes it work in any clone, and that the README tour is true in a fresh clone.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from offerctl.privacy import document, values
from offerctl.privacy.keystore import FETCH_COMMAND, KEYS_REF, parse_entry
from offerctl.store import loader, yamlio
from offerctl.store import privacy as store_privacy
from offerctl.store.keyref import GitRefBackend
from offerctl.store.repo import open_repo
from tests.conftest import PLAIN_EXAMPLE, ROOT, git

KEYS = ROOT / "examples" / "keys"
HR_KEY = KEYS / "hr-demo.agekey"
CI_KEY = KEYS / "ci-demo.agekey"
SEED = KEYS / "keystore"
IDS = sorted(p.stem for p in (ROOT / "offers").glob("*.yaml"))


def _has_ref(root: Path) -> bool:
    return GitRefBackend(root).head() is not None


@pytest.fixture
def encrypted_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git copy of the root example as committed: encrypted offers, the demo keys and the
    seed, and no key store ref (what a fresh clone has). No key in the environment."""
    target = tmp_path / "acme"
    target.mkdir()
    for name in ("offerctl.yaml", "policies", "letter_templates", "offers", "schemas", "examples/keys"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "the example")
    for var in ("OFFERCTL_AGE_KEY_FILE", "OFFERCTL_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY"):
        monkeypatch.delenv(var, raising=False)
    return target


# --- the root example and the plaintext test data are the same example -----------------------


def test_root_config_is_the_plain_config_plus_its_privacy_section() -> None:
    root_text = (ROOT / "offerctl.yaml").read_text("utf-8")
    plain_text = (PLAIN_EXAMPLE / "offerctl.yaml").read_text("utf-8")
    assert root_text.startswith(plain_text)
    root, plain = yamlio.load_text(root_text), yamlio.load_text(plain_text)
    privacy = root.pop("privacy")
    assert root == plain
    assert privacy["enabled"] is True and privacy["key_store"] == {"seed": "examples/keys/keystore"}
    assert privacy["readers"] == [{"groups": ["hr", "ci"]}]


def test_every_root_offer_is_encrypted_and_nothing_is_left_in_plaintext() -> None:
    assert sorted(p.stem for p in (PLAIN_EXAMPLE / "offers").glob("*.yaml")) == IDS
    for offer_id in IDS:
        text = (ROOT / "offers" / f"{offer_id}.yaml").read_text("utf-8")
        plain = yamlio.load_text((PLAIN_EXAMPLE / "offers" / f"{offer_id}.yaml").read_text("utf-8"))
        raw = yamlio.load_text(text)
        assert store_privacy.has_encrypted_values(raw) and "sops" in raw, offer_id
        for secret in (plain["candidate"]["name"], plain["candidate"]["email"]):
            assert secret not in text, (offer_id, secret)
        assert f"base_salary: {plain['compensation']['base_salary']}" not in text


@pytest.mark.parametrize("key", [HR_KEY, CI_KEY], ids=["hr", "ci"])
def test_root_example_decrypts_to_exactly_the_plaintext_test_data(
    encrypted_example: Path, key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a demo key and the seed, every root offer opens to the test data's offer: same
    values, same types, same approvals and events (the rekey added only ciphertexts, the
    ``sops`` block and the approval-digest root)."""
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(key))
    repo = open_repo(encrypted_example)
    for offer_id in IDS:
        rel = f"offers/{offer_id}.yaml"
        raw = loader.read_data(repo.root, rel)
        offer = store_privacy.open_offer(repo, rel, raw)
        assert not offer.extra.get("sealed"), (offer_id, offer.extra.get("sealed"))
        assert not offer.extra.get("privacy_problems"), offer_id
        opened = {k: v for k, v in offer.data.items() if k != "privacy"}
        plain = yamlio.load_text((PLAIN_EXAMPLE / rel).read_text("utf-8"))
        assert opened == plain, offer_id
        assert [type(v) for v in _leaves(opened)] == [type(v) for v in _leaves(plain)], offer_id


def _leaves(node: Any) -> list[Any]:
    return [v for _, v in store_privacy.walk_leaves(node)]


def test_seed_holds_exactly_the_keys_the_root_offers_are_encrypted_under() -> None:
    """The committed offers and the committed seed belong together: each offer's erasable
    values name the key id of its seed entry, wrapped for HR and CI."""
    seed = {p.stem: parse_entry(p.name, p.read_bytes()) for p in SEED.glob("*.json")}
    assert sorted(seed) == IDS
    config = yamlio.load_text((ROOT / "offerctl.yaml").read_text("utf-8"))["privacy"]
    demo = {config["groups"]["hr"][0], config["groups"]["ci"][0]}
    for offer_id in IDS:
        raw = yamlio.load_text((ROOT / "offers" / f"{offer_id}.yaml").read_text("utf-8"))
        tokens = [v for _, v in store_privacy.walk_leaves(raw) if values.is_erasable_token(v)]
        kids = {values.erasable_kid(v) for v in tokens}
        assert kids == {seed[offer_id].kid}, offer_id
        assert set(seed[offer_id].recipients) == demo
        assert set(document.recipients_of(raw)) == demo


# --- the seed ------------------------------------------------------------------------------


def test_keyless_commands_never_write_the_key_store(encrypted_example: Path, cli: Any) -> None:
    result = cli("list", cwd=encrypted_example)
    assert result.code == 0 and "\u2039encrypted\u203a" in result.out and "Clara Hoffmann" not in result.out
    assert cli("check", cwd=encrypted_example).code == 0
    assert not _has_ref(encrypted_example)


def test_a_key_creates_the_missing_store_from_the_seed(
    encrypted_example: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(HR_KEY))
    result = cli("list", cwd=encrypted_example)
    assert result.code == 0 and "Clara Hoffmann" in result.out and "\u2039encrypted\u203a" not in result.out
    stored = GitRefBackend(encrypted_example).read()
    assert stored == {p.name: p.read_bytes() for p in SEED.glob("*.json")}
    assert git(encrypted_example, "status", "--porcelain") == ""  # a ref, not a file


def test_a_store_without_some_seed_entries_gets_them(
    encrypted_example: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone that had the ref before the seed gained offers (or a ref another worktree
    wrote): the seed fills the gaps; entries the store has win."""
    one = sorted(SEED.glob("*.json"))[0]
    GitRefBackend(encrypted_example).write({one.name: one.read_bytes()}, "partial")
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(HR_KEY))
    result = cli("show", IDS[-1], "--format", "json", cwd=encrypted_example)
    assert result.code == 0 and result.json()["candidate"]["name"] != "\u2039encrypted\u203a"
    assert len(GitRefBackend(encrypted_example).read()) == len(IDS)


def test_check_and_rekey_say_the_seed_makes_erasure_ineffective(
    encrypted_example: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyless = cli("check", cwd=encrypted_example)
    assert keyless.code == 0
    assert "note: privacy.key_store.seed: examples/keys/keystore/ holds the erasure keys of 16" in keyless.err
    assert "demo only" in keyless.err and "V711" not in keyless.out
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(HR_KEY))
    head = git(encrypted_example, "rev-parse", "HEAD")
    rekey = cli("rekey", cwd=encrypted_example)
    assert rekey.code == 0, rekey.err
    assert "16 already in line" in rekey.out and "demo seed" not in rekey.out  # the seed is current
    assert "erasing those offers cannot make their candidate data unreadable" in rekey.err
    assert git(encrypted_example, "rev-parse", "HEAD") == head  # nothing to commit
    as_json = cli("rekey", "--format", "json", cwd=encrypted_example).json()
    assert as_json["seeded"] == [] and any("demo only" in n for n in as_json["notes"])


def test_erasing_a_seeded_offer_removes_its_seed_entry_in_the_erase_commit(
    encrypted_example: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_id = "OFF-2026-8PL4NV2S"  # declined
    seed_rel = f"examples/keys/keystore/{offer_id}.json"
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(HR_KEY))
    result = cli("erase", offer_id, "--reason", "candidate's erasure request", cwd=encrypted_example)
    assert result.code == 0, result.err
    assert f"removed its entry {seed_rel}" in result.out and "seed's git history still holds" in result.out
    assert not (encrypted_example / seed_rel).exists()
    changed = git(encrypted_example, "show", "--name-status", "--format=%(trailers:key=Offer-Action)", "HEAD")
    assert "Offer-Action: erase" in changed
    assert f"M\toffers/{offer_id}.yaml" in changed and f"D\t{seed_rel}" in changed
    assert git(encrypted_example, "status", "--porcelain") == ""
    assert f"{offer_id}.json" not in GitRefBackend(encrypted_example).read()
    shown = cli("show", offer_id, "--format", "json", cwd=encrypted_example).json()
    assert shown["candidate"]["name"] == "\u2039erased\u203a"
    # The other offers still open, and CI's check is clean.
    assert "Clara Hoffmann" in cli("list", cwd=encrypted_example).out
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(CI_KEY))
    check = cli("check", "--format", "json", cwd=encrypted_example)
    # (the letter needs the erased name: reported as skipped, docs/privacy.md)
    left = [(f["code"], f["offer"]) for f in check.json()["findings"]]
    assert check.code == 0 and left == [("V701", offer_id)], check.out


def test_a_broken_seed_entry_is_reported_and_ignored(
    encrypted_example: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = encrypted_example / "examples" / "keys" / "keystore"
    good = seed / f"{IDS[0]}.json"
    (seed / "OFF-2026-ZZZZZZZZ.json").write_bytes(good.read_bytes())  # another offer's key
    entry = json.loads((seed / f"{IDS[1]}.json").read_text())
    entry["kid"] = "not hex"
    (seed / f"{IDS[1]}.json").write_text(json.dumps(entry))
    (seed / "notes.txt").write_text("hello\n")
    result = cli("check", "--format", "json", cwd=encrypted_example)
    assert result.code == 1
    v711 = {f["path"]: f["message"] for f in result.json()["findings"] if f["code"] == "V711"}
    assert set(v711) == {
        "examples/keys/keystore/OFF-2026-ZZZZZZZZ.json",
        f"examples/keys/keystore/{IDS[1]}.json",
        "examples/keys/keystore/notes.txt",
    }
    assert f"must be named {IDS[0]}.json" in v711["examples/keys/keystore/OFF-2026-ZZZZZZZZ.json"]
    assert "kid" in v711[f"examples/keys/keystore/{IDS[1]}.json"]
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(HR_KEY))
    assert cli("list", cwd=encrypted_example).code == 0
    stored = GitRefBackend(encrypted_example).read()
    assert "OFF-2026-ZZZZZZZZ.json" not in stored and f"{IDS[1]}.json" not in stored
    assert len(stored) == len(IDS) - 1


def test_without_a_seed_a_missing_store_names_the_git_fetch(
    encrypted_example: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real repository (no seed), cloned without refs/offerctl/keys, with a reader's key:
    pay opens, candidate data does not, and every message says how to get the store."""
    config = encrypted_example / "offerctl.yaml"
    config.write_text(config.read_text().replace("  key_store: {seed: examples/keys/keystore}\n", ""))
    git(encrypted_example, "commit", "-qam", "no seed")
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(CI_KEY))
    assert f"git fetch origin +{KEYS_REF}:{KEYS_REF}" == FETCH_COMMAND
    check = cli("check", "--format", "json", cwd=encrypted_example)
    assert check.code == 0, check.out
    skipped = [f for f in check.json()["findings"] if f["code"] == "V701"]
    assert skipped and all(FETCH_COMMAND in f["message"] for f in skipped)
    assert all("offer letter" in f["message"] for f in skipped)  # only what reads candidate data
    render = cli("render", "OFF-2026-0TB8WD5K", "--format", "md", cwd=encrypted_example)
    assert render.code == 2 and FETCH_COMMAND in render.err
    assert not _has_ref(encrypted_example)


# --- check's output without a key ------------------------------------------------------------


def test_keyless_check_summarises_skipped_checks_and_json_keeps_every_one(
    encrypted_example: Path, cli: Any
) -> None:
    text = cli("check", cwd=encrypted_example)
    assert text.code == 0
    lines = [line for line in text.out.splitlines() if "V701" in line]
    assert len(lines) == 2, text.out  # the per-offer summary and the budget check
    summary = next(line for line in lines if line.startswith("offers: V701"))
    assert "skipped 80 check(s) on 16 confidential offer(s)" in summary
    assert "(approvals, band, money, offer letter, pending approvals)" in summary
    assert "group hr, group ci" in summary and "--verbose" in summary
    assert lines[0].startswith("policies/budgets.yaml: V701") and "W703 [" not in text.out
    assert text.out.splitlines()[-1] == "ok: 16 offers checked, 0 error(s), 81 warning(s)"

    verbose = cli("check", "--verbose", cwd=encrypted_example)
    assert verbose.code == 0 and sum("V701" in line for line in verbose.out.splitlines()) == 81
    as_json = cli("check", "--format", "json", cwd=encrypted_example).json()
    per_offer = [f for f in as_json["findings"] if f["code"] == "V701" and f["offer"]]
    assert len(per_offer) == 80 and len({f["offer"] for f in per_offer}) == 16
    assert all(f["severity"] == "warning" for f in as_json["findings"])
    github = cli("check", "--format", "github", cwd=encrypted_example)
    assert github.code == 0 and github.out.count("::warning title=V701::") == 1


def test_keyless_show_prints_markers(encrypted_example: Path, cli: Any) -> None:
    for offer_id in IDS:
        result = cli("show", offer_id, cwd=encrypted_example)
        assert result.code == 0, (offer_id, result.err)
        assert "\u2039encrypted\u203a" in result.out


# --- the README, followed in a fresh clone -----------------------------------------------------


def _tour_commands() -> list[tuple[str, str]]:
    """(command, comment) of every line of the README tour's shell blocks."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("## A tour of the example\n", 1)[1].split("\n## ", 1)[0]
    out = []
    for block in section.split("```sh\n")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            command, _, comment = line.partition("#")
            if command.strip():
                out.append((command.strip(), comment))
    return out


def test_readme_tour_in_a_fresh_clone(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command of the README tour, in order, in a fresh `git clone` of this repository
    (no key store ref, history as committed): HR's view works as on plaintext, the keyless
    view shows markers, and what needs plaintext exits 2."""
    if git(ROOT, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.skip("a shallow clone has no history for `CI=true offerctl check` (.ci/run deepens it)")
    clone = tmp_path / "acme"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, env=os.environ)
    git(clone, "checkout", "-q", "-B", "tour", git(ROOT, "rev-parse", "HEAD").strip())
    assert not _has_ref(clone)
    for var in ("OFFERCTL_AGE_KEY_FILE", "OFFERCTL_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY"):
        monkeypatch.delenv(var, raising=False)
    commands = _tour_commands()
    assert any(c.startswith("export OFFERCTL_AGE_KEY_FILE=examples/keys/hr-demo.agekey") for c, _ in commands)
    seen = {"hr list": False, "keyless list": False, "refused": False}
    for command, comment in commands:
        words = shlex.split(command)
        if words[0] == ".":
            continue
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            monkeypatch.setenv(name, value)
            continue
        if words[0] == "unset":
            monkeypatch.delenv(words[1], raising=False)
            continue
        env = {}
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        assert words[0] == "offerctl", command
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = cli(*words[1:], cwd=clone)
        for name in env:
            monkeypatch.delenv(name)
        expected = 2 if "exit 2" in comment else 0
        assert result.code == expected, (command, result.out, result.err)
        keyed = bool(os.environ.get("OFFERCTL_AGE_KEY_FILE"))
        if words[1:] == ["list"]:
            assert ("Clara Hoffmann" in result.out) == keyed, command
            assert ("\u2039encrypted\u203a" in result.out) != keyed, command
            seen["hr list" if keyed else "keyless list"] = True
        if words[1] == "check" and keyed:
            assert result.out.strip().endswith("no findings"), (command, result.out)
        seen["refused"] |= expected == 2 and "readers" in result.err.lower()
    assert all(seen.values()), seen
    assert _has_ref(clone)  # created from the seed by HR's first command


def test_an_independent_sops_implementation_opens_the_example_with_the_hr_demo_key() -> None:
    """sops-age (npm), given only HR's demo key, decrypts the SOPS fields of every committed
    offer to the test data's values (the erasable candidate fields it leaves as tokens)."""
    from decimal import Decimal

    from tests.test_privacy_core import NODE_SCRIPT, sops_age_module

    module = sops_age_module()
    secret = next(
        line for line in HR_KEY.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-")
    )
    for offer_id in IDS:
        path = ROOT / "offers" / f"{offer_id}.yaml"
        run = subprocess.run(
            ["node", "--input-type=module", "-e", NODE_SCRIPT, module.as_uri(), str(path), secret],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, (offer_id, run.stderr)
        out = json.loads(run.stdout, parse_float=Decimal)
        plain = yamlio.load_text((PLAIN_EXAMPLE / "offers" / f"{offer_id}.yaml").read_text("utf-8"))
        assert out["compensation"] == plain["compensation"], offer_id
        assert out.get("verbal") == plain.get("verbal") and out.get("notes") == plain.get("notes"), offer_id
        assert values.is_erasable_token(out["candidate"]["name"]), offer_id
