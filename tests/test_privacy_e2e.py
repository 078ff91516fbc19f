"""Confidential offers end to end on a copy of the bundled example, with real age keys:
privacy enabled, `rekey`, the keyless and keyed views, a revision, an erasure — and what
git's object store holds afterwards."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pyrage
import pytest

from offerctl.privacy import document, values
from offerctl.privacy import keys as keymod
from offerctl.store import yamlio

PEOPLE = re.compile(r"\{email: ([^,]+),")


def objects(root: Path) -> bytes:
    return subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=root, check=True, capture_output=True
    ).stdout


def commit_all(root: Path, message: str) -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True)


@pytest.fixture
def confidential(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The example with privacy enabled (not yet rekeyed): keys for every person, HR and CI."""
    ids: dict[str, Any] = {}
    approvers = example_repo / "policies" / "approvers.yaml"
    text = approvers.read_text()

    def with_key(match: re.Match[str]) -> str:
        ident = pyrage.x25519.Identity.generate()
        ids[match.group(1)] = ident
        return f"{{email: {match.group(1)}, age_key: {ident.to_public()},"

    text = PEOPLE.sub(with_key, text)
    oscar = pyrage.x25519.Identity.generate()
    ids["oscar.grant@acme.example"] = oscar
    text = text.replace(
        "    email: oscar.grant@acme.example\n",
        f"    email: oscar.grant@acme.example\n    age_key: {oscar.to_public()}\n",
    )
    approvers.write_text(text)
    ci = pyrage.x25519.Identity.generate()
    ids["ci"] = ci
    config = example_repo / "offerctl.yaml"
    config.write_text(
        config.read_text()
        + f"""privacy:
  enabled: true
  groups:
    hr: [morgan.blake@acme.example]
    engineering_heads: [dana.whit@acme.example]
    ci: ['{ci.to_public()}']
  readers:
    - {{groups: [hr, ci]}}
    - {{groups: [engineering_heads], when: {{department: Engineering}}}}
  retention_days: {{declined: 30, rescinded: 30, expired: 30}}
"""
    )
    commit_all(example_repo, "enable privacy")
    monkeypatch.delenv("OFFERCTL_AGE_KEY", raising=False)
    return {"root": example_repo, "ids": ids}


def as_(monkeypatch: pytest.MonkeyPatch, ident: Any | None) -> None:
    if ident is None:
        monkeypatch.delenv("OFFERCTL_AGE_KEY", raising=False)
    else:
        monkeypatch.setenv("OFFERCTL_AGE_KEY", str(ident))


def test_confidential_example_end_to_end(
    confidential: dict[str, Any], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, ids = confidential["root"], confidential["ids"]
    as_(monkeypatch, ids["morgan.blake@acme.example"])
    result = cli("rekey", cwd=root)
    assert result.code == 0, result.err + result.out
    assert "rekeyed 16 offer(s)" in result.out
    assert "stay readable in git history" in result.out  # the honest warning
    eng = yamlio.load((root / "offers" / "OFF-2026-6RM1PQ9C.yaml").read_bytes())
    assert values.is_sops_token(eng["compensation"]["base_salary"])
    assert values.is_erasable_token(eng["candidate"]["name"])
    assert eng["role"]["department"] == "Engineering" and eng["status"] == "sent"
    recipients = set(document.recipients_of(eng))
    assert str(ids["dana.whit@acme.example"].to_public()) in recipients  # engineering head
    assert str(ids["leo.park@acme.example"].to_public()) not in recipients  # product manager
    last = subprocess.run(
        ["git", "log", "-1", "--format=%B"], cwd=root, capture_output=True, text=True
    ).stdout
    assert "Offer-Action: rekey" in last and "Offer-Id: OFF-2026-6RM1PQ9C" in last

    # With a key: the HR view; the CI key verifies everything, history included.
    result = cli("list", "--format", "json", cwd=root)
    assert result.code == 0 and "Elena García" in result.out
    as_(monkeypatch, ids["ci"])
    result = cli("check", "--format", "json", cwd=root)
    report = json.loads(result.out)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors == [], errors
    assert not [f for f in report["findings"] if f["code"] == "V701"]

    # Without a key: list works with markers; check says what it skipped; route refuses.
    as_(monkeypatch, None)
    result = cli("list", cwd=root)
    assert result.code == 0, result.err
    assert "Elena" not in result.out
    result = cli("check", "--format", "json", cwd=root)
    report = json.loads(result.out)
    assert result.code == 0, report
    skipped = [f for f in report["findings"] if f["code"] == "V701"]
    assert skipped and all("readers:" in f["message"] for f in skipped)
    assert not any("Elena" in f["message"] for f in report["findings"])
    result = cli("route", "OFF-2026-6RM1PQ9C", cwd=root)
    assert result.code == 2 and "encrypted" in result.err and "readers" in result.err.lower()
    result = cli("status", cwd=root)
    assert result.code == 0, result.err

    # A non-reader (the product manager) cannot read an engineering offer
    as_(monkeypatch, ids["leo.park@acme.example"])
    result = cli("show", "OFF-2026-6RM1PQ9C", "--format", "json", cwd=root)
    assert "Elena" not in result.out

    # A revision as the recruiter: only the changed field (and the MAC) in the diff, and the
    # new salary in no git object
    as_(monkeypatch, ids["rita.ramos@acme.example"])
    before = (root / "offers" / "OFF-2026-6RM1PQ9C.yaml").read_text()
    result = cli(
        "revise",
        "OFF-2026-6RM1PQ9C",
        "--set",
        "compensation.base_salary=173457",
        "--reason",
        "counter",
        cwd=root,
    )
    assert result.code == 0, result.err + result.out
    after = (root / "offers" / "OFF-2026-6RM1PQ9C.yaml").read_text()
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert sorted(line.split(":")[0].strip() for line in removed) == [
        "base_salary",
        "lastmodified",
        "mac",
        "status",
    ]
    assert b"173457" not in objects(root)
    shown = cli("show", "OFF-2026-6RM1PQ9C", "--format", "json", cwd=root)
    assert "173457" in shown.out

    # Erasure of a declined offer: nothing in the repository yields the candidate's data
    declined = root / "offers" / "OFF-2026-8PL4NV2S.yaml"
    history_blobs = subprocess.run(
        ["git", "log", "--all", "--format=%H", "--", "offers/OFF-2026-8PL4NV2S.yaml"],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.split()
    as_(monkeypatch, ids["morgan.blake@acme.example"])
    result = cli("erase", "OFF-2026-8PL4NV2S", "--reason", "candidate's erasure request", cwd=root)
    assert result.code == 0, result.err + result.out
    now = yamlio.load(declined.read_bytes())
    assert now["candidate"]["name"] == "ERASED" and now["status"] == "declined"
    last = subprocess.run(
        ["git", "log", "-1", "--format=%B"], cwd=root, capture_output=True, text=True
    ).stdout
    assert "Offer-Action: erase" in last and "Nora" not in last
    every_identity = [keymod.age_identity(str(i), "t") for i in ids.values()]
    every_key: set[bytes] = set()
    blob = objects(root).decode("utf-8", "replace").replace("\\n", "\n")
    for armored in re.findall(
        r"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----", blob, re.S
    ):
        key = keymod.unwrap(armored, every_identity)
        if key is not None:
            every_key.add(key)
    assert every_key
    versions = []
    for commit in history_blobs:
        shown_file = subprocess.run(
            ["git", "show", f"{commit}:offers/OFF-2026-8PL4NV2S.yaml"], cwd=root, capture_output=True
        ).stdout
        if shown_file:
            versions.append(yamlio.load(shown_file))
    tokens = [
        v["candidate"]["name"] for v in versions if values.is_erasable_token(v["candidate"].get("name"))
    ]
    assert tokens
    for token in tokens:
        for key in every_key:
            with pytest.raises(values.CipherProblem):
                values.decrypt_erasable(token, key, "OFF-2026-8PL4NV2S", "candidate:name:")
    # ... and history verification accepts the erasure and the rekey. (The fixture commits
    # the whole example as one person, so its approval lines carry A350 from the start.)
    as_(monkeypatch, ids["ci"])
    result = cli("check", "--format", "json", "--verify-history", cwd=root)
    errors = [
        f for f in json.loads(result.out)["findings"] if f["severity"] == "error" and f["code"] != "A350"
    ]
    assert errors == [], errors


def test_confidential_approvals(
    confidential: dict[str, Any], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approval of a confidential offer: keyed digest, a ciphertext digest that a keyless
    check verifies, and a refusal for an approver who cannot decrypt what they approve."""
    root, ids = confidential["root"], confidential["ids"]
    as_(monkeypatch, ids["morgan.blake@acme.example"])
    assert cli("rekey", cwd=root).code == 0
    offer_id = "OFF-2026-5NB2RC8P"
    route = json.loads(cli("route", offer_id, "--format", "json", cwd=root).out)
    waiting = [r for r in route["rules"] if r["triggered"] and r["open"] and not r["satisfied"]]
    approver = waiting[0]["acting"][0]
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", approver)
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", approver)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Approver")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Approver")

    as_(monkeypatch, pyrage.x25519.Identity.generate())  # not a key the offer is encrypted for
    refused = cli("approve", offer_id, "--role", waiting[0]["role"], cwd=root)
    assert refused.code == 1 and "cannot approve" in refused.err and "readers:" in refused.err

    as_(monkeypatch, ids[approver])
    result = cli("approve", offer_id, "--role", waiting[0]["role"], cwd=root)
    assert result.code == 0, result.err + result.out
    data = yamlio.load((root / "offers" / f"{offer_id}.yaml").read_bytes())
    line = data["approvals"][-1]
    assert line["digest"].startswith("hmac-sha256:") and line["sealed"].startswith("sha256:")

    # keyless check: the ciphertexts the approval covers are the approved ones...
    as_(monkeypatch, None)
    report = json.loads(cli("check", f"offers/{offer_id}.yaml", "--format", "json", cwd=root).out)
    assert not [f for f in report["findings"] if f["code"] in ("V705", "V702")], report
    # ... and a changed ciphertext is caught without a key (V705), and with one (V702)
    path = root / "offers" / f"{offer_id}.yaml"
    text = path.read_text()
    salary = data["compensation"]["base_salary"]
    currency = data["compensation"]["currency"]
    path.write_text(text.replace(salary, currency))
    report = json.loads(cli("check", f"offers/{offer_id}.yaml", "--format", "json", cwd=root).out)
    assert [f for f in report["findings"] if f["code"] == "V705"]
    as_(monkeypatch, ids["ci"])
    report = json.loads(cli("check", f"offers/{offer_id}.yaml", "--format", "json", cwd=root).out)
    assert [f for f in report["findings"] if f["code"] == "V702"]


def test_the_example_made_confidential_with_demo_keys(
    example_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the bundled example became confidential (README tour): its plaintext copy given
    the root offerctl.yaml's privacy section, then `rekey` with the HR demo key. HR's view is
    then the plaintext view; without a key `list` shows markers and `check` passes."""
    root = example_repo
    source = Path(__file__).resolve().parents[1] / "examples" / "keys"
    config = root / "offerctl.yaml"
    config.write_text((source.parents[1] / "offerctl.yaml").read_text())
    commit_all(root, "Enable confidential offers")
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(source / "hr-demo.agekey"))
    before = {
        args: cli(*args, cwd=root).out
        for args in (
            ("list",),
            ("log", "OFF-2026-7CG5XB2R"),
            ("headroom", "OFF-2026-6RM1PQ9C"),
            ("report", "--format", "json"),
            ("export", "--format", "json"),
            ("render", "OFF-2026-0TB8WD5K", "--format", "md"),
        )
    }
    result = cli("rekey", cwd=root)
    assert result.code == 0, result.err + result.out
    for args, out in before.items():  # HR's view: every command as before
        now = cli(*args, cwd=root).out
        if args[0] == "log":  # the rekey is one more commit in the offer's story, nothing else
            extra = [line for line in now.splitlines() if line not in out.splitlines()]
            assert len(extra) <= 2 and not any("compensation" in line for line in extra), extra
            continue
        if args[0] == "report":  # the rekey is one more commit in history; the metrics are the same
            new, old = json.loads(now), json.loads(out)
            history = [k for k, v in new.items() if '"rekey"' in json.dumps(v)]
            assert len(history) == 1, history
            for report in (new, old):
                del report[history[0]]
            assert new == old
            continue
        assert now == out, args
    readers = cli("readers", "OFF-2026-6RM1PQ9C", cwd=root)
    assert readers.code == 0 and "group hr" in readers.out
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", "")
    blind = cli("list", cwd=root)
    assert blind.code == 0 and "\u2039encrypted\u203a" in blind.out and "Elena" not in blind.out
    check = cli("check", cwd=root)
    assert check.code == 0 and "V701" in check.out
    log = cli("log", "OFF-2026-7CG5XB2R", cwd=root)
    # (versions from before the rekey are plaintext in history: the log shows them as they were)
    assert log.code == 0 and "ENC[" not in log.out and "\u2039encrypted\u203a" in log.out
    for args in (
        ("render", "OFF-2026-0TB8WD5K"),
        ("report",),
        ("export",),
        ("headroom", "OFF-2026-6RM1PQ9C"),
    ):
        refused = cli(*args, cwd=root)
        assert refused.code == 2 and "readers" in refused.err.lower(), (args, refused.err)
    monkeypatch.setenv("OFFERCTL_AGE_KEY_FILE", str(source / "ci-demo.agekey"))
    check = cli("check", "--format", "json", cwd=root)
    assert check.code == 0 and "V701" not in check.out


def test_new_offer_is_encrypted_before_its_first_write(
    confidential: dict[str, Any], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With privacy enabled, `new` writes the offer encrypted: its candidate and pay are in no
    git object, the commit message included."""
    root, ids = confidential["root"], confidential["ids"]
    as_(monkeypatch, ids["rita.ramos@acme.example"])
    (root / "intake.yaml").write_text(
        """candidate: {name: Zed Quimby-Unique, email: zed.quimby@example.com, source: referral}
role:
  title: Senior Backend Engineer
  department: Engineering
  job_family: engineering
  level: L5
  employment_type: full_time
  location: {country: US, region: CA, city: San Francisco}
  hiring_manager: sam.lee@acme.example
recruiter: rita.ramos@acme.example
start_date: 2027-01-11
compensation: {base_salary: 187_654, sign_on_bonus: 20000}
""".replace("187_654", "187654")
    )
    result = cli("new", "--no-input", "--from", "intake.yaml", "--format", "json", cwd=root)
    assert result.code == 0, result.err
    (root / "intake.yaml").unlink()
    offer_id = result.json()["id"]
    stored = yamlio.load((root / "offers" / f"{offer_id}.yaml").read_bytes())
    assert values.is_sops_token(stored["compensation"]["base_salary"])
    blob = objects(root)
    assert b"187654" not in blob and b"Quimby" not in blob
    shown = cli("show", offer_id, "--format", "json", cwd=root)
    assert "Zed Quimby-Unique" in shown.out and "187654" in shown.out


def test_retention_rotation_readers_and_cache(
    confidential: dict[str, Any], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, ids = confidential["root"], confidential["ids"]
    hr = ids["morgan.blake@acme.example"]
    as_(monkeypatch, hr)
    assert cli("rekey", cwd=root).code == 0

    # readers, as JSON: the engineering head reads Engineering offers, with the reason
    report = json.loads(cli("readers", "OFF-2026-6RM1PQ9C", "--format", "json", cwd=root).out)
    dana = [r for r in report["readers"] if r["who"] == "dana.whit@acme.example"]
    assert dana and any("engineering_heads" in why for why in dana[0]["reasons"])
    assert report["missing_from_file"] == [] and report["encrypted"] is True

    # retention: past it, check warns (V703); erase --expired erases them, once
    monkeypatch.setenv("OFFERCTL_TODAY", "2026-12-20")
    found = json.loads(cli("check", "--format", "json", cwd=root).out)["findings"]
    due = sorted(f["offer"] for f in found if f["code"] == "V703")
    assert due == ["OFF-2026-4DH1YS8V", "OFF-2026-5WQ9GA1D", "OFF-2026-8PL4NV2S", "OFF-2026-9NX3CE6W"]
    result = cli("erase", "--expired", "--format", "json", cwd=root)
    assert result.code == 0, result.err
    assert sorted(r["offer"] for r in json.loads(result.out)["erased"]) == due
    assert "no offer is past its retention period" in cli("erase", "--expired", cwd=root).out
    found = json.loads(cli("check", "--format", "json", cwd=root).out)["findings"]
    assert not [f for f in found if f["code"] == "V703"]
    assert not [f for f in found if f["severity"] == "error"], found

    # the cache under .git/ holds no decrypted value after keyed checks
    cache = b"".join(
        p.read_bytes() for p in (root / ".git").rglob("*") if p.is_file() and "offerctl" in str(p)
    )
    assert cache and b"Elena" not in cache and b"garcia" not in cache.lower()

    # rotation: new data keys; the old one opens none of the new values
    path = root / "offers" / "OFF-2026-6RM1PQ9C.yaml"
    before = yamlio.load(path.read_bytes())
    old_key = document.data_key_of(before, [keymod.age_identity(str(hr), "t")])
    result = cli("rekey", "--rotate", cwd=root)
    assert result.code == 0, result.err
    after = yamlio.load(path.read_bytes())
    with pytest.raises(values.CipherProblem):
        values.decrypt_sops(after["compensation"]["base_salary"], old_key or b"", "compensation:base_salary:")
    assert cli("show", "OFF-2026-6RM1PQ9C", "--format", "json", cwd=root).code == 0
