"""Keyed runs on a generated confidential repository (``make_repo.py --encrypted``, public demo
keys): the sealed cache of results computed with a key, and the merge driver on branches
that changed encrypted values — real git, real age keys, the driver through ``git merge``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offerctl.privacy import keys as keymod
from offerctl.store import keyed_cache, yamlio

ROOT = Path(__file__).resolve().parent.parent
CI_KEY = ROOT / "examples" / "keys" / "ci-demo.agekey"
HR_KEY = ROOT / "examples" / "keys" / "hr-demo.agekey"
TODAY = "2026-11-30"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.test_scale import _make_repo_module

    repo = tmp_path_factory.mktemp("enc") / "repo"
    _make_repo_module().build(40, repo, settle=False, encrypted=True)
    return repo


@pytest.fixture
def repo(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(built), str(target)], check=True)
    subprocess.run(
        ["git", "fetch", "-q", "origin", "+refs/offerctl/keys:refs/offerctl/keys"], cwd=target, check=True
    )
    for key, value in (("user.name", "Tom Becker"), ("user.email", "tom.becker@acme.example")):
        subprocess.run(["git", "config", key, value], cwd=target, check=True)
    return target


def run(
    root: Path, *args: str, key: Path | None = None, now: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OFFERCTL_AGE", "SOPS_AGE"))}
    env.update({"OFFERCTL_TODAY": TODAY, "HOME": str(root), "XDG_CONFIG_HOME": str(root / ".none")})
    if key is not None:
        env["OFFERCTL_AGE_KEY_FILE"] = str(key)
    if now is not None:
        env["OFFERCTL_NOW"] = now
    argv = [sys.executable, "-m", "offerctl", *args] if args[0] != "git" else list(args)
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)


def findings(root: Path, key: Path | None) -> list[dict[str, Any]]:
    proc = run(root, "check", "--format", "json", key=key)
    assert proc.returncode in (0, 1), proc.stderr
    found: list[dict[str, Any]] = json.loads(proc.stdout)["findings"]
    return found


def negotiating(root: Path) -> tuple[str, Path]:
    """An open offer the recruiter may revise (the generator leaves a few)."""
    for path in sorted((root / "offers").rglob("*.yaml")):
        data = yamlio.load(path.read_bytes())
        if (
            data.get("status") in ("sent", "negotiating")
            and data.get("recruiter") == "tom.becker@acme.example"
        ):
            return str(data["id"]), path
    for path in sorted((root / "offers").rglob("*.yaml")):
        data = yamlio.load(path.read_bytes())
        if data.get("status") in ("sent", "negotiating"):
            recruiter = str(data["recruiter"])
            subprocess.run(["git", "config", "user.email", recruiter], cwd=root, check=True)
            return str(data["id"]), path
    raise AssertionError("the generated repository has no sent/negotiating offer")


def test_keyed_check_is_cached_sealed_and_never_stale(repo: Path) -> None:
    cache = repo / ".git" / "offerctl-cache"
    cold = findings(repo, CI_KEY)
    assert not [f for f in cold if f["severity"] == "error"], cold
    assert not [f for f in cold if f["code"] in ("V701", "V702")], cold
    sealed = sorted(p.name for p in cache.glob("keyed-*.bin"))
    assert [n.split("-")[1] for n in sealed] == ["check", "datakeys"]
    assert findings(repo, CI_KEY) == cold  # warm: answered from the sealed cache

    # Nothing under .git/ holds a plaintext value: the salaries the CI key reads are nowhere
    oid, path = negotiating(repo)
    shown = run(repo, "show", oid, "--format", "json", key=CI_KEY)
    salary = str(json.loads(shown.stdout)["compensation"]["base_salary"])
    blob = b"".join(p.read_bytes() for p in cache.iterdir() if p.is_file())
    # (as a number: the digits alone may occur inside a hex content id by chance)
    assert not re.search(rb"(?<![0-9a-fA-F])" + salary.encode() + rb"(?![0-9a-fA-F])", blob)

    # Another reader derives another key and file; no key at all opens nothing
    ci = keymod.parse_identities(CI_KEY.read_text(), "ci")
    hr = keymod.parse_identities(HR_KEY.read_text(), "hr")
    assert keyed_cache.SealedCache(cache, repo, "datakeys", ci).entries
    other = keyed_cache.SealedCache(cache, repo, "datakeys", hr)
    assert other.path != keyed_cache.SealedCache(cache, repo, "datakeys", ci).path and not other.entries
    assert not keyed_cache.SealedCache(cache, repo, "datakeys", ()).enabled
    # A forged or damaged file is ignored, never trusted
    datakeys = next(cache.glob("keyed-datakeys-*.bin"))
    raw = bytearray(datakeys.read_bytes())
    raw[-1] ^= 1
    datakeys.write_bytes(bytes(raw))
    assert not keyed_cache.SealedCache(cache, repo, "datakeys", ci).entries

    # A change is never answered from the cache: an encrypted value moved to another field by
    # hand is caught (V702) on the next keyed run, and the message shows no value
    text = path.read_text()
    data = yamlio.load(path.read_bytes())
    salary_token = data["compensation"]["base_salary"]
    currency_token = data["compensation"]["currency"]
    path.write_text(
        text.replace(currency_token, "SWAP")
        .replace(salary_token, currency_token)
        .replace("SWAP", salary_token)
    )
    after = findings(repo, CI_KEY)
    assert any(f["offer"] == oid and f["code"] == "V702" for f in after), after
    assert salary not in json.dumps(after)
    assert findings(repo, CI_KEY) == after
    assert findings(repo, None) != after  # the keyless view is its own (V701 notices)


def _branches(repo: Path, oid: str, a: list[str], b: list[str]) -> None:
    subprocess.run(["git", "checkout", "-q", "-b", "a"], cwd=repo, check=True)
    proc = run(repo, "revise", oid, *a, "--reason", "branch a", key=HR_KEY, now=f"{TODAY}T09:00:00Z")
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", "-b", "b"], cwd=repo, check=True)
    proc = run(repo, "revise", oid, *b, "--reason", "branch b", key=HR_KEY, now=f"{TODAY}T10:00:00Z")
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["git", "checkout", "-q", "a"], cwd=repo, check=True)


@pytest.fixture
def merging(repo: Path) -> Path:
    proc = run(repo, "git-setup")
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["git", "add", ".gitattributes"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "merge driver"], cwd=repo, check=True)
    return repo


def test_merge_of_different_encrypted_fields_recomputes_the_mac_with_a_key(merging: Path) -> None:
    repo = merging
    oid, path = negotiating(repo)
    _branches(
        repo,
        oid,
        ["--set", "compensation.base_salary=123500"],
        ["--set", "compensation.sign_on_bonus=4000"],
    )
    # Without a key: a clear conflict, never a file with a MAC that does not match
    proc = run(repo, "git", "merge", "-q", "b", "-m", "merge b")
    assert proc.returncode != 0
    assert "needs a new MAC" in proc.stderr and "OFFERCTL_AGE_KEY_FILE" in proc.stderr
    assert "123500" not in proc.stderr and "ENC[" not in proc.stderr
    run(repo, "git", "merge", "--abort")
    # With a reader's key: merged, MAC and lastmodified recomputed; a keyed check is clean
    proc = run(repo, "git", "merge", "-q", "b", "-m", "merge b", key=HR_KEY, now=f"{TODAY}T11:00:00Z")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    merged = yamlio.load(path.read_bytes())
    assert merged["sops"]["lastmodified"] == f"{TODAY}T11:00:00Z"
    assert [e["type"] for e in merged["events"]][-2:] == ["revised", "revised"]
    shown = json.loads(run(repo, "show", oid, "--format", "json", key=CI_KEY).stdout)
    assert shown["compensation"]["base_salary"] == 123500
    assert shown["compensation"]["sign_on_bonus"] == 4000
    problems = [f for f in findings(repo, CI_KEY) if f["code"] == "V702"]
    assert problems == []


def test_merge_of_one_encrypted_value_changed_twice_is_a_conflict(merging: Path) -> None:
    repo = merging
    oid, _ = negotiating(repo)
    _branches(
        repo,
        oid,
        ["--set", "compensation.base_salary=123500"],
        ["--set", "compensation.base_salary=124500"],
    )
    proc = run(repo, "git", "merge", "-q", "b", "-m", "merge b", key=HR_KEY)
    assert proc.returncode != 0
    assert "compensation.base_salary: an encrypted value changed on both branches" in proc.stderr
    assert "12" + "3500" not in proc.stderr and "ENC[" not in proc.stderr


def test_merge_of_the_same_new_value_on_both_sides_is_clean_with_a_key(merging: Path) -> None:
    repo = merging
    oid, _ = negotiating(repo)
    _branches(
        repo,
        oid,
        ["--set", "compensation.base_salary=123500"],
        ["--set", "compensation.base_salary=123500"],
    )
    proc = run(repo, "git", "merge", "-q", "b", "-m", "merge b", key=HR_KEY, now=f"{TODAY}T11:00:00Z")
    assert proc.returncode == 0, proc.stderr
    problems = [f for f in findings(repo, CI_KEY) if f["code"] == "V702"]
    assert problems == []
