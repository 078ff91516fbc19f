"""Shell completion from the offer repository: offer ids, statuses, departments, roles,
people, and ``--set`` field paths.

Completers run on every <Tab>, so they stay cheap: offer ids are the file names under
``offers/`` (no YAML is parsed), the others read ``offerctl.yaml`` or
``policies/approvers.yaml`` only. A completer never fails: a broken or missing repository
completes nothing. Which parameter completes what is decided by its name (``COMPLETERS``),
so every command with an ``offer_id`` argument or a ``--status`` option gets the same
completion without repeating it in each signature.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Completer = Callable[[Any, Any, str], list[Any]]


def _root(ctx: Any) -> Path | None:
    explicit = None
    node = ctx
    while node is not None and explicit is None:
        explicit = (node.params or {}).get("repo")
        node = node.parent
    if explicit is None and os.environ.get("OFFERCTL_REPO"):
        explicit = Path(os.environ["OFFERCTL_REPO"])
    try:
        from offerctl.store.repo import find_root

        return find_root(Path(explicit) if explicit is not None else None)
    except Exception:
        return None


def offer_ids(root: Path) -> list[str]:
    """Offer ids in ``root``: the names of ``offers/**/*.yaml``, sorted (no file is read);
    the same listing ``offerctl``'s id resolver uses (``loader.ids_in``)."""
    from offerctl.store.loader import ids_in
    from offerctl.store.repo import OFFERS_DIR

    return sorted(ids_in(root / OFFERS_DIR))


def _yaml(path: Path) -> Any:
    try:
        from offerctl.store import yamlio

        return yamlio.load_path(path)
    except Exception:
        return None


def _config_list(root: Path, key: str) -> list[str]:
    from offerctl.store.repo import CONFIG_NAME

    config = _yaml(root / CONFIG_NAME)
    values = config.get(key) if isinstance(config, dict) else None
    return [str(v) for v in values] if isinstance(values, list) else []


def _approvers(root: Path) -> dict[str, Any]:
    from offerctl.store.repo import POLICIES_DIR, POLICY_FILES

    data = _yaml(root / POLICIES_DIR / POLICY_FILES["approvers"])
    return data if isinstance(data, dict) else {}


def people(root: Path) -> list[tuple[str, str]]:
    """(email, name) of every person in policies/approvers.yaml."""
    out = []
    for person in _approvers(root).get("people") or []:
        if isinstance(person, dict) and person.get("email"):
            out.append((str(person["email"]), str(person.get("name") or "")))
    return out


def roles(root: Path) -> list[tuple[str, str]]:
    listed = _approvers(root).get("roles") or {}
    if not isinstance(listed, dict):
        return []
    return [
        (str(name), str((spec or {}).get("description", "")) if isinstance(spec, dict) else "")
        for name, spec in listed.items()
    ]


def statuses() -> list[str]:
    from offerctl.core.model import Status

    return [s.value for s in Status]


# `--set PATH=VALUE`: field paths offered before the "=", values after it where they are known.
SET_PATHS = (
    "candidate.name",
    "candidate.email",
    "candidate.source",
    "role.title",
    "role.department",
    "role.job_family",
    "role.level",
    "role.employment_type",
    "role.location.country",
    "role.location.region",
    "role.location.city",
    "role.location.work_mode",
    "role.hiring_manager",
    "recruiter",
    "start_date",
    "expires_on",
    "compensation.currency",
    "compensation.base_salary",
    "compensation.bonus_target_pct",
    "compensation.sign_on_bonus",
    "compensation.relocation",
    "compensation.equity.type",
    "compensation.equity.units",
    "compensation.equity.vesting",
)


def _set_values(root: Path, path: str) -> list[str]:
    if path in {"recruiter", "role.hiring_manager"}:
        return [email for email, _ in people(root)]
    config_keys = {
        "role.department": "departments",
        "role.level": "levels",
        "role.job_family": "job_families",
    }
    if path in config_keys:
        return _config_list(root, config_keys[path])
    return []


def _items(values: Iterator[tuple[str, str]] | list[tuple[str, str]], incomplete: str) -> list[Any]:
    from typer._click.shell_completion import CompletionItem

    return [CompletionItem(v, help=h or None) for v, h in values if v.startswith(incomplete)]


def complete_offer_id(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    root = _root(ctx)
    if root is None:
        return []
    wanted = incomplete.upper()
    return _items([(i, "") for i in offer_ids(root) if i.upper().startswith(wanted)], "")


def complete_status(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    return _items([(s, "") for s in statuses()], incomplete)


def complete_department(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    root = _root(ctx)
    return [] if root is None else _items([(d, "") for d in _config_list(root, "departments")], incomplete)


def complete_role(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    root = _root(ctx)
    return [] if root is None else _items(roles(root), incomplete)


def complete_person(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    root = _root(ctx)
    return [] if root is None else _items(people(root), incomplete)


def complete_set(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    if "=" not in incomplete:
        return _items([(p + "=", "") for p in SET_PATHS], incomplete)
    path, _, _value = incomplete.partition("=")
    root = _root(ctx)
    if root is None:
        return []
    return _items([(f"{path}={v}", "") for v in _set_values(root, path)], incomplete)


COMPLETERS: dict[str, Completer] = {
    "offer_id": complete_offer_id,
    "offer_ids": complete_offer_id,
    "status": complete_status,
    "department": complete_department,
    "role": complete_role,
    "set_": complete_set,
    "email": complete_person,
    "person": complete_person,
    "recruiter": complete_person,
    "approver": complete_person,
}


def attach(params: list[Any]) -> None:
    """Give each parameter that names a repository value its completer (unless it has one)."""
    for param in params:
        completer = COMPLETERS.get(param.name or "")
        if completer is not None and getattr(param, "_custom_shell_complete", None) is None:
            param._custom_shell_complete = completer
