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


@dataclass(frozen=True)
class InitResult:
    root: Path
    created: tuple[str, ...]
    git_initialised: bool
    commit: str | None


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
    for rel, text in files:
        yamlio.atomic_write(root / rel, text)
    from offerctl.lifecycle.sync import install_merge_driver

    install_merge_driver(root)  # .git/config is per clone; `offerctl git-setup` in other clones
    created = tuple(rel for rel, _ in files)
    commit_id = None
    if commit:
        try:
            actor = git.identity(root)
        except GitError:  # no identity: the files stay staged for the user to commit
            actor = None
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
    return InitResult(root, created, initialised, commit_id)
