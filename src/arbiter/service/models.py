"""The REST API's own documents: what ``/api/v1`` answers besides the library's results
(:mod:`arbiter.results`), and the bodies of its job requests.

Every answer is a typed model, so the OpenAPI schema (``/api/v1/openapi.json``) says what
each route returns: a page of offers, a new token, the health check, an error (a job and a
token are the store's :class:`~arbiter.store.JobInfo` and :class:`~arbiter.store.TokenInfo`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from arbiter.results import (
    CatalogOffer,
    DealValuation,
    EstimateReport,
    Plan,
    ProcurementPlan,
    Result,
    RiskReport,
    Rows,
)
from arbiter.store import TokenInfo

DEFAULT_TIME_LIMIT_S = 600.0
"""How long a job may run once started, unless its request says otherwise."""
MAX_TIME_LIMIT_S = 3600.0

MAX_PAGE = 1000
"""The most offers one page holds."""

Role = Literal["viewer", "planner", "admin"]
Sort = Literal["usd_per_accelerator_hour", "usd_per_hour", "as_of", "provider", "accelerator"]
"""The orders of offers (``arbiter.catalog.query.SORT_KEYS``)."""
Document = dict[str, Any] | str
"""A file's content in a request: its parsed mapping, or its YAML text (never a path)."""

JobResult = EstimateReport | Plan | RiskReport | ProcurementPlan | DealValuation
"""A job's result: the document ``arbiter <kind> --json`` prints for its kind."""


class Health(Result):
    """The server answers: ``status`` ``ok`` and the arbiter version it runs."""

    status: Literal["ok"]
    version: str


class ErrorBody(Result):
    """Every error answer: ``error`` names its kind (an arbiter error class such as
    ``InputError``, or the HTTP status in words such as ``NotFound``), ``message`` says
    what is wrong and what is valid in one paragraph; ``field`` and ``file`` locate bad
    input when known, ``valid`` says what would be accepted."""

    error: str
    message: str
    field: str | None = None
    file: str | None = None
    valid: str | None = None


class OfferPage(Result):
    """One page of the offers a query matches: ``total`` of them in all, ``offers`` the
    ones from ``offset`` (at most ``limit``), in the query's order; ``version`` the
    catalog version read (``default`` or a content hash)."""

    version: str
    content_hash: str
    total: int
    offset: int
    limit: int
    offers: Rows[CatalogOffer]


class NewToken(Result):
    """A token just made: its ``secret``, shown this once (the server keeps only its
    hash), and its entry."""

    secret: str
    token: TokenInfo


class _Body(BaseModel):
    """A request body: unknown keys are an error naming them."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid")


class OfferFilters(_Body):
    """The query of ``GET /catalog/offers``: the offers to list (names and aliases any
    case; a parameter repeated for several) and the page; unknown parameters are an error."""

    provider: list[str] = Field([], max_length=50)
    accelerator: list[str] = Field([], max_length=50)
    vendor: list[str] = Field([], max_length=50)
    regime: list[str] = Field([], max_length=50)
    region: str | None = Field(None, max_length=100, description="A glob: us-*.")
    sort: Sort = "usd_per_accelerator_hour"
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)
    version: str | None = Field(None, max_length=80)


class NewTokenRequest(_Body):
    """``role`` of the token to make, a ``label`` saying whose it is, and the days until
    it expires (None: never)."""

    role: Role
    label: str = Field("", max_length=200)
    expires_days: float | None = Field(None, gt=0, le=3650)


class _JobBody(_Body):
    time_limit_s: float | None = Field(
        None,
        gt=0,
        le=MAX_TIME_LIMIT_S,
        description="Seconds the job may run once started (also a query parameter; this one wins).",
    )


class EstimateJob(_JobBody):
    """An ``estimate`` job: a workload file's content; ``top`` configurations per chip."""

    workloads: Document
    top: int | None = None


class Sweep(_Body):
    """Re-plan with the share of ``group`` capped at each of ``caps`` (shares in (0, 1])."""

    group: Literal["vendor", "provider", "region"]
    caps: list[float]


class PlanJob(_JobBody):
    """A ``plan`` job: a fleet file's content; ``save`` keeps the plan (``GET /plans``);
    ``sweep`` adds the price of diversification."""

    fleet: Document
    save: bool | None = None
    sweep: Sweep | None = None


class RiskJob(_JobBody):
    """A ``risk`` job: a scenario file's content against a fleet's plan (``fleet``), a
    saved plan (``plan_id``), or both; ``samples``, ``seed`` and ``recourse`` as
    ``arbiter risk`` takes them."""

    scenarios: Document
    plan_id: str | None = None
    fleet: Document | None = None
    samples: int | None = None
    seed: int | None = None
    recourse: bool | None = None


class ProcureJob(_JobBody):
    """A ``procure`` job: a procurement file's content; ``frontier`` adds the cost-risk
    frontier."""

    procurement: Document
    frontier: bool | None = None


class DealJob(_JobBody):
    """A ``deal`` job: a deal file's content, with the procurement and scenario files it
    names sent as ``procurement`` and ``scenarios``; ``samples`` sampled futures."""

    deal: Document
    procurement: Document | None = None
    scenarios: Document | None = None
    samples: int | None = None


JOB_BODIES: dict[str, type[_JobBody]] = {
    "estimate": EstimateJob,
    "plan": PlanJob,
    "risk": RiskJob,
    "procure": ProcureJob,
    "deal": DealJob,
}
