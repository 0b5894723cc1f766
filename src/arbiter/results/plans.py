"""What ``arbiter plans ...`` answers: the plans saved in the store, and one of them.

A stored document is one an earlier arbiter may have written, so a saved plan is read
leniently (:class:`StoredPlan`: every figure optional, unknown keys ignored) beside the
document itself, unchanged (:attr:`SavedPlan.document`). ``Plan.model_validate(
saved.document)`` reads it strictly, as the current :class:`~arbiter.results.Plan`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from arbiter.results.base import Result, Rows


class SavedPlanInfo(Result):
    """A saved plan as the store lists it: its id (the content hash of its document),
    when and under which name it was saved, and the figures the store indexes."""

    plan_id: str
    created: str
    name: str
    status: str | None
    total_usd: float | None
    catalog_hash: str | None
    input_hash: str | None


class _Lenient(Result):
    """A part of a stored document: keys it does not know are ignored."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="ignore")


class StoredAssignment(_Lenient):
    """A row of a stored plan's assignments (any figure may be missing)."""

    workload: str | None = None
    accelerator: str | None = None
    provider: str | None = None
    region: str | None = None
    price_regime: str | None = None
    instance_count: int | None = None
    accelerator_count: int | None = None
    hours: float | None = None
    usd: float | None = None


class StoredProvenance(_Lenient):
    """Where a stored plan came from, as far as its document says."""

    catalog_hash: str | None = None
    input_hash: str | None = None
    solver: str | None = None
    solver_version: str | None = None
    seed: int | None = None


class StoredPlan(_Lenient):
    """The figures ``arbiter plans show`` renders of a stored document."""

    status: str | None = None
    total_usd: float | None = None
    provenance: StoredProvenance | None = None
    assignments: Rows[StoredAssignment] = Rows()
    shares: dict[str, dict[str, float]] = Field(default_factory=dict)


class SavedPlan(Result):
    """One saved plan: what the store says of it, its figures, and its document as
    stored (what ``arbiter plans show --json`` prints)."""

    info: SavedPlanInfo
    plan: StoredPlan
    document: dict[str, Any]

    def document_json(self) -> str:
        """The document as the store keeps it (indented, keys in their saved order)."""
        return json.dumps(self.document, indent=2, allow_nan=False)
