"""Compile and evaluate cost of the two CEL bindings on the bundled routing rules.

    .venv/bin/pip install cel-python     # the `bench` extra; common-expression-language is a dependency
    .venv/bin/python benchmarks/cel_bindings.py [--repo .] [--rounds 200]

Compiles every rule of policies/routing.yaml with each binding, then evaluates every rule
against every bundled offer's CEL context (the same context `route` builds), and prints
per-rule costs and the ratios. Results are recorded in docs/design.md.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any


def contexts(root: Path) -> tuple[list[str], list[dict[str, Any]]]:
    sys.path.insert(0, str(root))
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import band_value, cel_value, derived
    from offerctl.store import loader
    from offerctl.store.repo import open_repo

    repo = open_repo(root)
    policy, _ = load_policy_set(repo)
    envs = []
    for rel in loader.offer_files(repo):
        offer = loader.load_offer(repo, Path(rel).stem)
        band = policy.bands.lookup(offer).band
        env = {"offer": offer.data, "band": band_value(band), **derived(policy, offer.data, band)}
        envs.append({k: cel_value(v) for k, v in env.items()})
    return [r.when for r in policy.rules], envs


def bench_rust(rules: list[str], envs: list[dict[str, Any]], rounds: int) -> tuple[float, float]:
    import cel

    start = time.perf_counter()
    for _ in range(rounds):
        programs = [cel.compile(w) for w in rules]
    compile_s = (time.perf_counter() - start) / (rounds * len(rules))
    start = time.perf_counter()
    for _ in range(rounds):
        for env in envs:
            for p in programs:
                with contextlib.suppress(Exception):
                    p.execute(env)
    eval_s = (time.perf_counter() - start) / (rounds * len(rules) * len(envs))
    return compile_s, eval_s


def bench_rust_context(rules: list[str], envs: list[dict[str, Any]], rounds: int) -> float:
    """Evaluate with one ``cel.Context`` per offer (built and converted once, as `route` does)."""
    import cel

    programs = [cel.compile(w) for w in rules]
    start = time.perf_counter()
    for _ in range(rounds):
        for env in envs:
            context = cel.Context()
            context.update(env)
            for p in programs:
                with contextlib.suppress(Exception):
                    p.execute(context)
    return (time.perf_counter() - start) / (rounds * len(rules) * len(envs))


def bench_celpy(rules: list[str], envs: list[dict[str, Any]], rounds: int) -> tuple[float, float]:
    import celpy

    env = celpy.Environment()
    start = time.perf_counter()
    for _ in range(rounds):
        programs = [env.program(env.compile(w)) for w in rules]
    compile_s = (time.perf_counter() - start) / (rounds * len(rules))
    start = time.perf_counter()
    for _ in range(rounds):
        for e in envs:
            act = {k: celpy.json_to_cel(v) for k, v in e.items()}  # converted once per offer
            for p in programs:
                with contextlib.suppress(Exception):
                    p.evaluate(act)
    eval_s = (time.perf_counter() - start) / (rounds * len(rules) * len(envs))
    return compile_s, eval_s


def _import_ms(statement: str) -> float:
    """Import time in a fresh interpreter (what a CLI run pays once)."""
    import subprocess

    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    rust_import, py_import = _import_ms("import cel"), _import_ms("import celpy")
    direct = _import_ms("from offerctl.policy.cel import cel_runtime; cel_runtime()") - _import_ms(
        "from offerctl.policy.cel import cel_runtime"
    )
    rules, envs = contexts(args.repo.resolve())
    rc, re_ = bench_rust(rules, envs, args.rounds)
    rx = bench_rust_context(rules, envs, args.rounds)
    pc, pe = bench_celpy(rules, envs, max(1, args.rounds // 5))
    print(f"{len(rules)} rules x {len(envs)} offers")
    print(
        f"import:   common-expression-language {rust_import:8.1f} ms   cel-python {py_import:8.1f} ms"
        f"  ratio {py_import / rust_import:6.1f}x"
    )
    print(f"import:   the extension alone, as offerctl.policy.cel.cel_runtime loads it {direct:8.1f} ms")
    print(
        f"evaluate with one cel.Context per offer: {rx * 1e6:8.1f} us/eval"
        f"  (cel-python {pe / rx:6.1f}x slower)"
    )
    print(
        f"compile:  common-expression-language {rc * 1e6:8.1f} us/rule cel-python {pc * 1e6:8.1f} us/rule"
        f"  ratio {pc / rc:6.1f}x"
    )
    print(
        f"evaluate: common-expression-language {re_ * 1e6:8.1f} us/eval cel-python {pe * 1e6:8.1f} us/eval"
        f"  ratio {pe / re_:6.1f}x"
    )


if __name__ == "__main__":
    main()
