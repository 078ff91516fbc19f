"""`offerctl init --ci github`: the GitHub Actions workflow that runs `offerctl check`.

The workflow is written from a template here (not copied from the starter kit) because it
pins what CI installs (``install_spec``: ``--ci-install``, else the exact source offerctl
was installed from, else its released version), so an upgrade of the gate is a reviewed
change; and it filters pushes by the repository's own default branch, not ``main``.
"""

from __future__ import annotations

import re
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
  push:{branches}

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
        env:
          # What pip installs (`offerctl init --ci github --ci-install SPEC` wrote it; any
          # pip requirement: offerctl==1.2.0, offerctl @ git+https://…@v1.2.0, ./tools/offerctl).
          OFFERCTL_INSTALL: "{requirement}"
        run: python -m pip install "$OFFERCTL_INSTALL"
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


@dataclass(frozen=True)
class InstallSpec:
    requirement: str
    source: str
    """Where it came from: ``--ci-install``, ``vcs``, ``clone``, ``release`` or ``unpinned``."""
    warning: str | None = None


def _released(version: str) -> bool:
    """A version a package index can have: not ``.devN``, no local ``+label``."""
    return re.fullmatch(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?", version) is not None


def _scp_to_url(url: str) -> str:
    """``git@github.com:acme/offerctl.git`` → ``ssh://git@github.com/acme/offerctl.git`` (pip
    needs a URL)."""
    if "://" not in url and ":" in url:
        host, _, path = url.partition(":")
        return f"ssh://{host}/{path}"
    return url


def install_spec(explicit: str | None = None) -> InstallSpec:
    """What the workflow installs. A development version (``0.1.0.dev0``) is on no package
    index, so pinning it would break CI on its first run; in order:

    1. ``--ci-install SPEC`` as given;
    2. the VCS URL and commit offerctl was installed from (``pip install git+…``, PEP 610);
    3. for an install from a local clone (``pip install -e .``), that clone's ``origin`` at
       its current commit;
    4. ``offerctl==X`` for a released version;
    5. plain ``offerctl`` with a warning to pin it with ``--ci-install``.
    """
    import json
    from importlib.metadata import PackageNotFoundError, distribution
    from urllib.parse import unquote, urlparse

    if explicit is not None:
        if not explicit.strip() or "\n" in explicit:
            raise UsageError("--ci-install needs a pip requirement, e.g. 'offerctl==1.2.0'")
        return InstallSpec(explicit.strip(), "--ci-install")
    try:
        dist = distribution("offerctl")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return InstallSpec("offerctl", "unpinned", _UNPINNED.format(version="(not installed)"))
    version = dist.version
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        direct = None
    if isinstance(direct, dict):
        vcs = direct.get("vcs_info")
        url = str(direct.get("url", ""))
        if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
            return InstallSpec(f"offerctl @ git+{url}@{vcs['commit_id']}", "vcs")
        if url.startswith("file://"):
            clone = Path(unquote(urlparse(url).path))
            remote = git.config_get(clone, "remote.origin.url") if clone.is_dir() else None
            commit = git.head(clone) if remote else None
            if remote and commit:
                return InstallSpec(f"offerctl @ git+{_scp_to_url(remote)}@{commit}", "clone")
    if _released(version):
        return InstallSpec(f"offerctl=={version}", "release")
    return InstallSpec("offerctl", "unpinned", _UNPINNED.format(version=version))


_UNPINNED = (
    "offerctl {version} is a development version that no package index has, and its source "
    "has no git remote: the workflow installs the latest released `offerctl`. Pin what CI "
    "runs with `offerctl init --ci github --ci-install 'offerctl @ git+https://…/offerctl@<tag>'` "
    "(or edit OFFERCTL_INSTALL in the workflow)"
)


def default_branch(root: Path) -> str | None:
    """The branch pushes are checked on: the remote's default branch (``origin/HEAD``) when
    known, else the branch checked out; None when neither is known."""
    remote_head = git.run(["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"], root, check=False)
    name = remote_head.stdout.strip()
    if name.startswith("origin/"):
        return name.removeprefix("origin/")
    return git.current_branch(root)


def github_workflow(branch: str | None = "main", requirement: str | None = None) -> str:
    """The workflow text (see ``_WORKFLOW``): pushes to ``branch`` are checked (every push
    when None), and pip installs ``requirement`` (default: ``install_spec()``)."""
    req = requirement or install_spec().requirement
    from offerctl import __version__

    branches = (
        f"\n    branches: [{_yaml_text(branch)}]" if branch else "  # every branch (no default branch known)"
    )
    return _WORKFLOW.format(version=__version__, requirement=req.replace('"', '\\"'), branches=branches)


def _yaml_text(value: str) -> str:
    """A branch name as a YAML flow scalar (quoted unless plainly safe)."""
    return value if re.fullmatch(r"[A-Za-z0-9._/-]+", value) else "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class CiResult:
    path: str
    commit: str | None
    install: InstallSpec | None = None
    branch: str | None = None


def add_workflow(
    root: Path, provider: str, *, commit: bool = True, install: str | None = None
) -> CiResult:
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
    spec = install_spec(install)
    branch = default_branch(root)
    yamlio.atomic_write(target, github_workflow(branch, spec.requirement))
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
    return CiResult(WORKFLOW_PATH, commit_id, spec, branch)


__all__ = ["WORKFLOW_PATH", "CiResult", "InstallSpec", "add_workflow", "github_workflow", "install_spec"]
