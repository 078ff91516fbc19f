"""`offerctl log ID`: one offer's story from its events and its git history.

``git log -- <file>`` lists the commits that changed the offer; every version is read with
the fast loader (one ``git cat-file --batch`` process for all of them) and consecutive
versions are compared: field changes (old → new, with the commit), approval lines that
appeared, event lines that appeared, and — routing each version with the approvals engine
— the version in which each approval went stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offerctl.core.errors import InputError
from offerctl.core.model import get_path, records, to_jsonable
from offerctl.store import git, loader, yamlio
from offerctl.store.repo import Repo

_SKIP = ("approvals", "events")


@dataclass(frozen=True)
class Entry:
    at: str
    kind: str
    """created | changed | approval | stale | event"""
    by: str | None
    commit: str | None
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "kind": self.kind,
            "by": self.by,
            "commit": self.commit,
            "summary": self.summary,
            "details": to_jsonable(dict(self.details)),
        }


@dataclass(frozen=True)
class Timeline:
    offer_id: str
    path: str
    status: str
    entries: tuple[Entry, ...]
    revisions: int
    commits: int

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer_id,
            "path": self.path,
            "status": self.status,
            "revisions": self.revisions,
            "commits": self.commits,
            "entries": [e.as_json() for e in self.entries],
        }


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            if not prefix and key in _SKIP:
                continue
            out.update(_leaves(value, f"{prefix}{key}."))
    else:
        out[prefix[:-1]] = data
    return out


MONEY_FIELDS = frozenset(
    {
        "compensation.base_salary",
        "compensation.sign_on_bonus",
        "compensation.relocation",
        "compensation.equity.strike_price",
    }
)


def value_text(field: str, value: Any, currency: Any) -> str:
    """A field's value for people: money with its currency (``$205,000``), else as stored."""
    if field in MONEY_FIELDS and value is not None and isinstance(currency, str) and currency:
        from offerctl.core.money import format_money

        try:
            return format_money(value, currency)
        except Exception:  # an unknown currency code: the plain number says enough
            return str(value)
    return str(value)


def _currency(data: Any) -> Any:
    return get_path(data, "compensation.currency") if isinstance(data, Mapping) else None


def _event_summary(event: Mapping[str, Any], currency: Any = None, *, with_changes: bool = True) -> str:
    kind = str(event.get("type"))
    parts = [kind]
    if event.get("from") and event.get("to"):
        parts.append(f"{event['from']} → {event['to']}")
    if event.get("role") and kind == "rejected":
        parts.append(f"as {event['role']}")
    for key in ("channel", "reason", "competing_employer", "signed_on", "written_on", "as_of"):
        if event.get(key):
            parts.append(f"{key.replace('_', ' ')}: {event[key]}")
    for key in ("detail", "comment"):
        if event.get(key):
            parts.append(f"{key}: “{' '.join(str(event[key]).split())}”")
    if event.get("letter_sha256"):
        parts.append(f"letter {str(event['letter_sha256'])[:12]}")
    if event.get("letter_version"):
        parts.append(f"version {event['letter_version']}")
    if event.get("document_sha256"):
        parts.append(f"signed document {str(event['document_sha256'])[:12]}")
    for change in event.get("changes") or [] if with_changes else []:
        if isinstance(change, Mapping):
            name = str(change.get("field"))
            old, new = (value_text(name, change.get(k), currency) for k in ("old", "new"))
            parts.append(f"{name}: {old} → {new}")
    return "; ".join(parts)


_Commit = tuple[str, str, str, str, str]
"""(commit, author name, author email, author date, subject), as ``git.log_file`` gives it."""


def build(repo: Repo, offer_id: str) -> Timeline:
    """One offer's story: every committed version compared with the one before it (field
    changes, new approval lines, approvals gone stale, new events), then whether the working
    tree differs from the last commit."""
    offer_id, path = loader.resolve_offer(repo, offer_id)
    rel = repo.rel(path)
    git.refresh_path_filters(repo.root)  # else git reads every commit's trees for one file
    commits = git.log_file(repo.root, rel)
    staleness = _staleness_fn(repo, rel)
    from offerctl.store.privacy import has_encrypted_values, open_offer

    views: dict[int, Any] = {}  # id(opened data) -> the opened Offer

    def opened(stored: Any) -> Any:
        """A version as the reader sees it: decrypted with their keys (markers otherwise)."""
        if isinstance(stored, Mapping) and has_encrypted_values(stored):
            view = open_offer(repo, rel, stored)
            views[id(view.data)] = view  # routing compares stored ciphertexts without a key
            return view.data
        return stored

    entries: list[Entry] = []
    previous: Any = None
    previous_raw: Any = None
    stale_before: set[int] = set()
    for meta, stored in _versions(repo, rel, commits):
        commit, _name, email, iso_date, subject = meta
        date = _utc(iso_date)
        data = opened(stored)
        if data is None:
            entries.append(Entry(date, "changed", email, commit, f"unreadable version ({subject})"))
            continue
        entries.extend(_field_entries(previous, data, date, email, commit, previous_raw, stored))
        entries.extend(_new_approvals(previous, data, date, commit))
        if staleness is not None:
            try:
                now_stale = staleness(data, views.get(id(data)))
            except Exception:  # a broken historical version never takes the whole log down
                now_stale = {}
            entries.extend(_stale_entries(data, now_stale, stale_before, date, email, commit))
            stale_before = set(now_stale)
        entries.extend(_new_events(previous, data, date, commit))
        previous, previous_raw = data, stored
    try:
        current = yamlio.load_path(path)
    except yamlio.YamlProblem as exc:
        raise InputError(
            exc.message, path=rel, line=exc.line, hint=f"run `offerctl check {rel}` and fix the file"
        ) from None
    if (
        isinstance(current, Mapping)
        and previous_raw is not None
        and yamlio.line_key(current) != yamlio.line_key(previous_raw)
    ):
        entries.append(Entry("", "changed", None, None, "uncommitted changes in the working tree"))
    events = records(current, "events")
    revisions = sum(1 for e in events if isinstance(e, Mapping) and e.get("type") == "revised")
    status = str(get_path(current, "status", "")) if isinstance(current, Mapping) else ""
    return Timeline(offer_id, rel, status, tuple(entries), revisions, len(commits))


def _versions(repo: Repo, rel: str, commits: list[_Commit]) -> list[tuple[_Commit, Mapping[str, Any] | None]]:
    """Every committed version of the file, read in one ``git cat-file --batch`` (None for a
    version that is not a readable mapping)."""
    blobs = git.read_blobs(repo.root, [f"{c[0]}:{rel}" for c in commits])
    versions: list[tuple[_Commit, Mapping[str, Any] | None]] = []
    for meta, raw in zip(commits, blobs, strict=True):
        data: Any = None
        if raw is not None:
            try:
                data = yamlio.load(raw)
            except yamlio.YamlProblem:
                data = None
        versions.append((meta, data if isinstance(data, Mapping) else None))
    return versions


def _field_entries(
    previous: Any,
    data: Mapping[str, Any],
    date: str,
    email: str,
    commit: str,
    previous_raw: Any = None,
    stored: Any = None,
) -> list[Entry]:
    """The first version, or each leaf field whose value changed since the previous one (a
    status change that an event of this commit records, with who and why, is listed once, as
    that event). Changes are found on the stored values (a confidential value re-encrypted
    unchanged keeps its ciphertext) and shown as the reader sees them."""
    if previous is None:
        return [Entry(date, "created", email, commit, f"first committed (status {data.get('status')})")]
    old, new = _leaves(previous), _leaves(data)
    old_raw = _leaves(previous_raw if previous_raw is not None else previous)
    new_raw = _leaves(stored if stored is not None else data)
    recorded = any(e.get("to") == data.get("status") for e in _new_lines(previous, data, "events"))
    return [
        Entry(
            date,
            "changed",
            email,
            commit,
            f"{key}: {value_text(key, old.get(key), _currency(previous))} → "
            f"{value_text(key, new.get(key), _currency(data))}",
            {"field": key, "old": old.get(key), "new": new.get(key)},
        )
        for key in sorted(set(old_raw) | set(new_raw))
        if not (key == "status" and recorded)
        and not key.startswith(("sops.", "privacy."))  # encryption metadata, not a term
        and yamlio.line_key(old_raw.get(key)) != yamlio.line_key(new_raw.get(key))
        and yamlio.line_key(old.get(key)) != yamlio.line_key(new.get(key))
    ]


def _new_lines(previous: Any, data: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    """Lines of ``approvals``/``events`` that the previous version did not have."""
    seen = {yamlio.line_key(item) for item in records(previous, kind)}
    return [item for item in records(data, kind) if yamlio.line_key(item) not in seen]


def _new_approvals(previous: Any, data: Mapping[str, Any], date: str, commit: str) -> list[Entry]:
    return [
        Entry(
            str(approval.get("at") or date),
            "approval",
            str(approval.get("by")),
            commit,
            f"approved as {approval.get('role')}"
            + (f" ({approval.get('comment')})" if approval.get("comment") else ""),
            dict(approval),
        )
        for approval in _new_lines(previous, data, "approvals")
    ]


def _stale_entries(
    data: Mapping[str, Any],
    now_stale: Mapping[int, str],
    stale_before: set[int],
    date: str,
    email: str,
    commit: str,
) -> list[Entry]:
    """Approvals that this version made stale (and were not stale already)."""
    raw_approvals = data.get("approvals")
    approvals_now = raw_approvals if isinstance(raw_approvals, list) else []
    entries = []
    for index, why in sorted(now_stale.items()):
        if index in stale_before or index >= len(approvals_now):
            continue
        approval = approvals_now[index]
        if not isinstance(approval, Mapping):
            continue
        entries.append(
            Entry(
                date,
                "stale",
                email,
                commit,
                f"approval by {approval.get('by')} as {approval.get('role')} went stale"
                + (f": {why}" if why else ""),
                dict(approval),
            )
        )
    return entries


def _new_events(previous: Any, data: Mapping[str, Any], date: str, commit: str) -> list[Entry]:
    # field changes are listed by _field_entries, each with its commit
    return [
        Entry(
            str(event.get("at") or date),
            "event",
            str(event.get("by")),
            commit,
            _event_summary(event, _currency(data), with_changes=False),
            dict(event),
        )
        for event in _new_lines(previous, data, "events")
    ]


def _utc(iso: str) -> str:
    """git's ``%aI`` (any offset) as offerctl stores times: UTC with ``Z``."""
    import datetime as dt

    try:
        parsed = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _staleness_fn(repo: Repo, rel: str) -> Any:
    """``(version data) -> {approval index: why}`` for approvals the approvals engine finds
    stale in that version (policy as it is now); None when the policy has errors."""
    from offerctl.core.model import Offer, Severity
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route

    policy, findings = load_policy_set(repo)
    if any(f.severity == Severity.ERROR for f in findings):
        return None

    def stale(data: Mapping[str, Any], view: Offer | None = None) -> dict[int, str]:
        result = route(repo, policy, view if view is not None else Offer(rel, data))
        return {a.index: a.detail for r in result.rules for a in r.approvals if a.state == "stale"}

    return stale


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def render_text(timeline: Timeline) -> str:
    lines = [
        f"{timeline.offer_id} ({timeline.path}) — {timeline.status}; "
        f"{_plural(timeline.revisions, 'revision')}, {_plural(timeline.commits, 'commit')}"
    ]
    for entry in timeline.entries:
        commit = entry.commit[:10] if entry.commit else "-" * 10
        who = f" [{entry.by}]" if entry.by else ""
        when = f"{entry.at[:10]} {entry.at[11:16]}" if len(entry.at) >= 16 else entry.at or "(now)"
        lines.append(f"{when:16}  {commit}  {entry.kind:8}  {entry.summary}{who}")
    return "\n".join(lines)
