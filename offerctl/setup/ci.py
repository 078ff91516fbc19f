"""`offerctl init --ci github`: the GitHub Actions workflow that runs `offerctl check`.

The workflow is written from a template here (not copied from the starter kit) because it
pins the offerctl version that wrote it, so an upgrade of the gate is a reviewed change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from offerctl.core.errors import Refused, UsageError
from offerctl.store import git, yamlio

WORKFLOW_PATH = ".github/workflows/offerctl.yml"
PROVIDERS = ("github",)

_WORKFLOW = """\
# Written by `offerctl init --ci github` (offerctl {version}).
# Runs `offerctl check` on every pull request and on pushes to the default branch, with
# annotations on the offending lines. Pair it with branch protection (README: "Running
# offerctl in CI"): require this check, require CODEOWNERS review, forbid force pushes.
name: offerctl

on:
  pull_request:
  push:
    branches: [{branch}]

permissions:
  contents: read

concurrency:
  group: offerctl-${{{{ github.ref }}}}
  cancel-in-progress: true

jobs:
  check:
    name: offerctl check
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
        with:
          # Every commit and branch: history verification walks the offers' history, and
          # the pull request is judged by the policy on its target branch. A shallow clone
          # is refused (exit 2) rather than answered wrongly.
          fetch-depth: 0
          persist-credentials: false
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install offerctl
        run: python -m pip install "{requirement}"
      - name: offerctl check (pull request)
        if: github.event_name == 'pull_request'
        env:
          BASE_REF: ${{{{ github.base_ref }}}}
        # Policy, bands, approvers and keys as they stand on the target branch; only the
        # offers (and commits) this pull request changes; annotations on the diff.
        run: >-
          offerctl check --format github --verify-history
          --policy-ref "origin/$BASE_REF" --changed-since "origin/$BASE_REF"
      - name: offerctl check (branch)
        if: github.event_name != 'pull_request'
        run: offerctl check --format github --verify-history
      - name: Policy impact preview (pull request changing policies/)
        # Every open offer routed under the target branch's policy and this pull request's:
        # who gains or loses approval steps, which approvals would no longer count. Written
        # to the job summary (no token needed); runs even when the check above failed.
        if: github.event_name == 'pull_request' && !cancelled()
        env:
          BASE_REF: ${{{{ github.base_ref }}}}
        run: |
          if git diff --quiet "origin/$BASE_REF...HEAD" -- policies/ offerctl.yaml; then
            echo "no change to policies/ or offerctl.yaml"
          else
            offerctl policy-diff "origin/$BASE_REF" --format markdown | tee -a "$GITHUB_STEP_SUMMARY"
          fi
"""


def requirement() -> str:
    """What the workflow installs: this exact offerctl version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"offerctl=={version('offerctl')}"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "offerctl"


def github_workflow(branch: str = "main") -> str:
    """The workflow text (see ``_WORKFLOW``) for a repository whose default branch is ``branch``."""
    req = requirement()
    return _WORKFLOW.format(version=req.partition("==")[2] or "dev", requirement=req, branch=branch)


@dataclass(frozen=True)
class CiResult:
    path: str
    commit: str | None


def add_workflow(root: Path, provider: str, *, commit: bool = True) -> CiResult:
    """Write the CI workflow into the offer repository at ``root`` and commit it (as the
    current git identity, ``Offer-Action: init``); refuses to overwrite an existing one."""
    if provider not in PROVIDERS:
        raise UsageError(
            f"--ci {provider}: unknown CI provider", hint=f"choose one of: {', '.join(PROVIDERS)}"
        )
    target = root / WORKFLOW_PATH
    if target.exists():
        raise Refused(
            f"{WORKFLOW_PATH} already exists; not overwriting it",
            hint="delete or rename it first to write a fresh one",
        )
    branch = git.current_branch(root) or "main"
    yamlio.atomic_write(target, github_workflow(branch))
    commit_id = None
    if commit:
        commit_id = git.commit(
            root,
            [WORKFLOW_PATH],
            "offerctl init --ci github: check offers on every pull request",
            author=git.identity(root),
            trailers={"Offer-Action": "init"},
        )
    else:
        git.add(root, [WORKFLOW_PATH])
    return CiResult(WORKFLOW_PATH, commit_id)


__all__ = ["WORKFLOW_PATH", "CiResult", "add_workflow", "github_workflow"]
