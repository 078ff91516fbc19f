"""Backfill the bundled example's approvals by running approve's own decision as each approver.

    .venv/bin/python examples/seed_approvals.py [--repo .]

For every offer that went through approval (status approved or later, and the pending or
rescinded ones partially), the script replays approval the way it happened:

1. the offer file is put back, uncommitted, into its state at submission (status
   ``pending_approval``, events after ``submitted`` hidden, approvals so far kept);
   and the changes of later ``revised`` events undone (approvals were given to the terms
   before any counter-offer);
2. ``approval_flow.decide_approve`` — the decide step `offerctl approve ID --role R` runs —
   decides as the approver the policy asks for next, at a time between the offer's
   ``submitted`` event and its ``sent`` event, so offerctl itself decides who may approve,
   computes the digest and builds the approval line (the command itself refuses to work on
   an uncommitted file, which this rewound state is);
3. the current file is restored and that approval line is appended to it and committed
   through ``offerctl.store.edit.OfferEdit`` with the approver as author and committer, the
   approval time as commit date, and the trailers ``approve`` writes (Offer-Id,
   Offer-Action: approve, Offer-Role).

Offers that already carry approvals are skipped, so running it twice changes nothing.

The bundled example was plaintext when this script recorded its approvals; a later commit
(`offerctl rekey`, "offers: rekey 16 offer(s)…") encrypted it with the demo keys of
examples/keys/. Run on the encrypted root it finds every approval given and changes nothing.
To replay it, run it on a plaintext copy of the example: offerctl.yaml and offers/ from
tests/data/example with the root's policies/ and letter_templates/ (the test fixture
``example_repo``; tests/test_approvals.py replays it there) — its line edits that rewind an
offer do not apply to encrypted values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

PARTIAL = {"pending_approval": 1, "rescinded": 1}
"""Offers that never completed approval get this many approvals (so `status`/`inbox` show
work in progress)."""
_ABSENT = object()
DONE = {"approved", "sent", "negotiating", "accepted", "started", "declined", "reneged", "expired"}


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rewound(text: str, approvals: list[str]) -> str:
    """The file as at submission: status pending_approval, events up to `submitted`."""
    out: list[str] = []
    in_events = in_approvals = False
    for line in text.splitlines(keepends=True):
        if line.startswith("status:"):
            line = "status: pending_approval\n"
        if line.startswith("approvals:"):
            in_approvals = True
            out.append("approvals:\n" if approvals else "approvals: []\n")
            out.extend(approvals)
            continue
        if in_approvals and line.startswith("  - "):
            continue
        in_approvals = False
        if line.startswith("events:"):
            in_events = True
            out.append(line)
            continue
        if in_events and line.startswith("  - "):
            if "type: submitted" in line or "type: created" in line:
                out.append(line)
            continue
        in_events = False
        out.append(line)
    return "".join(out)


def seed(root: Path) -> int:
    sys.path.insert(0, str(root))
    from offerctl.approvals.binding import undo_revisions
    from offerctl.core.model import get_path
    from offerctl.lifecycle.approval_flow import decide_approve
    from offerctl.lifecycle.change import Actor
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route
    from offerctl.store import git, loader
    from offerctl.store.edit import OfferEdit
    from offerctl.store.repo import open_repo

    repo = open_repo(root)
    policy, _ = load_policy_set(repo)
    made = 0
    for rel in loader.offer_files(repo):
        offer = loader.load_offer(repo, Path(rel).stem)
        if offer.get("approvals") or offer.status not in DONE | set(PARTIAL):
            continue
        events = offer.get("events") or []
        submitted = next((e["at"] for e in events if e.get("type") == "submitted"), None)
        if submitted is None:
            continue
        sent = next((e["at"] for e in events if e.get("type") == "sent"), None)
        full = route(repo, policy, offer)
        groups = sorted({(full.stages.index(r.stage), r.role) for r in full.rules if r.triggered})
        wanted = PARTIAL.get(offer.status, len(groups))
        start = _parse(submitted)
        end = _parse(sent) if sent else start + dt.timedelta(hours=4 * (len(groups) + 1))
        step = (end - start) / (len(groups) + 1)
        path = root / rel
        original = path.read_text("utf-8")
        lines: list[str] = []
        revisions = [e for e in events if e.get("type") == "revised" and e.get("changes")]
        for n in range(wanted):
            path.write_text(_rewound(original, lines), "utf-8")
            if revisions:
                # Approvals were given to the terms before any counter-offer: the offer as it
                # was at submission (approvals.undo_revisions), written field by field.
                before = undo_revisions(offer.data, events, submitted)
                rewind = OfferEdit.open(repo, offer.id)
                for change_field in {str(c["field"]) for e in revisions for c in e["changes"]}:
                    value = get_path(before, change_field, _ABSENT)
                    if value is _ABSENT:
                        rewind.delete(change_field)
                    else:
                        rewind.set(change_field, value)
                path.write_text(rewind.text(), "utf-8")
            current = loader.load_offer(repo, offer.id)
            waiting = route(repo, policy, current).waiting()
            if not waiting:
                break
            used = {ln.split("by: ")[1].split(",")[0].strip("'") for ln in lines}
            item = waiting[0]
            approver = next((p for p in item.people if p not in used), item.people[0])
            person = policy.approvers.person(approver)
            name = person.name if person else approver
            at = _iso(start + step * (n + 1) + dt.timedelta(minutes=7 * n))
            env = {
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": approver,
                "GIT_AUTHOR_DATE": at,
                "GIT_COMMITTER_DATE": at,
            }
            decided = decide_approve(repo, policy, role=item.role)(current, Actor(approver, at))
            line_data = dict(decided.appends[0][1])
            # The approval line as approve writes it, appended to the rewound file.
            rewound = OfferEdit.open(repo, offer.id)
            rewound.append("approvals", line_data)
            new_line = [ln for ln in rewound.text().splitlines(keepends=True) if ln.startswith("  - {role:")][
                -1
            ]
            lines.append(new_line)
            # Restore the file as it is now and append the approval line approve wrote.
            path.write_text(_with_approvals(original, lines[:-1]), "utf-8")
            edit = OfferEdit.open(repo, offer.id)
            edit.append("approvals", line_data)
            os.environ.update(env)
            edit.save(
                f"offer {offer.id}: approved as {item.role}",
                author=git.Identity(name, approver),
                trailers={"Offer-Id": offer.id, "Offer-Action": "approve", "Offer-Role": item.role},
            )
            made += 1
            print(f"{offer.id}: {item.role} approved by {approver} at {at}")
        path_text = path.read_text("utf-8")
        assert "status: pending_approval" not in path_text or offer.status == "pending_approval", offer.id
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        os.environ.pop(var, None)
    return made


def _with_approvals(text: str, approvals: list[str]) -> str:
    out: list[str] = []
    in_approvals = False
    for line in text.splitlines(keepends=True):
        if line.startswith("approvals:"):
            in_approvals = True
            out.append("approvals:\n" if approvals else "approvals: []\n")
            out.extend(approvals)
            continue
        if in_approvals and line.startswith("  - "):
            continue
        in_approvals = False
        out.append(line)
    return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    made = seed(args.repo.resolve())
    print(f"{made} approval(s) committed")


if __name__ == "__main__":
    main()
