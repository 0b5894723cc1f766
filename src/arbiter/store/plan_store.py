"""Saved fleet plans: immutable JSON documents named by their content hash.

A plan is saved whole, as JSON text, in one transaction; its id is the first 12 hex
digits of the SHA-256 of its canonical JSON (:func:`plan_id`), so saving the same plan
twice stores it once. The columns a listing needs (name, status, total, catalog and
input hashes) are copied out of the document when it is saved. The plans live in the
same database as the catalog versions (``ARBITER_DB_URL``); a database written by an
older arbiter, with only the catalog tables, gains the ``plans`` table on the first
save. Reading never creates a database.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from arbiter.domain.errors import InputError, StoreError, UnknownNameError
from arbiter.store import tables as t
from arbiter.store.catalog_store import MIN_PREFIX
from arbiter.store.database import Closing, Database

PLAN_ID_DIGITS = 12
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """One saved plan, as listings show it (the document itself is :meth:`PlanStore.load`)."""

    plan_id: str
    created: dt.datetime
    name: str
    status: str | None
    total_usd: float | None
    catalog_hash: str | None
    input_hash: str | None


def canonical_json(plan: Mapping[str, Any]) -> str:
    """The plan's canonical JSON: sorted keys, no spaces. Raises InputError if not JSON."""
    try:
        return json.dumps(dict(plan), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the plan cannot be saved: it is not JSON ({exc})") from exc


def plan_id(plan: Mapping[str, Any]) -> str:
    """First 12 hex digits of the SHA-256 of :func:`canonical_json`."""
    return _digest(canonical_json(plan))


class PlanStore(Closing):
    """Saved plans in the database at ``url`` (SQLite or PostgreSQL).

    Raises :class:`StoreUrlError` (exit 2) for a URL that is not a supported database URL,
    and :class:`StoreError` (exit 5) when the database cannot be reached, read or written.
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url, what="plan store")

    # -- writing ------------------------------------------------------------------------

    def save(
        self, plan: Mapping[str, Any], *, name: str, created: dt.datetime | None = None
    ) -> str:
        """Store ``plan`` in one transaction; return its id.

        ``name`` is the fleet file's name or a label; ``created`` (default: now) must be
        timezone-aware and is stored in UTC. Saving a plan that is already stored writes
        nothing and returns the same id; the first save's name and date are kept.
        """
        if not isinstance(plan, Mapping):
            raise InputError(
                f"the plan cannot be saved: it is a {type(plan).__name__}, not a mapping"
            )
        label = name.strip()
        if not label:
            raise InputError(
                "the plan cannot be saved without a name", valid="a fleet file name or a label"
            )
        when = dt.datetime.now(dt.UTC) if created is None else created
        if when.tzinfo is None or when.utcoffset() is None:
            raise InputError(
                f"the plan's creation time {when.isoformat()} has no time zone",
                valid="a timezone-aware datetime",
            )
        canonical = canonical_json(plan)
        pid = _digest(canonical)
        row = {
            "plan_id": pid,
            "created": when.astimezone(dt.UTC),
            "name": label,
            **_summary(plan),
            "document": json.dumps(dict(plan), indent=2, allow_nan=False),
        }

        def write(conn: Connection) -> str:
            if not _stored(conn, pid, canonical):
                conn.execute(sa.insert(t.plans).values(**row))
            return pid

        try:
            return self._db.write(f"save plan {pid}", write, tables=[t.plans])
        except StoreError as exc:
            # A concurrent writer may have stored the same plan first; that is success.
            if isinstance(exc.__cause__, IntegrityError) and self._db.read(
                f"re-read plan {pid}",
                partial(_stored, plan_id=pid, canonical=canonical),
                lambda: False,
                table=t.plans,
            ):
                return pid
            raise

    # -- reading ------------------------------------------------------------------------

    def list(self) -> builtins.list[PlanInfo]:
        """Every saved plan, newest first (then by id)."""
        return self._db.read("list saved plans", _infos, builtins.list, table=t.plans)

    def info(self, plan: str) -> PlanInfo:
        """The listing entry of the plan ``plan`` (an id or a unique prefix) names."""

        def read(conn: Connection) -> PlanInfo:
            pid = _resolve(plan, partial(_ids, conn))
            found = _infos(conn, pid)
            return found[0]

        return self._db.read(f"look up plan {plan!r}", read, partial(_unknown, plan), table=t.plans)

    def resolve(self, plan: str) -> str:
        """The full id that ``plan`` (an id or a unique prefix of one) names."""
        return self._db.read(
            f"look up plan {plan!r}",
            lambda conn: _resolve(plan, partial(_ids, conn)),
            partial(_unknown, plan),
            table=t.plans,
        )

    def load(self, plan: str) -> dict[str, Any]:
        """The plan document ``plan`` (an id or a unique prefix) names."""
        return json.loads(self.document(plan))  # type: ignore[no-any-return]

    def document(self, plan: str) -> str:
        """The stored JSON text of the plan ``plan`` names, exactly as saved."""

        def read(conn: Connection) -> str:
            pid = _resolve(plan, partial(_ids, conn))
            query = sa.select(t.plans.c.document).where(t.plans.c.plan_id == pid)
            text: str = conn.execute(query).scalar_one()
            _check_intact(pid, text)
            return text

        return self._db.read(f"load plan {plan!r}", read, partial(_unknown, plan), table=t.plans)


# -- helpers ------------------------------------------------------------------------------


def _digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:PLAN_ID_DIGITS]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The listing columns, from the plan's ``status``, ``total_usd`` and ``provenance``."""
    total = plan.get("total_usd")
    provenance = plan.get("provenance")
    if not isinstance(provenance, Mapping):
        provenance = {}
    return {
        "status": _text(plan.get("status")),
        "total_usd": (
            float(total) if isinstance(total, int | float) and not isinstance(total, bool) else None
        ),
        "catalog_hash": _text(provenance.get("catalog_hash")),
        "input_hash": _text(provenance.get("input_hash")),
    }


def _stored(conn: Connection, plan_id: str, canonical: str) -> bool:
    """Whether the plan is already stored; a different plan under its id is refused."""
    query = sa.select(t.plans.c.document).where(t.plans.c.plan_id == plan_id)
    text = conn.execute(query).scalar_one_or_none()
    if text is None:
        return False
    if _canonical_text(plan_id, text) != canonical:
        raise StoreError(
            f"cannot save plan {plan_id}: the store already holds a different plan under that "
            "id (the 12-digit hashes collide, or the stored plan was changed outside arbiter)."
        )
    return True


def _canonical_text(plan_id: str, text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise _damaged(plan_id, "its document is not JSON") from exc
    if not isinstance(document, dict):
        raise _damaged(plan_id, "its document is not a JSON object")
    return canonical_json(document)


def _check_intact(plan_id: str, text: str) -> None:
    actual = _digest(_canonical_text(plan_id, text))
    if actual != plan_id:
        raise _damaged(plan_id, f"its document hashes to {actual}")


def _damaged(plan_id: str, why: str) -> StoreError:
    return StoreError(
        f"saved plan {plan_id} in the store is damaged ({why}); plans are immutable, so it "
        "was changed outside arbiter. Save the plan again."
    )


def _infos(conn: Connection, plan_id: str | None = None) -> builtins.list[PlanInfo]:
    p = t.plans
    columns = [c for c in p.c if c.name != "document"]
    query = sa.select(*columns).order_by(p.c.created.desc(), p.c.plan_id)
    if plan_id is not None:
        query = query.where(p.c.plan_id == plan_id)
    return [PlanInfo(**row) for row in conn.execute(query).mappings()]


def _ids(conn: Connection, prefix: str) -> builtins.list[str]:
    column = t.plans.c.plan_id
    query = sa.select(column).where(column.startswith(prefix, autoescape=True)).order_by(column)
    return builtins.list(conn.execute(query).scalars())


def _unknown(plan: str) -> NoReturn:
    """What naming a plan means while no plan is stored."""
    raise UnknownNameError("plan", plan, [])


def _resolve(plan: str, ids: Callable[[str], builtins.list[str]]) -> str:
    """The one stored id ``plan`` starts with; else a helpful error."""
    key = plan.strip().lower()
    matches: builtins.list[str] = ids(key) if _HEX.match(key) else []
    if len(matches) == 1 and len(key) >= MIN_PREFIX:
        return matches[0]
    if len(matches) > 1 and len(key) >= MIN_PREFIX:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise InputError(
            f"plan id prefix {plan!r} is ambiguous: {len(matches)} plans start with it ({shown})",
            valid="a longer prefix of the plan id",
        )
    if matches:
        raise InputError(
            f"plan id prefix {plan!r} is too short",
            valid=f"at least {MIN_PREFIX} hex digits of a plan id (see `arbiter plans list`)",
        )
    raise UnknownNameError("plan", plan, ids(""))
