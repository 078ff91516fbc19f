"""Which files ``offerctl check`` reads, and under which policy.

* **Changed offers** (``changed_offers``): the offers a pull request touches, or all of them
  when the policy, the templates or the configuration changed; ``governs_every_offer`` says
  the same for paths given on the command line (e.g. by pre-commit).
* **Policy from a ref** (``policy_snapshot``): ``offerctl.yaml`` and ``policies/`` as they
  stand on the pull request's target branch are materialised into a temporary directory
  and the checks read them from there, so a pull request cannot edit the rules it is
  judged by.
* **Shallow clones** (``require_full_history``): refused with the fix, never a wrong answer.

Everything here returns values (paths, repositories); nothing prints or exits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from offerctl.core.errors import UsageError
from offerctl.store import git
from offerctl.store.repo import CONFIG_NAME, OFFERS_DIR, POLICIES_DIR, TEMPLATES_DIR, Repo

# Paths whose change makes every offer worth checking again.
GLOBAL_PATHS = (f"{POLICIES_DIR}/", f"{TEMPLATES_DIR}/", CONFIG_NAME)


# --- shallow clones and refs --------------------------------------------------------------


def require_full_history(repo: Repo, why: str) -> None:
    """A shallow clone would give a wrong answer (history cut off): refuse with the fix."""
    if git.is_shallow(repo.root):
        raise UsageError(
            f"this clone is shallow, so {why} cannot see the full history",
            hint="fetch full history: `git fetch --unshallow` (GitHub Actions: actions/checkout "
            "with `fetch-depth: 0`; GitLab: GIT_DEPTH: 0), or pass --no-verify-history",
        )


# --- changed offers -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangedSet:
    """What changed since a ref: the offer files to check, or every offer."""

    base: str
    paths: tuple[str, ...]
    everything: bool
    global_changes: tuple[str, ...]

    def offer_files(self, repo: Repo) -> list[str]:
        """Offer files that exist now and changed (deleted ones have nothing to check)."""
        return sorted(
            p
            for p in self.paths
            if p.startswith(f"{OFFERS_DIR}/") and p.endswith(".yaml") and (repo.root / p).is_file()
        )


def changed_offers(repo: Repo, ref: str) -> ChangedSet:
    """Paths changed between ``ref``'s merge base with HEAD and HEAD (``git diff REF...HEAD``)."""
    require_full_history(repo, "--changed-since")
    base = git.require_commit(repo.root, ref, "--changed-since")
    paths = tuple(git.changed_since(repo.root, base))
    global_changes = tuple(p for p in paths if p == CONFIG_NAME or p.startswith(GLOBAL_PATHS[:2]))
    return ChangedSet(base, paths, bool(global_changes), global_changes)


def governs_every_offer(repo: Repo, paths: Sequence[Path]) -> bool:
    """Whether ``paths`` (as given to ``check``, e.g. by pre-commit) include a policy file,
    a letter template or ``offerctl.yaml``, whose change can affect any offer."""
    for path in paths:
        rel = repo.rel(path if path.is_absolute() else Path.cwd() / path)
        if (
            rel == CONFIG_NAME
            or rel.startswith(GLOBAL_PATHS[:2])
            or rel.rstrip("/")
            in (
                POLICIES_DIR,
                TEMPLATES_DIR,
            )
        ):
            return True
    return False


# --- policy from a ref --------------------------------------------------------------------


@contextlib.contextmanager
def policy_snapshot(repo: Repo, ref: str) -> Iterator[Repo]:
    """``repo`` with ``offerctl.yaml`` and ``policies/`` as they stand on ``ref``.

    The files are read with ``git ls-tree`` + ``git cat-file`` and written into a temporary
    directory that lives as long as the ``with`` block; the returned ``Repo`` reads its
    configuration and policy files from there and everything else (offers, templates) from
    the working tree.
    """
    require_full_history(repo, "--policy-ref")
    commit = git.require_commit(repo.root, ref, "--policy-ref")
    tree = git.tree_blobs(repo.root, commit, [POLICIES_DIR, CONFIG_NAME])
    if CONFIG_NAME not in tree:
        raise UsageError(
            f"--policy-ref {ref}: {CONFIG_NAME} does not exist there",
            hint="point --policy-ref at the branch the pull request targets",
        )
    contents = git.cat_blobs(repo.root, tree.values())
    with tempfile.TemporaryDirectory(prefix="offerctl-policy-") as tmp:
        root = Path(tmp)
        for rel, blob in tree.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(contents.get(blob, b""))
        yield repo_with_policy_root(repo, root, label=ref)


def repo_with_policy_root(repo: Repo, policy_root: Path, *, label: str) -> Repo:
    """A copy of ``repo`` whose configuration and policies come from ``policy_root``."""
    from offerctl.store.repo import read_config

    config, findings = read_config(policy_root, label=label)
    return dataclasses.replace(repo, config=config, config_findings=findings, policy_root=policy_root)


__all__ = [
    "ChangedSet",
    "changed_offers",
    "governs_every_offer",
    "policy_snapshot",
    "repo_with_policy_root",
    "require_full_history",
]
