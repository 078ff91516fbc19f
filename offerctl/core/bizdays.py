"""Business days: weekends plus the company's public holidays (``offerctl.yaml`` ``holidays``).

``holidays: {country: US, subdivision: CA, extra: [2026-12-24]}`` selects the calendar of
the ``holidays`` package; ``extra`` adds company days off. Without the setting only weekends
are skipped. This is offerctl's one business-day calendar: ``status``/``inbox`` (how long an
approval has waited), ``remind`` (SLA reminders) and ``report`` all count with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Settings(Protocol):
    """What the calendar needs of a repository (``store.repo.Repo``): its settings."""

    def setting(self, dotted: str, default: Any = None) -> Any: ...


@dataclass
class BusinessCalendar:
    country: str | None = None
    subdivision: str | None = None
    extra: frozenset[dt.date] = frozenset()
    _years: set[int] = field(default_factory=set, repr=False)
    _holidays: dict[dt.date, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, setting: Mapping[str, Any] | None) -> BusinessCalendar:
        setting = setting or {}
        extra = frozenset(dt.date.fromisoformat(str(d)) for d in setting.get("extra", []) or [])
        country = setting.get("country")
        subdivision = setting.get("subdivision")
        return cls(
            str(country) if country else None,
            str(subdivision) if subdivision else None,
            extra,
        )

    @classmethod
    def for_repo(cls, repo: Settings) -> BusinessCalendar:
        """The calendar of ``offerctl.yaml`` ``holidays:``."""
        return cls.from_config(repo.setting("holidays"))

    def _load(self, years: Iterable[int]) -> None:
        missing = [y for y in years if y not in self._years]
        if not missing or self.country is None:
            self._years.update(missing)
            return
        import holidays

        try:
            calendar = holidays.country_holidays(self.country, subdiv=self.subdivision, years=missing)
        except NotImplementedError:  # a country the package does not know: weekends only
            self._years.update(missing)
            return
        self._holidays.update({day: str(name) for day, name in calendar.items()})
        self._years.update(missing)

    def holiday(self, day: dt.date) -> str | None:
        """The holiday's name, or None on an ordinary day."""
        if day in self.extra:
            return "company holiday"
        self._load([day.year])
        return self._holidays.get(day)

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def between(self, start: dt.date, end: dt.date) -> int:
        """Business days elapsed from ``start`` to ``end``: those in (start, end].

        Same day is 0, the next business day is 1; negative when ``end`` is before ``start``.
        """
        if end < start:
            return -self.between(end, start)
        self._load(range(start.year, end.year + 1))
        count = 0
        day = start + dt.timedelta(days=1)
        while day <= end:
            if self.is_business_day(day):
                count += 1
            day += dt.timedelta(days=1)
        return count

    def holidays_between(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """Holidays falling on weekdays in (start, end], for explaining a count."""
        found = []
        day = start + dt.timedelta(days=1)
        while day <= end:
            name = self.holiday(day)
            if name is not None and day.weekday() < 5:
                found.append((day, name))
            day += dt.timedelta(days=1)
        return found
