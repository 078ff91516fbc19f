"""The erasure key store in the offer repository: one parentless commit on
``refs/offerctl/keys`` whose tree holds ``<offer-id>.json`` files (docs/privacy.md).

Every write replaces the commit (no parent), so earlier versions are reachable from no ref;
``purge`` then removes them from the local object store. All git calls go through
``offerctl.git``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from offerctl.privacy.keystore import KEYS_REF
from offerctl.store import git

_STORE_IDENTITY = {
    "GIT_AUTHOR_NAME": "offerctl key store",
    "GIT_AUTHOR_EMAIL": "keys@offerctl.invalid",
    "GIT_COMMITTER_NAME": "offerctl key store",
    "GIT_COMMITTER_EMAIL": "keys@offerctl.invalid",
    # A fixed date: the store commit says nothing about when an offer's key changed.
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}


ZERO_ID = "0" * 40
"""``update-ref``'s "must not exist yet" old value (SHA-1 repositories; git accepts it for
SHA-256 ones too as the null id)."""


def seed_entries(root: Path, seed: str) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """The entries of a demo seed directory (``privacy.key_store.seed``): file name -> bytes
    of every valid ``<offer-id>.json``, and (path, problem) for each file that is not one
    (reported by ``check`` as V711, never used). A missing directory has no entries."""
    from offerctl.privacy.keystore import EntryProblem, parse_entry

    base = root / seed
    files: dict[str, bytes] = {}
    problems: list[tuple[str, str]] = []
    if not base.is_dir():
        return files, problems
    for path in sorted(base.iterdir()):
        rel = f"{seed}/{path.name}"
        if path.name.startswith(".") or path.name == "README.md":
            continue
        if not path.is_file() or not path.name.endswith(".json"):
            problems.append((rel, "not a key store entry (<offer-id>.json)"))
            continue
        raw = path.read_bytes()
        try:
            parse_entry(path.name, raw)
        except (EntryProblem, ValueError) as exc:
            problems.append((rel, str(exc)))
            continue
        files[path.name] = raw
    return files, problems


class GitRefBackend:
    def __init__(self, root: Path, ref: str = KEYS_REF) -> None:
        self.root = root
        self.ref = ref

    def head(self) -> str | None:
        return git.rev_parse(self.root, f"{self.ref}^{{commit}}")

    def read(self) -> dict[str, bytes]:
        commit = self.head()
        if commit is None:
            return {}
        listing = git.run(["ls-tree", "-z", commit], self.root).stdout
        entries: dict[str, str] = {}
        for item in git.zsplit(listing):
            meta, name = item.split("\t", 1)
            _mode, kind, blob = meta.split(" ")
            if kind == "blob":
                entries[name] = blob
        blobs = git.cat_blobs(self.root, entries.values())
        return {name: blobs[blob] for name, blob in entries.items() if blob in blobs}

    def write(self, files: Mapping[str, bytes], message: str) -> None:
        commit = self._commit(files, message)
        old = self.head()
        args = ["update-ref", "-m", "offerctl keys", self.ref, commit]
        if old is not None:
            args.append(old)
        git.run(args, self.root)
        self.expire_reflog()

    def create(self, files: Mapping[str, bytes], message: str) -> bool:
        """Create the ref with ``files`` only if it does not exist (another process may
        create it at the same moment: then that one stands). True when this call created it."""
        commit = self._commit(files, message)
        args = ["update-ref", "-m", "offerctl keys", self.ref, commit, ZERO_ID]
        done = git.run(args, self.root, check=False)
        self.expire_reflog()
        return done.returncode == 0

    def _commit(self, files: Mapping[str, bytes], message: str) -> str:
        lines = []
        for name in sorted(files):
            blob = git.run(
                ["hash-object", "-w", "--stdin"], self.root, input=files[name].decode("utf-8")
            ).stdout.strip()
            lines.append(f"100644 blob {blob}\t{name}")
        tree = git.run(["mktree"], self.root, input="\n".join(lines) + ("\n" if lines else "")).stdout.strip()
        return git.run(["commit-tree", tree, "-m", message], self.root, env=_STORE_IDENTITY).stdout.strip()

    def expire_reflog(self) -> None:
        git.run(
            ["reflog", "expire", "--expire=now", "--expire-unreachable=now", self.ref], self.root, check=False
        )

    def purge(self) -> None:
        """Remove unreachable objects (the old store versions among them) from the local
        repository: reflog of the store ref expired, packs rewritten without unreachable
        objects, loose ones pruned. Objects reachable from any ref or reflog stay."""
        self.expire_reflog()
        git.run(["repack", "-a", "-d", "-q"], self.root)
        git.run(["prune", "--expire=now"], self.root)


def entry_ids(root: Path, ref: str = KEYS_REF) -> dict[str, str]:
    """``<offer-id>.json`` -> blob id of every entry in the key store (one ``git ls-tree``;
    nothing is read or unwrapped): what results computed with an erasure key depend on."""
    commit = GitRefBackend(root, ref).head()
    if commit is None:
        return {}
    listing = git.run(["ls-tree", "-z", commit], root).stdout
    out: dict[str, str] = {}
    for item in git.zsplit(listing):
        meta, name = item.split("\t", 1)
        _mode, kind, blob = meta.split(" ")
        if kind == "blob":
            out[name] = blob
    return out
