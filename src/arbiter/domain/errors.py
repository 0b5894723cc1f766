"""The one exception tree of arbiter.

Every error a user can cause is an :class:`ArbiterError` with an exit code. The CLI
catches them in exactly one place (``arbiter.cli.app.main``) and prints ``str(error)``.

    ArbiterError (exit 1)
    ├── InputError (exit 2, also ValueError): bad file, field or value
    │   ├── UnknownNameError: a name that is not in a vocabulary; suggests close matches
    │   └── FeedError: a price feed that cannot be parsed
    ├── InfeasibleError (exit 3): constraints that no plan can satisfy
    ├── SolverError (exit 4): the solver failed for a reason other than infeasibility
    ├── StoreError (exit 5): the catalog store cannot be read or written
    ├── RefreshError (exit 6): a catalog refresh in which some price feeds failed; what
    │   the others returned was saved as the new version
    │   └── NothingRefreshedError (exit 7): every price feed of a refresh failed; nothing
    │       was saved and the current version is unchanged
    └── BusyError (exit 2): too much work at once (a token's running jobs at its limit);
        try again when one has finished

Each class also carries the HTTP status the service answers with by default
(``http_status``: 500, 422 for bad input or an infeasible problem, 503 for the store,
429 when busy); the service may map a case more finely (an unknown id as 404).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ArbiterError(Exception):
    """Base of every error arbiter raises on purpose."""

    exit_code: int = 1
    http_status: int = 500


class InputError(ArbiterError, ValueError):
    """Input that arbiter cannot accept: names the file, the field path and what is valid."""

    exit_code = 2
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        valid: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.field = field
        self.valid = valid
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.file:
            parts.append(f"In {self.file}")
        if self.field:
            parts.append(f"field {self.field}" if not parts else f"at field {self.field}")
        where = ", ".join(parts)
        text = f"{where}: {self.message}" if where else self.message
        if self.valid:
            stop = "" if text.endswith(("?", "!")) else "."
            text = f"{text.rstrip('.')}{stop} Valid: {self.valid.rstrip('.')}."
        return text


class UnknownNameError(InputError):
    """A name that is not in a known vocabulary, with close matches suggested."""

    def __init__(
        self,
        kind: str,
        name: str,
        known: Iterable[str],
        *,
        file: str | None = None,
        field: str | None = None,
    ) -> None:
        known_sorted = sorted(set(known))
        self.kind = kind
        self.name = name
        self.suggestions = suggest(name, known_sorted)
        hint = (
            f" Did you mean {' or '.join(repr(s) for s in self.suggestions)}?"
            if self.suggestions
            else ""
        )
        listing = ", ".join(known_sorted[:40]) + (", ..." if len(known_sorted) > 40 else "")
        super().__init__(
            f"unknown {kind} {name!r}.{hint}",
            file=file,
            field=field,
            valid=listing,
        )


class FeedError(InputError):
    """A price feed that is malformed: names the file, the record and the field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | None = None,
        field: str | None = None,
        valid: str | None = None,
    ) -> None:
        self.record = record
        where_field = f"{record}.{field}" if record and field else (record or field)
        super().__init__(message, file=file, field=where_field, valid=valid)


class InfeasibleError(ArbiterError):
    """No plan satisfies the constraints; names the conflicting constraint families."""

    exit_code = 3
    http_status = 422


class SolverError(ArbiterError):
    """The solver stopped for a reason other than infeasibility."""

    exit_code = 4
    http_status = 500


class StoreError(ArbiterError):
    """The catalog store cannot be opened, read or written."""

    exit_code = 5
    http_status = 503


class RefreshError(ArbiterError):
    """Some sources of ``arbiter catalog refresh`` failed; the others' offers were saved."""

    exit_code = 6


class NothingRefreshedError(RefreshError):
    """Every source of ``arbiter catalog refresh`` failed: no new version was saved."""

    exit_code = 7


class BusyError(ArbiterError):
    """Too much work at once: a token already has as many jobs queued or running as it may.
    Nothing was started; try again when one has finished (HTTP 429)."""

    exit_code = 2
    http_status = 429


def suggest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Close matches of ``name`` among ``known``, case-insensitively, best first."""
    by_lower: dict[str, str] = {}
    for k in known:
        by_lower.setdefault(k.lower(), k)
    lowered = name.lower()
    hits = difflib.get_close_matches(lowered, list(by_lower), n=n, cutoff=0.6)
    prefix = [v for k, v in by_lower.items() if lowered and (k.startswith(lowered) or lowered in k)]
    out: list[str] = []
    for cand in [*(by_lower[h] for h in hits), *sorted(prefix)]:
        if cand not in out:
            out.append(cand)
    return out[:n]
