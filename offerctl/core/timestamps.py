"""When a recorded time is believable: the rules every approval and event time must meet.

An approval's or event's ``at`` is written by offerctl from the one clock, but it is plain
text in a file anybody with write access can edit. The rules, in one place so that the
commands that count approvals, the commands that record events and ``offerctl check`` agree:

* nothing is dated before the offer was created (its ``created`` event), less the clock-skew
  ``TOLERANCE``;
* nothing is dated after *now* plus ``TOLERANCE`` (a future-dated approval would otherwise
  outlive a later rejection or revision);
* date-only fields a person types (``accept --signed-on``, a letter's ``written_on``) are
  not before the day the offer was created and not after today.

History verification adds the independent witness: an approval or event must not be dated
after the commit that added it (plus ``TOLERANCE``). Commits keep git's real dates while
tests and backfills pin offerctl's clock in the past, so only that upper bound is checked
against a commit (a line dated long before its commit is a backfill, not a forgery).

Pure functions; the caller passes "now" (``offerctl.core.clock``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from offerctl.core.model import records

TOLERANCE = dt.timedelta(minutes=10)
"""Clock skew allowed between machines (and between a machine and the git server)."""

DATE_FIELDS = ("signed_on", "written_on")
"""Event fields holding a day a person gave (``accept --signed-on``) or a letter carries."""


def parse_at(value: Any) -> dt.datetime | None:
    """``2026-11-20T17:02:11Z`` (or any ISO 8601 timestamp) → aware UTC datetime; None when
    it is not one."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def parse_day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def created_at(data: Mapping[str, Any]) -> dt.datetime | None:
    """When the offer was created: its first ``created`` event (None for imported offers
    that have none)."""
    for event in records(data, "events"):  # a hand-edited `events: 5` has no creation
        if event.get("type") == "created":
            return parse_at(event.get("at"))
    return None


def _show(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def time_problem(at: Any, created: dt.datetime | None, now: dt.datetime) -> str | None:
    """Why ``at`` is not a believable time for something recorded on this offer, or None."""
    moment = parse_at(at)
    if moment is None:
        return f"{at!r} is not a timestamp"
    if moment > now + TOLERANCE:
        return f"it is dated {_show(moment)}, in the future (now is {_show(now)})"
    if created is not None and moment < created - TOLERANCE:
        return f"it is dated {_show(moment)}, before the offer was created ({_show(created)})"
    return None


def day_problem(day: Any, created: dt.datetime | None, today: dt.date) -> str | None:
    """Why a date a person gave (``signed_on``) is not believable, or None."""
    parsed = parse_day(day)
    if parsed is None:
        return f"{day!r} is not a date"
    if parsed > today:
        return f"{parsed} is in the future (today is {today})"
    if created is not None and parsed < (created - TOLERANCE).date():
        return f"{parsed} is before the offer was created ({created.date()})"
    return None


def later_than_commit(at: Any, committed: Any) -> str | None:
    """Why ``at`` cannot have been recorded by the commit dated ``committed``, or None."""
    moment, commit_time = parse_at(at), parse_at(committed)
    if moment is None or commit_time is None:
        return None
    if moment > commit_time + TOLERANCE:
        return f"it is dated {_show(moment)}, after the commit that added it ({_show(commit_time)})"
    return None


def event_problems(data: Mapping[str, Any], now: dt.datetime) -> Iterator[tuple[int, str, str]]:
    """(index, field, why) for every event of ``data`` dated before the offer existed or in
    the future (``at`` and the date fields)."""
    created = created_at(data)
    for index, event in enumerate(data.get("events") or []):
        if not isinstance(event, Mapping):
            continue
        why = time_problem(event.get("at"), None if event.get("type") == "created" else created, now)
        if why:
            yield index, "at", why
        for name in DATE_FIELDS:
            if event.get(name) is not None:
                why = day_problem(event.get(name), created, now.date())
                if why:
                    yield index, name, why


__all__ = [
    "DATE_FIELDS",
    "TOLERANCE",
    "created_at",
    "day_problem",
    "event_problems",
    "later_than_commit",
    "parse_at",
    "parse_day",
    "time_problem",
]
