"""The checks that read encrypted values, cached for the reader who ran them.

``privacy.privacy_pass`` runs after the plain cache, with the user's keys. Its findings are
a pure function of the offer file, the check context (what ``check``'s cache fingerprint
covers), the reader's keys and the offer's entry in the erasure key store. So they are kept
per offer file in a cache sealed for that reader (``store.keyed_cache``, kind ``check``, the
fingerprint as context), keyed by the file's content id plus the id of its key-store entry:
a warm keyed ``check`` then decrypts nothing and renders no letter. Without a key (or with
``--no-cache``) ``privacy_pass`` runs as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from offerctl.checks import privacy as privacy_checks
from offerctl.checks.context import Context, OfferCheck
from offerctl.core.errors import GitError
from offerctl.core.model import Finding
from offerctl.store import keyed_cache
from offerctl.store import privacy as store_privacy
from offerctl.store.cache import CheckCache, finding_from_row, finding_row


def keyed_pass(
    ctx: Context,
    rels: Sequence[str],
    value_checks: Iterable[OfferCheck],
    store: CheckCache | None,
    ids: Mapping[str, str],
    *,
    complete: bool = False,
) -> list[Finding]:
    """``privacy_pass`` over ``rels``, answered from the reader's sealed cache where the
    file, its key-store entry and the fingerprint are unchanged. ``complete``: ``rels`` are
    all encrypted offers of the repository (entries of other files are forgotten)."""
    checks = list(value_checks)
    session = store_privacy.session(ctx.repo)
    identities = session.identities()
    if store is None or not identities:
        return privacy_checks.privacy_pass(ctx, rels, checks)
    # Routing reads the budget ledger (every offer's amount): part of what a result depends
    # on. It is only additional data of the ciphertext, never written anywhere.
    context = store.fingerprint
    if ctx.budget_ledger is not None:
        from offerctl.checks.budgets import ledger_key

        context += "\0budgets=" + ledger_key(ctx.budget_ledger)
    sealed = keyed_cache.SealedCache(
        keyed_cache.cache_dir(ctx.repo.root), ctx.repo.root, "check", identities, context
    )
    if not sealed.enabled:
        return privacy_checks.privacy_pass(ctx, rels, checks)
    try:
        from offerctl.store.keyref import entry_ids

        key_entries = entry_ids(ctx.repo.root)
    except GitError:
        return privacy_checks.privacy_pass(ctx, rels, checks)
    offer_ids = {o.path: o.id for o in ctx.offers}
    keys: dict[str, str] = {}
    for rel in rels:
        if rel in ids:
            entry = key_entries.get(f"{offer_ids.get(rel) or ''}.json", "-")
            keys[rel] = f"{ids[rel]}:{entry}"
    out: list[Finding] = []
    todo: list[str] = []
    for rel in rels:
        hit = sealed.get(rel) if rel in keys else None
        if isinstance(hit, list) and len(hit) == 2 and hit[0] == keys[rel] and isinstance(hit[1], list):
            try:
                out.extend(finding_from_row(row) for row in hit[1])
                continue
            except (TypeError, ValueError):  # a damaged entry is a miss
                pass
        todo.append(rel)
    if todo:
        found = privacy_checks.privacy_pass(ctx, todo, checks)
        out.extend(found)
        by_rel: dict[str, list[list[object]]] = {rel: [] for rel in todo}
        for f in found:
            if f.path in by_rel:
                by_rel[f.path].append(finding_row(f))
        for rel, rows in by_rel.items():
            if rel in keys:
                sealed.put(rel, [keys[rel], rows])
    if complete:
        sealed.keep(rels)
    sealed.save()
    return out
