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


def verify_history(repo: Repo, offers: Sequence[Offer], *, since: str | None = None) -> list[Finding]:
    """G550/G551/G552 and A350 for ``offers`` (see the module docstring). Only each offer's
    path and id are used; its current lines are read from the working tree.

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
    paths = sorted(by_path)
    # Very long path lists go to git as the directory and are filtered here.
    pathspecs = paths if len(paths) <= 200 else [OFFERS_DIR]
    revisions = f"{since}..HEAD" if since else "HEAD"
    changes = [c for c in git.file_changes(repo.root, pathspecs, revisions=revisions) if c.path in by_path]
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
    wanted = {b for c in changes for b in (*c.old_blobs, c.new_blob)}
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
        (c.path, c.old_blobs, c.new_blob, _Version(c.commit, c.author_email)) for c in changes
    ]
    for rel, content in working.items():
        old = (head[rel],) if rel in head else (git.NULL_BLOB,)
        steps.append((rel, old, content, _Version("", "you")))
    for rel, old_blobs, new, version in steps:
        fallback = last.get(rel, empty)
        olds = [lists(b, fallback) for b in old_blobs]
        new_lists = (_lists(new) or fallback) if isinstance(new, bytes) else lists(new, fallback)
        last[rel] = new_lists
        audit = audits[rel]
        for kind in APPEND_ONLY:
            introduced = audit.compare(
                kind, [o[kind] for o in olds], new_lists[kind], version, merge=len(old_blobs) > 1
            )
            if kind == "approvals":
                for item in introduced:
                    audit.check_author(item, version)
    return [f for audit in audits.values() for f in audit.findings]


# --- approvals copied between offers ----------------------------------------------------


def _approval_keys(data: Mapping[str, Any]) -> list[tuple[int, tuple[str, str, str, str]]]:
    keys = []
    lines = data.get("approvals")
    for index, item in enumerate(lines if isinstance(lines, list) else []):
        if isinstance(item, Mapping):
            key = (str(item.get("by", "")).lower(), str(item.get("at", "")), str(item.get("role", "")))
            keys.append((index, (*key, str(item.get("digest", "")))))
    return keys


def copied_approvals(repo: Repo, offers: Sequence[Offer], *, everything_loaded: bool) -> list[Finding]:
    """A351: the same approval line (approver, time, role and digest) in two offers. An
    approval is given to one offer; a copy carries the other offer's digest, which matches
    whenever the covered terms are equal, so only this (or a signature, which names the
    offer) tells it apart.

    ``everything_loaded``: ``offers`` are all offers; otherwise the other offer files are
    found with one ``git grep`` for the checked approvals' timestamps.
    """
    wanted = {o.path: _approval_keys(o.data) for o in offers}
    if not any(wanted.values()):
        return []
    pool: dict[str, Mapping[str, Any]] = {o.path: o.data for o in offers}
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
                pool[rel] = data
    where: dict[tuple[str, str, str, str], list[str]] = {}
    for rel, data in pool.items():
        for _, key in _approval_keys(data):
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


def signer_key(sig: str) -> str | None:
    """The public key (``<algorithm> <base64>``, as in approvers.yaml) that made an SSH
    signature, read from the signature itself (``SSHSIG`` format, PROTOCOL.sshsig); None when
    ``sig`` is not one. Used to say *whose* key signed; ``ssh-keygen -Y verify`` decides."""
    import base64
    import binascii

    try:
        blob = base64.b64decode(sig.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if not blob.startswith(b"SSHSIG") or len(blob) < 14:
        return None
    size = int.from_bytes(blob[10:14], "big")
    key = blob[14 : 14 + size]
    if len(key) != size or len(key) < 4:
        return None
    alg_size = int.from_bytes(key[:4], "big")
    algorithm = key[4 : 4 + alg_size].decode("ascii", "replace")
    return f"{algorithm} {base64.b64encode(key).decode('ascii')}"


def _key_body(key: str) -> str:
    return " ".join(key.split()[:2])


def check_signatures(ctx: Context, offer: Offer) -> Iterator[Finding]:
    """A306/A307 for every approval of every offer, whatever its status, under the policy in
    force (``--policy-ref``): with ``signatures: required`` every approval must be signed; any
    signature present must verify (``ssh-keygen -Y verify``, namespace ``offerctl-approval@v1``)
    over ``{offer, role, by, at, digest}`` with the key approvers.yaml lists for ``by`` — the
    signer's key, not the git author, is the identity. A key under ``revoked_keys`` never
    verifies, whatever date the approval claims (A307).

    Passing: an approval signed by the approver's listed key over this offer and these terms.
    Failing: the same signature on another offer, or after the digest changed (A306)."""
    from offerctl.approvals import binding
    from offerctl.core.model import APPROVED_STATUSES

    policy = ctx.policy_set
    if policy.signatures == "off":
        return
    owners = {
        _key_body(person.ssh_key): email
        for email, person in policy.approvers.people.items()
        if person.ssh_key
    }
    for index, line in enumerate(offer.get("approvals") or []):
        if not isinstance(line, Mapping):
            continue
        by = str(line.get("by", "")).lower()
        sig = line.get("sig")
        where = f"approvals.{index}"
        what = f"approval by {by} as {line.get('role')}"
        if not sig:
            # for approved offers routing reports it (the approval does not count: A306)
            if policy.signatures == "required" and offer.status not in APPROVED_STATUSES:
                yield ctx.finding(
                    offer,
                    where,
                    "A306",
                    f"{what} is not signed and policies/routing.yaml requires signatures; "
                    "approve again with `offerctl approve --sign-key`",
                )
            continue
        signer = signer_key(str(sig))
        if signer is None:
            yield ctx.finding(offer, where, "A306", f"{what}: sig is not an SSH signature")
            continue
        if signer in policy.approvers.revoked_keys:
            yield ctx.finding(
                offer,
                where,
                "A307",
                f"{what} is signed with a key revoked in policies/approvers.yaml; a revoked key "
                "never verifies, whatever date the approval claims — approve again with a current key",
            )
            continue
        owner = owners.get(signer)
        if owner is None:
            yield ctx.finding(
                offer,
                where,
                "A306",
                f"{what} is signed with a key ({signer.split()[0]} …{signer[-12:]}) that "
                "policies/approvers.yaml lists for nobody",
            )
            continue
        if owner != by:
            yield ctx.finding(
                offer,
                where,
                "A306",
                f"{what} is signed with {owner}'s key: the signer is the identity, and it is not {by}",
            )
            continue
        payload = binding.signing_payload(
            offer.id, str(line.get("role")), by, str(line.get("at")), str(line.get("digest"))
        )
        if not binding.verify(payload, str(sig), by, signer):
            yield ctx.finding(
                offer,
                where,
                "A306",
                f"{what}: {by}'s signature does not cover this approval — it was made for another "
                f"offer, role, time or set of terms (digest); namespace {binding.NAMESPACE}",
            )


__all__ = [
    "check_pending_approvals",
    "check_signatures",
    "copied_approvals",
    "policy_changes",
    "verify_history",
]
