"""Long output in a terminal goes through a pager, as git does; piped output never does.

The pager is ``$OFFERCTL_PAGER``, else ``$PAGER``, else ``less``; ``less`` gets ``LESS=FRX``
unless ``LESS`` is set (quit if one screen, keep colours, do not clear the screen), like git.
An empty value or ``cat`` turns paging off. Text is written to the pager piece by piece, so
the first screen shows at once, and quitting the pager early stops the rendering.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

_TRAILING = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", re.M)


def stdout_is_terminal() -> bool:
    """What rich's ``Console().is_terminal`` answers for stdout, without importing rich
    (``TTY_COMPATIBLE`` and ``FORCE_COLOR`` decide first, else ``isatty``)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return sys.stdout.isatty()
    except ValueError:
        return False


def pager_command() -> str | None:
    """The pager to use, or None (paging off, or stdout is not a real terminal)."""
    command = os.environ.get("OFFERCTL_PAGER", os.environ.get("PAGER", "less")).strip()
    if not command or command == "cat":
        return None
    try:
        if not sys.stdout.isatty():
            return None
    except ValueError:
        return None
    return command


def _trimmed(console: Any, renderable: Any) -> str:
    with console.capture() as captured:
        console.print(renderable)
    return _TRAILING.sub(r"\1", captured.get())


def page(console: Any, renderables: Iterable[Any], *, lines: int) -> None:
    """Print ``renderables`` (``lines`` lines in all) through the pager when they are taller
    than the terminal, else straight to stdout."""
    command = pager_command() if lines > console.height else None
    if command is None:
        for renderable in renderables:
            sys.stdout.write(_trimmed(console, renderable))
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env, text=True)
    assert proc.stdin is not None
    try:
        for renderable in renderables:
            proc.stdin.write(_trimmed(console, renderable))
        proc.stdin.close()
    except BrokenPipeError:  # the reader quit the pager: nothing more to show
        pass
    except KeyboardInterrupt:
        pass
    proc.wait()
