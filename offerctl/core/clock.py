"""The one clock: every "today" and "now" in offerctl comes from here.

The clock can be pinned, so that a run gives the same answer on any day of any year. In
order of precedence:

1. ``--as-of DATE`` on the commands that offer it (``check``, ``status``, ``inbox``,
   ``report``, ``remind``, ``expire``) — the CLI calls :func:`pin` for that run.
2. ``OFFERCTL_NOW`` — an ISO 8601 timestamp (``2026-11-20T17:02:11Z``); pins date and time.
   For backfilling offers made before a team adopted offerctl, and for reproducible demos.
3. ``OFFERCTL_TODAY`` — a date (``2026-11-20``); pins the date, the time of day stays real.
   When both variables are set, ``OFFERCTL_NOW`` (the more precise) wins.
4. ``clock: {today: DATE}`` in ``offerctl.yaml`` — a *demo* repository (the bundled
   example) pins its own story date so its tour reads the same in any year. The CLI applies
   it through :func:`pin_from_config` after opening the repository; 1 to 3 still win.
5. The system clock, in UTC.

Commits keep git's own dates (``GIT_AUTHOR_DATE``/``GIT_COMMITTER_DATE`` set them): the
commit date is the independent witness that history verification compares an approval's
``at`` with, so offerctl never forges it from its own clock.

Dates given by users (``--since``, ``--as-of``) are whole UTC days: a day starts at
00:00:00Z (:func:`start_of_day`); git's approxidate would otherwise fill in the current time
of day.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from offerctl.core.errors import UsageError

NOW_ENV = "OFFERCTL_NOW"
TODAY_ENV = "OFFERCTL_TODAY"


@dataclass(frozen=True)
class Pin:
    """A pinned clock: a date, and optionally a full timestamp; ``source`` says who pinned it."""

    day: dt.date
    at: dt.datetime | None
    source: str


_PIN: contextvars.ContextVar[Pin | None] = contextvars.ContextVar("offerctl_clock_pin", default=None)
# Only a command-line run honours a repository's demo pin; code calling the library directly
# passes dates explicitly (or pins the environment) and is never surprised by a config file.
_HONOUR_CONFIG: contextvars.ContextVar[bool] = contextvars.ContextVar("offerctl_clock_config", default=False)


def parse_day(text: str, *, what: str) -> dt.date:
    """``YYYY-MM-DD`` → date, or a UsageError naming ``what`` (an option or variable)."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a date", hint="use YYYY-MM-DD, e.g. 2026-11-20") from None


def _parse_now(text: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{NOW_ENV}={text!r} is not an ISO 8601 timestamp",
            hint=f"e.g. {NOW_ENV}=2026-11-20T17:02:11Z, or unset it",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _env_pin() -> Pin | None:
    now_text = os.environ.get(NOW_ENV)
    today_text = os.environ.get(TODAY_ENV)
    if now_text:
        at = _parse_now(now_text)
        return Pin(at.date(), at, NOW_ENV)
    if today_text:
        return Pin(parse_day(today_text, what=TODAY_ENV), None, TODAY_ENV)
    return None


def current_pin() -> Pin | None:
    """The pin in force (``--as-of`` > environment > configuration), or None."""
    explicit = _PIN.get()
    if explicit is not None and explicit.source.startswith("--"):
        return explicit
    return _env_pin() or explicit


def pin(day: dt.date, *, source: str = "--as-of") -> None:
    """Pin "today" for the rest of this run (the CLI's ``--as-of``)."""
    _PIN.set(Pin(day, None, source))


def unpin() -> None:
    _PIN.set(None)


def honour_config_pins() -> None:
    """Called by the CLI at the start of a run (in its own context): ``pin_from_config``
    applies from then on."""
    _HONOUR_CONFIG.set(True)


def pin_from_config(config: Mapping[str, Any]) -> Pin | None:
    """Apply ``clock: {today: DATE}`` from ``offerctl.yaml`` unless a stronger pin exists."""
    clock = config.get("clock")
    if not _HONOUR_CONFIG.get() or not isinstance(clock, Mapping) or _PIN.get() is not None:
        return current_pin()
    text = clock.get("today")
    if isinstance(text, str):
        _PIN.set(Pin(parse_day(text, what="offerctl.yaml clock.today"), None, "offerctl.yaml clock.today"))
    return current_pin()


def now() -> dt.datetime:
    """Now, in UTC, honouring the pin (a pinned date keeps the real time of day)."""
    real = dt.datetime.now(dt.UTC)
    pinned = current_pin()
    if pinned is None:
        return real
    if pinned.at is not None:
        return pinned.at
    return dt.datetime.combine(pinned.day, real.time(), tzinfo=dt.UTC)


def latest_now() -> dt.datetime:
    """The later of :func:`now` and the system clock: the bound for "recorded in the future".

    Nothing can have been recorded after the real present, so pinning the clock back (an
    ``--as-of`` report, a backfill, a demo, a test) never turns real records into future
    ones; pinning it forward (simulating a later day) moves the bound with it."""
    return max(now(), dt.datetime.now(dt.UTC))


def today() -> dt.date:
    pinned = current_pin()
    return pinned.day if pinned is not None else dt.datetime.now(dt.UTC).date()


def utc_now() -> str:
    """Now as stored in files: UTC, ISO 8601, second precision, ``Z`` suffix."""
    return format_utc(now())


def format_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_of_day(day: dt.date) -> str:
    """The first second of ``day`` in UTC, in a form git's date parser reads exactly."""
    return f"{day.isoformat()} 00:00:00 +0000"
