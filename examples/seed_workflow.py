"""Add the issue-16 workflow story to the bundled example by running offerctl as the people
in it, at the moments it happened (before the example's `clock.today`, 2026-11-23).

    .venv/bin/python examples/seed_workflow.py [--repo .]

Each step runs one offerctl command (or commits one policy file) with
``GIT_AUTHOR_*``/``GIT_COMMITTER_*`` set to the person and ``OFFERCTL_NOW`` and the git dates
set to the moment, so the events carry the right `by`/`at`, the commits are authored by them
and `check`'s history verification holds. A step whose event is already in the offer file is
skipped, so running the script twice changes nothing.

Like examples/seed_approvals.py, this recorded the story while the example was plaintext,
before the commit that encrypted it (`offerctl rekey` with the demo keys of examples/keys/).
Its steps are in the encrypted root's history and files, so running it there changes
nothing; to replay the story, run it on a plaintext copy of the example: offerctl.yaml and
offers/ from tests/data/example with the root's policies/ and letter_templates/ (what the
test fixture ``example_repo`` builds).

The story:

* 2026-11-16 Finance (Fiona Chen) adds `policies/budgets.yaml` (Engineering FY27 850,000 USD,
  Product FY27 600,000 USD, EUR converted at a stated 1.08) and the routing rule
  `over-budget` (finance approves an offer that would take its budget below zero).
  Engineering is then near its budget: the pending Staff Engineer offer would leave 24,240.
* 2026-11-18 Finance adds a headcount budget for requisition REQ-6426 (120,000 USD): the
  Berlin draft OFF-2026-8HT4WZ1N (121,000 EUR = 130,680 USD) is over it, so its route shows
  `over-budget` — finance will have to approve it once submitted.
* 2026-11-16 Rita records the competing offer behind the counter-offer on OFF-2026-7CG5XB2R
  (Hooli, offer in hand, 158,000, answer due 2026-11-24 — before our 2026-12-02 expiry).
* 2026-11-17 Rita orders the background check for the approved Product Manager offer
  OFF-2026-2WF8JT4M (a pending contingency; the letter, not yet sent, lists it).
* 2026-11-18 / 2026-11-20 Rita's calls with the candidate of OFF-2026-6RM1PQ9C: a competing
  process at Initech, then a deadline (2026-11-25, before our 2026-11-27 expiry) and their
  base (205,000).
* 2026-11-19 Tom emails the candidate of OFF-2026-4JZ6HN3T.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

PEOPLE = {
    "fiona.chen@acme.example": "Fiona Chen",
    "rita.ramos@acme.example": "Rita Ramos",
    "tom.becker@acme.example": "Tom Becker",
}

ROUTING_RULE = """
  - id: over-budget
    stage: finance
    description: An offer that would take its department's budget below zero needs finance.
    when: 'has(budget.remaining_after) && budget.remaining_after < 0'
    require: {role: finance, quorum: any}
    covers: [compensation.base_salary]
"""

REQUISITION_BUDGET = """  - id: req-6426
    description: Berlin platform engineer, approved headcount (wins over the department budget)
    requisition: REQ-6426
    period: {from: '2026-07-01', to: '2027-06-30'}
    currency: USD
    amount: 120000
"""

STEPS: list[tuple[str, str, str, list[str]]] = [
    # (when, who, offer id or "", offerctl arguments)
    (
        "2026-11-16T10:00:00Z",
        "rita.ramos@acme.example",
        "OFF-2026-7CG5XB2R",
        [
            "competing",
            "OFF-2026-7CG5XB2R",
            "--employer",
            "Hooli",
            "--stage",
            "deadline",
            "--deadline",
            "2026-11-24",
            "--base",
            "158000",
            "--note",
            "The offer behind the 13 Nov counter-offer; candidate forwarded it.",
        ],
    ),
    (
        "2026-11-17T15:30:00Z",
        "rita.ramos@acme.example",
        "OFF-2026-2WF8JT4M",
        [
            "contingency",
            "OFF-2026-2WF8JT4M",
            "add",
            "background_check",
            "--note",
            "Standard check ordered with the screening provider",
        ],
    ),
    (
        "2026-11-18T17:00:00Z",
        "rita.ramos@acme.example",
        "OFF-2026-6RM1PQ9C",
        [
            "competing",
            "OFF-2026-6RM1PQ9C",
            "--employer",
            "Initech",
            "--stage",
            "interviewing",
            "--note",
            "Final round with Initech next week",
        ],
    ),
    (
        "2026-11-19T09:15:00Z",
        "tom.becker@acme.example",
        "OFF-2026-4JZ6HN3T",
        ["touch", "OFF-2026-4JZ6HN3T", "--via", "email", "--note", "Answered questions on the fixed term"],
    ),
    (
        "2026-11-20T17:30:00Z",
        "rita.ramos@acme.example",
        "OFF-2026-6RM1PQ9C",
        [
            "competing",
            "OFF-2026-6RM1PQ9C",
            "--employer",
            "Initech",
            "--stage",
            "deadline",
            "--deadline",
            "2026-11-25",
            "--base",
            "205000",
            "--note",
            "Initech made an offer; candidate prefers us but wants to close the gap",
        ],
    ),
]


def _env(who: str, at: str) -> dict[str, str]:
    name = PEOPLE[who]
    env = dict(os.environ)
    env.update(
        {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": who,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": who,
            "GIT_AUTHOR_DATE": at,
            "GIT_COMMITTER_DATE": at,
            "OFFERCTL_NOW": at,
        }
    )
    env.pop("OFFERCTL_TODAY", None)
    return env


def _offerctl() -> list[str]:
    return [sys.executable, "-m", "offerctl"]


def seed(root: Path) -> int:
    done = 0
    budgets = root / "policies" / "budgets.yaml"
    if not budgets.exists():
        at, who = "2026-11-16T09:00:00Z", "fiona.chen@acme.example"
        budgets.write_text((Path(__file__).parent / "budgets.yaml").read_text())
        routing = root / "policies" / "routing.yaml"
        text = routing.read_text()
        if "id: over-budget" not in text:
            anchor = "\n  - id: outside-band\n"
            text = text.replace(anchor, ROUTING_RULE + anchor, 1)
            text = text.replace(
                "#   recruiter             the offer's recruiter (email)\n",
                "#   recruiter             the offer's recruiter (email)\n"
                "#   budget                what is left of the offer's budget (policies/budgets.yaml):\n"
                "#                         remaining_after, remaining_before, amount, committed, …\n",
                1,
            )
            routing.write_text(text)
        env = _env(who, at)
        subprocess.run(
            ["git", "add", "policies/budgets.yaml", "policies/routing.yaml"], cwd=root, check=True, env=env
        )
        subprocess.run(
            [
                "git",
                "commit",
                "-q",
                "-m",
                "Budgets for FY27 hires; finance approves offers that would exceed them\n\n"
                "Engineering has 850,000 USD for new-hire base salaries this fiscal year and is close\n"
                "to it; the over-budget rule sends any offer that would overrun it to finance.",
            ],
            cwd=root,
            check=True,
            env=env,
        )
        done += 1
    text = budgets.read_text()
    if "requisition: REQ-6426" not in text:
        at, who = "2026-11-18T11:00:00Z", "fiona.chen@acme.example"
        budgets.write_text(text.rstrip("\n") + "\n" + REQUISITION_BUDGET)
        env = _env(who, at)
        subprocess.run(["git", "add", "policies/budgets.yaml"], cwd=root, check=True, env=env)
        subprocess.run(
            [
                "git",
                "commit",
                "-q",
                "-m",
                "Headcount budget for the Berlin platform hire (REQ-6426)\n\n"
                "Approved at 120,000 USD (about 111,000 EUR at the planning rate); the draft offer\n"
                "is above it, so it will need finance under the over-budget rule.",
            ],
            cwd=root,
            check=True,
            env=env,
        )
        done += 1
    for at, who, offer_id, args in STEPS:
        text = (root / "offers" / f"{offer_id}.yaml").read_text()
        if f"at: '{at}'" in text or f"at: {at}" in text:
            continue
        proc = subprocess.run(
            [*_offerctl(), *args, "--repo", str(root)], env=_env(who, at), capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
        print(proc.stdout.strip())
        done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    print(f"{seed(args.repo.resolve())} step(s) recorded")


if __name__ == "__main__":
    main()
