"""The CEL runtime: the compiled extension, loaded once and only when a rule is compiled."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def cel_runtime() -> Any:
    """The CEL binding (common-expression-language, chosen by measurement: docs/design.md).

    ``import cel`` also imports the package's interactive CLI (prompt_toolkit, rich):
    150-270 ms per run, against 10-25 ms for the compiled extension alone. So the extension
    module is loaded directly; should the package layout change, plain ``import cel``
    still works (same API: ``compile``, ``Context``)."""
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    for loaded in ("cel.cel", "cel"):  # the extension may be initialised once per process
        if loaded in sys.modules and hasattr(sys.modules[loaded], "Context"):
            return sys.modules[loaded]
    try:
        spec = importlib.util.find_spec("cel")
        locations = list(spec.submodule_search_locations or []) if spec else []
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(locations[0]) / f"cel{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("cel.cel", str(path))
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader("cel.cel", loader))  # type: ignore[arg-type]
                loader.exec_module(module)
                # Registered under its real name, so a later `import cel` reuses it.
                sys.modules["cel.cel"] = module
                if hasattr(module, "compile") and hasattr(module, "Context"):
                    return module
    except (ImportError, OSError, IndexError):
        pass
    import cel

    return cel
