"""Concurrency and durability: --push against a bare remote, the merge driver, killed processes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from offerctl.lifecycle import sync
from offerctl.store import yamlio
from tests.conftest import git

SENT = "OFF-2026-6RM1PQ9C"
REL = f"offers/{SENT}.yaml"


def offerctl(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offerctl", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def spawn(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "offerctl", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def clone(remote: Path, target: Path, email: str) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(target))
    git(target, "config", "user.email", email)
    git(target, "config", "user.name", email.split("@")[0])
    return target


def load(repo: Path, rev: str | None = None) -> dict[str, Any]:
    raw = git(repo, "show", f"{rev}:{REL}") if rev else (repo / REL).read_text()
    data = yamlio.load_text(raw)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def remote(example_repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(example_repo), str(bare))
    return bare


def test_parallel_actors_with_push_all_land(remote: Path, tmp_path: Path) -> None:
    changes = {
        "rita.ramos@acme.example": "compensation.base_salary=205000",
        "sam.lee@acme.example": "start_date=2027-01-18",
        "priya.nair@acme.example": "compensation.sign_on_bonus=25000",
    }
    clones = {who: clone(remote, tmp_path / who.split("@")[0], who) for who in changes}
    procs = [
        spawn(
            clones[who],
            "revise",
            SENT,
            "--set",
            change,
            "--reason",
            "counter-offer",
            "--push",
            "--push-retries",
            "20",
        )
        for who, change in changes.items()
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        assert "pushed to origin/main" in out
    checker = clone(remote, tmp_path / "checker", "rita.ramos@acme.example")
    data = load(checker)
    assert data["compensation"]["base_salary"] == 205000
    assert data["start_date"] == "2027-01-18"
    assert data["compensation"]["sign_on_bonus"] == 25000
    revised = [e for e in data["events"] if e["type"] == "revised"]
    assert sorted(e["by"] for e in revised) == sorted(changes)
    authors = git(checker, "log", "--format=%ae", "-3").split()
    assert sorted(authors) == sorted(changes)


def test_a_rejected_push_is_re_decided_on_the_new_remote_version(remote: Path, tmp_path: Path) -> None:
    first = clone(remote, tmp_path / "first", "sam.lee@acme.example")
    second = clone(remote, tmp_path / "second", "rita.ramos@acme.example")
    marker = tmp_path / "raced"
    hook = second / ".git" / "hooks" / "pre-push"
    # The first time `second` pushes, `first` pushes a change to the same offer just before it.
    hook.write_text(
        "#!/bin/sh\n"
        f'if [ ! -e "{marker}" ]; then\n'
        f'  touch "{marker}"\n'
        "  unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
        f'  cd "{first}" && "{sys.executable}" -m offerctl revise {SENT} --set start_date=2027-02-01 '
        '--reason "later start" --push >/dev/null || exit 1\n'
        "fi\n"
        "exit 0\n"
    )
    hook.chmod(0o755)
    result = offerctl(
        second,
        "revise",
        SENT,
        "--set",
        "compensation.base_salary=210000",
        "--reason",
        "competing offer",
        "--push",
    )
    assert result.returncode == 0, result.stderr
    assert "after 2 attempts" in result.stdout
    data = load(remote.parent / "second")
    assert data["start_date"] == "2027-02-01"
    assert data["compensation"]["base_salary"] == 210000
    revised = [e for e in data["events"] if e["type"] == "revised"]
    assert [e["by"] for e in revised] == ["sam.lee@acme.example", "rita.ramos@acme.example"]
    # The second revise was decided on the first one's result: negotiating → negotiating.
    assert (revised[1]["from"], revised[1]["to"]) == ("negotiating", "negotiating")
    assert git(remote, "rev-parse", "main") == git(second, "rev-parse", "HEAD")
    assert git(remote, "log", "--format=%s", "-2").splitlines() == [
        f"revise {SENT}: negotiating → negotiating",
        f"revise {SENT}: sent → negotiating",
    ]


def test_push_rejected_more_times_than_the_bound(remote: Path, tmp_path: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    local = clone(remote, tmp_path / "local", "rita.ramos@acme.example")
    before = git(local, "rev-parse", "HEAD")
    result = offerctl(local, "accept", SENT, "--push", "--push-retries", "3")
    assert result.returncode == 2
    # a hook's refusal is not a race: no retry can help, so the first one is final
    assert "refused the push: [remote rejected] (pre-receive hook declined)" in result.stderr
    assert "remote: branch protected" in result.stderr
    assert "nothing was pushed" in result.stderr
    assert "Traceback" not in result.stderr
    assert git(local, "rev-parse", "HEAD") == before
    assert load(local)["status"] == "sent"
    assert git(local, "status", "--porcelain") == ""


def test_push_needs_a_remote_and_a_commit(example_repo: Path) -> None:
    no_remote = offerctl(example_repo, "accept", SENT, "--push")
    assert no_remote.returncode == 2 and "no remote 'origin'" in no_remote.stderr
    both = offerctl(example_repo, "accept", SENT, "--push", "--no-commit")
    assert both.returncode == 2 and "cannot be combined" in both.stderr
    assert load(example_repo)["status"] == "sent"


# --- merge driver -----------------------------------------------------------------------------


def _branch_revise(repo: Path, branch: str, now: str, *sets: str) -> None:
    git(repo, "switch", "-q", "-c", branch, "main")
    args = [a for s in sets for a in ("--set", s)]
    result = offerctl(repo, "revise", SENT, *args, "--reason", f"from {branch}", env={"OFFERCTL_NOW": now})
    assert result.returncode == 0, result.stderr


@pytest.fixture
def merge_repo(example_repo: Path) -> Path:
    result = offerctl(example_repo, "git-setup")
    assert result.returncode == 0, result.stderr
    assert ".gitattributes now has" in result.stdout
    git(example_repo, "add", ".gitattributes")
    git(example_repo, "commit", "-qm", "merge driver")
    return example_repo


def test_two_branches_appending_to_one_offer_merge_cleanly(merge_repo: Path) -> None:
    _branch_revise(merge_repo, "pay", "2026-11-22T12:00:00Z", "compensation.base_salary=205000")
    _branch_revise(merge_repo, "date", "2026-11-22T11:00:00Z", "start_date=2027-01-18")
    git(merge_repo, "switch", "-q", "pay")
    git(merge_repo, "merge", "-q", "--no-edit", "date")
    data = load(merge_repo)
    assert data["compensation"]["base_salary"] == 205000
    assert data["start_date"] == "2027-01-18"
    revised = [e for e in data["events"] if e["type"] == "revised"]
    assert [e["reason"] for e in revised] == ["from date", "from pay"]  # ordered by `at`
    text = (merge_repo / REL).read_text()
    assert "<<<<<<<" not in text
    assert text.count("{type: revised") == 2  # still one readable line each
    check = offerctl(merge_repo, "check")
    assert check.returncode == 0, check.stdout


def test_without_the_driver_git_conflicts_on_the_same_merge(example_repo: Path) -> None:
    _branch_revise(example_repo, "pay", "2026-11-22T12:00:00Z", "compensation.base_salary=205000")
    _branch_revise(example_repo, "date", "2026-11-22T11:00:00Z", "start_date=2027-01-18")
    git(example_repo, "switch", "-q", "pay")
    proc = subprocess.run(
        ["git", "merge", "--no-edit", "date"], cwd=example_repo, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "CONFLICT" in proc.stdout


def test_real_field_conflicts_still_conflict(merge_repo: Path) -> None:
    _branch_revise(merge_repo, "a", "2026-11-22T12:00:00Z", "compensation.base_salary=205000")
    _branch_revise(merge_repo, "b", "2026-11-22T11:00:00Z", "compensation.base_salary=210000")
    git(merge_repo, "switch", "-q", "a")
    proc = subprocess.run(["git", "merge", "--no-edit", "b"], cwd=merge_repo, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "conflict: compensation.base_salary: ours 205000, theirs 210000" in proc.stderr
    assert "<<<<<<<" in (merge_repo / REL).read_text()


def test_merge_offer_unions_approval_lines_by_time() -> None:
    base = {
        "id": "X",
        "status": "pending_approval",
        "approvals": [],
        "events": [{"type": "created", "at": "1"}],
    }
    hm = {"role": "hiring_manager", "by": "sam@x.example", "at": "2026-11-20T10:00:00Z"}
    fin = {"role": "finance", "by": "fay@x.example", "at": "2026-11-20T09:00:00Z"}
    ours_text = (
        "id: X\nstatus: pending_approval\napprovals:\n"
        "  - {role: hiring_manager, by: sam@x.example, at: '2026-11-20T10:00:00Z'}\n"
        "events:\n  - {type: created, at: '1'}\n"
    )
    ours = {**base, "approvals": [hm]}
    theirs = {**base, "approvals": [fin]}
    outcome = sync.merge_offer(base, ours, theirs, ours_text)
    assert outcome.clean, outcome.conflicts
    assert outcome.text is not None
    merged = yamlio.load_text(outcome.text)
    assert merged["approvals"] == [fin, hm]
    assert (
        outcome.text.splitlines()[3] == "  - {role: finance, by: fay@x.example, at: '2026-11-20T09:00:00Z'}"
    )
    # The same line on both sides appears once.
    same = sync.merge_offer(base, ours, {**base, "approvals": [hm]}, ours_text)
    assert same.clean and same.text == ours_text
    # Removing a line of the common version is rewriting history: a conflict.
    removed = sync.merge_offer(
        {**base, "approvals": [hm]}, {**base, "approvals": [hm, fin]}, {**base}, ours_text
    )
    assert not removed.clean
    assert "approvals: a line of the common version was removed or edited" in removed.conflicts[0]


def test_init_registers_the_merge_driver(offer_repo: Path) -> None:
    assert "merge=offerctl" in (offer_repo / ".gitattributes").read_text()
    driver = git(offer_repo, "config", "--get", "merge.offerctl.driver")
    assert "-m offerctl merge-driver %O %A %B %P" in driver
    assert (
        git(offer_repo, "check-attr", "merge", "--", "offers/OFF-2026-AAAAAAAA.yaml")
        .strip()
        .endswith("merge: offerctl")
    )
    assert git(offer_repo, "ls-files", ".gitattributes").strip() == ".gitattributes"


# --- durability -------------------------------------------------------------------------------

_WRITER = """
import sys
from pathlib import Path
from offerctl.store import yamlio
path, a, b = Path(sys.argv[1]), Path(sys.argv[2]).read_text(), Path(sys.argv[3]).read_text()
print("ready", flush=True)
while True:
    yamlio.atomic_write(path, a)
    yamlio.atomic_write(path, b)
"""


def test_a_killed_writer_leaves_the_file_old_or_new(example_repo: Path, tmp_path: Path) -> None:
    # The example copy has no .gitignore: `git-setup` excludes temp files in .git/info/exclude.
    assert offerctl(example_repo, "git-setup").returncode == 0
    git(example_repo, "add", ".gitattributes")
    git(example_repo, "commit", "-qm", "merge driver")
    path = example_repo / REL
    old = path.read_text()
    new = old.replace("base_salary: 195000", "base_salary: 205000") + "notes: revised\n" * 200
    (tmp_path / "a").write_text(old)
    (tmp_path / "b").write_text(new)
    rng = random.Random(5)
    for _ in range(15):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(tmp_path / "a"), str(tmp_path / "b")],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.001, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert path.read_text() in (old, new)
    status = git(example_repo, "status", "--porcelain", "--untracked-files=all")
    assert ".offerctl-tmp" not in status  # stray temp files (if any) are ignored by git
    assert set(status.split()) <= {"M", REL}


def test_a_killed_command_leaves_the_offer_old_or_new(example_repo: Path) -> None:
    assert offerctl(example_repo, "git-setup").returncode == 0
    git(example_repo, "add", ".gitattributes")
    git(example_repo, "commit", "-qm", "merge driver")
    path = example_repo / REL
    old = path.read_text()
    start = git(example_repo, "rev-parse", "HEAD").strip()
    rng = random.Random(7)
    outcomes = set()
    for _ in range(8):
        proc = spawn(
            example_repo, "revise", SENT, "--set", "compensation.base_salary=205000", "--reason", "kill test"
        )
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        text = path.read_text()
        data = yamlio.load_text(text)  # never half a file
        assert data["compensation"]["base_salary"] in (195000, 205000)
        outcomes.add(data["compensation"]["base_salary"])
        status = git(example_repo, "status", "--porcelain", "--untracked-files=all")
        assert ".offerctl-tmp" not in status
        # Back to the start for the next round (a kill inside `git commit` may leave its lock).
        (example_repo / ".git" / "index.lock").unlink(missing_ok=True)
        git(example_repo, "reset", "-q", "--hard", start)
        assert path.read_text() == old
    assert outcomes  # at least one round observed


def test_catch_up_fast_forwards_before_an_outside_effect(remote: Path, tmp_path: Path) -> None:
    from offerctl.store.repo import open_repo

    first = clone(remote, tmp_path / "first", "sam.lee@acme.example")
    second = clone(remote, tmp_path / "second", "rita.ramos@acme.example")
    result = offerctl(first, "revise", SENT, "--set", "start_date=2027-02-01", "--reason", "later", "--push")
    assert result.returncode == 0, result.stderr
    sync.catch_up(open_repo(second))
    assert load(second)["start_date"] == "2027-02-01"
    # Diverged (a local commit the remote lacks, and the remote moved on): refuse, do nothing.
    git(second, "commit", "-q", "--allow-empty", "-m", "local only")
    assert offerctl(first, "accept", SENT, "--push").returncode == 1  # negotiating: not acceptable
    assert offerctl(first, "decline", SENT, "--reason", "personal", "--push").returncode == 0
    with pytest.raises(Exception, match="have diverged"):
        sync.catch_up(open_repo(second))
    assert load(second)["status"] == "negotiating"


@pytest.mark.parametrize(
    "args",
    [
        ["approve", "OFF-2026-5NB2RC8P"],
        ["reject", "OFF-2026-5NB2RC8P", "--comment", "no"],
        ["submit", "OFF-2026-3QX7M2KD"],
        ["edit", "OFF-2026-3QX7M2KD", "--set", "role.title=X"],
        ["accept", SENT],
        ["expire"],
        ["send", SENT, "--via", "manual"],
    ],
    ids=lambda args: args[0],
)
def test_push_and_no_commit_is_one_error_everywhere(example_repo: Path, cli: Any, args: list[str]) -> None:
    """One --push/--no-commit contract for every mutating command (issue 14)."""
    head = git(example_repo, "rev-parse", "HEAD")
    result = cli(*args, "--push", "--no-commit", cwd=example_repo)
    assert result.code == 2, result.err
    assert "--push and --no-commit cannot be combined" in result.err
    assert "drop --no-commit" in result.err
    assert git(example_repo, "rev-parse", "HEAD") == head
    assert git(example_repo, "status", "--porcelain") == ""


def test_every_mutating_command_reports_pushed_in_one_shape(remote: Path, tmp_path: Path) -> None:
    """`--push --format json` gives the same `pushed` object whichever command ran (issue 14)."""
    work = clone(remote, tmp_path / "work", "rita.ramos@acme.example")
    env = {"OFFERCTL_NOW": "2026-11-22T10:00:00Z"}
    commands = [
        ["edit", "OFF-2026-3QX7M2KD", "--set", "role.title=Staff Engineer"],
        ["submit", "OFF-2026-3QX7M2KD"],
        ["accept", SENT],
        ["send", "OFF-2026-2WF8JT4M", "--via", "manual"],
    ]
    for args in commands:
        result = offerctl(work, *args, "--push", "--format", "json", env=env)
        assert result.returncode == 0, (args, result.stderr)
        assert json.loads(result.stdout)["pushed"] == {"remote": "origin", "branch": "main", "attempts": 1}
    approver = clone(remote, tmp_path / "approver", "sam.lee@acme.example")
    approved = offerctl(approver, "approve", "OFF-2026-3QX7M2KD", "--push", "--format", "json", env=env)
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["pushed"] == {"remote": "origin", "branch": "main", "attempts": 1}
    assert git(remote, "rev-parse", "main") == git(approver, "rev-parse", "HEAD")
