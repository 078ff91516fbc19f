"""One bad file never takes down a repository-wide command.

Commands that walk every offer (``status``, ``inbox``, ``report``, ``export``, ``remind``,
``list``) skip a file that does not pass the schema and run their per-offer work through
``guarded``: whatever one offer's data makes go wrong becomes a finding on that file
(S131), and the command answers for every other offer. ``check`` does the same per check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from offerctl.core.errors import UsageError
from offerctl.core.model import Finding, Offer, Severity

T = TypeVar("T")


def failure(path: str, exc: BaseException, offer: str | None = None, what: str = "") -> Finding:
    """S131: processing one file raised; the finding names the file and what failed."""
    detail = str(exc).strip() or type(exc).__name__
    doing = f" ({what})" if what else ""
    return Finding(
        path,
        None,
        "S131",
        f"could not process this file{doing}: {type(exc).__name__}: {detail[:200]}; "
        f"run `offerctl check {path}` and fix what it reports",
        Severity.ERROR,
        offer,
    )


def guarded(offer: Offer, work: Callable[[Offer], T], what: str = "") -> tuple[T | None, Finding | None]:
    """``work(offer)``, or (None, S131 finding) when it raises anything but an interrupt or
    a usage error: a refusal that concerns the whole command (e.g. a confidential offer
    the user holds no key for, where the command needs plaintext) still stops it (exit 2)."""
    try:
        return work(offer), None
    except UsageError:
        raise
    except Exception as exc:
        return None, failure(offer.path, exc, offer.id or None, what)


def skipped(findings: Iterable[Finding]) -> list[Finding]:
    """S130, one per file whose schema errors made a repository-wide command skip it."""
    per_file: dict[str, list[Finding]] = {}
    for found in findings:
        if found.severity == Severity.ERROR:
            per_file.setdefault(found.path, []).append(found)
    out = []
    for path, errors in sorted(per_file.items()):
        first = errors[0]
        where = f"{path}:{first.line}" if first.line else path
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        out.append(
            Finding(
                path,
                first.line,
                "S130",
                f"skipped {where}: {first.message}{more}; run `offerctl check {path}`",
                Severity.WARNING,
                first.offer,
            )
        )
    return out
