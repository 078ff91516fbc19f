"""The exit-code contract, in one place.

0 ok; 1 findings or an action refused by policy; 2 usage error or unreadable input.
The core raises these; only ``cli`` turns them into output and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


@dataclass
class OfferctlError(Exception):
    """A user-facing error: what is wrong, where, and how to fix it."""

    message: str
    hint: str | None = None
    path: str | None = None
    line: int | None = None
    exit_code: int = EXIT_USAGE
    details: tuple[str, ...] = ()
    """Further lines (e.g. every problem of an intake), printed under the message."""

    kind: ClassVar[str] = "error"
    """The stable error code of ``--format json`` errors (``usage``, ``input``, ``refused``…)."""

    def as_json(self) -> dict[str, Any]:
        """The ``error`` object of a failed command under ``--format json`` (README "Exit codes")."""
        out: dict[str, Any] = {
            "code": self.kind,
            "exit_code": self.exit_code,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "hint": self.hint,
        }
        if self.details:
            out["details"] = list(self.details)
        return out

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class UsageError(OfferctlError):
    """Bad arguments or unreadable input (exit 2)."""

    kind: ClassVar[str] = "usage"


class InputError(OfferctlError):
    """A file that cannot be read as an offerctl document (exit 2)."""

    kind: ClassVar[str] = "input"


@dataclass
class Refused(OfferctlError):
    """An action refused by policy or by the state machine (exit 1)."""

    exit_code: int = EXIT_FINDINGS

    kind: ClassVar[str] = "refused"


class StorageError(OfferctlError):
    """The file system refused a write: disk full, quota, read-only, file too large (exit 2).
    Raised after the old file was left in place (writes are atomic)."""


def storage_hint(errno_code: int | None) -> str:
    """What to do about a refused write, by ``errno``."""
    import errno

    if errno_code in (errno.ENOSPC, errno.EDQUOT):
        return (
            "the disk is full (or your quota is used up): free some space and run the command again; "
            "nothing was changed"
        )
    if errno_code == errno.EFBIG:
        return "the file is larger than this system allows (ulimit -f); nothing was changed"
    if errno_code == errno.EROFS:
        return "the file system is read-only; nothing was changed"
    if errno_code in (errno.EACCES, errno.EPERM):
        return "you may not write there (check the permissions); nothing was changed"
    return "nothing was changed; fix the cause and run the command again"


class GitError(OfferctlError):
    """git failed or the directory is not a usable git repository (exit 2)."""

    kind: ClassVar[str] = "git"
