"""The ``offerctl report`` value: metrics for a window of offers, and the previous window.

``build`` is the one core call of the command: it loads offers and policies, mines history
in one ``git log`` pass (``history.scan``), computes ``metrics`` for the offers whose
creation date falls in the window, and returns a ``Report``. Rendering (text tables, JSON,
the HTML dashboard) happens elsewhere; nothing here prints.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from offerctl.core import isolation
from offerctl.core.bizdays import BusinessCalendar
from offerctl.core.clock import today
from offerctl.core.errors import UsageError
from offerctl.core.model import Offer
from offerctl.policy import bands
from offerctl.policy.load import standard_clauses
from offerctl.reports import history, metrics, offer_reader
from offerctl.store import loader
from offerctl.store.repo import Repo

JSON_VERSION = 1


@dataclass(frozen=True)
class Window:
    since: dt.date | None
    until: dt.date | None

    def contains(self, day: dt.date | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if day is None:
            return False
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def previous(self) -> Window | None:
        """The window of the same length just before this one (needs both ends)."""
        if self.since is None or self.until is None:
            return None
        length = (self.until - self.since).days + 1
        until = self.since - dt.timedelta(days=1)
        return Window(until - dt.timedelta(days=length - 1), until)

    def as_json(self) -> dict[str, str | None]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True)
class Report:
    company: str
    window: Window
    previous_window: Window | None
    by: tuple[str, ...]
    current: dict[str, Any]
    previous: dict[str, Any] | None
    comparison: list[dict[str, Any]] | None
    skipped_files: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape (docs/metrics.md, "JSON output")."""
        return {
            "version": JSON_VERSION,
            "company": self.company,
            "window": self.window.as_json(),
            "previous_window": self.previous_window.as_json() if self.previous_window else None,
            "segments": list(self.by),
            "metrics": self.current,
            "previous": self.previous,
            "comparison": self.comparison,
            "skipped_files": list(self.skipped_files),
        }


def parse_window(since: str | None, until: str | None) -> Window:
    def parse(flag: str, value: str | None) -> dt.date | None:
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise UsageError(
                f"{flag} {value!r} is not a date", hint="use YYYY-MM-DD, e.g. 2026-10-01"
            ) from None

    start, end = parse("--since", since), parse("--until", until)
    if start is not None and end is None:
        end = today()
    if start is not None and end is not None and end < start:
        raise UsageError(f"--until {end} is before --since {start}", hint="swap the two dates")
    return Window(start, end)


def check_by(by: Sequence[str]) -> tuple[str, ...]:
    for name in by:
        if name not in metrics.SEGMENTS:
            raise UsageError(
                f"--by {name!r}: not a segment",
                hint=f"one of {', '.join(metrics.SEGMENTS)} (repeat --by for several)",
            )
    return tuple(by) if by else metrics.SEGMENTS


def counted_approvals(offers: Sequence[Offer], policies: loader.Policies) -> list[Offer]:
    """The offers with only the approval lines that count as far as signature and time go
    (``approvals.verify.signature_verdict``, ``core.timestamps``: the rules every command
    and CI apply), so a forged or future-dated line never enters a metric."""
    from offerctl.approvals.verify import signature_verdict
    from offerctl.core import timestamps
    from offerctl.core.clock import latest_now
    from offerctl.policy import approvers

    mode = str((policies.routing or {}).get("signatures", "optional"))
    keyring = approvers.parse(policies.approvers or {}, None)[0].keyring(mode)
    moment = latest_now()
    out: list[Offer] = []
    for offer in offers:
        lines = offer.get("approvals")
        if not isinstance(lines, list) or not lines:
            out.append(offer)
            continue
        created = timestamps.created_at(offer.data)
        kept = [
            a
            for a in lines
            if not isinstance(a, Mapping)
            or (
                signature_verdict(offer.id, a, keyring).ok
                and timestamps.time_problem(a.get("at"), created, moment) is None
            )
        ]
        out.append(offer if len(kept) == len(lines) else Offer(offer.path, {**offer.data, "approvals": kept}))
    return out


def build(
    repo: Repo,
    *,
    since: str | None = None,
    until: str | None = None,
    by: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    cache: bool = True,
) -> Report:
    """``cache``: use the content-keyed cache of offer fields (``offer_reader``) and the
    history cache (``history``, whole-history reports only); False reads every file and
    the whole history afresh (the output is the same)."""
    window = parse_window(since, until)
    segments = check_by(by)
    previous_window = window.previous()
    # Commits of offers created in a window come after their creation: history before the
    # earliest window (less a day of clock skew) cannot change any number of this report.
    earliest = (previous_window or window).since
    scan_since = (earliest - dt.timedelta(days=1)) if earliest else None
    pending = history.start(repo, since=scan_since, cache=cache)  # git log runs while offers are read
    files = loader.offer_files(repo)
    read = offer_reader.read_offers(repo, files, metrics.OFFER_FIELDS, cache=cache)
    offers = list(read.offers)
    skipped = tuple(sorted({o.path for o in offers if not o.id} | set(read.unreadable)))
    offers = [o for o in offers if o.id]
    policies = loader.load_policies(repo)
    offers = counted_approvals(offers, policies)
    commits = pending.result(progress=progress)
    per_offer: dict[str, list[history.CommitRecord]] = defaultdict(list)
    for record in commits:
        if record.offer_id:
            per_offer[record.offer_id].append(record)
    sla = {str(k): int(v) for k, v in (repo.setting("sla") or {}).items() if isinstance(v, int)}
    facts = []
    broken: set[str] = set()
    for offer in sorted(offers, key=lambda o: o.id):
        fact, problem = isolation.guarded(offer, lambda o: metrics.facts_of(o, per_offer.get(o.id, [])))
        if fact is not None:
            facts.append(fact)
        if problem is not None:
            broken.add(offer.path)
    skipped = tuple(sorted({*skipped, *broken}))
    inputs = metrics.Inputs(
        offers=[o for o in offers if o.path not in broken],
        commits=commits,
        calendar=BusinessCalendar.from_config(repo.setting("holidays")),
        sla=sla,
        bands=bands.parse(policies.bands, None)[0],
        routing=policies.routing,
        standard_clauses=standard_clauses(repo),
        decline_reasons=repo.decline_reasons,
        contact_cadence=repo.contact_cadence,
    )
    current = metrics.compute(inputs, [f for f in facts if window.contains(f.cohort_date)], segments)
    previous = None
    compared = None
    if previous_window is not None:
        previous = metrics.compute(
            inputs, [f for f in facts if previous_window.contains(f.cohort_date)], segments
        )
        compared = metrics.comparison(current, previous)
    return Report(
        company=str(repo.setting("company.name") or ""),
        window=window,
        previous_window=previous_window,
        by=segments,
        current=current,
        previous=previous,
        comparison=compared,
        skipped_files=skipped,
    )
