"""Small worlds for the deal tests: one service (1 request/s of an 8B chat model) for a
year of quarters, on AWS Trainium1 on demand (the covered chip) and, in the mixed world,
AWS H100 on demand too (cheaper per request than Trainium1 at list price)."""

from __future__ import annotations

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.catalog import Catalog
from arbiter.domain.deal import Deal, Obligation
from arbiter.domain.offer import Offer
from arbiter.domain.procurement import DemandClass, DemandScenario, ProcurementProblem
from arbiter.workloads import parse_workloads

CATALOG = default_catalog()


def _offer(accelerator: str) -> Offer:
    return min(
        (
            o for o in CATALOG.offers
            if o.accelerator == accelerator and o.provider == "aws"
            and o.region == "us-east-1" and o.price_regime.value == "on_demand"
        ),
        key=lambda o: o.usd_per_accelerator_hour,
    )  # fmt: skip


TRN1, H100 = _offer("Trainium1"), _offer("H100-SXM")
COVERED_ONLY = Catalog.of([CATALOG.accelerators["Trainium1"]], [TRN1])
MIXED = Catalog.of(
    [CATALOG.accelerators["Trainium1"], CATALOG.accelerators["H100-SXM"]], [TRN1, H100]
)
CHAT = parse_workloads(
    {
        "name": "chat", "kind": "serve", "model": "llama-3.1-8b", "requests_per_s": 1,
        "input_tokens": 500, "output_tokens": 200, "slo": {"ttft_s": 2, "tpot_s": 0.05},
    },
    file="t.yaml",
)[0]  # fmt: skip
RATE = 0.1


def lab(periods: int = 4, demand: float = 40.0) -> ProcurementProblem:
    return ProcurementProblem(
        periods=periods,
        period="quarter",
        discount_rate=RATE,
        classes=(DemandClass("chat", CHAT, (demand,) * periods),),
        scenarios=(DemandScenario("one", 1.0),),
        products=(),
    )


def a_deal(problem: ProcurementProblem | None = None, **terms: object) -> Deal:
    fields: dict[str, object] = {
        "name": "t",
        "counterparty": "aws",
        "covers": ("Trainium1",),
        "discount": 0.0,
        "tranches": (),
        "credits_usd": 0.0,
        "obligation": Obligation(min_spend_usd_per_year=(0.0,)),
        "porting": None,
        "equity_haircut": 0.0,
        "discount_rate": RATE,
        "horizon_years": 1,
        "procurement": problem or lab(),
    }
    fields.update(terms)
    return Deal(**fields)  # type: ignore[arg-type]
