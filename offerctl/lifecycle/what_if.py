"""What-if values (``route --set``) checked like ``new --set``: the offer with the values
applied must still satisfy the offer schema, so routing never runs on an offer that could
not exist (a text salary, a negative bonus, an unknown level type)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from offerctl.core.errors import UsageError
from offerctl.core.model import Offer, Severity, set_path

MANAGED = frozenset({"id", "approvals", "events"})


def check_overrides(offer: Offer, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The offer data with ``overrides`` applied; ``UsageError`` (exit 2) listing every
    schema problem the values introduce, with the ``--set`` that caused it."""
    from offerctl.store import schema

    if not overrides:
        return dict(offer.data)
    managed = [p for p in overrides if p.split(".")[0] in MANAGED]
    if managed:
        raise UsageError(
            f"--set {', '.join(managed)}: managed by offerctl, not a what-if value",
            hint="what-if values are terms: compensation.*, role.*, start_date, clauses …",
        )
    data: dict[str, Any] = copy.deepcopy(dict(offer.data))
    for path, value in overrides.items():
        try:
            set_path(data, path, value)
        except (TypeError, KeyError, AttributeError):
            raise UsageError(f"--set {path}: the offer has no mapping at {path.rsplit('.', 1)[0]}") from None
    before = {(f.code, f.message) for f in schema.iter_findings("offer", dict(offer.data), offer.path, None)}
    problems = [
        f
        for f in schema.iter_findings("offer", data, offer.path, None)
        if f.severity == Severity.ERROR and (f.code, f.message) not in before
    ]
    if problems:
        first = problems[0]
        blamed = next((p for p in overrides if p in first.message), None)
        where = f"--set {blamed}={overrides[blamed]}" if blamed else "--set"
        more = "; ".join(p.message for p in problems[1:4])
        raise UsageError(
            f"{where}: {first.message}" + (f" (also: {more})" if more else ""),
            hint="what-if values are checked against the offer schema like `offerctl new --set`",
        )
    return data
