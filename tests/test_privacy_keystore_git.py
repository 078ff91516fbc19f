"""The erasure key store on refs/offerctl/keys in a real git repository: after destroying an
offer's key and purging, no object in the repository yields that key with any identity."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pyrage

from offerctl.privacy import keys, keystore
from offerctl.store.keyref import GitRefBackend


def sh(*args: str, cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def all_objects(root: Path) -> list[bytes]:
    out = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=root, check=True, capture_output=True
    ).stdout
    return [out]


def test_store_rewrites_one_orphan_commit_and_erasure_leaves_no_copy(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    sh("git", "init", "-q", cwd=root)
    sh("git", "config", "core.logAllRefUpdates", "always", cwd=root)  # worst case: reflogs everywhere
    reader = keys.age_identity(str(pyrage.x25519.Identity.generate()), "t")
    backend = GitRefBackend(root)
    store = keystore.KeyStore(backend)
    a = store.create("OFF-A", [reader.public])
    b = store.create("OFF-B", [reader.public])
    store.save("keys")
    first = backend.head()
    assert first is not None
    assert sh("git", "rev-list", "--count", keystore.KEYS_REF, cwd=root).strip() == "1"
    sh("git", "gc", "-q", cwd=root)  # the store objects are now packed, the hard case

    again = keystore.KeyStore(GitRefBackend(root))
    assert again.unwrap("OFF-A", [reader]) == a
    assert again.destroy("OFF-A") and again.save("erase OFF-A")
    assert sh("git", "rev-list", "--count", keystore.KEYS_REF, cwd=root).strip() == "1"  # still no parent
    GitRefBackend(root).purge()

    assert keystore.KeyStore(GitRefBackend(root)).unwrap("OFF-A", [reader]) is None
    assert keystore.KeyStore(GitRefBackend(root)).unwrap("OFF-B", [reader]) == b
    # every armored age file left anywhere in the object store, tried with the reader's key
    blob = all_objects(root)[0].decode("utf-8", "replace")
    armored = re.findall(
        r"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----",
        blob.replace("\\n", "\n"),
        flags=re.S,
    )
    opened = {keys.unwrap(text, [reader]) for text in armored}
    assert b.key in opened and a.key not in opened
    assert subprocess.run(["git", "cat-file", "-e", first], cwd=root).returncode != 0
