"""Finding the offer repository, reading its configuration, and naming its paths."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offerctl.core import clock
from offerctl.core.errors import InputError, UsageError
from offerctl.core.model import Finding
from offerctl.store import git, yamlio

CONFIG_NAME = "offerctl.yaml"
OFFERS_DIR = "offers"
POLICIES_DIR = "policies"
TEMPLATES_DIR = "letter_templates"
POLICY_FILES = {"routing": "routing.yaml", "bands": "bands.yaml", "approvers": "approvers.yaml"}

DEFAULT_DECLINE_REASONS = (
    "compensation",
    "role_content",
    "location_remote",
    "manager_team",
    "competing_offer",
    "counter_offer",
    "timing_process",
    "personal",
    "other",
)


@dataclass(frozen=True)
class Repo:
    root: Path
    config: Mapping[str, Any]
    config_findings: tuple[Finding, ...] = field(default=())
    # Where offerctl.yaml and policies/ are read from when they are not the working tree's
    # (``check --policy-ref``: the pull request's target branch, see offerctl.checks.trust).
    policy_root: Path | None = None
    # Per-run state that is not part of the repository's identity: the privacy session
    # (keys found, offers opened), built on first use by ``offerctl.store.privacy.session``.
    state: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def offers_dir(self) -> Path:
        return self.root / OFFERS_DIR

    @property
    def policy_base(self) -> Path:
        """The directory holding the ``offerctl.yaml`` and ``policies/`` in force."""
        return self.policy_root or self.root

    @property
    def policies_dir(self) -> Path:
        return self.policy_base / POLICIES_DIR

    @property
    def templates_dir(self) -> Path:
        return self.root / TEMPLATES_DIR

    def policy_path(self, name: str) -> Path:
        return self.policies_dir / POLICY_FILES[name]

    def offer_path(self, offer_id: str) -> Path:
        return self.offers_dir / f"{offer_id}.yaml"

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    # --- configuration with defaults ------------------------------------------------

    def setting(self, dotted: str, default: Any = None) -> Any:
        from offerctl.core.model import get_path

        return get_path(self.config, dotted, default)

    @property
    def id_prefix(self) -> str:
        return str(self.config.get("id_prefix", "OFF"))

    @property
    def expiry_days(self) -> int:
        return int(self.setting("defaults.expiry_days", 7))

    def currency_for(self, country: str) -> str | None:
        value = self.setting(f"defaults.currency_by_country.{country}")
        return str(value) if value else None

    def locale_for(self, country: str) -> str:
        value = self.setting(f"defaults.locale_by_country.{country}")
        return str(value) if value else "en_US"

    @property
    def decline_reasons(self) -> tuple[str, ...]:
        reasons = self.config.get("decline_reasons")
        return tuple(reasons) if isinstance(reasons, list) else DEFAULT_DECLINE_REASONS

    @property
    def contact_cadence(self) -> int:
        """Business days a candidate of an open offer may go without contact (default 2)."""
        value = self.setting("contact.cadence_business_days")
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 2

    def sla_days(self, role: str) -> int | None:
        value = self.setting(f"sla.{role}")
        return int(value) if isinstance(value, int) else None


def find_root(explicit: Path | None, start: Path | None = None) -> Path:
    """``--repo`` if given, else the nearest directory upwards holding ``offerctl.yaml``."""
    if explicit is not None:
        root = explicit.expanduser()
        if not root.is_dir():
            raise UsageError(f"--repo {explicit}: no such directory")
        if not (root / CONFIG_NAME).is_file():
            raise UsageError(
                f"{root} is not an offer repository (no {CONFIG_NAME})",
                hint="run `offerctl init` there, or point --repo at the directory holding offerctl.yaml",
            )
        return root.resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise UsageError(
        f"no {CONFIG_NAME} found in {here} or any parent directory",
        hint="run `offerctl init` to create an offer repository, or pass --repo PATH",
    )


def open_repo(explicit: Path | None = None, *, require_git: bool = True) -> Repo:
    root = find_root(explicit)
    if require_git and git.toplevel(root) is None:
        raise UsageError(
            f"{root} is not inside a git repository",
            hint="offerctl keeps its audit trail in git: run `git init` there (or `offerctl init`)",
        )
    config, findings = read_config(root)
    clock.pin_from_config(config)
    return Repo(root, config, findings)


def read_config(root: Path, *, label: str | None = None) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    """``offerctl.yaml`` in ``root``: its data and schema findings; unreadable: InputError.
    ``label`` names where the file came from when it is not the working tree (a git ref)."""
    config_path = root / CONFIG_NAME
    text_path = CONFIG_NAME if label is None else f"{CONFIG_NAME} (as on {label})"
    try:
        config = yamlio.load(yamlio.read_capped(config_path))
    except yamlio.YamlProblem as exc:
        raise InputError(exc.message, hint=exc.hint, path=text_path, line=exc.line) from None
    except OSError as exc:
        raise InputError(f"cannot read {CONFIG_NAME}: {exc.strerror}", path=text_path) from None
    if not isinstance(config, dict):
        raise InputError(f"{CONFIG_NAME} must be a mapping", path=text_path, line=1)
    from offerctl.store import schema

    text = yamlio.read_text_capped(config_path)
    findings = tuple(schema.iter_findings("config", config, CONFIG_NAME, text))
    return config, findings
