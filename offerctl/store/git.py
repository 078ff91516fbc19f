"""Every git call offerctl makes goes through this module.

git runs with a cleaned environment (no inherited ``GIT_DIR``/``GIT_INDEX_FILE`` from a hook
or an outer repository), machine-readable ``-z`` output where paths are involved, and its
failures become ``GitError`` messages that say what to do.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from offerctl.core.errors import GitError

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
        message = git_words(proc.stderr or proc.stdout) or f"exit {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {message}", hint=_hint_for(message))
    return proc


def _start(args: Sequence[str], cwd: Path) -> subprocess.Popen[str]:
    """Start git without waiting (for listings that can run side by side); see ``_finish``."""
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH", hint="install git") from None


def _finish(proc: subprocess.Popen[str], what: str) -> str:
    out, err = proc.communicate()
    if proc.returncode != 0:
        message = git_words(err or out) or f"exit {proc.returncode}"
        raise GitError(f"git {what} failed: {message}", hint=_hint_for(message))
    return out


_NOISE = re.compile(r"^(?:hint:|To |Done$|Everything up-to-date$|From )")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LABELLED = re.compile(r"^(?:[A-Za-z][\w -]{0,30}:|\[)")


def git_words(output: str, *, limit: int = 12) -> str:
    """What git (and the server, ``remote:``) said about a failure, whole: every line that
    carries meaning, in order, joined with "; ". Taking only the last line printed "Done"
    for a push a server hook refused, and "…and the repository exists." for a fetch.
    Porcelain rejection lines (``!<TAB>ref<TAB>[remote rejected] (reason)``) keep their
    reason; ``hint:`` lines, ``To …`` and ``Done`` are dropped; control characters a server
    sends are removed."""
    lines: list[str] = []
    for raw in _ANSI.sub("", output).splitlines():
        line = "".join(ch for ch in raw if ch.isprintable() or ch == "\t").strip()
        if not line or _NOISE.match(line):
            continue
        if line.startswith("!\t") or line.startswith("!"):
            line = line.split("\t")[-1].strip()
        line = line.replace("\t", " ")
        if lines and not _LABELLED.match(line):  # a sentence git wrapped onto the next line
            lines[-1] = f"{lines[-1]} {line}"
        elif line not in lines:
            lines.append(line)
    joined = "; ".join(lines[:limit]) + ("; …" if len(lines) > limit else "")
    return joined if len(joined) <= 2000 else joined[:1999] + "…"


def refused_for_good(message: str) -> bool:
    """A push the server refuses by rule (a hook, a protected branch, no permission):
    retrying on a newer tip cannot help, unlike a race with another pusher."""
    lowered = message.lower()
    return any(
        word in lowered
        for word in ("hook declined", "protected branch", "permission", "denied", "not allowed", "forbidden")
    )


def _hint_for(message: str) -> str | None:
    lowered = message.lower()
    if "no space left" in lowered or "out of diskspace" in lowered or "disk quota" in lowered:
        return "the disk is full: free some space and run the command again; nothing was committed"
    if "couldn't write" in lowered or "unable to write" in lowered or "write error" in lowered:
        return (
            "git could not write to .git: the disk may be full (df -h) or the directory read-only; "
            "fix that and run the command again; nothing was committed"
        )
    if "not a git repository" in lowered:
        return "run offerctl inside a git repository, or `offerctl init` to create one"
    if "please tell me who you are" in lowered or "user.email" in lowered:
        return "set your identity: git config user.name 'Your Name'; git config user.email you@example.com"
    if "index.lock" in lowered:
        return "another git process is running, or one was killed: if none runs, delete .git/index.lock"
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


def history_key(cwd: Path) -> str | None:
    """The commit at HEAD, or None when there is none or the clone is shallow (its history
    can grow under the same HEAD): what a result computed from ``git log`` depends on."""
    proc = run(["rev-parse", "--is-shallow-repository", "--verify", "-q", "HEAD"], cwd, check=False)
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != 2 or lines[0] != "false":
        return None
    return lines[1]


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


def uncommitted(cwd: Path, rel: str) -> str | None:
    """How one file differs from HEAD: None when the working tree and the index both equal
    HEAD for it; otherwise ``untracked`` (not in HEAD: untracked, ignored, or only added to
    the index), ``staged``, ``modified`` or ``staged and modified`` (``git status
    --porcelain=v1 -z``)."""
    # GIT_OPTIONAL_LOCKS=0: a read-only question never rewrites the index (no race with the
    # user's own git, and nothing to write on a full disk or under a file-size limit)
    proc = run(
        ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching", "--", rel],
        cwd,
        env={"GIT_OPTIONAL_LOCKS": "0"},
    )
    entries = zsplit(proc.stdout)
    if not entries:
        return None
    code = entries[0][:2]
    if code in ("??", "!!") or code[0] == "A":
        return "untracked"
    staged, modified = code[0] not in " ?", code[1] not in " ?"
    if staged and modified:
        return "staged and modified"
    return "staged" if staged else "modified"


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
    trailers: Mapping[str, str | Sequence[str]] | None = None,
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
        message += "\n" + "".join(
            f"{k}: {v}\n" for k, vs in trailers.items() for v in ([vs] if isinstance(vs, str) else vs)
        )
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


# --- lifecycle: history, sync, merge ------------------------------------------------------


def current_branch(cwd: Path) -> str | None:
    proc = run(["symbolic-ref", "-q", "--short", "HEAD"], cwd, check=False)
    return proc.stdout.strip() or None


def remote_for(cwd: Path, branch: str) -> str:
    """The branch's configured remote, else ``origin``."""
    return config_get(cwd, f"branch.{branch}.remote") or "origin"


def head(cwd: Path) -> str | None:
    return rev_parse(cwd, "HEAD")


def fetch(cwd: Path, remote: str, branch: str) -> str | None:
    """Fetch one branch; the remote tip's commit id (None when the remote has no such branch)."""
    proc = run(
        ["fetch", "-q", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"], cwd, check=False
    )
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip()
        if "couldn't find remote ref" in message.lower():
            return None
        detail = git_words(message) or f"exit {proc.returncode}"
        raise GitError(f"git fetch {remote} failed: {detail}", hint="check the remote URL and your access")
    return rev_parse(cwd, f"refs/remotes/{remote}/{branch}")


def is_ancestor(cwd: Path, ancestor: str, descendant: str) -> bool:
    return run(["merge-base", "--is-ancestor", ancestor, descendant], cwd, check=False).returncode == 0


def reset_keep(cwd: Path, rev: str) -> None:
    """Move the branch to ``rev`` keeping uncommitted changes (refuses to overwrite them)."""
    run(["reset", "-q", "--keep", rev], cwd)


def push(cwd: Path, remote: str, branch: str) -> tuple[bool, str]:
    """Push HEAD to ``remote``'s ``branch`` (never forced); (accepted, git's message)."""
    proc = run(["push", "--porcelain", remote, f"HEAD:refs/heads/{branch}"], cwd, check=False)
    # The porcelain status line (with the reason) first, then what the server said.
    message = git_words(proc.stdout + "\n" + proc.stderr)
    return proc.returncode == 0, message


def refresh_path_filters(cwd: Path) -> None:
    """Bring git's commit-graph up to date with changed-path Bloom filters, so that ``git log
    -- <file>`` skips every commit that did not touch the file without reading its trees
    (one offer's history at 61k commits: ~0.8 s of git CPU without, ~0.07 s with).

    The graph is git's own cache (``.git/objects/info/commit-graphs``, what ``git gc`` and
    ``git maintenance`` write): ``--split`` adds a layer for the commits it does not cover
    yet (~10 ms when nothing is new; ~3.5 s once for 61k commits). Skipped in a shallow
    clone (git ignores the graph there) and when ``core.commitGraph`` is false; a failure
    (read-only .git, another git writing the graph) changes nothing but the speed."""
    proc = run(["rev-parse", "--is-shallow-repository"], cwd, check=False)
    if proc.returncode != 0 or proc.stdout.strip() != "false":
        return
    if run(["config", "--bool", "core.commitGraph"], cwd, check=False).stdout.strip() == "false":
        return
    run(
        ["commit-graph", "write", "--reachable", "--changed-paths", "--split", "--no-progress"],
        cwd,
        check=False,
    )


def log_file(cwd: Path, rel: str) -> list[tuple[str, str, str, str, str]]:
    """Commits that changed one file, oldest first: (commit, author name, email, author date, subject)."""
    fmt = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e"
    proc = run(["log", "--reverse", f"--format={fmt}", "--", rel], cwd)
    rows = []
    for record in proc.stdout.split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) == 5:
            rows.append((parts[0], parts[1], parts[2], parts[3], parts[4]))
    return rows


def read_blobs(cwd: Path, specs: Sequence[str]) -> list[bytes | None]:
    """Contents of many ``rev:path`` objects in one ``git cat-file --batch`` process."""
    if not specs:
        return []
    try:
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=cwd,
            input="".join(f"{s}\n" for s in specs).encode("utf-8"),
            capture_output=True,
            env=_env(),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    out = proc.stdout
    results: list[bytes | None] = []
    pos = 0
    for _ in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode("utf-8", "replace")
        pos = end + 1
        if header.endswith(" missing") or header.endswith(" ambiguous"):
            results.append(None)
            continue
        size = int(header.rsplit(" ", 1)[1])
        results.append(out[pos : pos + size])
        pos += size + 1
    return results


def trailer_log(cwd: Path) -> list[tuple[str, str, str]]:
    """(commit, Offer-Id, Offer-Action) of every commit carrying both trailers, newest first."""
    fmt = (
        "%H%x1f%(trailers:key=Offer-Id,valueonly,separator=%x2c)"
        "%x1f%(trailers:key=Offer-Action,valueonly,separator=%x2c)%x1e"
    )
    proc = run(["log", f"--format={fmt}"], cwd, check=False)
    rows = []
    for record in proc.stdout.split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) == 3 and parts[1].strip() and parts[2].strip():
            # one commit may carry several Offer-Id trailers (rekey, erase --expired)
            for offer_id in parts[1].split(","):
                if offer_id.strip():
                    rows.append((parts[0], offer_id.strip(), parts[2].strip()))
    return rows


def hash_files(cwd: Path, paths: Sequence[str]) -> list[str]:
    """Blob ids of working-tree files (``git hash-object --stdin-paths``), one process."""
    if not paths:
        return []
    proc = run(["hash-object", "--stdin-paths"], cwd, input="".join(f"{p}\n" for p in paths))
    return proc.stdout.split()


def merge_file(current: Path, base: Path, other: Path, labels: Sequence[str]) -> int:
    """``git merge-file``: writes a text merge with conflict markers into ``current``."""
    args = ["merge-file"]
    for label in labels[:3]:
        args += ["-L", label]
    args += [str(current), str(base), str(other)]
    return run(args, current.parent, check=False).returncode


def file_versions(cwd: Path, pathspec: str) -> dict[str, list[tuple[str, str]]]:
    """Every version of every file under ``pathspec``, oldest first, from ONE ``git log
    --raw`` pass: ``{path: [(commit, blob id), ...]}`` (deletions omitted)."""
    proc = run(
        ["log", "--reverse", "--no-renames", "--raw", "--no-abbrev", "--format=@%H", "--", pathspec],
        cwd,
        check=False,
    )
    versions: dict[str, list[tuple[str, str]]] = {}
    commit = ""
    for line in proc.stdout.splitlines():
        if line.startswith("@"):
            commit = line[1:]
        elif line.startswith(":"):
            meta, _, path = line.partition("\t")
            parts = meta.split()
            if len(parts) >= 5 and not parts[4].startswith("D"):
                versions.setdefault(path, []).append((commit, parts[3]))
    return versions


def blob_ids(cwd: Path, specs: Sequence[str]) -> list[str | None]:
    """Object ids of many ``rev:path`` specs in one ``git cat-file --batch-check`` process."""
    if not specs:
        return []
    proc = run(["cat-file", "--batch-check=%(objectname)"], cwd, input="".join(f"{s}\n" for s in specs))
    ids: list[str | None] = []
    for line in proc.stdout.splitlines():
        ids.append(None if line.endswith(" missing") or line.endswith(" ambiguous") else line.strip())
    return ids


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
        message = git_words(stderr) or f"exit {proc.returncode}"
        if "does not have any commits" in message:
            return
        raise GitError(f"git {args[0]} failed: {message}", hint=_hint_for(message))


class Capture:
    """A git command whose output goes to a temporary file while the caller does other work
    (``report`` reads offers while ``git log`` runs on another core); ``records`` waits for
    it and splits the output like ``stream_records``."""

    def __init__(self, args: Sequence[str], cwd: Path) -> None:
        import tempfile

        self.args = list(args)
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - outlives __init__; closed by records()
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - as above
        try:
            self._proc = subprocess.Popen(
                ["git", *self.args], cwd=cwd, stdout=self._out, stderr=self._err, env=_env()
            )
        except FileNotFoundError:
            self.close()
            raise GitError("git is not installed or not on PATH", hint="install git") from None

    def close(self) -> None:
        self._out.close()
        self._err.close()

    def records(self, separator: str = "\x1e") -> Iterator[str]:
        try:
            code = self._proc.wait()
            if code != 0:
                self._err.seek(0)
                detail = self._err.read().decode("utf-8", "replace").strip().splitlines()
                message = detail[-1] if detail else f"exit {code}"
                if "does not have any commits" in message:
                    return
                raise GitError(f"git {self.args[0]} failed: {message}", hint=_hint_for(message))
            self._out.seek(0)
            pending = b""
            sep = separator.encode()
            while chunk := self._out.read(1 << 20):
                pending += chunk
                *complete, pending = pending.split(sep)
                for record in complete:
                    yield record.decode("utf-8", "replace")
            if pending.strip():
                yield pending.decode("utf-8", "replace")
        finally:
            self.close()


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


def git_path(cwd: Path, name: str) -> Path | None:
    """``$GIT_DIR/<name>`` for the repository at ``cwd`` (per worktree); None outside git."""
    proc = run(["rev-parse", "--git-path", name], cwd, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    path = Path(proc.stdout.strip())
    return path if path.is_absolute() else cwd / path


def blob_id(content: bytes) -> str:
    """The id git gives ``content`` as a blob (what ``git hash-object`` prints)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def content_ids(cwd: Path, rels: Sequence[str], pathspecs: Sequence[str] = ()) -> dict[str, str]:
    """A content id for each path (relative to ``cwd``) without reading unchanged files.

    Tracked files that are unmodified in the working tree get their blob id from the index
    (``git ls-files -s``, milliseconds for 10k files); modified, untracked or ignored files
    are read and hashed the same way git would.
    """
    # Both listings at once: the second one stats every file, the first reads the index.
    changed_proc = _start(
        ["ls-files", "-z", "--modified", "--others", "--exclude-standard", "--", *pathspecs], cwd
    )
    proc = run(["ls-files", "-s", "-z", "--", *pathspecs], cwd)
    changed = set(zsplit(_finish(changed_proc, "ls-files")))
    staged: dict[str, str] = {}
    conflicted: set[str] = set()
    for entry in zsplit(proc.stdout):
        meta, _, path = entry.partition("\t")
        parts = meta.split()  # mode, blob, stage
        if len(parts) == 3 and parts[2] == "0":
            staged[path] = parts[1]
        else:
            conflicted.add(path)
    changed |= conflicted
    ids: dict[str, str] = {}
    for rel in rels:
        blob = staged.get(rel)
        if blob is None or rel in changed:
            try:
                blob = blob_id((cwd / rel).read_bytes())
            except OSError:
                continue
        ids[rel] = blob
    return ids


# --- history, for verifying approvals and events (offerctl.checks.trust) ----------------------

NULL_BLOB = "0" * 40


@dataclass(frozen=True)
class FileChange:
    """One commit's change to one file, as ``git log --raw -c`` reports it.

    ``old_blobs`` has one blob id per parent (``NULL_BLOB`` where the file did not exist);
    a merge commit appears only when its result differs from every parent.
    """

    commit: str
    author_name: str
    author_email: str
    author_date: str
    path: str
    old_blobs: tuple[str, ...]
    new_blob: str
    commit_date: str = ""
    """The committer date (ISO 8601): the witness an approval's ``at`` is compared with."""

    @property
    def is_merge(self) -> bool:
        return len(self.old_blobs) > 1


def file_changes(cwd: Path, pathspecs: Sequence[str], *, revisions: str = "HEAD") -> list[FileChange]:
    """Every change to files under ``pathspecs`` in ``revisions`` (``HEAD`` or ``BASE..HEAD``),
    oldest first, in ONE ``git log`` process.

    History simplification is git's default: a merge whose result equals one parent is
    followed through that parent only, because the content came from there. Renames are not
    followed (``--no-renames``): an offer file keeps its path for life.
    """
    proc = run(
        [
            "log",
            "--reverse",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-c",
            "-z",
            "--format=%x01%H%x00%an%x00%ae%x00%aI%x00%cI%x00%P",
            revisions,
            "--",
            *pathspecs,
        ],
        cwd,
    )
    changes: list[FileChange] = []
    for chunk in proc.stdout.split("\x01"):
        if not chunk.strip("\0\n"):
            continue
        tokens = chunk.split("\0")
        if len(tokens) < 6:
            continue
        commit, name, email, date, committed = tokens[0], tokens[1], tokens[2], tokens[3], tokens[4]
        rest = [t.strip("\n") for t in tokens[6:]]
        i = 0
        while i < len(rest):
            meta = rest[i]
            if not meta.startswith(":"):
                i += 1
                continue
            path = rest[i + 1] if i + 1 < len(rest) else ""
            i += 2
            fields = meta.lstrip(":").split()
            parents = meta.count(":", 0, len(meta) - len(meta.lstrip(":")))
            blobs = [f for f in fields if len(f) in (40, 64) and all(c in "0123456789abcdef" for c in f)]
            if len(blobs) != parents + 1:
                continue
            changes.append(
                FileChange(commit, name, email.lower(), date, path, tuple(blobs[:-1]), blobs[-1], committed)
            )
    return changes


@dataclass(frozen=True)
class Deletion:
    """A commit that deleted a file, with the trailers that may declare why."""

    commit: str
    author_email: str
    path: str
    offer_ids: tuple[str, ...]
    actions: tuple[str, ...]


def deletions(cwd: Path, pathspecs: Sequence[str], *, revisions: str = "HEAD") -> list[Deletion]:
    """Every file deletion under ``pathspecs`` in ``revisions`` (renames are a deletion plus
    an addition: ``--no-renames``), oldest first, with each commit's ``Offer-Id`` and
    ``Offer-Action`` trailers; ONE ``git log`` process."""
    proc = run(
        [
            "log",
            "--reverse",
            "--no-renames",
            "--diff-filter=D",
            "--name-only",
            "-z",
            "--format=%x01%H%x00%ae%x00%(trailers:key=Offer-Id,valueonly,separator=%x2c)%x00"
            "%(trailers:key=Offer-Action,valueonly,separator=%x2c)%x00",
            revisions,
            "--",
            *pathspecs,
        ],
        cwd,
    )
    out: list[Deletion] = []
    for chunk in proc.stdout.split("\x01"):
        tokens = chunk.split("\0")
        if len(tokens) < 5:
            continue
        commit, email, ids, actions = tokens[0], tokens[1], tokens[2], tokens[3]
        for path in tokens[4:]:
            path = path.strip("\n")
            if path:
                out.append(Deletion(commit, email.lower(), path, _values(ids), _values(actions)))
    return out


def _values(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def cat_blobs(cwd: Path, blob_ids: Iterable[str]) -> dict[str, bytes]:
    """The content of many blobs in ONE ``git cat-file --batch`` process."""
    wanted = sorted({b for b in blob_ids if b and b.strip("0")})
    if not wanted:
        return {}
    try:
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=cwd,
            input=("\n".join(wanted) + "\n").encode("ascii"),
            capture_output=True,
            env=_env(),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
    out, pos, blobs = proc.stdout, 0, {}
    while pos < len(out):
        end = out.index(b"\n", pos)
        header = out[pos:end].decode("ascii", "replace").split()
        pos = end + 1
        if len(header) < 3 or header[1] == "missing":
            continue
        size = int(header[2])
        blobs[header[0]] = out[pos : pos + size]
        pos += size + 1
    return blobs


def tree_blobs(cwd: Path, rev: str, pathspecs: Sequence[str]) -> dict[str, str]:
    """Map each file under ``pathspecs`` at ``rev`` to its blob id (``git ls-tree -r -z``)."""
    proc = run(["ls-tree", "-r", "-z", "--full-tree", rev, "--", *pathspecs], cwd)
    blobs: dict[str, str] = {}
    for entry in zsplit(proc.stdout):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) >= 3 and parts[1] == "blob":
            blobs[path] = parts[2]
    return blobs


def changed_since(cwd: Path, ref: str) -> list[str]:
    """Paths changed between the merge base of ``ref`` and HEAD (``git diff REF...HEAD``)."""
    proc = run(["diff", "--name-only", "--no-renames", "-z", f"{ref}...HEAD"], cwd)
    return zsplit(proc.stdout)


def require_commit(cwd: Path, ref: str, option: str) -> str:
    """The commit id ``ref`` names; a usage error saying how to fetch it when it is unknown."""
    commit = rev_parse(cwd, ref)
    if commit is None:
        raise GitError(
            f"{option} {ref}: no such commit in this clone",
            hint=f"fetch it first (e.g. `git fetch origin {ref.removeprefix('origin/')}`); "
            "in GitHub Actions use actions/checkout with fetch-depth: 0",
        )
    return commit


def grep_files(cwd: Path, needles: Iterable[str], pathspecs: Sequence[str]) -> list[str]:
    """Tracked files under ``pathspecs`` (working tree) containing any of ``needles``
    (fixed strings), in ONE ``git grep`` process."""
    patterns = sorted({n for n in needles if n})
    if not patterns:
        return []
    proc = run(
        ["grep", "-z", "-l", "-F", "--no-color", "-f", "-", "--", *pathspecs],
        cwd,
        input="\n".join(patterns) + "\n",
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise GitError(f"git grep failed: {proc.stderr.strip()}")
    return zsplit(proc.stdout)
