"""`offerctl init`: a new offer repository from the starter kit shipped with offerctl."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from offerctl.core.errors import GitError, Refused, UsageError
from offerctl.store import git, schema, yamlio
from offerctl.store.repo import CONFIG_NAME

# Package data cannot reliably ship dotfiles; they are stored without the dot.
_RENAMES = {"gitignore": ".gitignore", "gitattributes": ".gitattributes"}


APPROVERS = "policies/approvers.yaml"
INIT_ROLES = ("recruiter",)
"""The roles ``init`` gives the person who runs it (the starter routing asks nothing of a
recruiter but to be a person; approvals come from the hiring manager and the roles it names)."""


@dataclass(frozen=True)
class InitResult:
    root: Path
    created: tuple[str, ...]
    git_initialised: bool
    commit: str | None
    person: str | None = None
    """The git identity added to policies/approvers.yaml (None: none was configured)."""
    roles: tuple[str, ...] = ()


def with_person(text: str, name: str, email: str, roles: tuple[str, ...]) -> str:
    """``policies/approvers.yaml`` text with one more person (kept comments and layout),
    added to ``roles`` (created when missing). Unchanged when the email is already a person."""
    doc = yamlio.RoundTrip().load(text)
    people = doc.get("people")
    if people is None:
        from ruamel.yaml.comments import CommentedSeq

        people = doc["people"] = CommentedSeq()
    if any(str(p.get("email", "")).lower() == email.lower() for p in people if hasattr(p, "get")):
        return text
    people.append(yamlio.flow_map({"email": email, "name": name, "title": "Recruiter"}))
    all_roles = doc.setdefault("roles", {})
    for role in roles:
        if role not in all_roles:
            all_roles[role] = {"people": []}
        members = all_roles[role].setdefault("people", [])
        if email not in members:
            members.append(email)
    out: str = yamlio.RoundTrip().dump(doc)
    return out


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    items: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        name = _RENAMES.get(child.name, child.name) if not prefix else child.name
        rel = f"{prefix}{name}"
        if child.is_dir():
            items.extend(_walk(child, rel + "/"))
        else:
            items.append((rel, child))
    return items


def starter_files() -> list[tuple[str, str]]:
    """(relative path, text) of every starter file, schemas included."""
    root = resources.files("offerctl").joinpath("starter")
    files = [(rel, node.read_text("utf-8")) for rel, node in _walk(root)]
    files += [(f"schemas/{n}.schema.json", schema.schema_text(n)) for n in schema.SCHEMA_NAMES]
    return files


def init_repo(directory: Path, *, commit: bool = True) -> InitResult:
    directory = directory.expanduser()
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory")
    if (directory / CONFIG_NAME).exists():
        raise Refused(
            f"{directory.resolve()} is already an offer repository ({CONFIG_NAME} exists)",
            hint="run `offerctl check` there instead",
        )
    files = starter_files()
    clashes = [rel for rel, _ in files if (directory / rel).exists()]
    if clashes:
        raise Refused(
            f"refusing to overwrite existing files: {', '.join(clashes)}",
            hint="run init in an empty directory, or move those files away first",
        )
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    initialised = False
    if git.toplevel(root) is None:
        git.init(root)
        initialised = True
    try:
        actor: git.Identity | None = git.identity(root)  # who will commit here
    except GitError:  # no identity: the files stay staged for the user to commit
        actor = None
    if actor is not None:
        files = [
            (rel, with_person(text, actor.name, actor.email, INIT_ROLES) if rel == APPROVERS else text)
            for rel, text in files
        ]
    for rel, text in files:
        yamlio.atomic_write(root / rel, text)
    from offerctl.lifecycle.sync import install_merge_driver

    install_merge_driver(root)  # .git/config is per clone; `offerctl git-setup` in other clones
    created = tuple(rel for rel, _ in files)
    commit_id = None
    if commit:
        if actor is not None:
            commit_id = git.commit(
                root,
                list(created),
                "offerctl init: new offer repository",
                author=actor,
                trailers={"Offer-Action": "init"},
            )
        else:
            git.add(root, created)
    else:
        git.add(root, created)
    return InitResult(
        root,
        created,
        initialised,
        commit_id,
        actor.email if actor is not None else None,
        INIT_ROLES if actor is not None else (),
    )
