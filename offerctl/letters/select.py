"""Which letter an offer gets: the template selection rules (``offerctl.yaml``
``letters.rules``, first match wins) and the default clauses for its jurisdiction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from offerctl.core.model import Offer
from offerctl.letters.errors import LetterError
from offerctl.store.clauses import clause_library

if TYPE_CHECKING:
    from offerctl.store.repo import Repo

MATCH_KEYS = {
    "country": "role.location.country",
    "region": "role.location.region",
    "employment_type": "role.employment_type",
    "level": "role.level",
    "department": "role.department",
    "job_family": "role.job_family",
    "work_mode": "role.location.work_mode",
}


@dataclass(frozen=True)
class Rule:
    index: int
    id: str
    template: str
    when: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Selection:
    template: str
    rule: str | None
    """Id of the matching rule; None when the offer's ``letter.template`` chose."""
    reason: str
    considered: tuple[str, ...] = ()
    """One line per rule looked at, in order, saying why it did or did not match."""

    def explain(self) -> str:
        lines = [f"template: {self.template}", f"why: {self.reason}"]
        if self.considered:
            lines.append("rules (first match wins, from offerctl.yaml letters.rules):")
            lines.extend(f"  {line}" for line in self.considered)
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "rule": self.rule,
            "reason": self.reason,
            "considered": list(self.considered),
        }


def rules(config: Mapping[str, Any]) -> list[Rule]:
    letters = config.get("letters")
    raw = letters.get("rules") if isinstance(letters, Mapping) else None
    result: list[Rule] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, Mapping) or not isinstance(item.get("template"), str):
            continue
        when_raw = item.get("when") if isinstance(item.get("when"), Mapping) else {}
        when = {
            str(key): tuple(map(str, value)) if isinstance(value, list) else (str(value),)
            for key, value in (when_raw or {}).items()
        }
        result.append(Rule(index, str(item.get("id") or f"rule {index + 1}"), item["template"], when))
    return result


def select(config: Mapping[str, Any], offer: Offer) -> Selection:
    """Which template an offer gets: ``letter.template`` if set, else the first matching rule."""
    override = offer.get("letter.template")
    if isinstance(override, str) and override:
        return Selection(override, None, f"the offer sets letter.template: {override}")
    considered: list[str] = []
    for rule in rules(config):
        misses = []
        for key, allowed in rule.when.items():
            actual = offer.get(MATCH_KEYS.get(key, key))
            if str(actual) not in allowed:
                misses.append(f"{key} is {actual}, not {' or '.join(allowed)}")
        if not misses:
            conditions = ", ".join(f"{k} {' or '.join(v)}" for k, v in rule.when.items()) or "any offer"
            considered.append(f"{rule.id}: matches ({conditions}) -> {rule.template}")
            return Selection(
                rule.template, rule.id, f"rule {rule.id!r} matches ({conditions})", tuple(considered)
            )
        considered.append(f"{rule.id}: no ({'; '.join(misses)})")
    facts = ", ".join(f"{k} {offer.get(p)}" for k, p in MATCH_KEYS.items() if offer.get(p) is not None)
    raise LetterError(
        f"no letter template rule matches offer {offer.id} ({facts})",
        hint="add a rule under letters.rules in offerctl.yaml, or set letter.template in the offer",
        path="offerctl.yaml",
        code="L407",
    )


def default_clauses(repo: Repo, data: Mapping[str, Any]) -> list[str]:
    """``defaults.clauses`` that apply in the offer's jurisdiction (``new`` uses these), so a
    German offer does not get the US ``at_will`` clause. Unknown ids are kept (check: L404)."""
    from offerctl.core.model import get_path

    configured = [str(c) for c in repo.setting("defaults.clauses", []) or []]
    library = clause_library(repo)
    country = get_path(data, "role.location.country")
    region = get_path(data, "role.location.region")
    return [c for c in configured if c not in library or library[c].applies_to(country, region)]
