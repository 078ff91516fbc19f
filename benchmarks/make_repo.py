#!/usr/bin/env python3
"""Build a deterministic offer repository of N offers for benchmarks and tests.

    python benchmarks/make_repo.py 10000 [--out benchmarks/_work/repo-10000] [--seed 42]

The repository gets the project's own ``offerctl.yaml``, ``policies/``, ``schemas/`` (and
``letter_templates/`` when present) from the repository root, and one file per offer in
``offers/`` that is valid under the offer schema and consistent with the repository's
policies, read through offerctl's own engines:

* pay: the band of the offer's family, level and zone (``BandTable.zone_for``), in the band's
  currency; most salaries below the midpoint, some above it, a few outside the band, with
  sign-on bonuses, relocation and equity that now and then cross a routing threshold;
* clauses: the defaults plus optional ones, each only where the clause library says it
  applies; a letter selection rule must match every offer (``letters.select``);
* approvals: the routing engine (``route_data``) says which rules each offer triggers, once
  per offer at submission; the generator writes one line per stage and role, listing the
  rules it fills (``rules:``), with ``binding.digest`` over the union of their ``covers``,
  ``quorum`` distinct people, nobody in two roles and never the recruiter (separation of
  duties), a delegate ``on_behalf_of`` an absent approver. Offers that are approved or later
  carry every required approval; pending offers part of them;
* events that follow the lifecycle; comments here and there.

A policy the generator cannot satisfy (no band for a location, no letter rule, a rule
nobody may approve) stops it with ``GenerationError`` rather than writing offers that fail
``offerctl check``.

History is realistic too: each offer is committed several times (create, submit, one commit
per approval, send, the candidate's answer, start), each commit by the person who acted, at
spread timestamps, with the trailers offerctl writes (``Offer-Id:``, ``Offer-Action:``,
``Offer-Role:``). Commits are written with one ``git fast-import`` stream (10,000 offers,
~60,000 commits in seconds), never with one git process per commit.

Same N and seed, same bytes: the output is fully determined by the arguments.

``--encrypted`` builds the same offers as confidential offers (docs/privacy.md): the
``privacy:`` section of the root ``offerctl.yaml`` (groups ``hr`` and ``ci`` with the
public demo keys; ``benchmarks/run.py`` reads with ``examples/keys/ci-demo.agekey``), every
encrypted field sealed as offerctl seals it (SOPS values, erasable candidate fields, a
``sops:`` block with the MAC, keyed approval digests with their ``sealed`` ciphertext digests)
and the erasure keys in ``refs/offerctl/keys`` — all in this process, through offerctl's
own ``privacy`` functions. Data keys, erasure keys, digest roots and nonces are derived from
the seed, so every byte is reproducible except the age-wrapped keys (``sops.age[].enc`` and
the key-store entries): age encrypts to a fresh ephemeral key by design.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from offerctl.approvals import binding
from offerctl.core.model import Offer, Severity
from offerctl.letters.errors import LetterError
from offerctl.letters.select import select
from offerctl.policy.bands import Band
from offerctl.policy.load import load_policy_set
from offerctl.policy.routing import PolicySet, RuleOutcome, route_data
from offerctl.privacy import config as pconfig
from offerctl.privacy import document as pdocument
from offerctl.privacy import keys as pkeys
from offerctl.privacy import keystore as pkeystore
from offerctl.privacy import values as pvalues
from offerctl.store.clauses import Clause, clause_library
from offerctl.store.repo import open_repo

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("offerctl.yaml", "policies", "letter_templates", "schemas")
PLAIN_CONFIG = "tests/data/example/offerctl.yaml"
"""The example's offerctl.yaml without ``privacy:`` (the root one makes the bundled example
confidential with demo keys; generated offers are plaintext unless a benchmark encrypts them)."""
EPOCH_2024 = 1704067200  # 2024-01-01T00:00:00Z
DAY = 86400
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

CITIES = {
    ("US", "CA"): ["San Francisco", "Los Angeles", "San Diego"],
    ("US", "NY"): ["New York", "Brooklyn"],
    ("US", "WA"): ["Seattle", "Bellevue"],
    ("US", "TX"): ["Austin", "Dallas"],
    ("US", "IL"): ["Chicago"],
    ("US", "CO"): ["Denver", "Boulder"],
    ("DE", "BE"): ["Berlin"],
    ("DE", "BY"): ["Munich"],
    ("DE", "HH"): ["Hamburg"],
}
FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Abe",
    "Berg",
    "Cruz",
    "Diaz",
    "Eze",
    "García",
    "Haas",
    "Ito",
    "Jung",
    "Kaur",
    "Lund",
    "Mora",
    "Nagy",
    "Okafor",
    "Park",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Vogel",
    "Weiß",
    "Xu",
    "Yilmaz",
    "Zhou",
]
TITLES = {
    "engineering": ["Backend Engineer", "Frontend Engineer", "Site Reliability Engineer", "Data Engineer"],
    "product": ["Product Manager", "Product Designer", "UX Researcher"],
    "sales": ["Account Executive", "Sales Engineer", "Account Manager"],
    "people": ["People Partner", "Recruiter", "People Operations Specialist"],
}
SENIORITY = {"L2": "Junior ", "L3": "", "L4": "", "L5": "Senior ", "L6": "Staff ", "L7": "Principal "}
DEPARTMENT = {"engineering": "Engineering", "product": "Product", "sales": "Sales", "people": "People"}
SOURCES = ["referral", "inbound", "sourced", "agency", "university", "event", "rehire"]
NOTES = [
    "Strong system design round; team wants a quick close.",
    "Candidate asked about the hybrid policy; confirmed two office days.",
    "Competing process at a later stage elsewhere.",
    "Relocation discussed verbally; not part of this offer.",
]


@dataclass
class Commit:
    when: int
    author: str
    email: str
    offer_id: str
    action: str
    path: str
    content: str
    role: str | None = None


class GenerationError(Exception):
    """The repository's policies do not allow an offer the generator wants to write (no band
    for a location, no letter rule, a rule nobody may approve under separation of duties)."""


# Clauses offers get beyond the defaults: (clause id, share of the offers it may apply to,
# job family it is limited to). Each is added only where the clause library says it applies.
OPTIONAL_CLAUSES: tuple[tuple[str, float, str | None], ...] = (
    ("at_will", 0.8, None),
    ("commission_plan", 1.0, "sales"),
    ("probation_de", 0.9, None),
    ("non_compete", 0.15, None),
)


@dataclass
class World:
    """What the generated offers must agree with, read through offerctl's own engines."""

    root: Path
    policy: PolicySet
    config: Mapping[str, Any]  # offerctl.yaml: letter selection rules, default clauses
    clauses: Mapping[str, Clause]  # the clause library (jurisdictions, standard or not)
    default_clauses: tuple[str, ...]
    decline_reasons: tuple[str, ...]
    people: dict[str, str]  # email -> name
    managers: dict[tuple[str, str], list[str]]  # (department, country) -> hiring managers
    recruiters: dict[str, str]  # country -> recruiter
    templates: dict[str, bool] = field(default_factory=dict)  # letter template -> exists
    privacy: pconfig.PrivacyConfig | None = None  # --encrypted: the privacy section
    seed: int = 42
    key_entries: dict[str, bytes] = field(default_factory=dict)  # key store: file -> content


def load_world(root: Path) -> World:
    repo = open_repo(root, require_git=False)
    policy, findings = load_policy_set(repo)
    errors = [f for f in findings if f.severity == Severity.ERROR]
    if errors:
        first = errors[0]
        raise GenerationError(f"{first.path}:{first.line}: {first.code} {first.message}")
    people = {email: person.name for email, person in policy.approvers.people.items()}

    def pick(*emails: str) -> list[str]:
        return [e for e in emails if e in people]

    managers = {
        ("Engineering", "US"): pick("sam.lee@acme.example", "priya.nair@acme.example"),
        ("Engineering", "DE"): pick("jonas.weber@acme.example"),
        ("Product", "US"): pick("leo.park@acme.example"),
        ("Product", "DE"): pick("leo.park@acme.example"),
        ("Sales", "US"): pick("ana.lopez@acme.example"),
        ("Sales", "DE"): pick("ana.lopez@acme.example"),
        ("People", "US"): pick("hanna.schmidt@acme.example"),
        ("People", "DE"): pick("hanna.schmidt@acme.example"),
    }
    recruiters = {"US": "rita.ramos@acme.example", "DE": "tom.becker@acme.example"}
    section = repo.config.get("privacy")
    privacy = pconfig.parse(section) if isinstance(section, Mapping) and section.get("enabled") else None
    library = clause_library(repo)
    defaults = tuple(str(c) for c in repo.setting("defaults.clauses", []) or [] if str(c) in library)
    return World(
        root,
        policy,
        repo.config,
        library,
        defaults,
        repo.decline_reasons,
        people,
        managers,
        recruiters,
        privacy=privacy,
    )


def iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def day(ts: int) -> str:
    return iso(ts)[:10]


def offer_id(rng: random.Random, year: int, used: set[str]) -> str:
    while True:
        oid = f"OFF-{year}-" + "".join(rng.choice(CROCKFORD) for _ in range(8))
        if oid not in used:
            used.add(oid)
            return oid


def round_to(value: float, step: int) -> int:
    return int(round(value / step) * step)


def amount(value: Decimal | None) -> int | Decimal | None:
    """A band figure as the loader gives it: int when whole, else Decimal."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value


def find_band(world: World, family: str, level: str, country: str, region: str) -> Band:
    """The band of the offer's family, level and zone (the engine's zone lookup); when the
    policy has no band for that level in the zone, another level of the family there."""
    table = world.policy.bands
    zone, why = table.zone_for(country, region)
    if zone is None:
        raise GenerationError(f"{why}: add a zone to policies/bands.yaml")
    band = table.bands.get((family, level, zone.id))
    if band is None:
        others = [b for key, b in sorted(table.bands.items()) if key[0] == family and key[2] == zone.id]
        if not others:
            raise GenerationError(f"no band for job family {family} in zone {zone.id}")
        band = others[len(others) // 2]
    return band


def pick_clauses(world: World, rng: random.Random, family: str, country: str, region: str) -> list[str]:
    """Default clauses plus some optional ones, each only where the library says it applies."""
    chosen = [c for c in world.default_clauses if world.clauses[c].applies_to(country, region)]
    for clause_id, share, only in OPTIONAL_CLAUSES:
        clause = world.clauses.get(clause_id)
        if clause is None or clause_id in chosen or only not in (None, family):
            continue
        if clause.applies_to(country, region) and rng.random() < share:
            chosen.append(clause_id)
    return chosen


def letter_template(world: World, offer: Offer) -> str:
    """The letter template the real selection rules choose; it must exist (L403/L407)."""
    try:
        template = select(world.config, offer).template
    except LetterError as exc:
        raise GenerationError(str(exc)) from None
    exists = world.templates.get(template)
    if exists is None:
        exists = world.templates[template] = (world.root / "letter_templates" / template).is_file()
    if not exists:
        raise GenerationError(f"letter template {template} (chosen for {offer.id}) does not exist")
    return template


def _no_snapshot(index: int, line: Mapping[str, Any], covers: tuple[str, ...]) -> None:
    return None  # every generated approval matches the offer: no history is ever needed


def approval_lines(
    world: World, offer: Offer, start: int, rng: random.Random
) -> list[tuple[int, str, dict[str, Any]]]:
    """Every approval the routing policy requires of ``offer``, as (time, role, line), in
    stage order: one line per (stage, role) listing the rules it fills, with the digest over
    the union of their ``covers``; ``quorum`` distinct people per role; nobody in two roles,
    never the recruiter (separation of duties); a delegate acts ``on_behalf_of`` an absent
    principal. Asks the real engine (``route_data``) which rules the offer triggers."""
    policy = world.policy
    result = route_data(policy, offer, offer.data, as_of=_date(start), snapshot=_no_snapshot)
    recruiter = str(offer.get("recruiter", "")).lower()
    groups: dict[tuple[str, str], list[RuleOutcome]] = {}
    for outcome in result.rules:  # in stage order, rules in file order
        if outcome.triggered:
            groups.setdefault((outcome.stage, outcome.role), []).append(outcome)
    holds: dict[str, str] = {}  # person -> the one role they fill on this offer
    by_role: dict[str, list[str]] = {}
    lines: list[tuple[int, str, dict[str, Any]]] = []
    t = start
    stage = ""
    for (group_stage, role), outcomes in groups.items():
        if group_stage != stage:  # a stage opens once the previous one is complete
            stage, t = group_stage, t + rng.randint(1800, 2 * DAY)
        need = max(o.quorum for o in outcomes)
        allowed = [p for p in outcomes[0].principals if all(p in o.principals for o in outcomes[1:])]
        eligible = [p for p in allowed if p != recruiter and holds.get(p, role) == role]
        keep = [p for p in by_role.get(role, []) if p in eligible]
        rest = [p for p in eligible if p not in keep]
        rng.shuffle(rest)
        people = (keep + rest)[:need]
        if len(people) < need:
            rules = ", ".join(o.rule_id for o in outcomes)
            raise GenerationError(
                f"{offer.id}: rule(s) {rules} need {need} {role} approval(s); eligible under separation "
                f"of duties: {', '.join(eligible) or 'nobody'}"
            )
        covers = sorted({c for o in outcomes for c in o.covers})
        digest = binding.digest(offer.data, covers)
        for person in people:
            holds[person] = role
            at = t + rng.randint(600, DAY)
            line: dict[str, Any] = {"role": role, "by": person, "at": iso(at), "digest": digest}
            line["rules"] = [o.rule_id for o in outcomes]
            delegate = policy.approvers.delegate_of(person, _date(at))
            if delegate and need == 1 and delegate != recruiter and holds.get(delegate, role) == role:
                holds[delegate] = role
                line["by"], line["on_behalf_of"] = delegate, person
            if rng.random() < 0.2:
                line["comment"] = "Looks good."
            lines.append((at, role, line))
        by_role[role] = list(dict.fromkeys([*by_role.get(role, []), *people]))
        t = max(at for at, _, _ in lines)
    lines.sort(key=lambda item: item[0])
    return lines


def _date(ts: int) -> dt.date:
    return dt.date.fromisoformat(day(ts))


class Sealer:
    """One confidential offer sealed as ``offerctl`` seals it (docs/privacy.md), with keys
    and nonces derived from the seed (reproducible) and the data and erasure keys wrapped
    once per offer for its readers (age: random by design)."""

    def __init__(self, world: World, oid: str, created: int) -> None:
        assert world.privacy is not None
        self.world, self.oid = world, oid
        self.layout = world.privacy.layout()
        self._secret = hashlib.sha256(f"offerctl-bench-keys:{world.seed}:{oid}".encode()).digest()
        self.data_key = self._derive("data")
        self.erasure = pdocument.ErasureKey(self._derive("kid").hex()[:16], self._derive("erasure"))
        self.digest_root = self._derive("digest-root")
        self.lastmodified = iso(created)
        self._tokens: dict[tuple[Any, ...], str] = {}
        self._sops: dict[str, str] = {}
        self.recipients: tuple[str, ...] = ()
        self._enc: dict[str, str] = {}

    def _derive(self, label: str) -> bytes:
        import hmac

        return hmac.new(self._secret, label.encode(), hashlib.sha256).digest()

    def _nonce(self, *parts: str) -> bytes:
        return self._derive("nonce\0" + "\0".join(parts))

    def digest_block(self) -> dict[str, str]:
        import base64

        return {pconfig.DIGEST_KEY_FIELD: base64.b64encode(self.digest_root).decode("ascii")}

    def seal(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[pvalues.Plain]]:
        """``data`` with every encrypted field as its token, and the SOPS plaintexts in
        document order (what the MAC covers)."""
        macs: list[pvalues.Plain] = []

        def leaf(node: Any, keys: tuple[str, ...]) -> Any:
            tier = self.layout.tier(keys)
            if tier is None or node is None:
                return node
            aad = pvalues.sops_path(list(keys))
            raw, kind = pvalues.encode(node)
            memo = (tier, aad, kind, raw)
            if tier == "sops":
                macs.append(node)
                if node == "":
                    return ""
            token = self._tokens.get(memo)
            if token is None:
                nonce = self._nonce(tier, aad, kind, raw.decode("utf-8"))
                if tier == "sops":
                    token = pvalues.encrypt_sops(node, self.data_key, aad, nonce=nonce)
                else:
                    token = pvalues.encrypt_erasable(
                        node, self.erasure.key, self.erasure.kid, self.oid, aad, nonce=nonce
                    )
                self._tokens[memo] = token
            return token

        def walk(node: Any, keys: tuple[str, ...]) -> Any:
            if isinstance(node, Mapping):
                return {k: walk(v, (*keys, str(k))) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v, keys) for v in node]
            return leaf(node, keys)

        return {k: walk(v, (str(k),)) for k, v in data.items()}, macs

    def sops_block(self, macs: list[pvalues.Plain], data: Mapping[str, Any]) -> str:
        """The ``sops:`` block (YAML text) for these MAC plaintexts."""
        mac = pdocument.compute_mac(macs)
        block = self._sops.get(mac)
        if block is not None:
            return block
        if not self.recipients:
            assert self.world.privacy is not None
            readers = pconfig.readers_of(data, self.world.privacy, {}, {})
            self.recipients = readers.recipients
            wrapped = pkeys.wrap(self.erasure.key, self.recipients)
            entry = pkeystore.KeyEntry(self.oid, self.erasure.kid, self.recipients, wrapped)
            self.world.key_entries[pkeystore.file_name(self.oid)] = entry.to_bytes()
            self._enc = {
                r: pkeys.wrap(self.data_key, [r]) for r in self.recipients
            }  # one per reader, as SOPS
        token = pvalues.encrypt_sops(mac, self.data_key, self.lastmodified, nonce=self._nonce("mac", mac))
        lines = ["sops:", "  age:"]
        for recipient in self.recipients:
            lines.append(f"    - recipient: {recipient}")
            lines.append("      enc: |")
            lines.extend(f"        {line}" for line in self._enc[recipient].splitlines())
        lines.append(f"  lastmodified: {_scalar(self.lastmodified)}")
        lines.append(f"  mac: {_scalar(token)}")
        lines.append(f"  encrypted_regex: {_scalar(self.layout.encrypted_regex)}")
        lines.append("  mac_only_encrypted: true")
        lines.append(f"  version: {_scalar(pdocument.SOPS_VERSION)}")
        block = self._sops[mac] = "\n".join(lines) + "\n"
        return block


def make_offer(
    rng: random.Random, world: World, index: int, n: int, used: set[str], layout: str = "sharded"
) -> Iterator[Commit]:
    """One offer's commits, oldest first; each carries the full file as of that step."""
    created = EPOCH_2024 + int(index / max(n, 1) * 1000 * DAY) + rng.randrange(DAY)
    created -= created % 60
    family = rng.choices(list(TITLES), weights=[5, 2, 3, 1])[0]
    department = DEPARTMENT[family]
    country = rng.choices(["US", "DE"], weights=[3, 1])[0]
    region = rng.choice([r for (c, r) in CITIES if c == country])
    city = rng.choice(CITIES[(country, region)])
    level = rng.choices(["L2", "L3", "L4", "L5", "L6", "L7"], weights=[1, 4, 5, 4, 2, 1])[0]
    band = find_band(world, family, level, country, region)
    level = band.level
    managers = world.managers[(department, country)] or sorted(world.people)[:1]
    manager = rng.choice(managers)
    recruiter = world.recruiters[country]
    if recruiter == manager:
        recruiter = next(e for e in world.recruiters.values() if e != manager)
    oid = offer_id(rng, 2024 + (created - EPOCH_2024) // (366 * DAY), used)
    month = day(created)[:7].replace("-", "/")
    path = f"offers/{oid}.yaml" if layout == "flat" else f"offers/{month}/{oid}.yaml"
    modeline = "../" * path.count("/") + "schemas/offer.schema.json"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    # Where the salary sits: mostly below the midpoint; some above it (finance approves),
    # a few outside the band (the CPO approves).
    spot = rng.random()
    low, high = (band.min, band.mid)
    if spot < 0.03:
        low, high = band.max + 500, band.max * Decimal("1.08")
    elif spot < 0.23:
        low, high = band.mid + 500, band.max
    salary = round_to(rng.uniform(float(low), float(high)), 500)
    comp: dict[str, Any] = {"currency": band.currency, "base_salary": salary, "pay_period": "annual"}
    if band.bonus_target_pct is not None:
        comp["bonus_target_pct"] = amount(band.bonus_target_pct)
    if rng.random() < 0.35:
        sign_on_top = 60000 if rng.random() < 0.1 else 15000 if level == "L7" else 25000
        comp["sign_on_bonus"] = round_to(rng.uniform(2000, sign_on_top), 1000)
    if rng.random() < 0.1:
        relocation = round_to(rng.uniform(2000, 30000 if rng.random() < 0.3 else 15000), 500)
        comp["relocation"] = Decimal(relocation) + Decimal("0.5") if rng.random() < 0.3 else relocation
    if band.equity_max:
        units_top = band.equity_max * (1.4 if rng.random() < 0.02 else 1)
        comp["equity"] = {
            "type": "rsu",
            "units": round_to(rng.uniform(max(band.equity_min or 0, 10), units_top), 10),
            "vesting": "4y-1y-cliff",
        }
    start = created + rng.randint(30, 90) * DAY
    expires = created + rng.randint(7, 21) * DAY
    start -= (start // DAY + 3) % 7 * DAY  # a Monday
    data: dict[str, Any] = {
        "id": oid,
        "status": "draft",
        "candidate": {
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{index}@example.{'de' if country == 'DE' else 'com'}",
            "source": rng.choice(SOURCES),
        },
        "role": {
            "title": SENIORITY[level] + rng.choice(TITLES[family]),
            "requisition": f"REQ-{1000 + rng.randrange(9000)}",
            "department": department,
            "job_family": family,
            "level": level,
            "employment_type": "full_time",
            "exempt": country == "US" and level != "L2",
            "location": {
                "country": country,
                "region": region,
                "city": city,
                "work_mode": rng.choice(["onsite", "hybrid", "hybrid", "remote"]),
            },
            "hiring_manager": manager,
        },
        "recruiter": recruiter,
        "start_date": day(start),
        "expires_on": day(min(expires, start - DAY)),
        "compensation": comp,
        "clauses": pick_clauses(world, rng, family, country, region),
    }
    if rng.random() < 0.5:
        data["verbal"] = {"date": day(created - DAY), "by": manager}
    if rng.random() < 0.15:
        data["notes"] = rng.choice(NOTES)
    sealer = Sealer(world, oid, created) if world.privacy is not None else None
    if sealer is not None:
        data["privacy"] = sealer.digest_block()
    events: list[dict[str, Any]] = []
    approval_list: list[dict[str, Any]] = []
    comment = rng.random() < 0.3
    t = created
    who = world.people

    def render(status: str) -> str:
        data["status"] = status
        if sealer is None:
            return render_offer(data, approval_list, events, comment, modeline)
        stored, macs = sealer.seal(data)
        return render_offer(stored, approval_list, events, comment, modeline) + sealer.sops_block(macs, data)

    def commit(action: str, by: str, role: str | None = None) -> Commit:
        return Commit(t, who.get(by, by), by, oid, action, path, render(status), role)

    # Final outcome of this offer (the last 3% of the timeline are still open).
    recent = index >= n * 0.97
    if recent:
        outcome = rng.choice(["draft", "pending_approval", "approved", "sent", "negotiating"])
    else:
        outcome = rng.choices(
            ["accepted", "started", "declined", "rescinded", "expired", "reneged"],
            weights=[30, 45, 14, 3, 6, 2],
        )[0]
    if recent:  # open offers expire well in the future so `check` does not warn (S119)
        data["expires_on"] = "2099-12-31"
        data["start_date"] = "2099-12-31"
    template = letter_template(world, Offer(path, data))
    status = "draft"
    events.append({"type": "created", "at": iso(t), "by": recruiter})
    yield commit("create", recruiter)
    if outcome == "draft":
        return
    t += rng.randint(600, 2 * DAY)
    events.append(
        {"type": "submitted", "at": iso(t), "by": recruiter, "from": "draft", "to": "pending_approval"}
    )
    status = "pending_approval"
    yield commit("submit", recruiter)
    required = approval_lines(world, Offer(path, {**data, "events": events}), t, rng)
    if sealer is not None:  # anyone can check without a key that the covered ciphertexts stand
        stored, _ = sealer.seal(data)
        for _, _, line in required:
            covers = sorted(
                {c for rid in line["rules"] if (rule := world.policy.rule(rid)) for c in rule.covers}
            )
            line["sealed"] = binding.sealed_digest(stored, covers)
    if outcome == "pending_approval":  # part of the way: at least one approval still missing
        required = required[: rng.randrange(len(required))]
    for number, (at, role, line) in enumerate(required, 1):
        t = at
        approval_list.append(line)
        if outcome != "pending_approval" and number == len(required):
            status = "approved"
        yield commit("approve", line["by"], role)
    if outcome in ("pending_approval", "approved"):
        return
    if outcome == "rescinded" and rng.random() < 0.5:
        t += rng.randint(DAY, 4 * DAY)
        events.append(
            {
                "type": "rescinded",
                "at": iso(t),
                "by": recruiter,
                "from": "approved",
                "to": "rescinded",
                "reason": "requisition closed",
            }
        )
        status = "rescinded"
        yield commit("rescind", recruiter)
        return
    t += rng.randint(3600, 2 * DAY)
    letter = hashlib.sha256(f"{oid}-letter-1".encode()).hexdigest()
    events.append(
        {
            "type": "sent",
            "at": iso(t),
            "by": recruiter,
            "from": "approved",
            "to": "sent",
            "channel": "email",
            "written_on": day(t),
            "template": template,
            "letter_sha256": letter,
        }
    )
    status = "sent"
    yield commit("send", recruiter)
    if outcome == "sent":
        return
    if outcome == "negotiating":
        t += rng.randint(DAY, 3 * DAY)
        events.append(
            {
                "type": "note",
                "at": iso(t),
                "by": recruiter,
                "comment": "Candidate asked for a higher sign-on bonus.",
            }
        )
        status = "negotiating"
        yield commit("revise", recruiter)
        return
    answer = min(expires, start - DAY) - rng.randint(0, 3 * DAY)
    t = max(t + 3600, answer)
    if outcome == "rescinded":
        events.append(
            {
                "type": "rescinded",
                "at": iso(t),
                "by": recruiter,
                "from": "sent",
                "to": "rescinded",
                "reason": "requisition closed",
            }
        )
        status = "rescinded"
        yield commit("rescind", recruiter)
        return
    if outcome == "expired":
        t = max(t, expires + DAY)
        events.append({"type": "expired", "at": iso(t), "by": recruiter, "from": "sent", "to": "expired"})
        status = "expired"
        yield commit("expire", recruiter)
        return
    if outcome == "declined":
        reason = rng.choice(world.decline_reasons)
        event: dict[str, Any] = {
            "type": "declined",
            "at": iso(t),
            "by": recruiter,
            "from": "sent",
            "to": "declined",
            "reason": reason,
        }
        if reason == "competing_offer":
            event["competing_employer"] = rng.choice(["Globex", "Initech", "Umbrella"])
        events.append(event)
        status = "declined"
        yield commit("decline", recruiter)
        return
    events.append(
        {
            "type": "accepted",
            "at": iso(t),
            "by": recruiter,
            "from": "sent",
            "to": "accepted",
            "signed_on": day(t),
        }
    )
    status = "accepted"
    yield commit("accept", recruiter)
    if outcome == "reneged":
        t += rng.randint(DAY, 20 * DAY)
        events.append(
            {
                "type": "reneged",
                "at": iso(t),
                "by": recruiter,
                "from": "accepted",
                "to": "reneged",
                "reason": "counter_offer",
            }
        )
        status = "reneged"
        yield commit("renege", recruiter)
    elif outcome == "started":
        t = max(t + DAY, start + 9 * 3600)
        events.append({"type": "started", "at": iso(t), "by": recruiter, "from": "accepted", "to": "started"})
        status = "started"
        yield commit("start", recruiter)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = str(value)
    quoted = _QUOTED.get(text)
    if quoted is None:
        plain = text != "" and not _SPECIAL.search(text) and text[0] not in "-? " and not _typed(text)
        quoted = _QUOTED[text] = text if plain else "'" + text.replace("'", "''") + "'"
    return quoted


_SPECIAL = re.compile("[:#,\\[\\]{}'\"&*!|>%@`]")
_QUOTED: dict[str, str] = {}  # plain scalars repeat (names, emails, dates): quote each once
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "~"})


def _typed(text: str) -> bool:
    return text.lower() in _RESERVED or text[0].isdigit()


def _flow(mapping: dict[str, Any]) -> str:
    parts = []
    for key, value in mapping.items():
        if isinstance(value, list):
            parts.append(f"{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            parts.append(f"{key}: {_scalar(value)}")
    return "{" + ", ".join(parts) + "}"


def _block(mapping: dict[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.append(f"{pad}{key}:")
            _block(value, indent + 2, out)
        elif isinstance(value, list):
            out.append(f"{pad}{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            out.append(f"{pad}{key}: {_scalar(value)}")


def render_offer(
    data: dict[str, Any],
    approvals: list[dict[str, Any]],
    events: list[dict[str, Any]],
    comment: bool,
    modeline: str,
) -> str:
    """The file as offerctl writes it: block mappings, one flow line per approval/event."""
    out = [f"# yaml-language-server: $schema={modeline}"]
    _block({k: v for k, v in data.items() if k in ("id", "status")}, 0, out)
    if comment:
        out[-1] += "  # see events for the history"
    _block({k: v for k, v in data.items() if k not in ("id", "status")}, 0, out)
    if comment:
        out.append("# approvals and events are appended by offerctl, one line each")
    out.append("approvals:" + ("" if approvals else " []"))
    out.extend(f"  - {_flow(a)}" for a in approvals)
    out.append("events:" + ("" if events else " []"))
    out.extend(f"  - {_flow(e)}" for e in events)
    return "\n".join(out) + "\n"


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def source_of(source: Path, name: str) -> Path:
    """The file or directory ``name`` of ``source`` to copy (``offerctl.yaml``: the
    plaintext example's, when ``source`` has one)."""
    if name == "offerctl.yaml" and (source / PLAIN_CONFIG).is_file():
        return source / PLAIN_CONFIG
    return source / name


def privacy_section(source: Path) -> str:
    """The bundled example's ``privacy:`` section (its demo keys), for an encrypted
    repository: without retention periods (thousands of old closed offers would each warn,
    V703, and the keyed run is compared with the plain one, which has no findings) and
    without the demo key-store seed (the generator writes the store itself)."""
    config = (source / "offerctl.yaml").read_text("utf-8")
    start = config.find("\nprivacy:")
    if start < 0:
        raise GenerationError(f"{source / 'offerctl.yaml'} has no privacy: section to copy")
    section = config[start + 1 :]
    section = re.sub(r"(?m)^  retention_days:.*\n", "", section)
    section = re.sub(r"(?m)^  key_store:.*\n", "", section)
    return re.sub(r"(?m)^  #.*\n", "", section)


def scale_budgets(out: Path, n: int) -> None:
    """Budgets sized for ``n`` offers. The generator routes each offer once, when it is
    made, without the ledger of the offers made after it; with the example's budgets
    (sized for 16 offers) `check` would find thousands of offers over budget that the
    generator never routed to finance (A301). Scaled, the `over-budget` rule still reads
    the ledger on every run but never fires, so the repository checks clean."""
    path = out / "policies" / "budgets.yaml"
    if path.is_file():
        factor = max(1, n)
        text = re.sub(
            r"(?m)^(\s*amount:\s*)(\d+)\s*$",
            lambda m: f"{m.group(1)}{int(m.group(2)) * factor}",
            path.read_text("utf-8"),
        )
        path.write_text(text, "utf-8")


def build(
    n: int,
    out: Path,
    seed: int = 42,
    source: Path = ROOT,
    layout: str = "sharded",
    settle: bool = True,
    encrypted: bool = False,
) -> dict[str, int]:
    """Create the repository at ``out`` (replacing it); return counts. ``encrypted``: the
    same offers as confidential offers (module docstring)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in COPIED:
        src = source_of(source, name)
        if src.is_dir():
            shutil.copytree(src, out / name)
        elif src.is_file():
            shutil.copy2(src, out / name)
    (out / "offers").mkdir(exist_ok=True)
    scale_budgets(out, n)
    if encrypted:
        config = out / "offerctl.yaml"
        section = privacy_section(source)
        config.write_text(config.read_text("utf-8").rstrip("\n") + "\n" + section, "utf-8")
    rng = random.Random(seed)
    world = load_world(out)
    world.seed = seed
    used: set[str] = set()
    commits: list[Commit] = []
    for index in range(n):
        commits.extend(make_offer(rng, world, index, n, used, layout))
    commits.sort(key=lambda c: (c.when, c.offer_id))
    final: dict[str, str] = {}
    for c in commits:
        final[c.path] = c.content

    env = {"LC_ALL": "C", "PATH": _path_env(), "HOME": str(out), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True, env=env)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=out,
        stdin=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    write = proc.stdin.write
    base_files = sorted(p for p in out.rglob("*") if p.is_file() and ".git" not in p.relative_to(out).parts)
    first = EPOCH_2024 - DAY
    message = "Offer repository for Acme Robotics\n\nOffer-Action: init\n"
    write(b"commit refs/heads/main\nmark :1\n")
    write(f"author Morgan Blake <morgan.blake@acme.example> {first} +0000\n".encode())
    write(f"committer Morgan Blake <morgan.blake@acme.example> {first} +0000\n".encode())
    write(_data(message))
    for path in base_files:
        rel = path.relative_to(out).as_posix()
        if rel.startswith("offers/"):
            continue
        write(f"M 100644 inline {rel}\n".encode())
        raw = path.read_bytes()
        write(b"data %d\n" % len(raw) + raw + b"\n")
    write(b"\n")
    for c in commits:
        subject = f"{c.action} {c.offer_id}" + (f" as {c.role}" if c.role else "")
        trailers = f"Offer-Id: {c.offer_id}\nOffer-Action: {c.action}\n"
        if c.role:
            trailers += f"Offer-Role: {c.role}\n"
        write(b"commit refs/heads/main\n")
        write(f"author {c.author} <{c.email}> {c.when} +0000\n".encode())
        write(f"committer {c.author} <{c.email}> {c.when} +0000\n".encode())
        write(_data(f"{subject}\n\n{trailers}"))
        write(f"M 100644 inline {c.path}\n".encode())
        write(_data(c.content))
        write(b"\n")
    if world.key_entries:  # the erasure key store: one parentless commit (docs/privacy.md)
        store = "offerctl key store <keys@offerctl.invalid> 946684800 +0000"
        write(f"commit {pkeystore.KEYS_REF}\ncommitter {store}\n".encode())
        write(_data("offerctl: erasure keys"))
        for name in sorted(world.key_entries):
            write(f"M 100644 inline {name}\n".encode())
            raw = world.key_entries[name]
            write(b"data %d\n" % len(raw) + raw + b"\n")
        write(b"\n")
    write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=out, check=True, env=env)
    # Files written in the same second as the index are "racily clean" and git re-reads
    # them on every status; a real clone settles after the first refresh, so settle now.
    if settle:
        time.sleep(1.1)
        subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=out, check=False, env=env)
    subprocess.run(["git", "config", "user.name", "Rita Ramos"], cwd=out, check=True, env=env)
    subprocess.run(["git", "config", "user.email", "rita.ramos@acme.example"], cwd=out, check=True, env=env)
    return {"offers": len(final), "commits": len(commits) + 1}


def _path_env() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("offers", type=int, help="number of offers")
    parser.add_argument("--out", type=Path, help="target directory (default: benchmarks/_work/repo-N)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--layout",
        choices=["sharded", "flat"],
        default="sharded",
        help="offers/YYYY/MM/ID.yaml (default) or offers/ID.yaml; flat is quadratic to build: "
        "every commit rewrites one tree holding every offer",
    )
    parser.add_argument(
        "--encrypted",
        action="store_true",
        help="confidential offers (privacy enabled, demo keys of examples/keys/; read with ci-demo.agekey)",
    )
    args = parser.parse_args(argv)
    suffix = "-encrypted" if args.encrypted else ""
    out = args.out or ROOT / "benchmarks" / "_work" / f"repo-{args.offers}{suffix}"

    started = time.perf_counter()
    counts = build(args.offers, out.resolve(), args.seed, layout=args.layout, encrypted=args.encrypted)
    elapsed = time.perf_counter() - started
    print(
        f"{out}: {counts['offers']} offers, {counts['commits']} commits in {elapsed:.1f} s", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
