"""Pay bands (policies/bands.yaml): exact, explainable lookup of job family x level x zone.

A location matches a zone through the zone's ``match`` entries; the most specific entry wins
(``{country: US, region: CA}`` beats ``{country: US}``). Two zones with the same entry, or
two bands with the same key, make a lookup ambiguous: both are findings, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from offerctl.core.model import Finding, Offer, to_decimal
from offerctl.store import yamlio

PATH = "policies/bands.yaml"


@dataclass(frozen=True)
class Band:
    job_family: str
    level: str
    zone: str
    currency: str
    min: Decimal
    mid: Decimal
    max: Decimal
    bonus_target_pct: Decimal | None = None
    equity_min: int | None = None
    equity_max: int | None = None
    line: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.job_family, self.level, self.zone)


@dataclass(frozen=True)
class Zone:
    id: str
    match: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class BandMatch:
    band: Band | None
    explanation: str


@dataclass(frozen=True)
class BandTable:
    zones: tuple[Zone, ...] = ()
    bands: Mapping[tuple[str, str, str], Band] = field(default_factory=dict)

    def zone_for(self, country: str | None, region: str | None) -> tuple[Zone | None, str]:
        """The zone with the most specific matching entry (country+region beats country)."""
        best: tuple[int, Zone] | None = None
        for zone in self.zones:
            for m_country, m_region in zone.match:
                if m_country != country:
                    continue
                if m_region is not None and m_region != region:
                    continue
                score = 2 if m_region is not None else 1
                if best is None or score > best[0]:
                    best = (score, zone)
        if best is None:
            return None, f"no zone matches country {country}" + (f", region {region}" if region else "")
        how = f"{country}-{region}" if best[0] == 2 else f"{country}"
        return best[1], f"location {how} is zone {best[1].id}"

    def lookup(self, offer: Offer) -> BandMatch:
        family, level = offer.get("role.job_family"), offer.get("role.level")
        zone, why = self.zone_for(offer.get("role.location.country"), offer.get("role.location.region"))
        if zone is None:
            return BandMatch(None, why)
        band = self.bands.get((str(family), str(level), zone.id))
        if band is None:
            return BandMatch(None, f"{why}; no band for {family} {level} in zone {zone.id}")
        return BandMatch(band, f"{why}; band {family} {level} {zone.id} (line {band.line})")


def parse(data: Mapping[str, Any], text: str | None) -> tuple[BandTable, list[Finding]]:
    findings: list[Finding] = []

    find = yamlio.line_finder(text)

    def line(path: list[str | int]) -> int | None:
        found: int | None = find(path)
        return found

    zones: list[Zone] = []
    seen_entries: dict[tuple[str, str | None], str] = {}
    for zi, raw in enumerate(data.get("zones") or []):
        if not isinstance(raw, Mapping):
            continue
        entries: list[tuple[str, str | None]] = []
        for mi, m in enumerate(raw.get("match") or []):
            entry = (str(m.get("country")), str(m["region"]) if m.get("region") else None)
            entries.append(entry)
            if entry in seen_entries and seen_entries[entry] != raw.get("id"):
                where = entry[0] + (f"-{entry[1]}" if entry[1] else "")
                findings.append(
                    Finding(
                        PATH,
                        line(["zones", zi, "match", mi]),
                        "P211",
                        f"zones {seen_entries[entry]} and {raw.get('id')} both match {where}: "
                        "overlapping bands make the lookup ambiguous; keep the entry in one zone",
                    )
                )
            seen_entries.setdefault(entry, str(raw.get("id")))
        zones.append(Zone(str(raw.get("id")), tuple(entries)))
    zone_ids = {z.id for z in zones}
    bands: dict[tuple[str, str, str], Band] = {}
    for bi, raw in enumerate(data.get("bands") or []):
        if not isinstance(raw, Mapping):
            continue
        equity = raw.get("equity_units") or {}
        lo, mid, hi = (to_decimal(raw.get(k)) for k in ("min", "mid", "max"))
        band = Band(
            job_family=str(raw.get("job_family")),
            level=str(raw.get("level")),
            zone=str(raw.get("zone")),
            currency=str(raw.get("currency")),
            min=lo or Decimal(0),
            mid=mid or Decimal(0),
            max=hi or Decimal(0),
            bonus_target_pct=to_decimal(raw.get("bonus_target_pct")),
            equity_min=equity.get("min"),
            equity_max=equity.get("max"),
            line=line(["bands", bi]),
        )
        if band.key in bands:
            findings.append(
                Finding(
                    PATH,
                    band.line,
                    "P210",
                    f"duplicate band {' '.join(band.key)} (also on line {bands[band.key].line}); keep one",
                )
            )
            continue
        if band.zone not in zone_ids:
            findings.append(
                Finding(PATH, band.line, "P212", f"band {' '.join(band.key)}: unknown zone {band.zone!r}")
            )
        if not band.min <= band.mid <= band.max:
            findings.append(
                Finding(
                    PATH,
                    band.line,
                    "P213",
                    f"band {' '.join(band.key)}: needs min <= mid <= max "
                    f"({band.min}, {band.mid}, {band.max})",
                )
            )
        bands[band.key] = band
    return BandTable(tuple(zones), bands), findings


__all__ = ["Band", "BandMatch", "BandTable", "Zone", "parse"]
