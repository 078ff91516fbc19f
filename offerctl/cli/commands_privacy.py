"""`offerctl readers`, `rekey`, `erase`: confidential offers (docs/privacy.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from offerctl.cli._app import Format, FormatOption, NoCommitOption, RepoOption, app, echo


def _json(value: Any) -> None:
    from offerctl.checks.reporters import as_json

    echo(as_json(value))


def _actor(target: Any) -> Any:
    from offerctl.store import git

    return git.identity(target.root)


@app.command()
def readers(
    offer_id: Annotated[str, typer.Argument(metavar="ID", help="Offer id.")],
    repo: RepoOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Who can read a confidential offer, and why (reader rules, its people, its approvers)."""
    from offerctl.lifecycle import confidential
    from offerctl.store.repo import open_repo

    report = confidential.readers(open_repo(repo), offer_id)
    if format == Format.json:
        _json(report.as_json())
        return
    state = (
        "encrypted" if report.encrypted else "not encrypted (privacy off, or `offerctl rekey` not run yet)"
    )
    lines = [f"{report.offer}: {state}"]
    now = set(report.recipients_now)
    for reader in report.readers.readers:
        keys = ", ".join(_short(r) for r in reader.recipients) or "no key"
        mark = (
            ""
            if not report.encrypted or not reader.recipients or set(reader.recipients) & now
            else "  (not in the file yet: rekey)"
        )
        lines.append(f"  {reader.who} [{keys}]{mark}")
        lines.extend(f"      - {why}" for why in reader.reasons)
        if reader.problem:
            lines.append(f"      ! {reader.problem}")
    extra = now - set(report.readers.recipients)
    if extra:
        lines.append(
            "  keys the file is encrypted for that are no readers any more (rekey removes them; "
            "they keep access to versions already in history):"
        )
        lines.extend(f"    {_short(r)}" for r in sorted(extra))
    echo("\n".join(lines))


def _short(recipient: str) -> str:
    from offerctl.privacy.keys import fingerprint

    return fingerprint(recipient)


@app.command()
def rekey(
    rotate: Annotated[bool, typer.Option("--rotate", help="Give every offer a new data key.")] = False,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Bring every offer in line with `privacy:` in one commit (encrypt, re-wrap for the
    current readers, `--rotate` data keys)."""
    from offerctl.lifecycle import confidential
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    result = confidential.rekey(target, _actor(target), rotate=rotate, commit=not no_commit)
    if format == Format.json:
        _json(result.as_json())
        return
    lines = [f"rekeyed {len(result.changed)} offer(s); {result.unchanged} already in line"]
    lines.extend(f"  skipped {o}: {why}" for o, why in result.skipped)
    lines.extend(f"warning: {w}" for w in result.warnings)
    if result.seeded:
        count = len(result.seeded)
        lines.append(f"demo seed: wrote {count} key store entr{'y' if count == 1 else 'ies'}")
    if result.commit:
        lines.append(f"commit {result.commit[:12]}")
    echo("\n".join(lines))
    _notes(result.notes)


def _notes(notes: Any) -> None:
    import sys

    from offerctl.cli._app import stderr_console

    sys.stdout.flush()
    for note in notes:
        stderr_console().print(f"note: {note}", highlight=False, markup=False)


@app.command()
def erase(
    offer_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Offer id.", show_default=False)
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (e.g. the candidate's request).")
    ] = None,
    expired: Annotated[
        bool, typer.Option("--expired", help="Erase every closed offer past its retention period.")
    ] = False,
    repo: RepoOption = None,
    no_commit: NoCommitOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Erase a candidate's data by destroying its key (crypto-shredding); history stays intact."""
    from offerctl.core.errors import UsageError
    from offerctl.lifecycle import confidential
    from offerctl.store.repo import open_repo

    target = open_repo(repo)
    if expired == (offer_id is not None):
        raise UsageError(
            "give an offer ID with --reason, or --expired", hint="offerctl erase ID --reason TEXT"
        )
    if expired:
        results = confidential.erase_expired(target, _actor(target), commit=not no_commit)
    else:
        if not reason:
            raise UsageError(
                "--reason is required", hint=f"offerctl erase {offer_id} --reason 'erasure request'"
            )
        assert offer_id is not None
        results = [confidential.erase(target, offer_id, _actor(target), reason, commit=not no_commit)]
    if format == Format.json:
        _json({"erased": [r.as_json() for r in results]})
        return
    if not results:
        echo("no offer is past its retention period")
        return
    for r in results:
        echo(
            f"{r.offer}: erased {', '.join(r.erased) or 'its key'}"
            + (f" (commit {r.commit[:12]})" if r.commit else "")
        )
        for note in r.notes:
            echo(f"  note: {note}")
