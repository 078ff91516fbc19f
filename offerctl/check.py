"""`offerctl check`: load everything, run every check, collect every finding.

Checks are small functions in a registry. An offer check takes the context and one offer
that passed schema validation and yields findings; a repository check sees all offers.
Each check's docstring documents its codes (the catalogue in docs/findings.md lists them).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offerctl import approval_checks, loader, trust, yamlio
from offerctl.cache import CACHE_DIR, CheckCache, FileResult
from offerctl.clock import today
from offerctl.letter_checks import check_letters, check_offer_letter
from offerctl.model import (
    APPROVED_STATUSES,
    OPEN_STATUSES,
    Finding,
    Offer,
    Severity,
    get_path,
    to_decimal,
)
from offerctl.repo import OFFERS_DIR, Repo

if TYPE_CHECKING:
    from offerctl.letters import Letters
    from offerctl.policy.routing import PolicySet


@dataclass
class Context:
    repo: Repo
    policies: loader.Policies
    offers: list[Offer]
    as_of: dt.date = field(default_factory=today)
    _texts: dict[str, str | None] = field(default_factory=dict)

    def line(self, offer: Offer, dotted: str | Sequence[str | int]) -> int | None:
        """Line of a field in the offer's file (read again only for files with findings)."""
        path = dotted.split(".") if isinstance(dotted, str) else list(dotted)
        typed: list[str | int] = [int(p) if isinstance(p, str) and p.isdigit() else p for p in path]
        return self.line_in(offer.path, typed)

    def line_in(self, rel: str, path: Sequence[str | int]) -> int | None:
        if rel not in self._texts:
            try:
                self._texts[rel] = (self.repo.root / rel).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[rel] = None
        text = self._texts[rel]
        return yamlio.line_of(text, path) if text is not None else None

    def finding(
        self,
        offer: Offer,
        field_path: str,
        code: str,
        message: str,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        return Finding(offer.path, self.line(offer, field_path), code, message, severity, offer.id)

    @functools.cached_property
    def people(self) -> dict[str, Any]:
        return self.policies.people()

    @functools.cached_property
    def policy_set(self) -> PolicySet:
        """The routing/bands/approvers policy, parsed and CEL-compiled once per run."""
        from offerctl.policy import load_policy_set

        return load_policy_set(self.repo)[0]

    @functools.cached_property
    def letters(self) -> Letters:
        """Letter templates, clause library and selection rules, loaded once per run."""
        from offerctl.letters import Letters

        return Letters.for_repo(self.repo)


OfferCheck = Callable[[Context, Offer], Iterable[Finding]]
RepoCheck = Callable[[Context], Iterable[Finding]]


# --- offer checks ------------------------------------------------------------------------


def check_id_matches_file(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S110: the ``id`` must equal the file name (``offers/OFF-2026-7K3QXM.yaml``)."""
    stem = Path(offer.path).stem
    if offer.id != stem:
        yield ctx.finding(
            offer,
            "id",
            "S110",
            f"id {offer.id!r} differs from the file name {stem!r}; rename the file or fix the id",
        )


def check_org_references(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S112 unknown department, S113 unknown level, S114 unknown job family
    (against the lists in offerctl.yaml; skipped when a list is not configured)."""
    for code, field_path, key in (
        ("S112", "role.department", "departments"),
        ("S113", "role.level", "levels"),
        ("S114", "role.job_family", "job_families"),
    ):
        known = ctx.repo.config.get(key)
        value = offer.get(field_path)
        if isinstance(known, list) and value is not None and value not in known:
            yield ctx.finding(
                offer,
                field_path,
                code,
                f"unknown {field_path.split('.')[-1].replace('_', ' ')} {value!r}; "
                f"known: {', '.join(map(str, known))} (offerctl.yaml {key})",
            )


def check_people(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S115: the hiring manager and the recruiter must be people in policies/approvers.yaml."""
    if not ctx.people:
        return
    for field_path in ("role.hiring_manager", "recruiter"):
        email = offer.get(field_path)
        if isinstance(email, str) and email.lower() not in ctx.people:
            yield ctx.finding(
                offer,
                field_path,
                "S115",
                f"{field_path} {email} is not a person in policies/approvers.yaml; add them under people:",
            )
    hm, rec = offer.get("role.hiring_manager"), offer.get("recruiter")
    if isinstance(hm, str) and isinstance(rec, str) and hm.lower() == rec.lower():
        yield ctx.finding(
            offer,
            "recruiter",
            "S120",
            "the recruiter is also the hiring manager; separation of duties needs two people",
        )


def check_money(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S106: money has at most two decimal places; S118 (warning): the currency differs
    from the country's default currency in offerctl.yaml."""
    comp = offer.compensation()
    for key in ("base_salary", "sign_on_bonus", "relocation"):
        amount = to_decimal(comp.get(key))
        if amount is not None and amount != amount.quantize(Decimal("0.01")):
            yield ctx.finding(
                offer,
                f"compensation.{key}",
                "S106",
                f"compensation.{key} has more than two decimal places",
            )
    country = offer.get("role.location.country")
    expected = ctx.repo.currency_for(str(country)) if country else None
    currency = comp.get("currency")
    if expected and currency and currency != expected:
        yield ctx.finding(
            offer,
            "compensation.currency",
            "S118",
            f"currency {currency} differs from {expected}, the usual currency for {country}; "
            "check it is intended",
            Severity.WARNING,
        )


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check_dates(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S116: the offer must expire before the start date; S119 (warning): an open offer
    whose expiry has passed (run `offerctl expire`); S121: the verbal offer cannot be dated
    after the written offer expires."""
    start, expires = _date(offer.get("start_date")), _date(offer.get("expires_on"))
    if start and expires and expires > start:
        yield ctx.finding(
            offer,
            "expires_on",
            "S116",
            f"expires_on {expires} is after start_date {start}; the candidate must answer before starting",
        )
    if expires and offer.status in OPEN_STATUSES and offer.status != "draft" and expires < ctx.as_of:
        yield ctx.finding(
            offer,
            "expires_on",
            "S119",
            f"offer expired on {expires} but is still {offer.status}; "
            "run `offerctl expire` or extend expires_on",
            Severity.WARNING,
        )
    verbal = _date(offer.get("verbal.date"))
    if verbal and expires and verbal > expires:
        yield ctx.finding(offer, "verbal.date", "S121", f"verbal.date {verbal} is after expires_on {expires}")


def check_status_history(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """S122: a declined offer records its reason (a ``declined`` event with ``reason`` from
    the configured taxonomy); S123: an unknown decline reason."""
    events = offer.get("events") or []
    declines = [(i, e) for i, e in enumerate(events) if e.get("type") == "declined"]
    if offer.status == "declined" and not declines:
        yield ctx.finding(
            offer,
            "status",
            "S122",
            "status is declined but no declined event records the reason; "
            "use `offerctl decline ID --reason …`",
        )
    for index, event in declines:
        reason = event.get("reason")
        if reason not in ctx.repo.decline_reasons:
            yield ctx.finding(
                offer,
                f"events.{index}.reason",
                "S123",
                f"decline reason {reason!r} is not one of: {', '.join(ctx.repo.decline_reasons)}",
            )


OFFER_CHECKS: list[OfferCheck] = [
    check_id_matches_file,
    check_org_references,
    check_people,
    check_money,
    check_dates,
    check_status_history,
    approval_checks.check_band,
    approval_checks.check_approvals,
    trust.check_signatures,
    trust.check_pending_approvals,
    check_offer_letter,
]


# --- repository checks -------------------------------------------------------------------


def check_duplicate_ids(ctx: Context) -> Iterator[Finding]:
    """S111: two files must not carry the same offer id."""
    seen: dict[str, list[Offer]] = defaultdict(list)
    for offer in ctx.offers:
        if offer.id:
            seen[offer.id].append(offer)
    for offer_id, offers in seen.items():
        if len(offers) > 1:
            others = ", ".join(o.path for o in offers)
            for offer in offers:
                yield ctx.finding(offer, "id", "S111", f"offer id {offer_id} appears in {others}")


def check_closed_offers_unchanged(ctx: Context) -> Iterator[Finding]:
    """G501: a closed offer must equal its version at the commit that closed it."""
    from offerctl.lifecycle import closed_offer_edits

    yield from closed_offer_edits(ctx.repo, ctx.offers)


REPO_CHECKS: list[RepoCheck] = [check_duplicate_ids, check_letters, check_closed_offers_unchanged]


SUMMARY_FIELDS: tuple[str, ...] = ("id", "status", "approvals")
"""Fields of every offer that repository checks see in ``ctx.offers`` (see ``run``)."""

PARALLEL_MIN_FILES = 400
"""Below this many files to (re)check, one process is faster than starting a pool."""


@dataclass(frozen=True)
class CheckResult:
    checked: int
    findings: tuple[Finding, ...]
    cached: int = 0
    """How many offer files were answered from the cache (not part of the JSON contract)."""

    @property
    def ok(self) -> bool:
        return not any(f.severity == Severity.ERROR for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "findings": [f.as_json() for f in self.findings],
        }


def _summary(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted in SUMMARY_FIELDS:
        value = get_path(data, dotted, _ABSENT)
        if value is not _ABSENT:
            node = out
            parts = dotted.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
    return out


_ABSENT = object()


def check_file(ctx: Context, rel: str, raw: bytes | None = None) -> FileResult:
    """Read, validate and run every offer check on one file: the unit of work that is
    cached by content and spread over processes. Pure given (file, context)."""
    if raw is None:
        doc = loader.read_file("offer", ctx.repo.root, rel)
    else:
        doc = loader.read_document("offer", rel, raw)
    findings = list(doc.findings)
    if not isinstance(doc.data, dict):
        return FileResult(tuple(findings), None)
    offer = Offer(rel, doc.data, extra={"valid": doc.ok})
    if doc.ok:
        try:
            for offer_check in OFFER_CHECKS:
                findings.extend(offer_check(ctx, offer))
        finally:
            ctx._texts.pop(rel, None)  # line lookups read the file again; keep memory flat
    return FileResult(tuple(findings), _summary(doc.data))


_WORKER: dict[str, Context] = {}
"""The context of a pool worker process (set once by ``_init_worker``; never in the parent)."""


def _init_worker(repo: Repo, policies: loader.Policies, as_of: dt.date) -> None:
    _WORKER["ctx"] = Context(repo, policies, [], as_of)


def _check_chunk(rels: Sequence[str]) -> list[tuple[str, FileResult]]:
    ctx = _WORKER["ctx"]
    return [(rel, check_file(ctx, rel)) for rel in rels]


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _check_files(ctx: Context, rels: Sequence[str], jobs: int | None) -> dict[str, FileResult]:
    """Check ``rels``; in a process pool when there are enough of them and several cores.

    Results are returned by path, so the output never depends on scheduling.
    """
    workers = jobs or _default_jobs()
    if workers <= 1 or len(rels) < PARALLEL_MIN_FILES:
        return {rel: check_file(ctx, rel) for rel in rels}
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, min(500, len(rels) // (workers * 4) + 1))
    chunks = [rels[i : i + size] for i in range(0, len(rels), size)]
    results: dict[str, FileResult] = {}
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(ctx.repo, ctx.policies, ctx.as_of)
    ) as pool:
        for chunk_results in pool.map(_check_chunk, chunks):
            results.update(chunk_results)
    return results


def _open_cache(repo: Repo, as_of: dt.date) -> CheckCache | None:
    from offerctl import git
    from offerctl.cache import cache_file, fingerprint

    location = cache_file(git.git_path(repo.root, CACHE_DIR), repo.root)
    if location is None:
        return None
    cached_repo = sorted(_check_name(c) for c in CACHED_REPO_CHECKS)
    extra: tuple[str, ...] = (*SUMMARY_FIELDS, *cached_repo)
    if repo.policy_root is not None:
        # --policy-ref: the configuration and policies in force are the ref's, not the tree's
        extra += (f"policy_root={fingerprint(repo.policy_root, as_of.isoformat(), ())}",)
    return CheckCache(location, fingerprint(repo.root, as_of.isoformat(), OFFER_CHECKS, extra))


POLICY_FINDINGS = "offerctl.policy.load_policy_set"
"""Cache name of the findings of loading the routing policy (see ``run``)."""


def _check_name(check: Callable[..., Any]) -> str:
    return f"{check.__module__}.{check.__qualname__}"


def _closed_offers_key(ctx: Context, ids: Mapping[str, str]) -> str | None:
    """What G501 depends on besides the fingerprint: the history (the commit at HEAD; not
    cached in a shallow clone, whose history can grow under the same HEAD) and the path, id,
    status and content of every closed offer. None: do not cache."""
    import hashlib

    from offerctl import git
    from offerctl.model import CLOSED_STATUSES

    closed = sorted((o.path, o.id or "", o.status or "") for o in ctx.offers if o.status in CLOSED_STATUSES)
    if any(path not in ids for path, _, _ in closed):
        return None
    head = git.history_key(ctx.repo.root)
    if head is None:
        return None
    digest = hashlib.sha256(head.encode() + b"\0")
    for path, offer_id, status in closed:
        digest.update(f"{path}\0{offer_id}\0{status}\0{ids[path]}\0".encode())
    return digest.hexdigest()


RepoCacheKey = Callable[[Context, Mapping[str, str]], "str | None"]


def _fingerprint_only(ctx: Context, ids: Mapping[str, str]) -> str:
    """For checks that depend only on what the cache fingerprint covers (the tool,
    ``offerctl.yaml``, ``policies/``, ``letter_templates/``, the as-of date)."""
    return ""


CACHED_REPO_CHECKS: dict[RepoCheck, RepoCacheKey] = {
    check_letters: _fingerprint_only,
    check_closed_offers_unchanged: _closed_offers_key,
}
"""Repository checks a warm run answers from the cache, each with what its findings depend
on besides the fingerprint (None from the key function: do not cache this run)."""


def _run_repo_check(
    ctx: Context, repo_check: RepoCheck, store: CheckCache | None, ids: Mapping[str, str]
) -> Iterable[Finding]:
    """A repository check's findings, from/into the cache when it is in ``CACHED_REPO_CHECKS``."""
    key_of = CACHED_REPO_CHECKS.get(repo_check)
    key = key_of(ctx, ids) if store is not None and key_of is not None else None
    if store is None or key is None:
        return list(repo_check(ctx))
    name = _check_name(repo_check)
    hit = store.get_repo(name, key)
    if hit is not None:
        return hit
    found = list(repo_check(ctx))
    store.put_repo(name, found, key)
    return found


def run(
    repo: Repo,
    paths: Sequence[Path] = (),
    as_of: dt.date | None = None,
    *,
    jobs: int | None = None,
    cache: bool = True,
    verify_history: bool = False,
    changed_since: str | None = None,
    policy_ref: str | None = None,
) -> CheckResult:
    """Check the configuration, the policies and every offer (or the files in ``paths``).

    Per-offer work (parse, schema, every check in ``OFFER_CHECKS``) is a pure function of
    the file's content and the context, so its result is cached by content id (see
    ``offerctl.cache``) and computed in parallel above ``PARALLEL_MIN_FILES`` files
    (``jobs``: processes, default one per core; 1 = serial). Repository checks then run in
    this process on ``ctx.offers``, which holds for every readable offer only the
    ``SUMMARY_FIELDS`` (add a field there if a repository check needs it). Offer checks
    must depend only on the file and the context (config, policies, templates, as-of date),
    not on git history or other offers: that is what makes the cache correct.

    CI trust (``offerctl.trust``): ``policy_ref`` reads ``offerctl.yaml`` and ``policies/``
    as they stand on that ref (a pull request's target) and reports policy changes since it
    (G555); ``changed_since`` checks only the offers changed since that ref (all when
    policies, templates or configuration changed); ``verify_history`` runs the append-only
    and authorship checks (only on the commits after ``changed_since`` when given).
    """
    import contextlib

    as_of = as_of or today()
    with contextlib.ExitStack() as stack:
        if policy_ref is not None:
            repo = stack.enter_context(trust.policy_snapshot(repo, policy_ref))
        since: str | None = None
        if paths and trust.governs_every_offer(repo, paths):
            paths = ()  # a policy, template or offerctl.yaml among the paths: every offer
        complete = not paths  # every offer of the repository is checked
        if changed_since is None:
            rels = loader.offer_files(repo, paths)
        else:
            changed = trust.changed_offers(repo, changed_since)
            since = changed.base
            if changed.everything:
                rels = loader.offer_files(repo, paths)
            else:  # never list (or load) the offers that did not change
                complete = False
                rels = changed.offer_files(repo)
                if paths:
                    wanted = set(loader.offer_files(repo, paths))
                    rels = [r for r in rels if r in wanted]
        findings: list[Finding] = list(repo.config_findings)
        policies = loader.load_policies(repo)
        findings.extend(policies.findings)
        if policy_ref is not None:
            from offerctl import git

            owners = [str(e) for e in policies.approvers.get("policy_owners") or []]
            changed_paths = git.changed_since(repo.root, policy_ref)
            findings.extend(trust.policy_changes(repo, changed_paths, policy_ref, owners))
        ctx = Context(repo, policies, [], as_of)

        store: CheckCache | None = None
        ids: dict[str, str] = {}
        if cache and rels:
            from offerctl import git
            from offerctl.errors import GitError

            try:
                store = _open_cache(repo, as_of)
                ids = git.content_ids(repo.root, rels, [OFFERS_DIR]) if store else {}
            except GitError:
                store, ids = None, {}
        results: dict[str, FileResult] = {}
        todo: list[str] = []
        for rel in rels:
            hit = store.get(rel, ids[rel]) if store is not None and rel in ids else None
            if hit is not None:
                results[rel] = hit
            else:
                todo.append(rel)
        # The policy findings (P2xx) are a pure function of the fingerprint: a run with
        # nothing to recompute takes them from the cache and never compiles the CEL rules.
        cached_policy = store.get_repo(POLICY_FINDINGS) if store is not None else None
        if todo or cached_policy is None:
            from offerctl.policy import load_policy_set

            policy_set, policy_findings = load_policy_set(repo, policies)
            ctx.policy_set = policy_set  # seeds the cached_property: compiled once per run
            findings.extend(policy_findings)
            if store is not None and cached_policy is None:
                store.put_repo(POLICY_FINDINGS, policy_findings)
        else:
            findings.extend(cached_policy)
        computed = _check_files(ctx, todo, jobs)
        results.update(computed)
        if store is not None:
            for rel, result in computed.items():
                if rel in ids:
                    store.put(rel, ids[rel], result)
            if complete:
                store.prune(rels)

        offers: list[Offer] = []
        for rel in rels:
            result = results[rel]
            findings.extend(result.findings)
            if result.summary is not None:
                offers.append(Offer(rel, result.summary))
        ctx.offers = offers
        for repo_check in REPO_CHECKS:
            findings.extend(_run_repo_check(ctx, repo_check, store, ids))
        if store is not None:
            store.save()
        if verify_history:
            findings.extend(trust.verify_history(repo, offers, since=since))
        findings.extend(trust.copied_approvals(repo, offers, everything_loaded=complete))
    unique = sorted(set(findings), key=_order)
    return CheckResult(len(rels), tuple(unique), cached=len(rels) - len(todo))


def _order(f: Finding) -> tuple[str, int, str, str, str, str]:
    """A total order, so output never depends on set or process ordering."""
    return (f.path, f.line or 0, f.code, f.message, str(f.severity), f.offer or "")


__all__ = ["APPROVED_STATUSES", "SUMMARY_FIELDS", "CheckResult", "Context", "check_file", "run"]
