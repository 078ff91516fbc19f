"""The privacy core with real keys: age X25519 identities from pyrage and ssh-ed25519 keys
from ssh-keygen; the file format checked against SOPS's own test vector and against
sops-age (an independent SOPS implementation) under node."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyrage
import pytest
import yaml

from offerctl.approvals.binding import canonical
from offerctl.privacy import config as pconfig
from offerctl.privacy import digest, document, keys, keystore, values
from offerctl.privacy.document import ErasureKey
from offerctl.privacy.values import Sealed

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-20T17:02:11Z"
LATER = "2026-11-21T08:00:00Z"


def age_identity() -> keys.Identity:
    return keys.age_identity(str(pyrage.x25519.Identity.generate()), "test")


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[keys.Identity, str, Path]:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    path = tmp_path_factory.mktemp("ssh") / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fiona@acme.example", "-f", str(path)],
        check=True,
    )
    public = path.with_suffix(".pub").read_text().strip()
    return keys.ssh_identity(path.read_bytes(), str(path)), public, path


def offer() -> dict[str, Any]:
    return {
        "id": "OFF-2026-TEST0001",
        "status": "draft",
        "candidate": {"name": "Clara Hoffmann", "email": "clara@example.de", "source": "referral"},
        "role": {"title": "Designer", "department": "Product", "hiring_manager": "leo.park@acme.example"},
        "recruiter": "tom.becker@acme.example",
        "compensation": {
            "currency": "EUR",
            "base_salary": 66000,
            "bonus_target_pct": Decimal("12.50"),
            "sign_on_bonus": Decimal("1234567890123456.78"),
            "equity": {"type": "rsu", "units": 500, "vesting": "4y-1y-cliff"},
        },
        "verbal": {
            "date": "2026-11-04",
            "promises": [{"field": "compensation.sign_on_bonus", "value": 5000}],
        },
        "notes": "",
        "privacy": {"digest_key": "c2VjcmV0"},
        "approvals": [],
    }


CONFIG = pconfig.parse({"enabled": True})
LAYOUT = CONFIG.layout()


def seal(
    plain: dict[str, Any],
    recipients: list[str],
    data_key: bytes,
    erasure: ErasureKey,
    previous: dict[str, Any] | None = None,
    now: str = NOW,
) -> dict[str, Any]:
    return document.seal(
        plain,
        LAYOUT,
        offer_id=plain["id"],
        data_key=data_key,
        erasure=erasure,
        recipients=recipients,
        now=now,
        previous=previous,
    )


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000)


def test_sops_test_vector_decrypts() -> None:
    # aes/cipher_test.go in getsops/sops: key "f"*32, additional data "bar:".
    token = (
        "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,"
        "tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]"
    )
    assert values.decrypt_sops(token, b"f" * 32, "bar:") == "foo"
    with pytest.raises(values.CipherProblem):
        values.decrypt_sops(token, b"f" * 32, "baz:")  # moved to another field: refused


def test_go_float_text_matches_strconv() -> None:
    assert values.go_float_text(Decimal("85000.50")) == "85000.5"
    assert values.go_float_text(Decimal("185000")) == "185000"
    assert values.go_float_text(Decimal("0.00001")) == "0.00001"
    assert values.go_float_text(Decimal("1E+16")) == "10000000000000000"


def test_reader_decrypts_non_reader_does_not() -> None:
    reader, outsider = age_identity(), age_identity()
    data_key, erasure = os.urandom(32), ErasureKey("k1", os.urandom(32))
    sealed = seal(offer(), [reader.public], data_key, erasure)
    text = dump(sealed)
    for secret in ("Clara", "clara@example.de", "66000", "12.50", "1234567890123456.78", "4y-1y-cliff"):
        assert secret not in text
    assert sealed["compensation"]["base_salary"].endswith("type:int]")
    assert sealed["candidate"]["name"].startswith("ENC[OFFERCTL_ERASABLE,kid:k1,")
    assert sealed["candidate"]["source"] == "referral"  # not configured: stays readable
    assert sealed["sops"]["mac_only_encrypted"] is True
    assert sealed["sops"]["encrypted_regex"] == "^(compensation|promises|notes|digest_key|old|new)$"

    assert document.data_key_of(sealed, [outsider]) is None
    key = document.data_key_of(sealed, [reader])
    assert key == data_key
    opened = document.open_document(
        sealed, offer_id=sealed["id"], data_key=key, erasure_keys={"k1": erasure.key}
    )
    assert opened.problems == () and opened.mac_verified and opened.complete
    expected = offer()
    assert opened.data == expected
    # exact Decimal, scale included: money never passed through a float
    assert str(opened.data["compensation"]["sign_on_bonus"]) == "1234567890123456.78"

    blind = document.open_document(sealed, offer_id=sealed["id"], data_key=None)
    assert isinstance(blind.data["compensation"]["base_salary"], Sealed)
    assert isinstance(blind.data["candidate"]["email"], Sealed)
    assert blind.data["status"] == "draft" and blind.data["candidate"]["source"] == "referral"
    assert "compensation.base_salary" in blind.sealed and not blind.mac_verified


def test_ssh_ed25519_reader(ssh_key: tuple[keys.Identity, str, Path]) -> None:
    ident, public, _ = ssh_key
    other = age_identity()
    sealed = seal(offer(), [public, other.public], os.urandom(32), ErasureKey("k", os.urandom(32)))
    recipients = [e["recipient"] for e in sealed["sops"]["age"]]
    assert recipients[0] == " ".join(public.split()[:2])  # comment (an email) not stored
    assert document.data_key_of(sealed, [ident]) is not None
    assert document.data_key_of(sealed, [age_identity()]) is None


def test_independent_age_cli_unwraps_ssh_recipient(ssh_key: tuple[keys.Identity, str, Path]) -> None:
    """The stock `age` tool (Debian package) opens the wrapped data key with the ssh key."""
    if shutil.which("age") is None:
        pytest.skip("the age command-line tool is not installed (apt-get install age)")
    _ident, public, path = ssh_key
    data_key = os.urandom(32)
    sealed = seal(offer(), [public], data_key, ErasureKey("k", os.urandom(32)))
    out = subprocess.run(
        ["age", "--decrypt", "-i", str(path)],
        input=sealed["sops"]["age"][0]["enc"].encode(),
        capture_output=True,
        check=True,
    )
    assert out.stdout == data_key


def test_unchanged_values_keep_ciphertext_and_diff_touches_one_field() -> None:
    reader = age_identity()
    data_key, erasure = os.urandom(32), ErasureKey("k1", os.urandom(32))
    first = seal(offer(), [reader.public], data_key, erasure)
    again = seal(offer(), [reader.public], data_key, erasure, previous=first, now=LATER)
    assert dump(again) == dump(first)  # nothing changed: byte-identical, lastmodified kept

    revised = offer()
    revised["compensation"]["base_salary"] = 70000
    second = seal(revised, [reader.public], data_key, erasure, previous=first, now=LATER)
    changed = [
        line
        for line in difflib.unified_diff(dump(first).splitlines(), dump(second).splitlines(), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert sorted(line.split(":")[0].strip("+- ") for line in changed) == [
        "base_salary",
        "base_salary",
        "lastmodified",
        "lastmodified",
        "mac",
        "mac",
    ]
    opened = document.open_document(
        second, offer_id=revised["id"], data_key=data_key, erasure_keys={"k1": erasure.key}
    )
    assert opened.mac_verified and opened.data["compensation"]["base_salary"] == 70000

    # Back to the old value: a fresh IV, never the old ciphertext (no equality oracle across versions)
    third = seal(offer(), [reader.public], data_key, erasure, previous=second, now=LATER)
    assert third["compensation"]["base_salary"] != first["compensation"]["base_salary"]


def test_plaintext_appended_without_key_keeps_mac_valid() -> None:
    reader = age_identity()
    data_key, erasure = os.urandom(32), ErasureKey("k1", os.urandom(32))
    sealed = seal(offer(), [reader.public], data_key, erasure)
    appended = json.loads(json.dumps(sealed))
    appended["approvals"].append({"role": "finance", "by": "fiona@acme.example", "at": LATER, "digest": "x"})
    appended["status"] = "approved"
    opened = document.open_document(appended, offer_id=sealed["id"], data_key=data_key)
    assert opened.mac_verified and opened.problems == ()
    # ... and a writer without any key can save it: tokens pass through, sops block kept
    blind = document.open_document(appended, offer_id=sealed["id"], data_key=None)
    restored = document.restore_tokens(blind.data, appended)
    resealed = document.seal(
        restored,
        LAYOUT,
        offer_id=sealed["id"],
        data_key=None,
        erasure=None,
        recipients=[],
        now=LATER,
        previous=appended,
    )
    assert dump(resealed) == dump(appended)


def test_tampering_is_detected() -> None:
    reader = age_identity()
    data_key = os.urandom(32)
    sealed = seal(offer(), [reader.public], data_key, ErasureKey("k1", os.urandom(32)))
    swapped = json.loads(json.dumps(sealed))
    comp = swapped["compensation"]
    comp["base_salary"], comp["currency"] = comp["currency"], comp["base_salary"]
    opened = document.open_document(swapped, offer_id=sealed["id"], data_key=data_key)
    assert any("does not decrypt" in p for p in opened.problems)
    dropped = json.loads(json.dumps(sealed))
    del dropped["compensation"]["equity"]
    opened = document.open_document(dropped, offer_id=sealed["id"], data_key=data_key)
    assert any("MAC mismatch" in p for p in opened.problems)
    planted = json.loads(json.dumps(sealed))
    planted["compensation"]["relocation"] = 1
    opened = document.open_document(planted, offer_id=sealed["id"], data_key=data_key)
    assert any("compensation.relocation is plaintext" in p for p in opened.problems)


def test_erasure_key_store_destroy_makes_values_unreadable() -> None:
    reader = age_identity()
    backend = keystore.MemoryBackend()
    store = keystore.KeyStore(backend)
    erasure = store.create("OFF-2026-TEST0001", [reader.public])
    store.save("keys: create")
    sealed = seal(offer(), [reader.public], os.urandom(32), erasure)

    reopened = keystore.KeyStore(backend)
    key = reopened.unwrap("OFF-2026-TEST0001", [reader])
    assert key == erasure
    assert reopened.unwrap("OFF-2026-TEST0001", [age_identity()]) is None
    opened = document.open_document(
        sealed, offer_id=sealed["id"], data_key=None, erasure_keys={key.kid: key.key}
    )
    assert opened.data["candidate"]["email"] == "clara@example.de"
    # The erasable token is bound to its offer: pasted into another offer it does not open
    with pytest.raises(values.CipherProblem):
        values.decrypt_erasable(sealed["candidate"]["email"], key.key, "OFF-OTHER", "candidate:email:")

    assert reopened.destroy("OFF-2026-TEST0001") and reopened.save("keys: erase")
    assert keystore.KeyStore(backend).unwrap("OFF-2026-TEST0001", [reader]) is None
    assert b"clara" not in b"".join(backend.files.values())


def test_keyed_digest_defeats_a_guessed_salary() -> None:
    root = digest.new_root()
    key = digest.derive_key(root, "OFF-2026-TEST0001")
    covered = canonical({"compensation.base_salary": 185000})
    approval = digest.keyed_digest(covered, key)
    assert approval.startswith("hmac-sha256:") and digest.matches(approval, covered, key)
    # the attacker enumerates salaries with the plain hash offerctl used before: no match
    guesses = {
        "sha256:" + hashlib.sha256(canonical({"compensation.base_salary": s}).encode()).hexdigest()
        for s in range(150000, 220001, 1000)
    }
    assert approval not in guesses
    assert approval.split(":")[1] not in {g.split(":")[1] for g in guesses}
    # and without the root, a key derived from a guessed root does not match either
    assert not digest.matches(approval, covered, digest.derive_key(os.urandom(32), "OFF-2026-TEST0001"))
    # the key is per offer
    assert digest.derive_key(root, "OFF-OTHER") != key


def test_identity_discovery_order(tmp_path: Path, ssh_key: tuple[keys.Identity, str, Path]) -> None:
    a, b, c, d = (age_identity() for _ in range(4))
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(ssh_key[2], home / ".ssh" / "id_ed25519")
    key_file = tmp_path / "k.txt"
    key_file.write_text(f"# created: test\n# public key: {a.public}\n{a.secret}\n")
    sops_file = tmp_path / "s.txt"
    sops_file.write_text(f"{c.secret}\n")
    default = home / ".config" / "sops" / "age" / "keys.txt"
    default.parent.mkdir(parents=True)
    default.write_text(f"{d.secret}\n")
    env = {
        "OFFERCTL_AGE_KEY_FILE": str(key_file),
        "OFFERCTL_AGE_KEY": str(b.secret),
        "SOPS_AGE_KEY_FILE": str(sops_file),
    }
    found = keys.discover_identities(env, home, "linux")
    assert [i.public for i in found.identities] == [a.public, b.public, c.public, d.public, ssh_key[0].public]
    assert found.looked_at[:3] == ("OFFERCTL_AGE_KEY_FILE", "OFFERCTL_AGE_KEY", "SOPS_AGE_KEY_FILE")
    # XDG_CONFIG_HOME and macOS defaults
    assert keys.default_sops_key_file({"XDG_CONFIG_HOME": "/x"}, home, "linux") == Path(
        "/x/sops/age/keys.txt"
    )
    assert (
        keys.default_sops_key_file({}, home, "darwin")
        == home / "Library/Application Support/sops/age/keys.txt"
    )
    # a variable that is set but wrong is an error, never a silent fallback to another key
    with pytest.raises(keys.KeyProblem, match="OFFERCTL_AGE_KEY_FILE"):
        keys.discover_identities({"OFFERCTL_AGE_KEY_FILE": str(tmp_path / "missing")}, home, "linux")
    with pytest.raises(keys.KeyProblem) as info:
        keys.discover_identities({"OFFERCTL_AGE_KEY": "AGE-SECRET-KEY-1NOTAKEY"}, home, "linux")
    assert "NOTAKEY" not in str(info.value)  # messages never echo secrets


def test_readers_by_department_rule(ssh_key: tuple[keys.Identity, str, Path]) -> None:
    hr, eng_head, ci = age_identity(), age_identity(), age_identity()
    config = pconfig.parse(
        {
            "groups": {"hr": ["rita@acme.example"], "eng_heads": ["dana@acme.example"], "ci": [ci.public]},
            "readers": [
                {"groups": ["hr", "ci"]},
                {"groups": ["eng_heads"], "when": {"department": "Engineering"}},
            ],
        }
    )
    people = {
        "rita@acme.example": [hr.public],
        "dana@acme.example": [eng_head.public],
        "leo.park@acme.example": [ssh_key[1]],
        "fiona@acme.example": [age_identity().public],
    }
    product = offer()
    readers = pconfig.readers_of(
        product, config, people, {"fiona@acme.example": ["approver: rule above-midpoint"]}
    )
    who = {r.who: r for r in readers.readers}
    assert set(who) >= {
        "tom.becker@acme.example",
        "leo.park@acme.example",
        "fiona@acme.example",
        "rita@acme.example",
    }
    assert "dana@acme.example" not in who  # Product offer: the engineering head is no reader
    assert who["tom.becker@acme.example"].problem  # recruiter without a key: reported, not dropped
    assert who["fiona@acme.example"].reasons == ("approver: rule above-midpoint",)
    sealed = seal(product, list(readers.recipients), os.urandom(32), ErasureKey("k", os.urandom(32)))
    assert document.data_key_of(sealed, [hr]) is not None
    assert document.data_key_of(sealed, [ci]) is not None
    assert document.data_key_of(sealed, [ssh_key[0]]) is not None
    assert document.data_key_of(sealed, [eng_head]) is None

    engineering = offer()
    engineering["role"]["department"] = "Engineering"
    readers = pconfig.readers_of(engineering, config, people, {})
    sealed = seal(engineering, list(readers.recipients), os.urandom(32), ErasureKey("k", os.urandom(32)))
    assert document.data_key_of(sealed, [eng_head]) is not None


def test_config_defaults_and_problems() -> None:
    config = pconfig.parse({"enabled": True})
    assert config.erasable_paths() == tuple(p for p in pconfig.DEFAULT_ENCRYPT if p.startswith("candidate."))
    assert config.sops_paths() == ("compensation", "verbal.promises", "notes")
    assert config.is_encrypted("compensation.base_salary") and config.is_encrypted("candidate")
    assert not config.is_encrypted("role.department") and not config.is_encrypted("candidate.source")
    with pytest.raises(pconfig.ConfigProblem, match="unknown group"):
        pconfig.parse({"groups": {}, "readers": [{"groups": ["nobody"]}]})
    with pytest.raises(pconfig.ConfigProblem, match="SOPS encrypts"):
        pconfig.parse({"encrypt": ["compensation", "candidate.compensation"], "erasable": ["candidate"]})
    with pytest.raises(pconfig.ConfigProblem, match="decides who reads"):
        pconfig.parse({"encrypt": ["role"]})
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(pconfig.SCHEMA)


# --- an independent implementation: sops-age (npm) under node --------------------------------

SOPS_AGE_DIR = Path(os.environ.get("OFFERCTL_SOPS_AGE_DIR", ROOT / ".ci" / "node"))

NODE_SCRIPT = """
const { decryptSops } = await import(process.argv[1]);
const fs = await import('node:fs');
const text = fs.readFileSync(process.argv[2], 'utf8');
const out = await decryptSops(text, {secretKey: process.argv[3], fileType: 'yaml'});
process.stdout.write(JSON.stringify(out));
"""


def sops_age_module() -> Path:
    node = shutil.which("node")
    module = SOPS_AGE_DIR / "node_modules" / "sops-age" / "dist" / "index.js"
    if node is None:
        pytest.skip("node is not installed: the sops-age interoperability test needs node >= 18")
    if not module.is_file():
        pytest.skip(
            f"sops-age is not installed under {SOPS_AGE_DIR} (CI_INSTALL_NOTES.md: "
            "npm install --prefix .ci/node sops-age@4.0.2)"
        )
    return module


def test_sops_age_decrypts_what_offerctl_encrypts(tmp_path: Path) -> None:
    module = sops_age_module()
    reader, outsider = age_identity(), age_identity()
    erasure = ErasureKey("k1", os.urandom(32))
    sealed = seal(offer(), [outsider.public, reader.public], os.urandom(32), erasure)
    path = tmp_path / "offer.yaml"
    path.write_text(dump(sealed))
    run = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_SCRIPT, module.as_uri(), str(path), str(reader.secret)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    comp = out["compensation"]
    assert comp["base_salary"] == 66000 and comp["currency"] == "EUR"
    assert comp["bonus_target_pct"] == 12.5  # a number to SOPS tools; exact Decimal to offerctl
    assert comp["equity"] == {"type": "rsu", "units": 500, "vesting": "4y-1y-cliff"}
    assert out["verbal"]["promises"] == [{"field": "compensation.sign_on_bonus", "value": 5000}]
    assert out["notes"] == ""
    assert out["privacy"]["digest_key"] == "c2VjcmV0"
    # erasable values are left alone (not SOPS values), the rest is plain as written
    assert out["candidate"]["email"] == sealed["candidate"]["email"]
    assert out["candidate"]["email"].startswith("ENC[OFFERCTL_ERASABLE,")
    assert out["role"] == offer()["role"]

    run = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            NODE_SCRIPT,
            module.as_uri(),
            str(path),
            str(age_identity().secret),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0 and "No matching recipient" in run.stderr


def test_config_schema_ships_the_privacy_fragment() -> None:
    for base in (ROOT / "schemas", ROOT / "offerctl" / "schemas"):
        shipped = json.loads((base / "config.schema.json").read_text())
        assert shipped["properties"]["privacy"] == json.loads(json.dumps(pconfig.SCHEMA))


def test_sealed_marker_prints_but_refuses_arithmetic() -> None:
    from offerctl.privacy.values import NeedsKey

    sealed = Sealed("compensation.base_salary", "sops", "OFF-1", "group hr")
    assert f"{sealed}" == "\u2039encrypted\u203a" and str(Sealed("x", "erased")) == "\u2039erased\u203a"
    for attempt in (lambda: sealed > 1, lambda: sealed + 1, lambda: float(sealed), lambda: 1 - sealed):
        with pytest.raises(NeedsKey) as info:
            attempt()
        assert info.value.exit_code == 2 and "group hr" in (info.value.hint or "")
    assert sealed != 185000


def test_erasure_values_retention_and_keyless_coverage() -> None:
    from offerctl.privacy import erasure

    reader = age_identity()
    data_key, key = os.urandom(32), ErasureKey("k1", os.urandom(32))
    plain = offer()
    plain["status"] = "declined"
    plain["events"] = [{"type": "declined", "at": "2026-11-30T10:00:00Z", "by": "tom.becker@acme.example"}]
    sealed = seal(plain, [reader.public], data_key, key)
    erased, paths = erasure.erase_values(sealed)
    assert paths == ("candidate.name", "candidate.email")
    assert erased["candidate"] == {"name": "ERASED", "email": "ERASED", "source": "referral"}
    assert erased["compensation"] == sealed["compensation"] and erased["sops"] == sealed["sops"]
    opened = document.open_document(
        erased, offer_id=plain["id"], data_key=data_key, erasure_keys={"k1": key.key}
    )
    assert opened.mac_verified and str(opened.data["candidate"]["name"]) == "\u2039erased\u203a"

    config = pconfig.parse({"retention_days": {"declined": 180}})
    assert erasure.closed_on(sealed) == __import__("datetime").date(2026, 11, 30)
    assert str(erasure.retention_due(sealed, config)) == "2027-05-29"
    assert erasure.retention_due(erased, config) is None  # nothing left to erase

    # keyless: covered ciphertext unchanged -> nothing; changed -> named; erasure is no change
    assert erasure.covered_ciphertext_changes(sealed, erased, ["compensation", "candidate"]) == []
    revised = seal(
        dict(plain, compensation=dict(plain["compensation"], base_salary=1)),
        [reader.public],
        data_key,
        key,
        previous=sealed,
    )
    assert erasure.covered_ciphertext_changes(sealed, revised, ["compensation", "role"]) == ["compensation"]
