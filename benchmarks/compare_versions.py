"""Compare two (or more) versions of offerctl on one repository, step by step.

Used for issue 14 ("the redesign shows no slowdown beyond noise"): each step runs once per
version per round, versions interleaved, so load on the machine slows them alike; the table
shows medians of wall and CPU time and the CPU ratio of the last version against the first.

    git worktree add --detach /tmp/pre d03df38 && git worktree add --detach /tmp/post 270d3e9
    PYTHONPATH=/tmp/pre python /tmp/pre/benchmarks/make_repo.py 3000 --out /tmp/repo
    python benchmarks/compare_versions.py /tmp/repo pre:/tmp/pre,post:/tmp/post --runs 3

Each version runs as ``PYTHONPATH=<its checkout> offerctl …`` with this environment's
dependencies (the ``offerctl`` script imports the package from PYTHONPATH first). Cold steps
remove every offerctl cache under ``.git/`` first; warm steps run once unmeasured before.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OFFERCTL = str(Path(sys.executable).parent / "offerctl")

STEPS: dict[str, tuple[list[str], str]] = {
    "--help": (["--help"], ""),
    "list": (["list"], ""),
    "status": (["status"], ""),
    "show ID": (["show", "{id}"], ""),
    "route ID": (["route", "{id}"], ""),
    "check cold": (["check"], "cold"),
    "check warm": (["check"], "warm"),
    "report json cold": (["report", "--format", "json"], "cold"),
    "report json warm": (["report", "--format", "json"], "warm"),
}


def clear_caches(repo: Path) -> None:
    for cache in (repo / ".git").glob("offerctl*"):
        shutil.rmtree(cache, ignore_errors=True)


def timed(repo: Path, checkout: str, args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one run, output to /dev/null."""
    env = {**os.environ, "PYTHONPATH": checkout, "OFFERCTL_TODAY": "2026-11-23"}
    env.pop("CI", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        code = subprocess.run([OFFERCTL, *args], cwd=repo, env=env, stdout=sink, stderr=sink).returncode
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("versions", help="label:checkout,label:checkout (first = baseline)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="comma-separated step names (default: all)")
    args = parser.parse_args()
    steps = {name: STEPS[name] for name in args.only.split(",")} if args.only else STEPS
    repo: Path = args.repo
    versions = [tuple(item.split(":", 1)) for item in args.versions.split(",")]
    offers = sorted(repo.glob("offers/**/*.yaml"))
    one_id = offers[len(offers) // 2].stem
    results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    for round_number in range(1, args.runs + 1):
        for name, (template, mode) in steps.items():
            command = [part.replace("{id}", one_id) for part in template]
            for label, checkout in versions:
                if mode:
                    clear_caches(repo)
                if mode == "warm":
                    timed(repo, checkout, command)
                wall, cpu, code = timed(repo, checkout, command)
                results.setdefault((name, label), []).append((wall, cpu, code))
                line = f"round {round_number} {name} {label}: {wall:.2f} s, CPU {cpu:.2f} s, exit {code}"
                print(line, flush=True)
    labels = [label for label, _ in versions]
    print()
    print("| step | " + " | ".join(f"{label}: wall / CPU" for label in labels) + " | CPU last/first |")
    print("| --- |" + " ---: |" * (len(labels) + 1))
    for name in steps:
        cells, cpus = [], []
        for label in labels:
            runs = results[(name, label)]
            wall = statistics.median(run[0] for run in runs)
            cpu = statistics.median(run[1] for run in runs)
            cpus.append(cpu)
            cells.append(f"{wall:.2f} s / {cpu:.2f} s")
        print(f"| {name} | " + " | ".join(cells) + f" | {cpus[-1] / cpus[0]:.2f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
