"""What makes `offerctl check` trustworthy in CI: history, policy changes, approvals, signatures.

* **History** (``verify_history``): every version of each offer file is read from git (one
  ``git log --raw`` process for all files, one ``git cat-file --batch`` for all versions,
  each version parsed with the fast YAML reader). Between a version and its parent(s) the
  ``approvals`` and ``events`` lists must only grow at the end: a line once committed is
  never edited, reordered or removed. Each approval line must be introduced by a commit
  whose git author is the approver (``by``).
* **Policy changes** (``policy_changes``): a pull request that edits the policy is flagged
  for the policy owners; which files are checked, and under which policy, is
  ``checks.selection``.
* **Approvals** copied between offers, pending approvals and signatures (offer checks).

Everything here returns values (findings, paths); nothing prints or exits.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from offerctl.checks.selection import require_full_history
from offerctl.core.model import Finding, Offer, Severity, to_jsonable
from offerctl.store import git, yamlio
from offerctl.store.repo import CONFIG_NAME, OFFERS_DIR, POLICIES_DIR, Repo

if TYPE_CHECKING:
    from offerctl.checks.context import Context

APPEND_ONLY = ("approvals", "events")
_NOUN = {"approvals": "approval", "events": "event"}


def policy_changes(repo: Repo, changed: Sequence[str], ref: str, owners: Sequence[str] = ()) -> list[Finding]:
    """G555 (warning): a policy or configuration file changed in this pull request; the
    change itself needs review by the policy owners (CODEOWNERS), and it does not apply to
    the offers of the same pull request (they are checked under ``ref``'s policy)."""
    findings = []
    who = f" ({', '.join(owners)})" if owners else ""
    for rel in changed:
        if rel == CONFIG_NAME or rel.startswith(f"{POLICIES_DIR}/"):
            findings.append(
                Finding(
                    rel,
                    None,
                    "G555",
                    f"{rel} changed since {ref}: this change needs review by the policy owners{who} "
                    "(CODEOWNERS); offers in this change are checked under the policy of "
                    f"{ref}, not this one",
                    Severity.WARNING,
                )
            )
    return findings


# --- history ------------------------------------------------------------------------------


def _key(item: Any) -> str:
    """A line's identity: its parsed content (formatting, quoting and flow/block style never
    matter; any change of a value does). The values a revision event records
    (``changes[].old/new``) are left out: on a confidential offer they are ciphertexts that
    ``rekey`` encrypts and re-encrypts without changing what they say (docs/privacy.md)."""
    return yamlio.line_key(_masked(item))


def _masked(item: Any) -> Any:
    if isinstance(item, Mapping) and isinstance(item.get("changes"), list):
        changes = [
            {k: v for k, v in c.items() if k not in ("old", "new")} if isinstance(c, Mapping) else c
            for c in item["changes"]
        ]
        return {**item, "changes": changes}
    return item


def _lists(raw: bytes | None) -> dict[str, list[Any]] | None:
    """The append-only lists of one version of an offer file; None when it cannot be read."""
    if raw is None:
        return {kind: [] for kind in APPEND_ONLY}
    try:
        data = yamlio.load(raw)
    except yamlio.YamlProblem:
        return None
    if not isinstance(data, Mapping):
        return None
    out: dict[str, list[Any]] = {}
    for kind in APPEND_ONLY:
        value = data.get(kind)
        out[kind] = list(value) if isinstance(value, list) else []
    return out


def _describe(item: Any) -> str:
    if not isinstance(item, Mapping):
        return repr(item)
    fields = ("role", "by", "at") if "role" in item else ("type", "by", "at")
    return "{" + ", ".join(f"{k}: {item.get(k)}" for k in fields if k in item) + "}"


def _diff_fields(old: Any, new: Any) -> str:
    if not (isinstance(old, Mapping) and isinstance(new, Mapping)):
        return f"{old!r} became {new!r}"
    parts = []
    for key in sorted(set(old) | set(new)):
        if _key(old.get(key)) != _key(new.get(key)):
            if key == "changes":
                parts.append("changes edited")
                continue
            parts.append(f"{key} {to_jsonable(old.get(key))!r} → {to_jsonable(new.get(key))!r}")
    return "; ".join(parts) or "formatting only"


@dataclass(frozen=True)
class _Version:
    """Where a change came from, for messages."""

    commit: str
    author: str
    date: str = ""
    """The committer date: an approval or event is never dated after it (``A361``/``G561``)."""

    @property
    def label(self) -> str:
        return "the working tree (uncommitted)" if not self.commit else f"commit {self.commit[:10]}"


@dataclass
class _FileAudit:
    """Findings for one offer file, with lines in its current text."""

    repo: Repo
    offer: Offer
    current: Mapping[str, Any]
    findings: list[Finding] = dataclasses.field(default_factory=list)
    _text: str | None = None
    _current: dict[str, list[str]] | None = None

    def _current_keys(self) -> dict[str, list[str]]:
        if self._current is None:
            self._current = {
                kind: [_key(i) for i in (self.current.get(kind) or [])] for kind in APPEND_ONLY
            }
        return self._current

    def line(self, kind: str, item_key: str | None) -> int | None:
        if self._text is None:
            try:
                self._text = (self.repo.root / self.offer.path).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        keys = self._current_keys()[kind]
        if item_key is not None and item_key in keys:
            return yamlio.line_of(self._text, [kind, keys.index(item_key)])
        return yamlio.line_of(self._text, [kind])

    def add(self, kind: str, item_key: str | None, code: str, message: str) -> None:
        self.findings.append(
            Finding(self.offer.path, self.line(kind, item_key), code, message, Severity.ERROR, self.offer.id)
        )

    def compare(
        self, kind: str, olds: Sequence[list[Any]], new: list[Any], version: _Version, *, merge: bool
    ) -> list[Any]:
        """Report edits/removals/reorders between parent version(s) and ``new``; return the
        lines this version introduced."""
        noun = _NOUN[kind]
        new_keys = [_key(i) for i in new]
        seen: set[str] = set()  # lines a parent had, and edited lines (reported once, as G550)
        for old in olds:
            old_keys = [_key(i) for i in old]
            seen.update(old_keys)
            for index, (item, key) in enumerate(zip(old, old_keys, strict=True)):
                if not merge and index < len(new_keys) and new_keys[index] == key:
                    continue
                if key in new_keys:
                    if not merge:
                        self.add(
                            kind,
                            key,
                            "G552",
                            f"{noun} line {_describe(item)} was moved from position {index + 1} to "
                            f"{new_keys.index(key) + 1} in {version.label} by {version.author}; "
                            f"{kind} are append-only (add new lines at the end)",
                        )
                    continue
                replacement = new[index] if index < len(new) and new_keys[index] not in old_keys else None
                if replacement is not None and not merge:
                    seen.add(new_keys[index])
                    self.add(
                        kind,
                        new_keys[index],
                        "G550",
                        f"{noun} line {index + 1} {_describe(item)} was edited after it was committed, "
                        f"in {version.label} by {version.author}: {_diff_fields(item, replacement)}; "
                        f"{kind} are append-only — restore the line and append a new one instead",
                    )
                else:
                    self.add(
                        kind,
                        None,
                        "G551",
                        f"{noun} line {_describe(item)} was removed in {version.label} by "
                        f"{version.author}; {kind} are append-only — restore it",
                    )
        return [item for item, key in zip(new, new_keys, strict=True) if key not in seen]

    def check_author(self, item: Any, version: _Version) -> None:
        """A350: the commit that introduced an approval line must be authored by its approver."""
        if not isinstance(item, Mapping) or not version.commit:
            return
        by = str(item.get("by", "")).lower()
        if by and by != version.author:
            delegate = f" (acting for {item['on_behalf_of']})" if item.get("on_behalf_of") else ""
            self.add(
                "approvals",
                _key(item),
                "A350",
                f"approval {_describe(item)} names {by}{delegate} as approver but was committed by "
                f"{version.author} in {version.label}; an approval counts only when its approver "
                "commits it (`offerctl approve` does)",
            )

    def check_commit_date(self, kind: str, item: Any, version: _Version) -> None:
        """A361/G561: a line is never dated after the commit that added it."""
        if not isinstance(item, Mapping) or not version.date:
            return
        from offerctl.core import timestamps

        why = timestamps.later_than_commit(item.get("at"), version.date)
        if why:
            code = "A361" if kind == "approvals" else "G561"
            self.add(
                kind,
                _key(item),
                code,
                f"{_NOUN[kind]} {_describe(item)} cannot have been recorded by {version.label} "
                f"({version.author}): {why}; a line is dated when it is recorded "
                f"(clock-skew tolerance {int(timestamps.TOLERANCE.total_seconds() // 60)} minutes)",
            )

    def check_not_reset(self, item: Any, later_resets: Sequence[Any]) -> None:
        """A362: an approval committed before a later rejection/resubmission that routing
        would still count, because it is dated after it (routing supersedes a line dated at
        or before the latest rejection, or before the latest submission)."""
        if not isinstance(item, Mapping) or not later_resets:
            return
        at = str(item.get("at", ""))

        def latest(kind: str) -> str:
            times = [
                str(e.get("at", "")) for e in later_resets if isinstance(e, Mapping) and e.get("type") == kind
            ]
            return max(times, default="")

        rejected, submitted = latest("rejected"), latest("submitted")
        if (rejected and at <= rejected) or (submitted and at < submitted):
            return
        event = "rejected" if rejected else "submitted"
        self.add(
            "approvals",
            _key(item),
            "A362",
            f"approval {_describe(item)} was committed before the offer was {event} at "
            f"{rejected or submitted}, but is dated after it: an approval given before a "
            "rejection or resubmission never counts again — approve the resubmitted offer with "
            "`offerctl approve`",
        )


def _owner(path: str, by_path: Mapping[str, Offer], by_id: Mapping[str, str]) -> str | None:
    """The checked offer whose history ``path`` is: the offer at that path, or the offer
    whose id names the file (its path before a ``git mv``, e.g. into ``offers/YYYY/MM/``)."""
    if path in by_path:
        return path
    name = path.rsplit("/", 1)[-1]
    return by_id.get(name[: -len(".yaml")]) if name.endswith(".yaml") else None


_PLAIN_ID = re.compile(r"^[A-Za-z0-9_-]+$")
RESETS = ("rejected", "submitted")
"""Events after which earlier approvals never count again (``policy.routing``)."""


def verify_history(repo: Repo, offers: Sequence[Offer], *, since: str | None = None) -> list[Finding]:
    """G550/G551/G552, A350 and A361/A362/G561 for ``offers`` (see the module docstring).
    Only each offer's path and id are used; its current lines are read from the working tree.

    History follows an offer by its id: the versions of ``offers/<ID>.yaml`` before a
    ``git mv`` into ``offers/YYYY/MM/<ID>.yaml`` are the same offer's (a move introduces no
    line). Every line a commit introduces must not be dated after that commit (A361 for an
    approval, G561 for an event, with ``core.timestamps.TOLERANCE``), and an approval
    committed before a later rejection or (re)submission must not be dated after it (A362:
    routing would otherwise count it again).

    ``since``: a commit already verified (the pull request's base); only commits after it
    are examined, which keeps a pull request's check fast on a long history. Without it,
    the whole history of each file is.
    """
    if not offers:
        return []
    require_full_history(repo, "history verification")
    if not git.has_commits(repo.root):
        return []
    by_path = {o.path: o for o in offers}
    by_id = {o.id: o.path for o in offers if o.id}
    paths = sorted(by_path)
    # Very long path lists go to git as the directory and are filtered here.
    pathspecs = paths if len(paths) <= 200 else [OFFERS_DIR]
    log_specs = list(pathspecs)
    if len(paths) <= 200:
        log_specs += [
            f":(glob){OFFERS_DIR}/**/{offer_id}.yaml"
            for offer_id in sorted(by_id)
            if _PLAIN_ID.match(offer_id)
        ]
    revisions = f"{since}..HEAD" if since else "HEAD"
    changes = []
    for change in git.file_changes(repo.root, log_specs, revisions=revisions):
        owner = _owner(change.path, by_path, by_id)
        if owner is None:
            continue
        if owner != change.path and change.new_blob == git.NULL_BLOB:
            continue  # the offer's old path removed by a move: its history goes on at ``owner``
        changes.append((owner, change))
    head = git.tree_blobs(repo.root, "HEAD", pathspecs)
    working: dict[str, bytes] = {}
    current: dict[str, Mapping[str, Any]] = {}
    for rel in paths:
        try:
            content = (repo.root / rel).read_bytes()
        except OSError:
            continue
        parsed_now = _lists(content)
        current[rel] = parsed_now or {}
        if head.get(rel) != git.blob_id(content):
            working[rel] = content
    wanted = {b for _, c in changes for b in (*c.old_blobs, c.new_blob)}
    wanted |= {head[rel] for rel in working if rel in head}
    blobs = git.cat_blobs(repo.root, wanted)
    parsed: dict[str, dict[str, list[Any]] | None] = {}

    def lists(blob: str, fallback: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if blob not in parsed:
            parsed[blob] = _lists(None if blob == git.NULL_BLOB else blobs.get(blob))
        # An unreadable version is compared through the last readable one of the file.
        return parsed[blob] or fallback

    audits = {rel: _FileAudit(repo, by_path[rel], current.get(rel, {})) for rel in paths}
    last: dict[str, dict[str, list[Any]]] = {}
    empty: dict[str, list[Any]] = {kind: [] for kind in APPEND_ONLY}
    steps: list[tuple[str, tuple[str, ...], str | bytes, _Version]] = [
        (rel, c.old_blobs, c.new_blob, _Version(c.commit, c.author_email, c.commit_date))
        for rel, c in changes
    ]
    for rel, content in working.items():
        old = (head[rel],) if rel in head else (git.NULL_BLOB,)
        steps.append((rel, old, content, _Version("", "you")))
    given: dict[str, list[tuple[int, Any]]] = {}
    resets: dict[str, list[tuple[int, Any]]] = {}
    for number, (rel, old_blobs, new, version) in enumerate(steps):
        fallback = last.get(rel, empty)
        if old_blobs == (git.NULL_BLOB,) and rel in last:
            olds = [fallback]  # added again, or moved here from the offer's earlier path
        else:
            olds = [lists(b, fallback) for b in old_blobs]
        new_lists = (_lists(new) or fallback) if isinstance(new, bytes) else lists(new, fallback)
        last[rel] = new_lists
        audit = audits[rel]
        for kind in APPEND_ONLY:
            introduced = audit.compare(
                kind, [o[kind] for o in olds], new_lists[kind], version, merge=len(old_blobs) > 1
            )
            for item in introduced:
                if kind == "approvals":
                    audit.check_author(item, version)
                    given.setdefault(rel, []).append((number, item))
                elif isinstance(item, Mapping) and item.get("type") in RESETS:
                    resets.setdefault(rel, []).append((number, item))
                audit.check_commit_date(kind, item, version)
    for rel, items in given.items():
        for number, item in items:
            audits[rel].check_not_reset(item, [e for n, e in resets.get(rel, []) if n > number])
    return [f for audit in audits.values() for f in audit.findings]


# --- deleted offers ---------------------------------------------------------------------

DELETE_ACTION = "delete"
"""``Offer-Action: delete`` (with the offer's ``Offer-Id``): removing a draft that was never
submitted — nobody approved or saw it. Any other offer is kept (closed offers are the record)."""
ERASE_ACTION = "erase"
"""``Offer-Action: erase`` (with the offer's ``Offer-Id``): the privacy erasure (``offerctl
erase``), which may remove what it must."""


def deleted_offers(repo: Repo, *, since: str | None = None, existing: Sequence[Offer] = ()) -> list[Finding]:
    """G562: an offer file deleted from history (``git rm`` + commit) without a declared,
    authorised deletion. An offer is the record of what a candidate was offered and who
    approved it; deleting the file passes every other check, so history verification
    looks for deletions under ``offers/``:

    * a move (``git mv`` into ``offers/YYYY/MM/``) is not a deletion: the offer's id is
      still in the tree (``existing`` plus the files under ``offers/`` now);
    * ``Offer-Action: erase`` with the offer's ``Offer-Id`` is the privacy erasure;
    * ``Offer-Action: delete`` with the offer's ``Offer-Id`` may delete a *draft that was
      never submitted* (no ``submitted`` event, no approvals in the deleted version);
    * anything else is G562, on the deleted path, naming the commit and its author.

    Passing: ``git rm`` of a fresh draft committed with ``--trailer 'Offer-Action: delete'
    --trailer 'Offer-Id: <id>'``. Failing: the same for an approved offer, or with no trailer.
    """
    require_full_history(repo, "history verification")
    if not git.has_commits(repo.root):
        return []
    revisions = f"{since}..HEAD" if since else "HEAD"
    removed = git.deletions(repo.root, [OFFERS_DIR], revisions=revisions)
    removed = [d for d in removed if d.path.endswith((".yaml", ".yml"))]
    if not removed:
        return []
    from offerctl.store import loader

    present = {o.id for o in existing if o.id}
    present_paths = set(loader.offer_files(repo))
    present |= {p.rsplit("/", 1)[-1].rsplit(".", 1)[0] for p in present_paths}
    versions = git.read_blobs(repo.root, [f"{d.commit}^:{d.path}" for d in removed])
    findings: list[Finding] = []
    for deletion, raw in zip(removed, versions, strict=True):
        if deletion.path in present_paths:
            continue  # deleted once and added again: its history is verified as a file
        data: Any = None
        if raw is not None:
            try:
                data = yamlio.load(raw)
            except yamlio.YamlProblem:
                data = None
        data = data if isinstance(data, Mapping) else {}
        stem = deletion.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        offer_id = str(data.get("id") or stem)
        if offer_id in present:
            continue  # moved (git mv): the offer lives on under another path
        declared = offer_id in deletion.offer_ids
        if declared and ERASE_ACTION in deletion.actions:
            continue
        status = str(data.get("status", "unknown"))
        never_submitted = (
            status == "draft"
            and not data.get("approvals")
            and not any(
                isinstance(e, Mapping) and e.get("type") == "submitted" for e in data.get("events") or []
            )
        )
        if declared and DELETE_ACTION in deletion.actions and never_submitted:
            continue
        if declared and DELETE_ACTION in deletion.actions:
            why = (
                f"Offer-Action: {DELETE_ACTION} removes only drafts never submitted, and this offer "
                f"was {status}" + ("" if status != "draft" else " (submitted before)")
            )
        else:
            why = (
                "no declared deletion: an offer is the record of what was offered and approved; "
                f"restore it (`git checkout {deletion.commit[:10]}^ -- {deletion.path}`), or declare "
                f"a draft's deletion with the trailers `Offer-Id: {offer_id}` and "
                f"`Offer-Action: {DELETE_ACTION}` (erasure: `Offer-Action: {ERASE_ACTION}`)"
            )
        findings.append(
            Finding(
                deletion.path,
                None,
                "G562",
                f"offer {offer_id} ({status}) was deleted in commit {deletion.commit[:10]} by "
                f"{deletion.author_email}: {why}",
                Severity.ERROR,
                offer_id,
            )
        )
    return findings


# --- approvals copied between offers ----------------------------------------------------


def _approval_keys(data: Mapping[str, Any]) -> list[tuple[int, tuple[str, str, str, str]]]:
    keys = []
    lines = data.get("approvals")
    for index, item in enumerate(lines if isinstance(lines, list) else []):
        if isinstance(item, Mapping):
            key = (str(item.get("by", "")).lower(), str(item.get("at", "")), str(item.get("role", "")))
            keys.append((index, (*key, str(item.get("digest", "")))))
    return keys


APPROVAL_KEYS = "approval_keys"
"""Where ``check``'s per-file summary keeps ``approval_keys(data)`` (A351 reads them from
there on a warm run instead of rebuilding them from every offer's approval lines)."""


def approval_keys(data: Mapping[str, Any]) -> list[list[Any]]:
    """A351's key of every approval line, ``[index, by, at, role, digest]``, JSON-ready."""
    return [[index, *key] for index, key in _approval_keys(data)]


def _keys_of(data: Mapping[str, Any]) -> list[tuple[int, tuple[str, str, str, str]]]:
    """The approval keys of an offer: stored in its summary (``APPROVAL_KEYS``), or built."""
    stored = data.get(APPROVAL_KEYS)
    if isinstance(stored, list):
        return [(int(row[0]), (str(row[1]), str(row[2]), str(row[3]), str(row[4]))) for row in stored]
    return _approval_keys(data)


def copied_approvals(repo: Repo, offers: Sequence[Offer], *, everything_loaded: bool) -> list[Finding]:
    """A351: the same approval line (approver, time, role and digest) in two offers. An
    approval is given to one offer; a copy carries the other offer's digest, which matches
    whenever the covered terms are equal, so only this (or a signature, which names the
    offer) tells it apart.

    ``everything_loaded``: ``offers`` are all offers; otherwise the other offer files are
    found with one ``git grep`` for the checked approvals' timestamps.
    """
    wanted = {o.path: _keys_of(o.data) for o in offers}
    if not any(wanted.values()):
        return []
    pool: dict[str, list[tuple[int, tuple[str, str, str, str]]]] = dict(wanted)
    if not everything_loaded:
        stamps = {key[1] for keys in wanted.values() for _, key in keys}
        for rel in git.grep_files(repo.root, stamps, [OFFERS_DIR]):
            if rel in pool or not rel.endswith(".yaml"):
                continue
            try:
                data = yamlio.load((repo.root / rel).read_bytes())
            except (yamlio.YamlProblem, OSError):
                continue
            if isinstance(data, Mapping):
                pool[rel] = _approval_keys(data)
    where: dict[tuple[str, str, str, str], list[str]] = {}
    for rel, keys in pool.items():
        for _, key in keys:
            where.setdefault(key, []).append(rel)
    findings = []
    by_path = {o.path: o for o in offers}
    for rel, keys in wanted.items():
        offer = by_path[rel]
        text: str | None = None
        for index, key in keys:
            others = sorted({p for p in where.get(key, []) if p != rel})
            if not others:
                continue
            if text is None:
                text = (repo.root / rel).read_text("utf-8")
            findings.append(
                Finding(
                    rel,
                    yamlio.line_of(text, ["approvals", index]),
                    "A351",
                    f"approval by {key[0]} as {key[2]} at {key[1]} also appears in {', '.join(others)}: "
                    "an approval is given to one offer, a copy proves nothing; ask the approver to "
                    f"run `offerctl approve {offer.id}`",
                    Severity.ERROR,
                    offer.id,
                )
            )
    return findings


def check_pending_approvals(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """A303/A304 for offers still collecting approvals (the approvals module checks offers
    that claim to be approved): an approval line by someone the policy in force does not
    allow, or a second vote of one person, can never become valid — reported when it is
    added, so it does not merge and sit in an append-only list until the offer is approved.

    Passing: a pending offer whose hiring manager approved.
    Failing: a pending offer with a finance approval by someone outside the finance role."""
    from offerctl.core.model import APPROVED_STATUSES
    from offerctl.policy.routing import route

    if offer.status in APPROVED_STATUSES or not offer.get("approvals"):
        return
    codes = {"not_allowed": "A303", "duplicate": "A304"}
    seen: set[int] = set()
    for outcome in route(ctx.repo, ctx.policy_set, offer, as_of=ctx.as_of).rules:
        for check in outcome.approvals:
            code = codes.get(check.state)
            if code and check.index not in seen:
                seen.add(check.index)
                yield ctx.finding(
                    offer,
                    f"approvals.{check.index}",
                    code,
                    f"approval by {check.by} as {check.role} (rule {outcome.rule_id}): {check.detail}",
                )


# --- signatures ---------------------------------------------------------------------------


def check_signatures(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """A306/A307 for every approval of every offer, whatever its status, under the policy in
    force (``--policy-ref``): with ``signatures: required`` every approval must be signed; any
    signature present must verify (``ssh-keygen -Y verify``, namespace ``offerctl-approval@v1``)
    over ``{offer, role, by, at, digest}`` with the key approvers.yaml lists for ``by`` — the
    signer's key, not the git author, is the identity. A key under ``revoked_keys`` never
    verifies, whatever date the approval claims (A307). The verdict is
    ``approvals.verify.signature_verdict``, the same function every command counts with.

    Passing: an approval signed by the approver's listed key over this offer and these terms.
    Failing: the same signature on another offer, or after the digest changed (A306)."""
    from offerctl.approvals.verify import signature_verdict
    from offerctl.core.model import APPROVED_STATUSES

    keyring = ctx.policy_set.keyring
    if keyring.mode == "off":
        return
    for index, line in enumerate(offer.get("approvals") or []):
        if not isinstance(line, Mapping):
            continue
        verdict = signature_verdict(offer.id, line, keyring)
        if verdict.ok:
            continue
        if not line.get("sig") and offer.status in APPROVED_STATUSES:
            continue  # for approved offers routing reports it (the approval does not count: A306)
        what = f"approval by {str(line.get('by', '')).lower()} as {line.get('role')}"
        yield ctx.finding(offer, f"approvals.{index}", verdict.code, f"{what}: {verdict.reason}")


def check_times(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """A360: an approval dated before the offer was created or in the future; G560: an event
    (its ``at``, or a date a person gave such as ``signed_on``) dated before the offer was
    created or in the future — with the clock-skew tolerance of ``core.timestamps``. Such
    an approval never counts (routing), and the commands refuse such dates when they record
    them (``accept --signed-on``).

    Passing: an approval given after the offer's ``created`` event, before now.
    Failing: an approval dated 2031 (it would outlive a later rejection) or 2020."""
    from offerctl.core import clock, timestamps

    now = clock.latest_now()
    created = timestamps.created_at(offer.data)
    for index, line in enumerate(offer.get("approvals") or []):
        if not isinstance(line, Mapping):
            continue
        why = timestamps.time_problem(line.get("at"), created, now)
        if why:
            yield ctx.finding(
                offer,
                f"approvals.{index}.at",
                "A360",
                f"approval by {line.get('by')} as {line.get('role')} does not count: {why}; "
                f"approvals are recorded by `offerctl approve` at the time they are given",
            )
    for index, name, why in timestamps.event_problems(offer.data, now):
        event = (offer.get("events") or [])[index]
        yield ctx.finding(
            offer,
            f"events.{index}.{name}",
            "G560",
            f"event {event.get('type')} {name}: {why}; events are recorded when they happen "
            "(a date given with --signed-on must lie between the offer's creation and today)",
        )


__all__ = [
    "check_pending_approvals",
    "check_signatures",
    "check_times",
    "copied_approvals",
    "deleted_offers",
    "policy_changes",
    "verify_history",
]
