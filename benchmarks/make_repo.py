#!/usr/bin/env python3
"""Build a deterministic offer repository of N offers for benchmarks and tests.

    python benchmarks/make_repo.py 10000 [--out benchmarks/_work/repo-10000] [--seed 42]

The repository gets the project's own ``offerctl.yaml``, ``policies/``, ``schemas/`` (and
``letter_templates/`` when present) from the repository root, and one file per offer in
``offers/`` that is valid under the offer schema and consistent with the bundled policies:
salaries inside the pay band of the offer's family, level and zone; hiring managers and
recruiters who exist in ``policies/approvers.yaml``; approvals matching the routing rules
that trigger; events that follow the lifecycle; comments here and there.

History is realistic too: each offer is committed several times (create, submit, one commit
per approval, send, the candidate's answer, start), each commit by the person who acted, at
spread timestamps, with the trailers offerctl writes (``Offer-Id:``, ``Offer-Action:``,
``Offer-Role:``). Commits are written with one ``git fast-import`` stream (10,000 offers,
~60,000 commits in seconds), never with one git process per commit.

Same N and seed, same bytes: the output is fully determined by the arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("offerctl.yaml", "policies", "letter_templates", "schemas")
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
ZONE_OF = {"CA": "us-tier1", "NY": "us-tier1", "WA": "us-tier1"}
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
DECLINE_REASONS = ["compensation", "competing_offer", "location_remote", "timing_process", "personal"]


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


@dataclass
class World:
    people: dict[str, str]  # email -> name
    managers: dict[tuple[str, str], list[str]]  # (department, country) -> hiring managers
    recruiters: dict[str, str]  # country -> recruiter
    bands: dict[tuple[str, str, str], dict[str, Any]]  # (family, level, zone) -> band
    roles: dict[str, list[str]] = field(default_factory=dict)


def load_world(root: Path) -> World:
    approvers = yaml.safe_load((root / "policies" / "approvers.yaml").read_text("utf-8"))
    bands = yaml.safe_load((root / "policies" / "bands.yaml").read_text("utf-8"))
    people = {p["email"]: p["name"] for p in approvers["people"]}
    roles = {name: list(spec.get("people") or []) for name, spec in approvers["roles"].items()}

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
    table = {(b["job_family"], b["level"], b["zone"]): b for b in bands["bands"]}
    return World(people, managers, recruiters, table, roles)


def _approvals_digest() -> Any:
    try:
        from offerctl import approvals  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(approvals, "digest", None)


_APPROVALS_DIGEST = _approvals_digest()


def canonical_digest(data: dict[str, Any], covers: list[str]) -> str:
    """``sha256:`` of the canonical JSON of the covered fields (the approvals contract);
    uses ``offerctl.approvals.digest`` when that module exists, so the lines verify."""
    if _APPROVALS_DIGEST is not None:
        return str(_APPROVALS_DIGEST(data, covers))
    covered: dict[str, Any] = {}
    for dotted in covers:
        node: Any = data
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        covered[dotted] = node
    blob = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


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
    zone = "de" if country == "DE" else ZONE_OF.get(region, "us-tier2")
    level = rng.choices(["L2", "L3", "L4", "L5", "L6", "L7"], weights=[1, 4, 5, 4, 2, 1])[0]
    band = world.bands.get((family, level, zone))
    if band is None:  # a policy without this band: fall back to any band of the family
        band = next(b for k, b in sorted(world.bands.items()) if k[0] == family)
        level = band["level"]
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
    above_mid = rng.random() < 0.2
    low, high = (band["mid"], band["max"]) if above_mid else (band["min"], band["mid"])
    salary = round_to(rng.uniform(low, high), 500)
    comp: dict[str, Any] = {"currency": band["currency"], "base_salary": salary, "pay_period": "annual"}
    if "bonus_target_pct" in band:
        comp["bonus_target_pct"] = band["bonus_target_pct"]
    if rng.random() < 0.35:
        comp["sign_on_bonus"] = round_to(rng.uniform(2000, 15000 if level == "L7" else 25000), 1000)
    if rng.random() < 0.1:
        relocation = round_to(rng.uniform(2000, 15000), 500)
        comp["relocation"] = relocation + 0.5 if rng.random() < 0.3 else relocation
    eq = band.get("equity_units") or {}
    if eq.get("max"):
        comp["equity"] = {
            "type": "rsu",
            "units": round_to(rng.uniform(max(eq.get("min", 0), 10), eq["max"]), 10),
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
        "clauses": ["confidentiality"] + (["probation_de"] if country == "DE" else []),
    }
    if rng.random() < 0.5:
        data["verbal"] = {"date": day(created - DAY), "by": manager}
    if rng.random() < 0.15:
        data["notes"] = rng.choice(NOTES)
    events: list[dict[str, Any]] = []
    approvals: list[dict[str, Any]] = []
    comment = rng.random() < 0.3
    t = created
    who = world.people

    def render(status: str) -> str:
        data["status"] = status
        return render_offer(data, approvals, events, comment, modeline)

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
    required: list[tuple[str, str, list[str], str]] = [
        ("hiring_manager", manager, ["role", "start_date", "compensation"], "hiring-manager")
    ]
    if level in ("L6", "L7"):
        heads = world.roles.get("department_head") or [manager]
        required.append(
            (
                "department_head",
                rng.choice(heads),
                ["role.level", "role.title", "compensation"],
                "senior-hire",
            )
        )
    if above_mid:
        finance = world.roles.get("finance") or [manager]
        required.append(
            (
                "finance",
                rng.choice(finance),
                ["compensation.base_salary", "compensation.bonus_target_pct"],
                "above-midpoint",
            )
        )
    if outcome == "pending_approval":
        required = required[:1] if len(required) > 1 else []
    for role, by, covers, rule in required:
        t += rng.randint(1800, 3 * DAY)
        line: dict[str, Any] = {
            "role": role,
            "by": by,
            "at": iso(t),
            "digest": canonical_digest(data, covers),
            "rules": [rule],
        }
        if rng.random() < 0.2:
            line["comment"] = "Looks good."
        approvals.append(line)
        if outcome != "pending_approval" and role == required[-1][0]:
            status = "approved"
        yield commit("approve", by, role)
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
        reason = rng.choice(DECLINE_REASONS)
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
    text = str(value)
    if text == "" or any(c in text for c in ":#,[]{}'\"&*!|>%@`") or text[0] in "-? " or _typed(text):
        return "'" + text.replace("'", "''") + "'"
    return text


def _typed(text: str) -> bool:
    return text.lower() in {"true", "false", "null", "yes", "no", "on", "off", "~"} or text[0].isdigit()


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


def build(
    n: int,
    out: Path,
    seed: int = 42,
    source: Path = ROOT,
    layout: str = "sharded",
    settle: bool = True,
) -> dict[str, int]:
    """Create the repository at ``out`` (replacing it); return counts."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in COPIED:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, out / name)
        elif src.is_file():
            shutil.copy2(src, out / name)
    (out / "offers").mkdir(exist_ok=True)
    rng = random.Random(seed)
    world = load_world(out)
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
    args = parser.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / "_work" / f"repo-{args.offers}"

    started = time.perf_counter()
    counts = build(args.offers, out.resolve(), args.seed, layout=args.layout)
    elapsed = time.perf_counter() - started
    print(
        f"{out}: {counts['offers']} offers, {counts['commits']} commits in {elapsed:.1f} s", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
