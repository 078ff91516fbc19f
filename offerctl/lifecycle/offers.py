"""Creating offers and reading them for `show` and `list` (core: returns values)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offerctl.core.clock import today, utc_now
from offerctl.core.errors import InputError, UsageError
from offerctl.core.model import Finding, Offer, get_path, records, set_path
from offerctl.letters.select import default_clauses
from offerctl.lifecycle import intake
from offerctl.store import git, loader, yamlio
from offerctl.store import privacy as store_privacy
from offerctl.store.edit import write_and_commit
from offerctl.store.repo import Repo


@dataclass(frozen=True)
class Draft:
    """An intake being assembled: the data so far and what is still wrong with it."""

    data: dict[str, Any]
    problems: tuple[intake.Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_intake_file(path: Path) -> dict[str, Any]:
    """``--from FILE`` (``-``: standard input): YAML or JSON (JSON is YAML 1.2), read with
    the strict loader and the size limit (``--from /dev/zero`` stops after 1 MiB)."""
    try:
        data = yamlio.load(yamlio.read_capped(path))
    except OSError as exc:
        raise UsageError(f"--from {path}: {exc.strerror}") from None
    except yamlio.YamlProblem as exc:
        raise InputError(exc.message, hint=exc.hint, path=str(path), line=exc.line) from None
    if not isinstance(data, dict):
        raise InputError("an intake file must be a mapping of fields", path=str(path), line=1)
    return data


def _merge(base: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any], Mapping[str, Any]]] = [(merged, base)]
    while stack:
        target, source = stack.pop()
        for key, value in source.items():
            if isinstance(value, Mapping):
                target[key] = {}
                stack.append((target[key], value))
            else:
                target[key] = list(value) if isinstance(value, list) else value
    for dotted, value in values.items():
        set_path(merged, dotted, value)
    return merged


def merged(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The intake file's data with the ``--set``/prompted values (dotted paths) applied."""
    return _merge(dict(base), values)


def assemble(
    repo: Repo,
    policies: loader.Policies,
    base: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    user_email: str | None,
    reference_checks: Callable[[Offer], Iterable[Finding]],
    on: dt.date | None = None,
) -> Draft:
    """Merge intake file and ``--set`` values, apply defaults, and list every problem.

    ``reference_checks`` are the offer checks a draft must pass besides the schema (the
    caller passes ``checks.offer.reference_checks``: lifecycle does not import checks)."""
    for dotted in values:
        if not intake.known_field(dotted):
            raise UsageError(
                f"--set {dotted}: unknown field",
                hint="`offerctl schema offer` lists the fields; paths look like compensation.base_salary",
            )
    data = _merge(dict(base), values)
    for managed in ("id", "approvals", "events"):
        if managed in data:
            raise UsageError(f"{managed!r} is managed by offerctl; remove it from the intake")
    people = policies.people()
    recruiter = user_email if user_email and (not people or user_email.lower() in people) else None
    intake.apply_defaults(
        data,
        currency_for=repo.currency_for,
        expiry_days=repo.expiry_days,
        today=on or today(),
        recruiter=recruiter,
        default_clauses=default_clauses(repo, data),
        pay_period=repo.setting("defaults.pay_period"),
    )
    data["id"] = f"{repo.id_prefix}-{(on or today()).year}-00000000"  # placeholder for checks
    found = intake.problems(data, reference_checks)
    found += intake.past_dates(data, on or today())
    data.pop("id")
    return Draft(data, tuple(found))


def choices_for(repo: Repo, policies: loader.Policies, path: str) -> tuple[str, ...]:
    """What a prompt may offer as choices for one field."""
    from offerctl.store import schema

    sub = schema.subschema("offer", path.split(".")) or {}
    if "enum" in sub:
        return tuple(str(v) for v in sub["enum"])
    config_lists = {
        "role.department": "departments",
        "role.level": "levels",
        "role.job_family": "job_families",
    }
    if path in config_lists:
        values = repo.config.get(config_lists[path])
        return tuple(str(v) for v in values) if isinstance(values, list) else ()
    return ()


def preview(repo: Repo, draft: Draft) -> Offer:
    """The draft as the offer it would become (a placeholder id), for checks before writing."""
    data = dict(draft.data)
    data["id"] = f"{repo.id_prefix}-{today().year}-00000000"
    data.setdefault("status", "draft")
    return Offer(f"offers/{data['id']}.yaml", data)


@dataclass(frozen=True)
class Created:
    offer_id: str
    path: str
    commit: str | None


def create(
    repo: Repo,
    policies: loader.Policies,
    draft: Draft,
    *,
    actor: git.Identity,
    commit: bool = True,
) -> Created:
    """Write ``offers/<id>.yaml`` for a problem-free draft and commit it as the recruiter."""
    if not draft.ok:
        raise UsageError("the intake has problems; nothing was written")
    on = today()
    offer_id = intake.new_id(repo.id_prefix, on.year, lambda candidate: loader_exists(repo, candidate))
    data = dict(draft.data)
    data["id"] = offer_id
    data.setdefault("approvals", [])
    data["events"] = [{"type": "created", "at": utc_now(), "by": actor.email}]
    path = repo.offer_path(offer_id)
    text = intake.render(data, intake.schema_ref_for(path, repo.root))
    if store_privacy.applies(repo, None):  # confidential offers are encrypted before any write
        tree = yamlio.RoundTrip().load(text)
        store_privacy.seal_into(repo, offer_id, tree, None)
        text = yamlio.RoundTrip().dump(tree)
    doc = loader.read_document("offer", repo.rel(path), text.encode("utf-8"))
    if not doc.ok:  # pragma: no cover - the draft was validated; this guards the writer
        raise InputError(f"internal error: generated offer is invalid: {doc.findings[0].message}")
    recruiter = str(data["recruiter"])
    person = policies.people().get(recruiter.lower(), {})
    commit_id = write_and_commit(
        repo,
        path,
        text,
        original=None,
        subject=f"offer {offer_id}: new offer for {get_path(data, 'role.title')}",
        author=git.Identity(str(person.get("name") or actor.name), recruiter),
        trailers={"Offer-Id": offer_id, "Offer-Action": "create"},
        commit=commit,
    )
    rel = repo.rel(path)
    return Created(offer_id, rel, commit_id)


def loader_exists(repo: Repo, offer_id: str) -> bool:
    return offer_id.upper() in loader.offer_ids(repo)


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    id: str
    status: str
    candidate: str
    title: str
    department: str
    level: str
    country: str
    recruiter: str
    expires_on: str
    path: str
    updated: str = ""
    """The time of the offer's latest approval or event (UTC ISO 8601); "" when it has none."""

    def as_json(self) -> dict[str, str]:
        return dict(self.__dict__)


SORTS = ("id", "expiry", "status", "updated")
"""``list --sort``: id; soonest expiry first; lifecycle order; most recently updated first."""


def _last_update(offer: Offer) -> str:
    stamps = [
        str(item.get("at"))
        for key in ("approvals", "events")
        for item in records(offer.data, key)  # a hand-edited `events: 5` is not a list
        if item.get("at")
    ]
    return max(stamps, default="")


def sort_summaries(rows: list[Summary], sort: str = "id") -> list[Summary]:
    from offerctl.core.model import Status

    order = {s.value: i for i, s in enumerate(Status)}
    if sort == "expiry":  # offers without an expiry last
        return sorted(rows, key=lambda s: (s.expires_on == "", s.expires_on, s.id))
    if sort == "status":
        return sorted(rows, key=lambda s: (order.get(s.status, len(order)), s.id))
    if sort == "updated":  # most recent first; never-updated offers last
        return sorted(sorted(rows, key=lambda s: s.id), key=lambda s: s.updated, reverse=True)
    if sort != "id":
        raise UsageError(f"--sort {sort}: not a sort order", hint=f"one of: {', '.join(SORTS)}")
    return sorted(rows, key=lambda s: s.id)


def summaries(
    repo: Repo, *, status: str | None = None, department: str | None = None, sort: str = "id"
) -> tuple[list[Summary], list[Finding]]:
    offers, findings = loader.load_offers(repo, loader.offer_files(repo))
    rows: list[Summary] = []
    for offer in offers:
        if status and offer.status != status:
            continue
        dept = str(offer.get("role.department", ""))
        if department and dept.lower() != department.lower():
            continue
        rows.append(
            Summary(
                offer.id,
                offer.status,
                str(offer.candidate().get("name", "")),
                str(offer.get("role.title", "")),
                dept,
                str(offer.get("role.level", "")),
                str(offer.get("role.location.country", "")),
                str(offer.get("recruiter", "")),
                str(offer.get("expires_on", "")),
                offer.path,
                _last_update(offer),
            )
        )
    return sort_summaries(rows, sort), findings


def approval_states(repo: Repo, offer: Offer) -> dict[int, Any]:
    """Routing's verdict on each approval line of ``offer`` (index → ``ApprovalCheck``: valid,
    stale with the fields that changed, superseded …), for ``show``. An offer without
    approvals is not routed (no policy is loaded); an approval no rule asks for any more is
    left out. The verdict is what ``route`` and ``send`` use."""
    if not offer.get("approvals"):
        return {}
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route

    policy, _ = load_policy_set(repo)
    states: dict[int, Any] = {}
    for outcome in route(repo, policy, offer).rules:
        for check in outcome.approvals:
            kept = states.get(check.index)
            # one line fills several rules: stale for any rule it covers means re-approve
            if kept is None or (kept.state == "valid" and check.state != "valid"):
                states[check.index] = check
    return states
