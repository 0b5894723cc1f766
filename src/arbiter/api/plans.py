"""The plans saved in the store (:func:`arbiter.save_plan`, ``arbiter plan --save``) as
typed results: the list, and one plan with its document as stored."""

from __future__ import annotations

import json

from pydantic import ValidationError

from arbiter.api.settings import Settings
from arbiter.api.stores import plan_store, settings
from arbiter.domain.errors import StoreError
from arbiter.results.base import Rows
from arbiter.results.plans import SavedPlan, SavedPlanInfo, StoredPlan
from arbiter.store import PlanInfo

__all__ = ["saved_plan", "saved_plans"]

WRITTEN_BY = "a saved plan is the document `arbiter plan --json` writes, saved with --save"


def saved_plans(*, config: Settings | None = None) -> Rows[SavedPlanInfo]:
    """Every saved plan, newest first."""
    with plan_store(config or settings()) as store:
        return Rows(_info(p) for p in store.list())


def saved_plan(plan_id: str, *, config: Settings | None = None) -> SavedPlan:
    """The saved plan ``plan_id`` (or a unique prefix of it; an unknown one is an error
    naming the closest ids): its figures, read leniently, and its document as stored."""
    with plan_store(config or settings()) as store:
        info = store.info(plan_id)
        text = store.document(info.plan_id)
    document = json.loads(text)
    if not isinstance(document, dict):
        raise StoreError(f"saved plan {info.plan_id} is not a JSON object; {WRITTEN_BY}.")
    try:
        figures = StoredPlan.model_validate(document)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise StoreError(
            f"saved plan {info.plan_id} cannot be read: field {where}: {problem['msg']}; "
            f"{WRITTEN_BY}."
        ) from None
    return SavedPlan(info=_info(info), plan=figures, document=document)


def _info(p: PlanInfo) -> SavedPlanInfo:
    return SavedPlanInfo(
        plan_id=p.plan_id,
        created=p.created.isoformat(),
        name=p.name,
        status=p.status,
        total_usd=p.total_usd,
        catalog_hash=p.catalog_hash,
        input_hash=p.input_hash,
    )
