"""`offerctl codeowners`: who must review a change, as a GitHub CODEOWNERS file.

* ``policies/``, ``offerctl.yaml``, ``letter_templates/`` and ``.github/`` (the workflow and
  this file itself) → the policy owners (``policy_owners:`` in ``policies/approvers.yaml``).
* each offer file → its hiring manager, its recruiter and everyone who may fill an approval
  the routing engine requires for it (role members, or the person the offer names).

An owner is ``@<github>`` when the person has a ``github:`` username in approvers.yaml, else
their email: GitHub accepts an email address as an owner and matches it to the account
that has it verified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from offerctl.core.errors import Refused
from offerctl.core.model import Offer
from offerctl.store import git, loader, yamlio
from offerctl.store.repo import CONFIG_NAME, POLICIES_DIR, TEMPLATES_DIR, Repo

PATH = ".github/CODEOWNERS"

# What only the policy owners may approve a change to.
POLICY_PATHS = (f"/{POLICIES_DIR}/", f"/{CONFIG_NAME}", f"/{TEMPLATES_DIR}/", "/.github/")


@dataclass(frozen=True)
class Codeowners:
    text: str
    policy_owners: tuple[str, ...]
    offers: int
    warnings: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "path": PATH,
            "policy_owners": list(self.policy_owners),
            "offers": self.offers,
            "warnings": list(self.warnings),
            "text": self.text,
        }


def handle(email: str, people: Mapping[str, Mapping[str, Any]]) -> str:
    """``@username`` when approvers.yaml gives one, else the email."""
    person = people.get(email.lower(), {})
    github = person.get("github")
    return f"@{github}" if isinstance(github, str) and github else email.lower()


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out


ReviewersFor = Callable[[Offer], Sequence[str]]


def basic_reviewers(offer: Offer) -> list[str]:
    """Hiring manager and recruiter: who must see every change to an offer."""
    return [str(v).lower() for v in (offer.get("role.hiring_manager"), offer.get("recruiter")) if v]


def routed_reviewers(repo: Repo) -> ReviewersFor:
    """Hiring manager, recruiter and everyone who may fill a rule the routing engine
    triggers for the offer (role members, or the person the offer names)."""
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route

    policy, _ = load_policy_set(repo)

    def reviewers(offer: Offer) -> list[str]:
        people = basic_reviewers(offer)
        for outcome in route(repo, policy, offer).rules:
            if outcome.triggered:
                people.extend(outcome.principals)
        return people

    return reviewers


def build(repo: Repo, reviewers_for: ReviewersFor | None = None) -> Codeowners:
    """The CODEOWNERS text for the repository as it stands (offers that fail to load are
    skipped with a warning: `offerctl check` reports them)."""
    policies = loader.load_policies(repo)
    people = policies.people()
    owners = [str(e).lower() for e in policies.approvers.get("policy_owners") or []]
    if not owners:
        raise Refused(
            "policies/approvers.yaml names no policy_owners, so nobody would have to review policy changes",
            hint="add `policy_owners: [email, …]` (people listed under people:) to policies/approvers.yaml",
        )
    warnings = [
        f"policy owner {email} is not a person in policies/approvers.yaml"
        for email in owners
        if email not in people
    ]
    offers, _ = loader.load_offers(repo, loader.offer_files(repo))
    choose = reviewers_for or routed_reviewers(repo)
    owner_handles = " ".join(_unique(handle(e, people) for e in owners))
    lines = [
        "# Written by `offerctl codeowners --write`: who must review a change.",
        "# Regenerate it (on the default branch) after changing people, roles or offers.",
        "# Owners are GitHub usernames (`github:` in policies/approvers.yaml) or, where none is",
        "# given, emails (GitHub matches an email to the account that has it verified).",
        "",
        "# The rules offers are judged by, the CI gate and this file: the policy owners.",
        *(f"{path} {owner_handles}" for path in POLICY_PATHS),
        "",
        "# Each offer: its hiring manager, recruiter and the people who must approve it.",
    ]
    count = 0
    for offer in sorted(offers, key=lambda o: o.path):
        if not offer.extra.get("valid"):
            warnings.append(f"{offer.path} does not validate; left out (run `offerctl check`)")
            continue
        reviewers = _unique(handle(e, people) for e in choose(offer))
        if reviewers:
            lines.append(f"/{offer.path} {' '.join(reviewers)}")
            count += 1
    return Codeowners("\n".join(lines) + "\n", tuple(owners), count, tuple(warnings))


def write(repo: Repo, result: Codeowners, *, commit: bool = True) -> str | None:
    """Write ``.github/CODEOWNERS`` and commit it as the current git identity; returns the
    commit id (None when nothing changed or ``commit=False``, which leaves it staged)."""
    target = repo.root / PATH
    if target.is_file() and target.read_text("utf-8") == result.text:
        return None
    yamlio.atomic_write(target, result.text)
    if not commit:
        git.add(repo.root, [PATH])
        return None
    return git.commit(
        repo.root,
        [PATH],
        "offerctl codeowners: who must review policies and each offer",
        author=git.identity(repo.root),
        trailers={"Offer-Action": "codeowners"},
    )


__all__ = ["PATH", "Codeowners", "basic_reviewers", "build", "handle", "routed_reviewers", "write"]
