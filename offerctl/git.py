"""Every git call offerctl makes goes through this module.

git runs with a cleaned environment (no inherited ``GIT_DIR``/``GIT_INDEX_FILE`` from a hook
or an outer repository), machine-readable ``-z`` output where paths are involved, and its
failures become ``GitError`` messages that say what to do.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from offerctl.errors import GitError

# Variables a parent git process (hook, rebase -x, submodule) may leak into ours.
_LEAKY = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_PREFIX",
        "GIT_COMMON_DIR",
    }
)


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("LC_ALL", "C")
    if extra:
        env.update(extra)
    return env


def zsplit(output: str) -> list[str]:
    return [part for part in output.split("\0") if part]


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def run(
    args: Sequence[str],
    cwd: Path,
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            env=_env(env),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH", hint="install git") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        message = detail[-1] if detail else f"exit {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {message}", hint=_hint_for(message))
    return proc


def _hint_for(message: str) -> str | None:
    lowered = message.lower()
    if "not a git repository" in lowered:
        return "run offerctl inside a git repository, or `offerctl init` to create one"
    if "please tell me who you are" in lowered or "user.email" in lowered:
        return "set your identity: git config user.name 'Your Name'; git config user.email you@example.com"
    if "shallow" in lowered:
        return "fetch full history: git fetch --unshallow (in CI: fetch-depth: 0)"
    return None


def toplevel(cwd: Path) -> Path | None:
    proc = run(["rev-parse", "--show-toplevel"], cwd, check=False)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.strip())


def init(path: Path) -> None:
    run(["init", "-q", "-b", "main"], path)


def config_get(cwd: Path, key: str) -> str | None:
    proc = run(["config", "--get", key], cwd, check=False)
    value = proc.stdout.strip()
    return value or None


def config_set(cwd: Path, key: str, value: str) -> None:
    run(["config", "--local", key, value], cwd)


def identity(cwd: Path) -> Identity:
    """The current user's git identity; a clear error when none is configured."""
    email = os.environ.get("GIT_AUTHOR_EMAIL") or config_get(cwd, "user.email")
    name = os.environ.get("GIT_AUTHOR_NAME") or config_get(cwd, "user.name")
    if not email:
        raise GitError(
            "no git identity configured (user.email is not set)",
            hint="git config user.email you@example.com && git config user.name 'Your Name'",
        )
    return Identity(name or email.split("@")[0], email)


def has_commits(cwd: Path) -> bool:
    return run(["rev-parse", "-q", "--verify", "HEAD"], cwd, check=False).returncode == 0


def is_shallow(cwd: Path) -> bool:
    proc = run(["rev-parse", "--is-shallow-repository"], cwd, check=False)
    return proc.stdout.strip() == "true"


def ls_files_stage(cwd: Path, pathspecs: Sequence[str] = ()) -> dict[str, str]:
    """Map each tracked path to its blob id in the index (``git ls-files -s -z``)."""
    proc = run(["ls-files", "-s", "-z", "--", *pathspecs], cwd)
    blobs: dict[str, str] = {}
    for entry in zsplit(proc.stdout):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) >= 2:
            blobs[path] = parts[1]
    return blobs


def modified_paths(cwd: Path, pathspecs: Sequence[str] = ()) -> set[str]:
    """Paths whose working-tree content differs from the index, plus untracked files."""
    proc = run(["ls-files", "-z", "--modified", "--others", "--exclude-standard", "--", *pathspecs], cwd)
    return set(zsplit(proc.stdout))


def add(cwd: Path, paths: Iterable[str]) -> None:
    paths = list(paths)
    if paths:
        run(["add", "--", *paths], cwd)


def commit(
    cwd: Path,
    paths: Sequence[str],
    subject: str,
    *,
    author: Identity | None = None,
    body: str = "",
    trailers: Mapping[str, str] | None = None,
) -> str:
    """Stage ``paths`` and commit only them; return the new commit id.

    ``trailers`` (``Offer-Id``, ``Offer-Action`` …) let history be mined from commit
    messages in one ``git log`` pass instead of a tree diff per commit.
    """
    add(cwd, paths)
    message = subject.strip() + "\n"
    if body:
        message += "\n" + body.strip() + "\n"
    if trailers:
        message += "\n" + "".join(f"{k}: {v}\n" for k, v in trailers.items())
    args = ["commit", "-q", "--no-verify", "-F", "-"]
    if author is not None:
        args.append(f"--author={author.name} <{author.email}>")
    args += ["--", *paths]
    run(args, cwd, input=message)
    return run(["rev-parse", "HEAD"], cwd).stdout.strip()


def show_file(cwd: Path, rev: str, path: str) -> bytes | None:
    """File content at a revision (None when absent)."""
    try:
        proc = subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            cwd=cwd,
            capture_output=True,
            env=_env(),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    return proc.stdout if proc.returncode == 0 else None


def rev_parse(cwd: Path, rev: str) -> str | None:
    proc = run(["rev-parse", "-q", "--verify", f"{rev}^{{commit}}"], cwd, check=False)
    return proc.stdout.strip() or None


def stream_records(args: Sequence[str], cwd: Path, separator: str = "\x1e") -> Iterator[str]:
    """Run ``git args`` and yield its output split on ``separator`` as it arrives.

    For long ``git log`` passes: the caller parses records while git is still writing, and
    can report progress, without holding the whole output twice in memory.
    """
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH", hint="install git") from None
    assert proc.stdout is not None and proc.stderr is not None
    pending = b""
    sep = separator.encode()
    while True:
        chunk = proc.stdout.read(1 << 20)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(sep)
        for record in complete:
            yield record.decode("utf-8", "replace")
    if pending.strip():
        yield pending.decode("utf-8", "replace")
    stderr = proc.stderr.read().decode("utf-8", "replace")
    if proc.wait() != 0:
        detail = stderr.strip().splitlines()
        message = detail[-1] if detail else f"exit {proc.returncode}"
        if "does not have any commits" in message:
            return
        raise GitError(f"git {args[0]} failed: {message}", hint=_hint_for(message))


def paths_changed(cwd: Path, commits: Sequence[str], pathspec: str) -> dict[str, list[str]]:
    """For each given commit, the paths under ``pathspec`` it changed (one ``git log --stdin``)."""
    if not commits:
        return {}
    proc = run(
        [
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "--no-merges",
            "--name-only",
            "-z",
            "--format=%x01%H",
            "--",
            pathspec,
        ],
        cwd,
        input="\n".join(commits) + "\n",
    )
    changed: dict[str, list[str]] = {}
    for block in proc.stdout.split("\x01"):
        if not block.strip("\0\n"):
            continue
        head, *paths = block.split("\0")
        changed[head.strip()] = [p.strip("\n") for p in paths if p.strip("\n")]
    return changed


def file_commits(cwd: Path, path: str) -> list[str]:
    """Commits that touched ``path``, oldest first (one ``git log`` call)."""
    proc = run(["log", "--reverse", "--format=%H", "--", path], cwd, check=False)
    return proc.stdout.split() if proc.returncode == 0 else []
