"""Budgets: what a department or requisition may commit in a period, and how much of it the
offers already take (``policies/budgets.yaml``, optional).

**Which offers consume a budget.** An offer counts against the budget whose scope it is in
(its ``role.requisition``; else its ``role.department`` — a requisition budget wins over a
department budget) and whose period contains its ``start_date``, when its status is one of
``CONSUMING_STATUSES``: the company has either committed the money (``accepted``,
``started``) or stands behind a number the candidate may accept any day (``approved``,
``sent``, ``negotiating``). Drafts and offers pending approval do not consume: they are
what the budget is being checked *for*; declined, reneged, rescinded and expired offers
freed their money.

**What an offer consumes** (``measure``): its annualised base salary (``annual_base``, the
default: monthly x 12, hourly x 2080 x ``role.fte``) or its first-year cash
(``first_year_cash``: annual base + target bonus + sign-on + relocation).

**Currencies.** An offer in the budget's currency counts as is; another currency is
converted with the stated table ``rates`` (``to: {BUDGET_CURRENCY: {OFFER_CURRENCY: rate}}``,
1 unit of the offer currency = rate units of the budget currency, Decimal), rounded to cents.
An offer whose currency has no rate cannot be counted: ``check`` reports it (W703) and the
position is unknown rather than guessed.

**What is left for one offer** (``Position``): ``remaining_after`` = amount minus what the
other consuming offers take minus this offer's own amount. The offer's own amount is always
subtracted, whatever its status, so a draft sees what would be left if it went ahead and an
approved offer is never counted twice. **First come, first served**: an offer that already
consumes is judged only against the offers that consumed before it (ordered by the time they
were approved: their latest approval, then id), so approving a later offer never makes an
earlier, approved one "over budget" and in need of a new approval. An offer not yet
consuming is judged against every consuming offer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from offerctl.core.model import Finding, Unreadable, unreadable_in
from offerctl.core.model import to_decimal as _to_decimal
from offerctl.store.repo import Repo

PATH = "policies/budgets.yaml"
CONSUMING_STATUSES = frozenset({"approved", "sent", "negotiating", "accepted", "started"})
HOURS_PER_YEAR = Decimal(2080)
CENT = Decimal("0.01")
BUDGET_FIELDS = (
    "id",
    "currency",
    "amount",
    "committed",
    "offer_amount",
    "remaining_before",
    "remaining_after",
    "remaining_pct_after",
)
"""What a routing rule sees as ``budget.<field>`` (``budget`` is empty when no budget applies:
guard with ``has(budget.remaining_after)``)."""


@dataclass(frozen=True)
class Budget:
    id: str
    currency: str
    amount: Decimal
    start: dt.date
    end: dt.date
    department: str | None = None
    requisition: str | None = None
    measure: str = "annual_base"
    warn_below_pct: Decimal = Decimal(10)
    description: str = ""
    line: int | None = None

    @property
    def scope(self) -> str:
        return f"requisition {self.requisition}" if self.requisition else f"department {self.department}"


@dataclass(frozen=True)
class Rates:
    as_of: str | None = None
    source: str | None = None
    table: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)
    """(budget currency, offer currency) → rate."""


def to_decimal(value: Any) -> Decimal | None:
    """``core.model.to_decimal``, except that an encrypted value nobody here can read is
    unknown (None) rather than an error: a budget is judged on what can be read, and a rule
    that needs this offer's own amount sees it as hidden (``Position.hidden``)."""
    if isinstance(value, Unreadable):
        return None
    return _to_decimal(value)


def amount_text(value: Decimal) -> str:
    """``577,760`` for a whole amount, ``1,234.50`` otherwise (exact, never via float)."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,}"


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class BudgetBook:
    budgets: tuple[Budget, ...] = ()
    rates: Rates = field(default_factory=Rates)

    def budget_for(self, data: Mapping[str, Any]) -> Budget | None:
        """The budget an offer counts against (requisition before department), or None."""
        role = data.get("role") if isinstance(data.get("role"), Mapping) else {}
        assert isinstance(role, Mapping)
        start = _date(data.get("start_date"))
        if start is None:
            return None
        requisition, department = role.get("requisition"), role.get("department")
        in_period = [b for b in self.budgets if b.start <= start <= b.end]
        for b in in_period:
            if b.requisition is not None and b.requisition == requisition:
                return b
        for b in in_period:
            if b.department is not None and b.department == department:
                return b
        return None

    def consumption(self, budget: Budget, data: Mapping[str, Any]) -> Decimal | None:
        """What ``data`` takes from ``budget`` in the budget's currency (None: no rate, or
        no base salary)."""
        comp = data.get("compensation") if isinstance(data.get("compensation"), Mapping) else None
        if not comp:
            return None
        base = to_decimal(comp.get("base_salary"))
        if base is None:
            return None
        period = comp.get("pay_period", "annual")
        role = data.get("role") if isinstance(data.get("role"), Mapping) else {}
        fte = to_decimal(role.get("fte")) if isinstance(role, Mapping) else None
        if period == "monthly":
            annual = base * 12
        elif period == "hourly":
            annual = base * HOURS_PER_YEAR * (fte if fte is not None else Decimal(1))
        else:
            annual = base
        amount = annual
        if budget.measure == "first_year_cash":
            bonus = to_decimal(comp.get("bonus_target_pct")) or Decimal(0)
            amount += annual * bonus / 100
            amount += to_decimal(comp.get("sign_on_bonus")) or Decimal(0)
            amount += to_decimal(comp.get("relocation")) or Decimal(0)
        currency = str(comp.get("currency", ""))
        if currency != budget.currency:
            rate = self.rates.table.get((budget.currency, currency))
            if rate is None:
                return None
            amount = amount * rate
        amount = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
        return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount


@dataclass(frozen=True)
class Position:
    """Where one offer leaves its budget."""

    budget: Budget
    committed: Decimal
    """What the other consuming offers take."""
    offer_amount: Decimal | None
    """What this offer takes (None: no conversion rate for its currency)."""
    counted: tuple[str, ...]
    """The other offers counted (ids)."""
    uncounted: tuple[str, ...] = ()
    """Consuming offers that could not be counted (no rate): the position is a lower bound."""
    first_come: bool = False
    """The offer already consumes: only offers that consumed before it are counted."""
    hidden: Any = None
    """``core.model.Unreadable`` when this offer's own pay is encrypted and unreadable here."""

    @property
    def remaining_before(self) -> Decimal:
        return self.budget.amount - self.committed

    @property
    def remaining_after(self) -> Decimal | None:
        return None if self.offer_amount is None else self.remaining_before - self.offer_amount

    @property
    def remaining_pct_after(self) -> Decimal | None:
        after = self.remaining_after
        if after is None or not self.budget.amount:
            return None
        pct = (after * 100 / self.budget.amount).quantize(CENT)
        return pct.quantize(Decimal(1)) if pct == pct.to_integral_value() else pct

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.budget.id,
            "scope": self.budget.scope,
            "period": {"from": self.budget.start.isoformat(), "to": self.budget.end.isoformat()},
            "measure": self.budget.measure,
            "currency": self.budget.currency,
            "amount": self.budget.amount,
            "committed": self.committed,
            "offer_amount": self.offer_amount,
            "remaining_before": self.remaining_before,
            "remaining_after": self.remaining_after,
            "remaining_pct_after": self.remaining_pct_after,
            "counted_offers": list(self.counted),
            "uncounted_offers": list(self.uncounted),
            "first_come": self.first_come,
        }

    def cel(self) -> dict[str, Any]:
        """``budget`` as routing rules see it (fields without a value are left out, so
        ``has(budget.remaining_after)`` says whether it is known)."""
        values = {
            "id": self.budget.id,
            "currency": self.budget.currency,
            "amount": self.budget.amount,
            "committed": self.committed,
            "offer_amount": self.offer_amount,
            "remaining_before": self.remaining_before,
            "remaining_after": self.remaining_after,
            "remaining_pct_after": self.remaining_pct_after,
        }
        if self.hidden is not None:
            # What is left depends on a value no key here opens: routing treats a rule that
            # reads it like any rule reading an encrypted field (required, or refused).
            values.update(
                offer_amount=self.hidden, remaining_after=self.hidden, remaining_pct_after=self.hidden
            )
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class Ledger:
    """Consumption per budget over a set of offers (id → data): built once, queried per offer."""

    book: BudgetBook
    entries: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)
    """budget id → {offer id: amount (None: not convertible)}."""
    since: dict[str, tuple[str, str]] = field(default_factory=dict)
    """offer id → (when it started consuming, id): the first-come order."""

    @classmethod
    def build(cls, book: BudgetBook, offers: Iterable[tuple[str, Mapping[str, Any]]]) -> Ledger:
        ledger = cls(book)
        for offer_id, data in offers:
            if status_of(data) not in CONSUMING_STATUSES:
                continue
            budget = book.budget_for(data)
            if budget is not None:
                ledger.entries.setdefault(budget.id, {})[offer_id] = book.consumption(budget, data)
                ledger.since[offer_id] = (consuming_since(data), offer_id)
        return ledger

    def position(self, offer_id: str, data: Mapping[str, Any]) -> Position | None:
        budget = self.book.budget_for(data)
        if budget is None:
            return None
        others = {k: v for k, v in self.entries.get(budget.id, {}).items() if k != offer_id}
        first_come = status_of(data) in CONSUMING_STATUSES
        if first_come:
            mine = (consuming_since(data), offer_id)
            others = {k: v for k, v in others.items() if self.since.get(k, mine) < mine}
        committed = sum((v for v in others.values() if v is not None), Decimal(0))
        return Position(
            budget,
            committed,
            self.book.consumption(budget, data),
            tuple(sorted(k for k, v in others.items() if v is not None)),
            tuple(sorted(k for k, v in others.items() if v is None)),
            first_come,
            unreadable_in(data.get("compensation")),
        )


def status_of(data: Mapping[str, Any]) -> str:
    """The offer's status as text ("" when the file holds something else: ``check`` says so)."""
    status = data.get("status")
    return status if isinstance(status, str) else ""


def consuming_since(data: Mapping[str, Any]) -> str:
    """When an offer started to consume its budget: its latest approval (approval completes
    with the last one), else its first ``sent`` event, else its creation."""
    approvals = [str(a.get("at", "")) for a in data.get("approvals") or [] if isinstance(a, Mapping)]
    if approvals:
        return max(approvals)
    events = [e for e in data.get("events") or [] if isinstance(e, Mapping)]
    for kind in ("sent", "created"):
        found = [str(e.get("at", "")) for e in events if e.get("type") == kind]
        if found:
            return min(found)
    return ""


def parse(data: Mapping[str, Any], text: str | None) -> tuple[BudgetBook, list[Finding]]:
    """The validated document → a ``BudgetBook`` (schema findings come from the loader)."""
    from offerctl.store import yamlio

    findings: list[Finding] = []

    def line(path: list[str | int]) -> int | None:
        return yamlio.line_of(text, path) if text else None

    rates_doc = data.get("rates") if isinstance(data.get("rates"), Mapping) else {}
    assert isinstance(rates_doc, Mapping)
    table: dict[tuple[str, str], Decimal] = {}
    for target, sources in (rates_doc.get("to") or {}).items():
        for source, rate in (sources or {}).items():
            value = to_decimal(rate)
            if value is not None and value > 0:
                table[(str(target), str(source))] = value
    rates = Rates(
        str(rates_doc["as_of"]) if rates_doc.get("as_of") else None,
        str(rates_doc["source"]) if rates_doc.get("source") else None,
        table,
    )
    budgets: list[Budget] = []
    seen: set[str] = set()
    for index, item in enumerate(data.get("budgets") or []):
        if not isinstance(item, Mapping):
            continue
        bid = str(item.get("id", ""))
        period = item.get("period") or {}
        start, end = _date(period.get("from")), _date(period.get("to"))
        amount = to_decimal(item.get("amount"))
        if start is None or end is None or amount is None:
            continue  # the schema reported it
        where = line(["budgets", index])
        if bid in seen:
            findings.append(
                Finding(PATH, where, "W704", f"budget id {bid!r} is used twice; ids must be unique")
            )
            continue
        seen.add(bid)
        if end < start:
            findings.append(
                Finding(PATH, where, "W704", f"budget {bid}: period ends ({end}) before it starts ({start})")
            )
            continue
        budgets.append(
            Budget(
                bid,
                str(item.get("currency", "")),
                amount,
                start,
                end,
                str(item["department"]) if item.get("department") else None,
                str(item["requisition"]) if item.get("requisition") else None,
                str(item.get("measure", "annual_base")),
                to_decimal(item.get("warn_below_pct"))
                if item.get("warn_below_pct") is not None
                else Decimal(10),  # type: ignore[arg-type]
                str(item.get("description", "")),
                where,
            )
        )
    for i, a in enumerate(budgets):
        for b in budgets[i + 1 :]:
            same_scope = (a.department and a.department == b.department) or (
                a.requisition and a.requisition == b.requisition
            )
            if same_scope and a.start <= b.end and b.start <= a.end:
                findings.append(
                    Finding(
                        PATH,
                        b.line,
                        "W704",
                        f"budgets {a.id} and {b.id} cover the same {a.scope} in overlapping periods; "
                        "an offer would count against only the first",
                    )
                )
    return BudgetBook(tuple(budgets), rates), findings


class BudgetSource:
    """A repository's budgets with the ledger over its offers built on first use (routing
    needs it only when a rule reads ``budget``; ``route``/``headroom``/``check`` always)."""

    def __init__(
        self, book: BudgetBook, offers: Callable[[], Iterable[tuple[str, Mapping[str, Any]]]]
    ) -> None:
        self.book = book
        self._offers = offers
        self._ledger: Ledger | None = None

    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger.build(self.book, self._offers())
        return self._ledger

    def position(self, offer_id: str, data: Mapping[str, Any]) -> Position | None:
        if self.book.budget_for(data) is None:
            return None
        return self.ledger().position(offer_id, data)


def read(repo: Repo) -> tuple[BudgetBook | None, list[Finding]]:
    """``policies/budgets.yaml`` (None when the repository has no budgets), schema-checked
    with lines, plus the W704 consistency findings."""
    from offerctl.store import loader

    if not (repo.policy_base / PATH).is_file():
        return None, []
    doc = loader.read_file("budgets", repo.policy_base, PATH)
    findings = list(doc.findings)
    if not doc.ok or not isinstance(doc.data, Mapping):
        return BudgetBook(), findings
    try:
        text: str | None = (repo.policy_base / PATH).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    book, found = parse(doc.data, text)
    return book, findings + found


class _RunMemo(dict[str, Any]):
    """Per-run memo in ``repo.state``; never copied into worker processes (pickles empty)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_RunMemo, ())


def projection(data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an offer that the ledger and W701/W703 read (``status_of``,
    ``budget_for``, ``consumption``, ``consuming_since``, ``unreadable_in``): status, start
    date, requisition, department and FTE, the whole compensation, the time of each approval
    and the type and time of each event. Every budget function gives the same answer on it
    as on the whole offer (``tests/test_scale.py`` compares them)."""
    out: dict[str, Any] = {}
    for key in ("id", "status", "start_date", "compensation"):
        if key in data:
            out[key] = data[key]
    role = data.get("role")
    if isinstance(role, Mapping):
        out["role"] = {k: role[k] for k in ("requisition", "department", "fte") if k in role}
    for key, kept in (("approvals", ("at",)), ("events", ("type", "at"))):
        lines = data.get(key)
        if isinstance(lines, list):
            out[key] = [{k: i[k] for k in kept if k in i} for i in lines if isinstance(i, Mapping)]
    return out


PROJECTIONS_KIND = "budget-projections"
PROJECTIONS_VERSION = 1


def _privacy_enabled(repo: Repo) -> bool:
    privacy = repo.config.get("privacy") if isinstance(repo.config, Mapping) else None
    return isinstance(privacy, Mapping) and bool(privacy.get("enabled", True))


class _Projections:
    """Budget projections of plaintext offers kept by content id (``store.derived``), so
    that a command that routes one offer (``new``, ``approve``, ``route``, ``headroom``…)
    does not parse all 10,000 offers to build the ledger. A repository with privacy enabled
    keeps none (a projection holds pay) and drops those kept before it was enabled."""

    def __init__(self, repo: Repo, rels: list[str]) -> None:
        from offerctl.store import git
        from offerctl.store.cache import CACHE_DIR, cache_file
        from offerctl.store.derived import DerivedCache

        self.cache: DerivedCache | None = None
        self.rels = rels
        if _privacy_enabled(repo):
            with contextlib.suppress(Exception):
                stale = cache_file(git.git_path(repo.root, CACHE_DIR), repo.root, PROJECTIONS_KIND)
                if stale is not None:
                    stale.unlink(missing_ok=True)
            return
        try:
            ids = git.content_ids(repo.root, rels)
        except Exception:  # not a git repository, git missing: read every file, as before
            return
        self.cache = DerivedCache(repo, PROJECTIONS_KIND, "", PROJECTIONS_VERSION, ids)

    def get(self, rel: str) -> Mapping[str, Any] | None:
        found = self.cache.get(rel) if self.cache is not None else None
        return found if isinstance(found, dict) and isinstance(found.get("id"), str) else None

    def put(self, rel: str, data: Mapping[str, Any]) -> None:
        if self.cache is not None:
            self.cache.put(rel, projection(data))

    def save(self) -> None:
        if self.cache is not None:
            self.cache.save(self.rels)


def offer_data(repo: Repo, book: BudgetBook | None = None) -> list[tuple[str, Mapping[str, Any]]]:
    """(id, data) of every readable offer file (fast reader, no schema: a broken file is
    reported by ``check`` and simply not counted here). A confidential offer is opened with
    the keys at hand (``store.privacy``); pay no key here opens is not counted. With
    ``book``, only offers some budget applies to are opened (which budget applies reads
    plaintext fields only; the others never enter a ledger or a position). Files are read
    and opened once per run (the ledger is asked for several times); a plaintext offer whose
    content is unchanged since an earlier run is not read at all: its budget projection comes
    from ``.git/`` (``_Projections``)."""
    from offerctl.store import loader
    from offerctl.store.privacy import has_encrypted_values, open_offer

    memo = repo.state.get("budgets.offer_data")
    if not isinstance(memo, _RunMemo):
        memo = repo.state["budgets.offer_data"] = _RunMemo()
    rels = list(loader.offer_files(repo))
    stored = _Projections(repo, rels) if not memo else None
    out = []
    for rel in rels:
        try:
            stat = (repo.root / rel).stat()
            seen: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            seen = None
        entry = memo.get(rel)
        if entry is None or entry[3] != seen:  # read again when the file changed during the run
            cached = stored.get(rel) if stored is not None else None
            if cached is not None:
                entry = memo[rel] = [str(cached["id"]), cached, True, seen]
            else:
                data = loader.read_data(repo.root, rel)
                if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
                    memo[rel] = [None, None, True, seen]
                    continue
                plain = not has_encrypted_values(data)
                if plain and stored is not None:
                    stored.put(rel, data)
                entry = memo[rel] = [str(data["id"]), data, plain, seen]
        offer_id, data, opened, _ = entry
        if offer_id is None:
            continue
        if not opened and (book is None or book.budget_for(data) is not None):
            data = entry[1] = open_offer(repo, rel, data).data
            entry[2] = True
        out.append((offer_id, data))
    if stored is not None:
        stored.save()
    return out


def source(repo: Repo) -> BudgetSource | None:
    book, _ = read(repo)
    if book is None:
        return None
    return BudgetSource(book, lambda: offer_data(repo, book))


def cache_key(repo: Repo, uses_budget: bool) -> str | None:
    """What offer checks depend on besides their own file when routing reads ``budget``:
    the ledger (every consuming offer's amount). None when no rule reads it."""
    import hashlib

    src = source(repo) if uses_budget else None
    if src is None:
        return None
    digest = hashlib.sha256()
    for budget_id, entries in sorted(src.ledger().entries.items()):
        for offer_id, amount in sorted(entries.items()):
            digest.update(f"{budget_id}\0{offer_id}\0{amount}\0".encode())
    return sealed_key(repo, digest.hexdigest())


def sealed_key(repo: Repo, text: str) -> str:
    """``text`` as it may go into the plain cache's fingerprint under ``.git/``. When the
    ledger holds amounts opened with a reader's key (confidential offers), a plain hash of
    them would let anyone confirm a guessed salary: it is then an HMAC under a key derived
    from the reader's private keys (``store.keyed_cache.derive``)."""
    import hashlib
    import hmac

    from offerctl.store import keyed_cache
    from offerctl.store import privacy as store_privacy

    session = repo.state.get("privacy")
    identities = session.identities() if isinstance(session, store_privacy.PrivacySession) else ()
    derived = keyed_cache.derive(identities, repo.root, "budget-ledger") if identities else None
    if derived is None:
        return text
    return "hmac:" + hmac.new(derived[0], text.encode(), hashlib.sha256).hexdigest()


__all__ = [
    "BUDGET_FIELDS",
    "CONSUMING_STATUSES",
    "Budget",
    "BudgetBook",
    "BudgetSource",
    "Ledger",
    "Position",
    "amount_text",
    "cache_key",
    "offer_data",
    "parse",
    "read",
    "source",
]
