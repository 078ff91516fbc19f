"""The package layering of ``offerctl/``, enforced.

Every import inside ``offerctl/`` (at module level, inside functions and under
``TYPE_CHECKING`` alike: a lazy import is still an arrow) must point down ``LAYERS``: a
package may import its own modules and the packages of lower layers, never a package of
its own layer or a higher one. Packages in one layer are peers and do not import each
other. Nor may a module import a private name (``_x``) from another package. docs/design.md
("Layout") explains the layers; change the two together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "offerctl"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("checks", "reports", "setup"),
    ("lifecycle",),
    ("letters",),
    ("policy",),
    ("approvals",),
    ("store",),
    ("privacy",),
    ("core",),
    ("__init__",),
)
"""Top first. ``__init__`` is the root package (``offerctl.__version__``), ``__main__`` runs the CLI."""

RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ["offerctl", *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """``offerctl.store.git`` → ``store``; the root package is ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_module(root: Path, dotted: str) -> bool:
    where = root.joinpath(*dotted.split(".")[1:])
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def imports(path: Path, root: Path = PACKAGE) -> Iterator[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) for every offerctl import in ``path``."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    here = module_name(path, root)
    base = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "offerctl":
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                module = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != "offerctl":
                continue
            for alias in node.names:
                # `from offerctl.pkg import mod` imports a module: the arrow goes to it
                target = f"{module}.{alias.name}"
                if is_module(root, target):
                    yield node.lineno, target, None
                else:
                    yield node.lineno, module, alias.name


def import_graph(root: Path = PACKAGE) -> list[tuple[str, int, str, str | None]]:
    """(importing file, line, imported module, imported name) for every file under ``root``."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        for line, module, name in imports(path, root):
            edges.append((path.relative_to(root.parent).as_posix(), line, module, name))
    return edges


def violations(root: Path = PACKAGE) -> list[str]:
    problems = []
    for rel, line, module, name in import_graph(root):
        source = package_of(module_name(root.parent / rel, root))
        target = package_of(module)
        if source not in RANK:
            problems.append(f"{rel}: package {source!r} is not in LAYERS")
            continue
        if target not in RANK:
            problems.append(f"{rel}:{line}: imports {module}, whose package {target!r} is not in LAYERS")
            continue
        if source != target and RANK[target] <= RANK[source]:
            way = "a peer" if RANK[target] == RANK[source] else "upward"
            problems.append(
                f"{rel}:{line}: {source} imports {module} ({way}: {target} is not below {source})"
            )
        if name is not None and name.startswith("_") and not name.startswith("__") and source != target:
            problems.append(f"{rel}:{line}: imports the private name {name} from {module}")
    return problems


def test_every_import_points_down_the_layers() -> None:
    assert violations() == []


def test_every_package_is_in_a_layer_and_says_what_it_owns() -> None:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages <= set(RANK)
    for package in packages:
        doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text("utf-8")))
        assert doc and "import" in doc, f"offerctl/{package}/__init__.py must say what it owns and may import"


def test_no_modules_outside_the_packages() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]


@pytest.mark.parametrize(
    ("source", "code", "expected"),
    [
        ("store/extra.py", "from offerctl.lifecycle import sync\n", "upward"),
        ("policy/extra.py", "def f():\n    from offerctl.letters.render import render\n", "upward"),
        ("reports/extra.py", "from offerctl.checks import runner\n", "a peer"),
        ("checks/extra.py", "from offerctl.letters.render import _line\n", "private name"),
        (
            "core/extra.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from offerctl.store.repo import Repo\n",
            "upward",
        ),
    ],
)
def test_the_test_catches_an_arrow_pointing_up(tmp_path: Path, source: str, code: str, expected: str) -> None:
    """The checker on a copy of the tree with one bad import added (top-level, lazy,
    peer, private, type-only) reports it."""
    import shutil

    copy = tmp_path / "offerctl"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "starter", "schemas"))
    assert violations(copy) == []
    (copy / source).write_text(code, "utf-8")
    found = violations(copy)
    assert len(found) == 1 and source in found[0] and expected in found[0], found
