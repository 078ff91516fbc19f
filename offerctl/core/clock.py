"""The one clock: "now" and "today" for every command, pinnable for tests and backfills.

Nothing else in offerctl reads the system time; ``OFFERCTL_NOW`` pins it.
"""

from __future__ import annotations

import datetime as dt
import os

from offerctl.core.errors import UsageError


def now() -> dt.datetime:
    """The current UTC time, or ``OFFERCTL_NOW`` (an ISO 8601 timestamp) when set.

    ``OFFERCTL_NOW`` exists for backfilling offers made before a team adopted offerctl and
    for reproducible demos (the bundled example was recorded with it); git's own
    ``GIT_AUTHOR_DATE``/``GIT_COMMITTER_DATE`` play the same role for commits.
    """
    override = os.environ.get("OFFERCTL_NOW")
    if override:
        try:
            parsed = dt.datetime.fromisoformat(override.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"OFFERCTL_NOW={override!r} is not an ISO 8601 timestamp",
                hint="e.g. OFFERCTL_NOW=2026-11-20T17:02:11Z, or unset it",
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().date()


def utc_now() -> str:
    """Now as stored in files: UTC, ISO 8601, second precision, ``Z`` suffix."""
    return now().replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
