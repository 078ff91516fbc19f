"""A small offer repository with known dates, for checking every report metric by hand.

Seven offers created in November 2026 (A-G), one in October (P, the previous window) and one
in September (Q, outside both). Policies and offerctl.yaml are the bundled example's
(SLA: hiring_manager 1, finance 2, vp_people 2, legal 3 business days; holidays US-CA, so
2026-11-11 Veterans Day, 2026-11-26 Thanksgiving and 2026-11-27 are not business days).
Each offer is committed twice with trailers at the dates of its events; G also gets a hand
edit (a commit without trailers).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT, example_source, git

SF = {"country": "US", "region": "CA", "city": "San Francisco", "work_mode": "hybrid"}
AUSTIN = {"country": "US", "region": "TX", "city": "Austin", "work_mode": "onsite"}
RITA = "rita.ramos@acme.example"
TOM = "tom.becker@acme.example"


def _ev(kind: str, at: str, by: str = RITA, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "at": at, "by": by, **extra}


def _ap(role: str, by: str, at: str, rule: str) -> dict[str, Any]:
    return {"role": role, "by": by, "at": at, "digest": "sha256:" + "0" * 64, "rules": [rule]}


def _offer(
    suffix: str,
    status: str,
    *,
    department: str = "Engineering",
    family: str = "engineering",
    level: str = "L4",
    location: dict[str, str] = SF,
    source: str = "referral",
    recruiter: str = RITA,
    base: int = 150000,
    clauses: tuple[str, ...] = ("confidentiality",),
    verbal: str | None = None,
    approvals: tuple[dict[str, Any], ...] = (),
    events: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    manager = "ana.lopez@acme.example" if department == "Sales" else "sam.lee@acme.example"
    data: dict[str, Any] = {
        "id": f"OFF-2026-{suffix}",
        "status": status,
        "candidate": {
            "name": f"Candidate {suffix}",
            "email": f"c{suffix.lower()}@example.com",
            "source": source,
        },
        "role": {
            "title": "Engineer" if family == "engineering" else "Account Executive",
            "requisition": "REQ-1000",
            "department": department,
            "job_family": family,
            "level": level,
            "employment_type": "full_time",
            "location": dict(location),
            "hiring_manager": manager,
        },
        "recruiter": recruiter,
        "start_date": "2027-02-01",
        "expires_on": "2027-01-15",
        "compensation": {"currency": "USD", "base_salary": base, "pay_period": "annual"},
        "clauses": list(clauses),
    }
    if verbal:
        data["verbal"] = {"date": verbal, "by": manager}
    data["approvals"] = list(approvals)
    data["events"] = list(events)
    return data


SAM, DANA, FIONA, MORGAN, LENA, ANA = (
    "sam.lee@acme.example",
    "dana.whit@acme.example",
    "fiona.chen@acme.example",
    "morgan.blake@acme.example",
    "lena.vogel@acme.example",
    "ana.lopez@acme.example",
)

OFFERS: list[dict[str, Any]] = [
    _offer(
        "AAAA0001",
        "accepted",
        verbal="2026-11-02",
        approvals=(_ap("hiring_manager", SAM, "2026-11-02T16:00:00Z", "hiring-manager"),),
        events=(
            _ev("created", "2026-11-02T10:00:00Z"),
            _ev("submitted", "2026-11-02T11:00:00Z"),
            _ev("sent", "2026-11-03T15:00:00Z", written_on="2026-11-03"),
            _ev("accepted", "2026-11-05T12:00:00Z"),
        ),
    ),
    _offer(
        "AAAA0002",
        "declined",
        level="L6",
        source="inbound",
        base=265000,
        verbal="2026-11-06",
        approvals=(
            _ap("hiring_manager", SAM, "2026-11-09T15:00:00Z", "hiring-manager"),
            _ap("department_head", DANA, "2026-11-10T10:00:00Z", "senior-hire"),
            _ap("finance", FIONA, "2026-11-13T10:00:00Z", "above-midpoint"),
            _ap("vp_people", MORGAN, "2026-11-18T09:00:00Z", "outside-band"),
        ),
        events=(
            _ev("created", "2026-11-09T09:00:00Z"),
            _ev("submitted", "2026-11-09T10:00:00Z"),
            _ev("revised", "2026-11-12T10:00:00Z"),
            _ev("sent", "2026-11-18T10:00:00Z", written_on="2026-11-18"),
            _ev("declined", "2026-11-20T10:00:00Z", reason="compensation"),
        ),
    ),
    _offer(
        "AAAA0003",
        "declined",
        department="Sales",
        family="sales",
        location=AUSTIN,
        source="agency",
        recruiter=TOM,
        base=100000,
        clauses=("confidentiality", "non_compete"),
        verbal="2026-11-12",
        approvals=(
            _ap("hiring_manager", ANA, "2026-11-13T09:00:00Z", "hiring-manager"),
            _ap("legal", LENA, "2026-11-16T08:00:00Z", "non-standard-terms"),
        ),
        events=(
            _ev("created", "2026-11-12T09:00:00Z", TOM),
            _ev("submitted", "2026-11-12T09:30:00Z", TOM),
            _ev("sent", "2026-11-16T09:00:00Z", TOM, written_on="2026-11-16"),
            _ev("declined", "2026-11-19T09:00:00Z", TOM, reason="timing_process"),
        ),
    ),
    _offer(
        "AAAA0004",
        "reneged",
        department="Sales",
        family="sales",
        location=AUSTIN,
        source="agency",
        recruiter=TOM,
        base=95000,
        verbal="2026-11-20",
        approvals=(_ap("hiring_manager", ANA, "2026-11-23T10:00:00Z", "hiring-manager"),),
        events=(
            _ev("created", "2026-11-20T09:00:00Z", TOM),
            _ev("submitted", "2026-11-20T10:00:00Z", TOM),
            _ev("sent", "2026-11-25T10:00:00Z", TOM, written_on="2026-11-25"),
            _ev("revised", "2026-11-26T10:00:00Z", TOM),
            _ev("revised", "2026-11-27T10:00:00Z", TOM),
            _ev("accepted", "2026-11-30T10:00:00Z", TOM),
            _ev("reneged", "2026-12-01T10:00:00Z", TOM, reason="counter_offer"),
        ),
    ),
    _offer(
        "AAAA0005",
        "sent",
        base=120000,
        verbal="2026-11-23",
        approvals=(_ap("hiring_manager", SAM, "2026-11-25T09:00:00Z", "hiring-manager"),),
        events=(
            _ev("created", "2026-11-23T09:00:00Z"),
            _ev("submitted", "2026-11-23T09:30:00Z"),
            _ev("sent", "2026-11-30T09:00:00Z", written_on="2026-11-30"),
        ),
    ),
    _offer(
        "AAAA0006",
        "rescinded",
        source="sourced",
        base=140000,
        verbal="2026-11-24",
        events=(
            _ev("created", "2026-11-24T09:00:00Z"),
            _ev("submitted", "2026-11-24T10:00:00Z"),
            _ev("rescinded", "2026-11-25T10:00:00Z", reason="requisition closed"),
        ),
    ),
    _offer("AAAA0007", "draft", events=(_ev("created", "2026-11-27T09:00:00Z"),)),
    _offer(
        "BBBB0001",
        "accepted",
        verbal="2026-10-19",
        approvals=(_ap("hiring_manager", SAM, "2026-10-20T11:00:00Z", "hiring-manager"),),
        events=(
            _ev("created", "2026-10-20T09:00:00Z"),
            _ev("submitted", "2026-10-20T10:00:00Z"),
            _ev("sent", "2026-10-20T15:00:00Z", written_on="2026-10-20"),
            _ev("accepted", "2026-10-22T09:00:00Z"),
        ),
    ),
    _offer(
        "CCCC0001",
        "declined",
        events=(
            _ev("created", "2026-09-15T09:00:00Z"),
            _ev("sent", "2026-09-16T09:00:00Z", written_on="2026-09-16"),
            _ev("declined", "2026-09-18T09:00:00Z", reason="compensation"),
        ),
    ),
]

_ACTION = {
    "accepted": "accept",
    "declined": "decline",
    "reneged": "renege",
    "sent": "send",
    "rescinded": "rescind",
    "created": "create",
}


def _git_date(stamp: str) -> str:
    return stamp.replace("T", " ").replace("Z", " +0000")


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200)


def _commit(root: Path, message: str, stamp: str, author: str, paths: list[str]) -> None:
    env = {
        "GIT_AUTHOR_DATE": _git_date(stamp),
        "GIT_COMMITTER_DATE": _git_date(stamp),
        "GIT_AUTHOR_EMAIL": author,
        "GIT_AUTHOR_NAME": author.split("@")[0],
    }
    git(root, "add", "--", *paths)
    git(root, "commit", "-q", "-m", message, env=env)


def build(root: Path) -> Path:
    """Create the repository at ``root`` and return it."""
    root.mkdir(parents=True)
    shutil.copy2(example_source("offerctl.yaml"), root / "offerctl.yaml")
    shutil.copytree(ROOT / "policies", root / "policies")
    (root / "offers").mkdir()
    git(root, "init", "-q", "-b", "main")
    _commit(root, "Start the offer repository\n\nOffer-Action: init", "2026-09-01T09:00:00Z", RITA, ["."])
    steps = []
    for data in OFFERS:
        events = data["events"]
        created = events[0]
        last = events[-1]
        steps.append((created["at"], data, True))
        if last is not created:
            steps.append((last["at"], data, False))
    steps.sort(key=lambda s: s[0])
    for stamp, data, is_create in steps:
        offer_id = data["id"]
        rel = f"offers/{offer_id}.yaml"
        if is_create:
            draft = {**data, "status": "draft", "approvals": [], "events": [data["events"][0]]}
            text, action, author = _dump(draft), "create", data["events"][0]["by"]
        else:
            last = data["events"][-1]
            text, action, author = _dump(data), _ACTION.get(last["type"], "revise"), last["by"]
        (root / rel).write_text(text)
        message = f"{action} {offer_id}\n\nOffer-Id: {offer_id}\nOffer-Action: {action}\n"
        _commit(root, message, stamp, author, [rel])
    # A hand edit: no trailers, touching one offer file.
    path = root / "offers" / "OFF-2026-AAAA0007.yaml"
    path.write_text(path.read_text().replace("title: Engineer", "title: Software Engineer"))
    _commit(
        root,
        "Fix a title by hand",
        "2026-11-28T09:00:00Z",
        "sam.lee@acme.example",
        [path.relative_to(root).as_posix()],
    )
    # A commit that touches no offer: not part of any offer's history.
    (root / "NOTES.md").write_text("notes\n")
    _commit(root, "Add notes", "2026-11-28T10:00:00Z", RITA, ["NOTES.md"])
    return root
