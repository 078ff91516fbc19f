"""`--push`: apply a change on the latest remote version, commit, push, retry on rejection.

Two approvers acting on the same offer from two clones both land: each attempt fetches the
remote branch, moves the local branch to the remote tip, re-runs the command's pure
*decide* step on the file as it is there (never a textual rebase), commits and pushes. A
rejected push (someone pushed first) discards this attempt's own commits, waits a random
back-off (``backoff``: full jitter, doubling) and tries again, at most ``retries`` times,
then fails with a clear error.

The same module holds the git merge driver (``offerctl merge-driver %O %A %B %P``) that makes
two *branches* which each appended approvals/events to one offer merge without hand edits.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from offerctl.core.errors import GitError, Refused, UsageError
from offerctl.lifecycle import PUSH_ATTEMPTS
from offerctl.store import git, yamlio
from offerctl.store.repo import Repo

T = TypeVar("T")

DEFAULT_RETRIES = PUSH_ATTEMPTS
"""Attempts before ``--push`` gives up. With back-off, 8 approvers pushing to one branch at
the same moment all land (measured: docs/security.md, "Concurrent approvers")."""
BACKOFF_FLOOR = 0.1
BACKOFF_CAP = 8.0
"""Seconds: the bounds of one back-off step (see ``backoff``)."""
APPEND_ONLY = ("approvals", "events")


@dataclass(frozen=True)
class Pushed:
    """Where ``--push`` put a change: the one "pushed" result of every mutating command."""

    remote: str
    branch: str
    attempts: int
    head: str

    def as_json(self) -> dict[str, Any]:
        """The ``pushed`` object of every mutating command's ``--format json`` output."""
        return {"remote": self.remote, "branch": self.branch, "attempts": self.attempts}


def run_and_push(repo: Repo, attempt: Callable[[], T], *, retries: int = DEFAULT_RETRIES) -> tuple[T, Pushed]:
    """Run ``attempt`` (decide + write + commit on the current checkout) on top of the
    remote branch's tip and push; on rejection, drop this attempt's commits and retry.

    ``attempt`` must re-read the offer from disk each time (``lifecycle.apply`` does).
    """
    if retries < 1:
        raise UsageError("--push needs at least one attempt")
    root = repo.root
    remote, branch = _upstream(repo)
    start = git.head(root)
    last_message = ""
    rng = random.Random()
    for number in range(1, retries + 1):
        began = time.monotonic()
        tip = git.fetch(root, remote, branch)
        here = git.head(root)
        if tip is not None and here != tip:
            if here is None or git.is_ancestor(root, here, tip):
                git.reset_keep(root, tip)
            elif number > 1 and start is not None and git.is_ancestor(root, start, tip):
                # Our own previous attempt: drop it and re-apply on the new tip.
                git.reset_keep(root, tip)
            elif not git.is_ancestor(root, tip, here):
                raise Refused(
                    f"--push: local {branch} has commits that {remote}/{branch} does not have, "
                    "and the remote has moved on",
                    hint=f"integrate first (git pull {remote} {branch}), then retry",
                )
        value = attempt()
        accepted, message = git.push(root, remote, branch)
        if accepted:
            return value, Pushed(remote, branch, number, git.head(root) or "")
        last_message = message or "rejected"
        if git.refused_for_good(message):  # a hook or rule: a retry on a newer tip cannot help
            break
        if number < retries:
            time.sleep(backoff(number, time.monotonic() - began, rng))
    # Leave the local branch as the remote has it, with nothing half-done.
    tip = git.fetch(root, remote, branch)
    if tip is not None and start is not None and git.is_ancestor(root, start, tip):
        git.reset_keep(root, tip)
    elif start is not None:
        git.reset_keep(root, start)
    if git.refused_for_good(last_message):
        raise GitError(
            f"--push: {remote} refused the push: {last_message}; nothing was pushed",
            hint="the server's rule decides (see its message above); your local branch is back where it was",
        )
    raise GitError(
        f"--push: {remote} rejected the push {retries} times (last: {last_message}); nothing was pushed",
        hint="others are pushing to this branch continuously; "
        "run the command again later (your local branch is back where it was)",
    )


def backoff(attempt: int, took: float, rng: random.Random) -> float:
    """Seconds to wait after rejected attempt number ``attempt`` (1-based): "full jitter"
    (uniform between 0 and a ceiling), the ceiling doubling per attempt from how long one
    attempt took — the window in which two pushers collide — and capped. Without jitter,
    pushers that collided once retry in lockstep and collide again."""
    ceiling = min(BACKOFF_CAP, max(BACKOFF_FLOOR, took) * 2 ** (attempt - 1))
    return rng.uniform(0, ceiling)


def _upstream(repo: Repo) -> tuple[str, str]:
    branch = git.current_branch(repo.root)
    if branch is None:
        raise UsageError(
            "--push needs a checked-out branch (HEAD is detached)", hint="git switch <branch> first"
        )
    remote = git.remote_for(repo.root, branch)
    if git.config_get(repo.root, f"remote.{remote}.url") is None:
        raise UsageError(
            f"--push: no remote {remote!r} configured for branch {branch}",
            hint="git remote add origin URL, or drop --push",
        )
    return remote, branch


def catch_up(repo: Repo) -> None:
    """Fast-forward the local branch to its remote before a decision that has effects outside
    git (``send`` emails a letter): decide on the version everybody else sees."""
    remote, branch = _upstream(repo)
    tip = git.fetch(repo.root, remote, branch)
    here = git.head(repo.root)
    if tip is None or tip == here:
        return
    if here is None or git.is_ancestor(repo.root, here, tip):
        git.reset_keep(repo.root, tip)
    elif not git.is_ancestor(repo.root, tip, here):
        raise Refused(
            f"--push: local {branch} and {remote}/{branch} have diverged",
            hint=f"integrate first (git pull {remote} {branch}), then retry",
        )


# --- merge driver -------------------------------------------------------------------------

DRIVER_NAME = "offerctl"
ATTRIBUTES_LINE = "offers/**/*.yaml merge=offerctl"


TEMP_PATTERN = "*.offerctl-tmp"


def install_merge_driver(root: Path) -> None:
    """Set up this clone (``.git/`` is not versioned: each clone runs this once, via
    ``offerctl init`` or ``offerctl git-setup``): register the merge driver in ``.git/config``
    and exclude offerctl's temp files in ``.git/info/exclude`` even where ``.gitignore``
    lacks them. ``.gitattributes`` is committed."""
    command = f'"{sys.executable}" -m offerctl merge-driver %O %A %B %P'
    git.config_set(root, f"merge.{DRIVER_NAME}.name", "offerctl: union of approvals/events, 3-way fields")
    git.config_set(root, f"merge.{DRIVER_NAME}.driver", command)
    exclude = git.git_path(root, "info/exclude")
    if exclude is None:
        return
    text = exclude.read_text("utf-8") if exclude.exists() else ""
    if TEMP_PATTERN not in text.splitlines():
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as handle:
            handle.write(("" if text.endswith("\n") or not text else "\n") + TEMP_PATTERN + "\n")


KEYS_FETCH = "+refs/offerctl/keys:refs/offerctl/keys"


def fetch_key_store(root: Path, remote: str = "origin") -> bool:
    """Make ``git fetch`` bring the erasure key store (``refs/offerctl/keys``, docs/privacy.md)
    with the branches; forced, because every change replaces its one commit. Pushing stays
    explicit (``git push --force origin refs/offerctl/keys``). True when the config changed;
    False without that remote or when it is set already."""
    if git.config_get(root, f"remote.{remote}.url") is None:
        return False
    current = git.run(["config", "--get-all", f"remote.{remote}.fetch"], root, check=False).stdout.split()
    if KEYS_FETCH in current:
        return False
    git.run(["config", "--add", f"remote.{remote}.fetch", KEYS_FETCH], root)
    return True


def ensure_attributes(root: Path) -> bool:
    """Add the ``.gitattributes`` line if missing; True when the file changed."""
    path = root / ".gitattributes"
    text = path.read_text("utf-8") if path.exists() else ""
    if ATTRIBUTES_LINE in text.splitlines():
        return False
    yamlio.atomic_write(
        path, text + ("" if text.endswith("\n") or not text else "\n") + ATTRIBUTES_LINE + "\n"
    )
    return True


@dataclass(frozen=True)
class MergeOutcome:
    clean: bool
    conflicts: tuple[str, ...]
    text: str | None


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, Mapping) and data:
        for key, value in data.items():
            if not prefix and key in APPEND_ONLY:
                continue
            out.update(_flatten(value, f"{prefix}{key}."))
    else:
        out[prefix[:-1]] = data
    return out


_ABSENT = object()


@dataclass(frozen=True)
class _FieldMerge:
    """The other side's field changes to take: values to set, paths to remove."""

    sets: dict[str, Any]
    deletes: list[str]
    conflicts: list[str]


def merge_offer(base: Any, ours: Any, theirs: Any, ours_text: str) -> MergeOutcome:
    """Three-way merge of one offer's data; ``text`` is ``ours_text`` with the merge applied.

    * ``approvals`` and ``events`` are append-only: the result is the union of both sides'
      lines ordered by ``at`` (stable), each line once. A line of the base that either side
      removed or edited is a conflict (history must not be rewritten).
    * every other field merges per value: a side that left it as in the base takes the other
      side's change; both changing it differently is a conflict.
    * a confidential offer (a ``sops:`` block) goes through ``merge_sealed``: its MAC and
      ``lastmodified`` are derived from the merged values, never merged as values.
    """
    if any(isinstance(d, Mapping) and isinstance(d.get("sops"), Mapping) for d in (ours, theirs)):
        from offerctl.lifecycle.merge_sealed import merge_encrypted

        return merge_encrypted(base, ours, theirs, ours_text)
    return _merge_plain(base, ours, theirs, ours_text)


def _merge_plain(base: Any, ours: Any, theirs: Any, ours_text: str) -> MergeOutcome:
    base = base if isinstance(base, Mapping) else {}
    fields = _merge_fields(base, ours, theirs)
    lists, list_conflicts = _merge_append_only(base, ours, theirs)
    conflicts = fields.conflicts + list_conflicts
    if conflicts:
        return MergeOutcome(False, tuple(conflicts), None)
    return MergeOutcome(True, (), _apply_merge(ours_text, fields, lists))


def _merge_fields(base: Mapping[str, Any], ours: Any, theirs: Any) -> _FieldMerge:
    """Per leaf value: take theirs where ours kept the base; a conflict where both changed it."""
    flat_b, flat_o, flat_t = _flatten(base), _flatten(ours), _flatten(theirs)
    merge = _FieldMerge({}, [], [])
    for path in sorted(set(flat_b) | set(flat_o) | set(flat_t)):
        b, o, t = (flat.get(path, _ABSENT) for flat in (flat_b, flat_o, flat_t))
        if _same(o, t) or _same(b, t):
            continue
        if not _same(b, o):
            merge.conflicts.append(f"{path}: ours {_show(o)}, theirs {_show(t)} (base {_show(b)})")
        elif t is _ABSENT:
            merge.deletes.append(path)
        else:
            merge.sets[path] = t
    return merge


def _merge_append_only(
    base: Mapping[str, Any], ours: Any, theirs: Any
) -> tuple[dict[str, list[tuple[str, Any]]], list[str]]:
    """The union of both sides' approval/event lines ordered by ``at`` (for the lists theirs
    added to), and a conflict for every base line one side removed or edited."""
    lists: dict[str, list[tuple[str, Any]]] = {}
    conflicts: list[str] = []
    for name in APPEND_ONLY:
        o_items = list(ours.get(name) or [])
        t_items = list(theirs.get(name) or [])
        o_keys, t_keys = [yamlio.line_key(i) for i in o_items], [yamlio.line_key(i) for i in t_items]
        for item in base.get(name) or []:
            k = yamlio.line_key(item)
            if k not in o_keys or k not in t_keys:
                conflicts.append(f"{name}: a line of the common version was removed or edited ({k})")
        merged: list[tuple[str, Any]] = [("ours", i) for i in o_items]
        seen = set(o_keys)
        for key, item in zip(t_keys, t_items, strict=True):
            if key not in seen:
                seen.add(key)
                merged.append(("theirs", item))
        if any(side == "theirs" for side, _ in merged):
            merged.sort(key=lambda pair: str(pair[1].get("at", "")) if isinstance(pair[1], Mapping) else "")
            lists[name] = merged
    return lists, conflicts


def _apply_merge(ours_text: str, fields: _FieldMerge, lists: Mapping[str, list[tuple[str, Any]]]) -> str:
    """Our file's text with their field changes and the merged lines (our lines keep their
    exact text; theirs are written as approve/lifecycle would write them)."""
    from ruamel.yaml.comments import CommentedSeq

    doc = yamlio.RoundTrip().load(ours_text)
    originals = {name: list(doc.get(name) or []) for name in lists}
    for path, value in fields.sets.items():
        yamlio.set_in(doc, path, yamlio.round_trip_value(value))
    for path in fields.deletes:
        yamlio.delete_in(doc, path)
    for name, merged in lists.items():
        ours_nodes = iter(originals[name])
        new = CommentedSeq(
            next(ours_nodes) if side == "ours" else yamlio.flow_line(item) for side, item in merged
        )
        seq = doc.get(name)
        if isinstance(seq, CommentedSeq):
            seq.clear()
            seq.extend(new)
            if seq.fa.flow_style():
                seq.fa.set_block_style()
        else:
            doc[name] = new
    return yamlio.RoundTrip().dump(doc)


def _same(a: Any, b: Any) -> bool:
    if a is _ABSENT or b is _ABSENT:
        return a is b
    return yamlio.line_key(a) == yamlio.line_key(b)


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else yamlio.line_key(value)


def merge_driver(base: Path, ours: Path, theirs: Path, name: str | None) -> MergeOutcome:
    """git's entry point: merge into ``ours`` (%A). A conflict falls back to git's text merge
    with conflict markers, so the user sees the usual markers plus our explanation."""
    label = name or ours.name
    try:
        ours_text = ours.read_text("utf-8")
        data = [yamlio.load(p.read_bytes()) if p.stat().st_size else None for p in (base, ours, theirs)]
    except (yamlio.YamlProblem, OSError, UnicodeDecodeError) as exc:
        git.merge_file(ours, base, theirs, [f"ours:{label}", f"base:{label}", f"theirs:{label}"])
        return MergeOutcome(False, (f"{label}: cannot read a version as YAML ({exc})",), None)
    if not isinstance(data[1], Mapping) or not isinstance(data[2], Mapping):
        git.merge_file(ours, base, theirs, [f"ours:{label}", f"base:{label}", f"theirs:{label}"])
        return MergeOutcome(False, (f"{label}: a version is not a mapping",), None)
    outcome = merge_offer(data[0], data[1], data[2], ours_text)
    if outcome.clean and outcome.text is not None:
        yamlio.atomic_write(ours, outcome.text)
    else:
        git.merge_file(ours, base, theirs, [f"ours:{label}", f"base:{label}", f"theirs:{label}"])
    return outcome
