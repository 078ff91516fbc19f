#!/usr/bin/env python3
"""Time offerctl against its peers on one generated repository, in one run.

    python benchmarks/run.py [--offers 10000] [--runs 5]

Every step runs ``--runs`` times, the steps interleaved round by round (so a busy machine
slows peers and offerctl alike), and the table shows medians and the ratios the targets of
issue 8 are stated in. Steps whose command does not exist yet on this branch (``status``,
``report``, ``check --changed-since``) print "not available" instead of failing.

The repository is built by ``benchmarks/make_repo.py`` under ``benchmarks/_work/`` (reused
when it exists; ``--rebuild`` makes it again).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

READ_ALL = """
import os, sys
total = 0
for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    for name in filenames:
        if name.endswith(".yaml"):
            with open(os.path.join(dirpath, name), "rb") as handle:
                total += len(handle.read())
print(total)
"""

PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@dataclass
class Step:
    name: str
    argv: list[str] | None  # None: not available
    note: str = ""
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    codes: set[int] = field(default_factory=set)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def median_cpu(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None


def offerctl_argv() -> list[str]:
    script = BIN / "offerctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "offerctl"]


def has_command(repo: Path, *args: str) -> bool:
    proc = subprocess.run(
        [*offerctl_argv(), *args, "--help"], cwd=repo, capture_output=True, text=True, check=False
    )
    return proc.returncode == 0


def check_has_flag(repo: Path, flag: str) -> bool:
    proc = subprocess.run(
        [*offerctl_argv(), "check", "--help"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"},
    )
    return flag in proc.stdout


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def time_once(step: Step, repo: Path) -> None:
    if step.argv is None:
        return
    if step.before:
        step.before()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(step.argv, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    step.times.append(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # user + system CPU of the command and every process it waited for (pool workers too)
    step.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    step.codes.add(proc.returncode)
    if step.after:
        step.after()


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="generate the repository again")
    parser.add_argument("--repo", type=Path, help="use this repository instead of generating one")
    parser.add_argument(
        "--only",
        help="comma-separated step keys to run (pass,help,floor,cold,warm,peer,changed,gitlog,"
        "report_cold,report,status); targets of skipped steps show —",
    )
    args = parser.parse_args(argv)

    repo = (args.repo or HERE / "_work" / f"repo-{args.offers}").resolve()
    if args.rebuild or not (repo / "offerctl.yaml").exists():
        sys.path.insert(0, str(HERE))
        import make_repo

        started = time.perf_counter()
        counts = make_repo.build(args.offers, repo)
        print(
            f"generated {counts['offers']} offers, {counts['commits']} commits "
            f"in {time.perf_counter() - started:.1f} s (benchmarks/make_repo.py)",
            file=sys.stderr,
        )
    offers = sum(1 for _ in (repo / "offers").rglob("*.yaml"))
    commits = int(git(repo, "rev-list", "--count", "HEAD").strip())
    work = HERE / "_work"
    work.mkdir(exist_ok=True)
    schema_file = work / "offer.schema.json"
    schema_file.write_text(
        subprocess.run(
            [*offerctl_argv(), "schema", "offer"], check=True, capture_output=True, text=True
        ).stdout
    )
    files = sorted(str(p.relative_to(repo)) for p in (repo / "offers").rglob("*.yaml"))
    cache_dir = Path(git(repo, "rev-parse", "--absolute-git-dir").strip()) / "offerctl-cache"

    def clear_cache() -> None:
        shutil.rmtree(cache_dir, ignore_errors=True)

    def clear_report_cache() -> None:
        for stale in cache_dir.glob("report-*.json"):
            stale.unlink()

    oc = offerctl_argv()
    peer = BIN / "check-jsonschema"
    one = repo / files[len(files) // 2]
    original = one.read_bytes()

    def touch_one() -> None:
        one.write_bytes(original + b"# edited by benchmarks/run.py\n")

    def restore_one() -> None:
        one.write_bytes(original)

    steps = {
        "pass": Step("python -c pass", [sys.executable, "-c", "pass"]),
        "help": Step("offerctl --help", [*oc, "--help"]),
        "floor": Step(
            "read every offer file (python, incl. start-up)", [sys.executable, "-c", READ_ALL, "offers"]
        ),
        "cold": Step("offerctl check, cold (no cache)", [*oc, "check"], before=clear_cache),
        "warm": Step("offerctl check, warm (nothing changed)", [*oc, "check"]),
        "peer": Step(
            "check-jsonschema, same files, schema from `offerctl schema offer`",
            [str(peer), "--schemafile", str(schema_file), *files] if peer.exists() else None,
            "" if peer.exists() else "not available: pip install -e '.[bench]'",
        ),
        "changed": Step(
            "offerctl check --changed-since HEAD, one offer changed",
            [*oc, "check", "--changed-since", "HEAD"] if check_has_flag(repo, "--changed-since") else None,
            ""
            if check_has_flag(repo, "--changed-since")
            else "not available: `check --changed-since` is not on this branch",
            before=touch_one,
            after=restore_one,
        ),
        "gitlog": Step(
            "git log, metadata only (one pass)", ["git", "log", "--format=%H %ae %aI %s", "--no-patch"]
        ),
        "report_cold": Step(
            "offerctl report --format json, cold (no report cache)",
            [*oc, "report", "--format", "json"] if has_command(repo, "report") else None,
            "" if has_command(repo, "report") else "not available: no `report` command on this branch",
            before=clear_report_cache,
        ),
        "report": Step(
            "offerctl report --format json, warm (nothing changed)",
            [*oc, "report", "--format", "json"] if has_command(repo, "report") else None,
            "" if has_command(repo, "report") else "not available: no `report` command on this branch",
        ),
        "status": Step(
            "offerctl status",
            [*oc, "status"] if has_command(repo, "status") else None,
            "" if has_command(repo, "status") else "not available: no `status` command on this branch",
        ),
    }
    if args.only:
        wanted = {k.strip() for k in args.only.split(",")}
        unknown = wanted - set(steps)
        if unknown:
            parser.error(f"--only: unknown step(s) {', '.join(sorted(unknown))}")
        steps = {k: (v if k in wanted else Step(v.name, None, "not run (--only)")) for k, v in steps.items()}
    load_before = os.getloadavg()
    subprocess.run([*oc, "check"], cwd=repo, stdout=subprocess.DEVNULL, check=False)  # warm the page cache
    for round_no in range(args.runs):
        for key, step in steps.items():
            time_once(step, repo)
            print(
                f"round {round_no + 1}/{args.runs}: {key} {fmt(step.times[-1]) if step.times else '—'}",
                file=sys.stderr,
            )
    clear_cache()
    rss = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *oc, "check"], cwd=repo, capture_output=True, text=True, check=True
    )
    peak_mb = int(rss.stdout.strip()) / 1024
    rss_serial = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *oc, "check", "--jobs", "1", "--no-cache"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    peak_serial_mb = int(rss_serial.stdout.strip()) / 1024
    load_after = os.getloadavg()

    m = {k: s.median for k, s in steps.items()}
    rows: list[tuple[str, str, str, str, str]] = []

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("met" if ok else "NOT met")

    for step in steps.values():
        note = step.note
        if step.codes and step.codes - {0}:
            note = (note + "; " if note else "") + f"exit {sorted(step.codes)}"
        rows.append((step.name, fmt(step.median), fmt(step.median_cpu), "", note))

    def ratio(a: str, b: str) -> float | None:
        return m[a] / m[b] if m[a] is not None and m[b] is not None and m[b] > 0 else None

    targets: list[tuple[str, str, str, str]] = []
    r = ratio("peer", "cold")
    peer_cpu, cold_cpu = steps["peer"].median_cpu, steps["cold"].median_cpu
    cpu_ratio = f"; CPU time {peer_cpu / cold_cpu:.1f}x" if peer_cpu and cold_cpu else ""
    targets.append(
        (
            "check cold vs check-jsonschema",
            f"{r:.2f}x faster{cpu_ratio}" if r else "—",
            "≥ 6x faster",
            verdict(r >= 6 if r else None),
        )
    )
    r = ratio("warm", "floor")
    targets.append(
        (
            "check warm / (read all files + start-up)",
            f"{r:.2f}x" if r else "—",
            "≤ 2x",
            verdict(r <= 2 if r else None),
        )
    )
    c = m["changed"]
    targets.append(
        (
            "check --changed-since, one offer changed",
            fmt(c),
            "< 1 s",
            verdict(c < 1 if c is not None else None),
        )
    )
    r = ratio("report_cold", "gitlog")
    targets.append(
        (
            "report, cold / one metadata-only git log pass",
            f"{r:.2f}x" if r else "—",
            "(≤ 3x)",
            verdict(r <= 3 if r else None),
        )
    )
    r = ratio("report", "gitlog")
    targets.append(
        (
            "report, warm / one metadata-only git log pass",
            f"{r:.2f}x" if r else "—",
            "≤ 3x",
            verdict(r <= 3 if r else None),
        )
    )
    d = (m["help"] - m["pass"]) if m["help"] is not None and m["pass"] is not None else None
    targets.append(
        (
            "offerctl --help minus python -c pass",
            fmt(d),
            "≤ 150 ms",
            verdict(d <= 0.15 if d is not None else None),
        )
    )
    targets.append(
        (
            "peak RSS of check (largest process; pool workers included)",
            f"{peak_mb:.0f} MB",
            "< 300 MB",
            verdict(peak_mb < 300),
        )
    )
    targets.append(
        (
            "peak RSS of check --jobs 1 --no-cache (one process)",
            f"{peak_serial_mb:.0f} MB",
            "< 300 MB",
            verdict(peak_serial_mb < 300),
        )
    )

    print()
    print(
        f"{offers} offers, {commits} commits; {args.runs} runs per step, medians; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load_before[0]:.1f} before / {load_after[0]:.1f} after"
    )
    print()
    print("| step | median wall time | median CPU time | note |")
    print("| --- | ---: | ---: | --- |")
    for name, median, cpu, _, note in rows:
        print(f"| {name} | {median} | {cpu} | {note} |")
    print()
    print("| target (issue 8) | measured | target | verdict |")
    print("| --- | ---: | ---: | --- |")
    for name, measured, target, ok in targets:
        print(f"| {name} | {measured} | {target} | {ok} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
