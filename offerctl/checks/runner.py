"""`offerctl check`: load everything, run every check, collect every finding.

Checks are small functions in a registry (``checks.registry``). An offer check takes the
context and one offer that passed schema validation and yields findings; a repository check
sees all offers. Each check's docstring documents its codes (the catalogue in
docs/findings.md lists them). This module selects the files, runs the checks (cached, in
parallel when there are many files) and collects the findings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offerctl.checks import budgets as budget_checks
from offerctl.checks import selection, trust
from offerctl.checks.context import Context, RepoCheck
from offerctl.checks.registry import CACHED_REPO_CHECKS, OFFER_CHECKS, REPO_CHECKS, VALUE_CHECKS
from offerctl.core import isolation
from offerctl.core.clock import today
from offerctl.core.model import (
    Finding,
    Offer,
    Severity,
    get_path,
)
from offerctl.store import loader
from offerctl.store.cache import CACHE_DIR, CheckCache, FileResult, TreeMemo
from offerctl.store.repo import OFFERS_DIR, Repo

if TYPE_CHECKING:
    pass


SUMMARY_FIELDS: tuple[str, ...] = ("id", "status")
"""Fields of every offer that repository checks see in ``ctx.offers`` (see ``run``); besides
them a summary holds A351's approval keys (``trust.APPROVAL_KEYS``) and what the budget
ledger reads (``checks.budgets.projection``)."""

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
    out: dict[str, Any] = budget_checks.projection(data)
    out[trust.APPROVAL_KEYS] = trust.approval_keys(data)
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
    from offerctl.checks import privacy as privacy_checks
    from offerctl.store import privacy as store_privacy

    if raw is None:
        doc = loader.read_file("offer", ctx.repo.root, rel)
    else:
        doc = loader.read_document("offer", rel, raw)
    findings = list(doc.findings)
    if not isinstance(doc.data, dict):
        return FileResult(tuple(findings), None)
    # A confidential offer is checked here WITHOUT keys (this result is cached by content
    # and must hold no plaintext); the checks that read encrypted values run in
    # ``privacy_pass``, with the user's keys, uncached.
    encrypted = store_privacy.has_encrypted_values(doc.data)
    offer = store_privacy.keyless_offer(rel, doc.data, {"valid": doc.ok})
    if doc.ok:
        try:
            for offer_check in OFFER_CHECKS:
                if encrypted and offer_check in VALUE_CHECKS:
                    continue
                try:
                    findings.extend(offer_check(ctx, offer))
                except Exception as exc:
                    findings.append(isolation.failure(rel, exc, offer.id or None, offer_check.__name__))
        finally:
            ctx._texts.pop(rel, None)  # line lookups read the file again; keep memory flat
    findings.extend(privacy_checks.file_findings(ctx, offer))
    summary = _summary(doc.data)
    if encrypted:
        # "invalid": the keyed pass skips it (this run reports its schema findings)
        summary["encrypted"] = True if doc.ok else "invalid"
    return FileResult(tuple(findings), summary)


_WORKER: dict[str, Context] = {}
"""The context of a pool worker process (set once by ``_init_worker``; never in the parent)."""


def _init_worker(repo: Repo, policies: loader.Policies, as_of: dt.date, ledger: Any = None) -> None:
    _WORKER["ctx"] = Context(repo, policies, [], as_of, budget_ledger=ledger)


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
        max_workers=workers,
        initializer=_init_worker,
        initargs=(ctx.repo, ctx.policies, ctx.as_of, ctx.budget_ledger),
    ) as pool:
        for chunk_results in pool.map(_check_chunk, chunks):
            results.update(chunk_results)
    return results


def _open_cache(repo: Repo, as_of: dt.date) -> CheckCache | None:
    from offerctl.store import git
    from offerctl.store.cache import cache_file

    location = cache_file(git.git_path(repo.root, CACHE_DIR), repo.root)
    if location is None:
        return None
    return CheckCache(location, _fingerprint(repo, as_of))


def _fingerprint(repo: Repo, as_of: dt.date) -> str:
    """Everything except the offer file that a per-offer result depends on (``store.cache``)."""
    from offerctl.store.cache import fingerprint

    cached_repo = sorted(_check_name(c) for c in CACHED_REPO_CHECKS)
    extra: tuple[str, ...] = (*SUMMARY_FIELDS, *cached_repo)
    if repo.policy_root is not None:
        # --policy-ref: the configuration and policies in force are the ref's, not the tree's
        extra += (f"policy_root={fingerprint(repo.policy_root, as_of.isoformat(), ())}",)
    return fingerprint(repo.root, as_of.isoformat(), OFFER_CHECKS, extra)


def _routing_reads_budget(repo: Repo) -> bool:
    """Whether a routing rule reads ``budget`` (then every offer's routing depends on the
    ledger over all offers)."""
    import re

    try:
        routing = repo.policy_path("routing").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"(?<![\w.])budget\b", routing) is not None


def _build_ledger(ctx: Context, chosen: _Selection, store: CheckCache | None, ids: Mapping[str, str]) -> None:
    """The budget ledger over every offer, built once per run (``policies/budgets.yaml``):
    from the summaries cached by content where there are any, reading only the other files
    (and the confidential ones, opened with this run's keys). It is given to routing here and
    in every worker, and to W701/W703; when a routing rule reads ``budget``, the per-offer
    results are bound to its key (``CheckCache.bind``)."""
    from offerctl.policy import budgets

    book, _ = budgets.read(ctx.repo)
    if book is None:
        return
    repo = ctx.repo
    if chosen.complete:
        rels, all_ids = chosen.rels, ids
    else:
        rels = loader.offer_files(repo)
        all_ids = _content_ids(repo, rels) if store is not None else {}

    def summary_of(rel: str) -> Mapping[str, Any] | None:
        content = all_ids.get(rel)
        return store.summary(rel, content) if store is not None and content is not None else None

    def read(rel: str) -> Any:
        from offerctl.store import privacy as store_privacy

        data = loader.read_data(repo.root, rel)
        # only what a budget applies to is opened (which one applies reads plaintext fields)
        if isinstance(data, Mapping) and store_privacy.has_encrypted_values(data) and book.budget_for(data):
            data = store_privacy.open_offer(repo, rel, data).data
        return data

    ctx.budget_offers = budget_checks.offers_for_ledger(rels, summary_of, read)
    ctx.budget_ledger = budgets.Ledger.build(book, ctx.budget_offers)
    if store is not None:
        key = budget_checks.ledger_key(ctx.budget_ledger) if _routing_reads_budget(repo) else ""
        key = budgets.sealed_key(repo, key) if key else key  # amounts opened with a key: HMAC
        store.bind("budgets", key)


def _content_ids(repo: Repo, rels: Sequence[str]) -> dict[str, str]:
    from offerctl.core.errors import GitError
    from offerctl.store import git

    try:
        return git.content_ids(repo.root, rels, [OFFERS_DIR])
    except GitError:
        return {}


POLICY_FINDINGS = "offerctl.policy.load_policy_set"
"""Cache name of the findings of loading the routing policy (see ``run``)."""


def _check_name(check: Callable[..., Any]) -> str:
    return f"{check.__module__}.{check.__qualname__}"


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
    ``offerctl.store.cache``) and computed in parallel above ``PARALLEL_MIN_FILES`` files
    (``jobs``: processes, default one per core; 1 = serial). Repository checks then run in
    this process on ``ctx.offers``, which holds for every readable offer only the
    ``SUMMARY_FIELDS`` (add a field there if a repository check needs it). Offer checks
    must depend only on the file and the context (config, policies, templates, as-of date),
    not on git history or other offers: that is what makes the cache correct.

    CI trust (``offerctl.checks.trust``): ``policy_ref`` reads ``offerctl.yaml`` and ``policies/``
    as they stand on that ref (a pull request's target) and reports policy changes since it
    (G555); ``changed_since`` checks only the offers changed since that ref (all when
    policies, templates or configuration changed); ``verify_history`` runs the append-only
    and authorship checks (only on the commits after ``changed_since`` when given).
    """
    import contextlib

    as_of = as_of or today()
    head_policy: list[Finding] = []
    tree: _Tree | None = None
    with contextlib.ExitStack() as stack:
        if policy_ref is not None:
            head_policy = _policy_findings(repo)  # this change's own policy, before the swap
            repo = stack.enter_context(selection.policy_snapshot(repo, policy_ref))
        chosen = _select(repo, paths, changed_since)
        if cache and chosen.complete and policy_ref is None and chosen.since is None:
            tree = _Tree.open(repo, as_of, chosen.rels)
            answer = tree.answer() if tree is not None else None
            if answer is not None:  # nothing changed since a run that stored its findings
                found = list(answer.findings)
                if verify_history:
                    found.extend(trust.verify_history(repo, answer.offers))
                    found.extend(trust.deleted_offers(repo, existing=answer.offers))
                unique = sorted(set(found), key=_order)
                return CheckResult(len(chosen.rels), tuple(unique), cached=len(chosen.rels))
        from offerctl.checks import privacy as privacy_checks

        policies = loader.load_policies(repo)
        findings: list[Finding] = [*repo.config_findings, *policies.findings]
        findings.extend(privacy_checks.seed_findings(repo))
        if policy_ref is not None:
            findings.extend(_policy_changes(repo, policies, policy_ref))
        ctx = Context(repo, policies, [], as_of)
        known = tree.ids if tree is not None else None
        store, ids = _open_store(repo, as_of, chosen.rels, known) if cache else (None, {})
        _build_ledger(ctx, chosen, store, ids)
        files = _check_offer_files(ctx, chosen, store, ids, jobs)
        findings.extend(files.findings)
        ctx.offers = list(files.offers)
        # Checks that read encrypted values run here, with the user's keys; their results are
        # cached only sealed for that reader (checks.keyed).
        encrypted = [o.path for o in files.offers if o.data.get("encrypted") is True]
        if encrypted:
            from offerctl.checks.keyed import keyed_pass

            findings.extend(keyed_pass(ctx, encrypted, VALUE_CHECKS, store, ids, complete=chosen.complete))
        for repo_check in REPO_CHECKS:
            try:
                findings.extend(_run_repo_check(ctx, repo_check, store, ids))
            except Exception as exc:
                findings.append(isolation.failure(OFFERS_DIR, exc, None, repo_check.__name__))
        if store is not None:
            store.save()
        findings.extend(trust.copied_approvals(repo, ctx.offers, everything_loaded=chosen.complete))
        if tree is not None and not encrypted and not any(f.code == "S131" for f in findings):
            # (S131: a check crashed, perhaps for a passing reason; never keep that answer)
            tree.store(findings, ctx.offers)
        if verify_history:
            findings.extend(trust.verify_history(repo, ctx.offers, since=chosen.since))
            findings.extend(trust.deleted_offers(repo, since=chosen.since, existing=ctx.offers))
    findings.extend(_head_only(head_policy, findings, policy_ref))
    unique = sorted(set(findings), key=_order)
    return CheckResult(len(chosen.rels), tuple(unique), cached=files.cached)


class _Tree:
    """The whole-run answer for an unchanged tree (``store.cache.TreeMemo``): keyed by the
    cache fingerprint, the commit at HEAD (G501 reads history) and every offer file's
    content id. Used only for a full run (no paths, ``--changed-since`` or
    ``--policy-ref``) and stored only when no offer is confidential (those findings depend
    on this run's keys). History verification is never stored: it runs on the answer."""

    def __init__(self, memo: TreeMemo, ids: dict[str, str]) -> None:
        self.memo = memo
        self.ids = ids

    @classmethod
    def open(cls, repo: Repo, as_of: dt.date, rels: Sequence[str]) -> _Tree | None:
        import hashlib

        from offerctl.core.errors import GitError
        from offerctl.store import git
        from offerctl.store.cache import cache_file

        try:
            location = cache_file(git.git_path(repo.root, CACHE_DIR), repo.root, kind="checktree")
            head = git.history_key(repo.root) if location is not None else None
            if location is None or head is None:
                return None
            ids = git.content_ids(repo.root, rels, [OFFERS_DIR])
        except GitError:
            return None
        if len(ids) != len(rels):
            return None
        digest = hashlib.sha256(f"{_fingerprint(repo, as_of)}\0{head}\0".encode())
        for rel in rels:
            digest.update(f"{rel}\0{ids[rel]}\0".encode())
        return cls(TreeMemo(location, digest.hexdigest()), ids)

    def answer(self) -> _Answer | None:
        hit = self.memo.get()
        if hit is None:
            return None
        offers = [Offer(path, {"id": i, "status": st}) for path, i, st in hit.offers]
        return _Answer(hit.findings, offers)

    def store(self, findings: Sequence[Finding], offers: Sequence[Offer]) -> None:
        self.memo.put(
            sorted(set(findings), key=_order),
            [
                (
                    o.path,
                    o.data.get("id") if isinstance(o.data.get("id"), str) else None,
                    o.data.get("status") if isinstance(o.data.get("status"), str) else None,
                )
                for o in offers
            ],
        )


@dataclass(frozen=True)
class _Answer:
    findings: tuple[Finding, ...]
    offers: list[Offer]


@dataclass(frozen=True)
class _Selection:
    """The offer files one run checks."""

    rels: list[str]
    complete: bool
    """Every offer of the repository is checked (the cache may forget the others)."""
    since: str | None
    """With ``--changed-since``: the base commit the history checks start from."""


def _select(repo: Repo, paths: Sequence[Path], changed_since: str | None) -> _Selection:
    """The given files (every offer when a policy, template or ``offerctl.yaml`` is among
    them, since they govern all offers), narrowed to the offers changed since a ref."""
    if paths and selection.governs_every_offer(repo, paths):
        paths = ()
    if changed_since is None:
        return _Selection(loader.offer_files(repo, paths), not paths, None)
    changed = selection.changed_offers(repo, changed_since)
    if changed.everything:
        return _Selection(loader.offer_files(repo, paths), not paths, changed.base)
    rels = changed.offer_files(repo)  # never list (or load) the offers that did not change
    if paths:
        wanted = set(loader.offer_files(repo, paths))
        rels = [r for r in rels if r in wanted]
    return _Selection(rels, False, changed.base)


def _policy_changes(repo: Repo, policies: loader.Policies, policy_ref: str) -> list[Finding]:
    """G555: policy files changed since ``policy_ref``, and by whom."""
    from offerctl.store import git

    owners = [str(e) for e in policies.approvers.get("policy_owners") or []]
    return list(trust.policy_changes(repo, git.changed_since(repo.root, policy_ref), policy_ref, owners))


def _open_store(
    repo: Repo, as_of: dt.date, rels: Sequence[str], ids: dict[str, str] | None = None
) -> tuple[CheckCache | None, dict[str, str]]:
    """The check cache and the content id of every file to check (no cache when git
    cannot say); ``ids``: already known."""
    from offerctl.core.errors import GitError
    from offerctl.store import git

    try:
        store = _open_cache(repo, as_of)
        if store is None:
            return None, {}
        return store, (ids if ids is not None else git.content_ids(repo.root, rels, [OFFERS_DIR]))
    except GitError:
        return None, {}


@dataclass(frozen=True)
class _Files:
    findings: list[Finding]
    offers: list[Offer]
    """One summary ``Offer`` per readable file (``SUMMARY_FIELDS`` only)."""
    cached: int


def _check_offer_files(
    ctx: Context, chosen: _Selection, store: CheckCache | None, ids: Mapping[str, str], jobs: int | None
) -> _Files:
    """Every chosen file's findings and summary: from the cache by content id, the others
    computed (in parallel above ``PARALLEL_MIN_FILES``) and stored; plus the policy's own
    findings (compiled only when some file needs checking or they are not cached)."""
    results: dict[str, FileResult] = {}
    todo: list[str] = []
    for rel in chosen.rels:
        hit = store.get(rel, ids[rel]) if store is not None and rel in ids else None
        if hit is not None:
            results[rel] = hit
        else:
            todo.append(rel)
    findings = _policy_set_findings(ctx, store, compile_rules=bool(todo))
    computed = _check_files(ctx, todo, jobs)
    results.update(computed)
    if store is not None:
        for rel, result in computed.items():
            if rel in ids:
                store.put(rel, ids[rel], result)
        if chosen.complete:
            store.prune(chosen.rels)
    offers: list[Offer] = []
    for rel in chosen.rels:
        result = results[rel]
        findings.extend(result.findings)
        if result.summary is not None:
            offers.append(Offer(rel, result.summary))
    return _Files(findings, offers, len(chosen.rels) - len(todo))


def _policy_set_findings(ctx: Context, store: CheckCache | None, *, compile_rules: bool) -> list[Finding]:
    """The routing policy's findings (P2xx), a pure function of the fingerprint: a run with
    nothing to recompute takes them from the cache and never compiles the CEL rules."""
    cached = store.get_repo(POLICY_FINDINGS) if store is not None else None
    if not compile_rules and cached is not None:
        return list(cached)
    from offerctl.policy.load import load_policy_set

    policy_set, found = load_policy_set(ctx.repo, ctx.policies)
    budget_checks.seed(policy_set, ctx.budget_ledger)
    ctx.policy_set = policy_set  # seeds the cached_property: compiled once per run
    if store is not None and cached is None:
        store.put_repo(POLICY_FINDINGS, found)
    return list(found)


def _policy_findings(repo: Repo) -> list[Finding]:
    """Every finding of ``offerctl.yaml`` and ``policies/`` as they stand in ``repo``
    (schema, references, CEL compilation), with file and line."""
    from offerctl.policy.load import load_policy_set

    policies = loader.load_policies(repo)
    _, found = load_policy_set(repo, policies)
    return [*repo.config_findings, *found]


def _head_only(head: Sequence[Finding], base: Sequence[Finding], ref: str | None) -> list[Finding]:
    """With ``--policy-ref``, the base policy decides approvals, but the change's own policy
    files are still validated: their findings that the base does not have, marked as this
    change's (they decide approvals once it merges)."""
    known = set(base)
    note = f" (in this change's version of the file; {ref}'s policy judges this change)"
    return [dataclasses.replace(f, message=f.message + note) for f in head if f not in known]


def _order(f: Finding) -> tuple[str, int, str, str, str, str]:
    """A total order, so output never depends on set or process ordering."""
    return (f.path, f.line or 0, f.code, f.message, str(f.severity), f.offer or "")


__all__ = ["SUMMARY_FIELDS", "CheckResult", "check_file", "run"]
