"""Procurement as a two-stage stochastic MILP: what to commit to before demand is known,
and what to buy on demand (or leave undone) once it is.

Sets: commitment products ``k`` (a chip at a provider, a price, a term of ``L_k``
periods, blocks of ``m_k`` chips); on-demand (and, for interruptible classes, spot)
resources ``o``; classes of work ``j``; scenarios ``s`` with probability ``p_s``;
periods ``t`` of ``H`` hours, discount factor ``d_t``.

Data: ``W_jst`` work units of class j (requests for a service, tokens otherwise) in
scenario s and period t; ``e_jr`` work units one chip-hour of resource r delivers (from
the performance model; on a spot resource, times the spot model's
:func:`arbiter.catalog.spot.throughput_factor`); ``c_kt`` the committed price per chip-hour
of product k bought in period t, ``q_ot`` the on-demand price, both after the price paths;
``v_jt`` the cheapest on-demand cost of a unit of j's work, times the unmet penalty.

First stage (no scenario index), as the blocks ``commit`` and ``enable``:

    n_kt  in Z+     blocks of product k started in period t, at most
                    ``floor(max_chips_k / m_k)`` (a bound on the variable: what the
                    catalog sells; none where the chip is not yet available or, with
                    salvage ``none``, the term would run past the end)
    z_p   in {0,1}  platform p enabled (one-off E_p; usable after its lead time)

Second stage, per scenario and period (``committed``, ``on_demand``, ``unmet``,
``cost``, ``var``, ``excess``, ``spend``):

    x_jkst >= 0     committed chip-hours of k given to class j
    y_jost >= 0     on-demand chip-hours of o for class j
    u_jst  >= 0     work of j left undone
    C_s             the scenario's discounted cost;  eta, w_s >= 0 for CVaR
    S_st            the undiscounted spend of (s, t), with share caps or a budget

    minimise   sum_s p_s C_s + lambda (eta + 1 / (1 - alpha) sum_s p_s w_s)
    subject to
      demand[j, s, t]       sum_k e_jk x_jkst + sum_o e_jo y_jost + u_jst >= W_jst
      commitment[k, s, t]   sum_j x_jkst <= H m_k a_kt sum_{t - L_k < t' <= t} n_kt'
      cost[s]               C_s = sum_kt n_kt m_k H (P_kt - sum_{t' active} d_t' r_k c_kt)
                                  + sum_jkt d_t r_k c_k x_jkst + sum_jot d_t q_ot y_jost
                                  + sum_jt d_t v_jt u_jst + sum_p E_p z_p
      cvar[s]               w_s >= C_s - eta                    (Rockafellar-Uryasev)
      spend[s, t]           S_st = sum_k active chip-hours x c_k + sum_jo q_ot y_jost
      {vendor,provider}_share[g, s, t]   spend of g in (s, t) <= cap S_st
      budget[s, t]          S_st <= budget per period
      enable[p/k, t]        n_kt <= N_kt z_p      (k on p; N_kt the block bound, or with
                                                   none, the blocks that do all the work)
      enable[p/j, s, t]     sum_{o on p} e_jo y_jost <= W_jst z_p
      y_jost = 0 where offer o cannot be bought in t (before its ``available_from`` or
      its platform's lead time: a bound on the variable)

The rows are built by :mod:`arbiter.procure.milp`, one named step per family, with the
shared share-cap, enablement and diagnosis code of :mod:`arbiter.optimize`; their labels
are in words (``commitment[aws/trn2-1yr, scenario base, period 3]``). Work is counted in
units of each class's best chip-hour, chip-hours and money in powers of ten that keep the
rows near 1 (``milp.define_scale``).

Two optional data arrays serve the layers built on this model (deals, their samples):
``f_sr`` multiplies ``e_jr`` per scenario (the efficiency a port achieves), and ``a_kt``
the committed chip-hours usable in ``commitment[k, s, t]`` (a supply cut or an outage).
An extension (:data:`arbiter.procure.handles.Extension`) may add variables and rows and
add its own terms to each scenario's ``cost[s]``.

``P_kt`` is the present value of paying for the term's chip-hours inside the horizon
(``upfront_share`` at the start, the rest per active period); ``r_k`` the resale share of
an unused committed chip-hour, so unused commitment costs ``(1 - r_k)`` of its price:
that is the stranded spend. Spend in shares and budgets is undiscounted period spend.
Work is fluid (chip-hours), which is the right grain for buying capacity; placing a
particular run is the fleet planner's job.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from arbiter.catalog.spot import serves, throughput_factor
from arbiter.domain.accelerator import Accelerator, Platform
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PAY_AS_YOU_GO, Offer, PriceRegime
from arbiter.domain.procurement import CommitmentProduct, ProcurementProblem
from arbiter.domain.units import HOURS_PER_MONTH, HOURS_PER_WEEK
from arbiter.domain.workload import ServeJob, Workload
from arbiter.optimize.options import offer_allowed
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.estimate import estimate_workload

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Resource:
    """Something chip-hours come from: a commitment product or an on-demand/spot offer."""

    name: str
    vendor: str
    provider: str
    accelerator: str
    platform: str
    committed: bool
    product: CommitmentProduct | None = None
    offer: Offer | None = None


@dataclass(frozen=True, slots=True)
class Data:
    """The problem as arrays: resources, rates, prices and demand."""

    problem: ProcurementProblem
    resources: tuple[Resource, ...]  # commitments first (K of them), then offers
    n_products: int
    rate: FloatArray  # J x R: work units per chip-hour (0: cannot)
    price: FloatArray  # R x T: USD per chip-hour (a commitment's if bought in t)
    available: npt.NDArray[np.bool_]  # R x T
    demand: FloatArray  # J x S x T work units
    unmet_usd: FloatArray  # J x T per work unit
    rate_factor: FloatArray | None = None  # S x R: multiplies rate per scenario (None: 1)
    usable: FloatArray | None = None  # K x T: share of committed chip-hours usable (None: 1)

    def scenario_rate(self, sids: Sequence[int]) -> FloatArray:
        """J x R x S: work units per chip-hour in each of the scenarios ``sids``."""
        factor = np.ones((len(sids), self.rate.shape[1]))
        if self.rate_factor is not None:
            factor = self.rate_factor[list(sids)]
        return self.rate[:, :, None] * factor.T[None, :, :]


def work_rate(
    w: Workload,
    accelerators: Sequence[object],
    eff: Efficiency,
    calibration: CalibrationProfile | None = None,
) -> dict[str, float]:
    """Work units per chip-hour of ``w`` on each chip that can run it (corrected by
    ``calibration`` on the chips it covers)."""
    out = {}
    for e in estimate_workload(w, accelerators, eff, calibration=calibration):  # type: ignore[arg-type]
        if not e.feasible or e.chips <= 0 or e.tokens_per_s <= 0:
            continue
        per_chip = e.tokens_per_s / e.chips * SECONDS_PER_HOUR
        if isinstance(w.job, ServeJob):
            per_chip /= w.job.output_tokens  # requests per chip-hour
        out[e.accelerator] = per_chip
    return out


def work_units(w: Workload, demand: float, hours: float) -> float:
    """A period's demand in work units: requests for a service held at ``demand``
    requests/s for the period, the tokens themselves otherwise."""
    if isinstance(w.job, ServeJob):
        return demand * hours * SECONDS_PER_HOUR
    return demand


def build_data(
    problem: ProcurementProblem,
    catalog: Catalog,
    eff: Efficiency,
    calibration: CalibrationProfile | None = None,
) -> Data:
    """The problem as arrays: its commitment products (listed and, when asked, the
    catalog's), then the cheapest on-demand (or, for interruptible work, spot) offer per
    provider, chip and regime; each class's rate on each, prices along the price paths,
    availability, demand in work units, and the price of unmet work."""
    fleet = Fleet(workloads=tuple(c.workload for c in problem.classes), regions=problem.regions)
    if problem.platforms:  # listed: only these (as in a fleet file); else every one, enabled
        fleet = replace(fleet, platforms=problem.platforms)
    accs = [a for a in catalog.accelerators.values() if fleet.platform(a.platform) is not None]
    by_name = {a.name: a for a in accs}
    rates = [work_rate(c.workload, accs, eff, calibration) for c in problem.classes]
    catalog_products = (
        catalog_commitments(problem, catalog, fleet) if problem.catalog_commitments else []
    )
    resources: list[Resource] = [
        Resource(
            name=p.name,
            vendor=by_name[p.accelerator].vendor if p.accelerator in by_name else "",
            provider=p.provider,
            accelerator=p.accelerator,
            platform=by_name[p.accelerator].platform.value if p.accelerator in by_name else "",
            committed=True,
            product=p,
        )
        for p in (*problem.products, *catalog_products)
    ]
    resources += _offer_resources(problem, catalog, fleet, by_name, rates)
    K, R, J = len(problem.products) + len(catalog_products), len(resources), len(problem.classes)
    rate = np.zeros((J, R))
    for j, c in enumerate(problem.classes):
        for r, res in enumerate(resources):
            base = rates[j].get(res.accelerator, 0.0)
            if res.offer is not None:
                if not offer_allowed(res.offer, c.workload, fleet):
                    continue
                base *= throughput_factor(res.offer)
            rate[j, r] = base
    price, available = _prices(problem, fleet, resources)
    return Data(
        problem=problem,
        resources=tuple(resources),
        n_products=K,
        rate=rate,
        price=price,
        available=available,
        demand=_demand(problem),
        unmet_usd=problem.unmet_penalty * _cheapest_unit(problem, rate[:, K:], price[K:]),
    )


def _offer_resources(
    problem: ProcurementProblem,
    catalog: Catalog,
    fleet: Fleet,
    by_name: dict[str, Accelerator],
    rates: list[dict[str, float]],
) -> list[Resource]:
    """The cheapest pay-as-you-go offer per (provider, chip, regime) some class can run
    on, in that order."""
    interruptible = any(c.workload.placement.interruptible for c in problem.classes)
    best: dict[tuple[str, str, str], Offer] = {}
    for o in catalog.offers:
        if o.accelerator not in by_name or not any(o.accelerator in r for r in rates):
            continue
        regime = o.price_regime
        if regime not in PAY_AS_YOU_GO or not serves(o, interruptible):
            continue
        if not any(offer_allowed(o, c.workload, fleet) for c in problem.classes):
            continue
        key = (o.provider, o.accelerator, regime.value)
        if key not in best or o.usd_per_accelerator_hour < best[key].usd_per_accelerator_hour:
            best[key] = o
    out = []
    for key in sorted(best):
        o = best[key]
        acc = by_name[o.accelerator]
        out.append(
            Resource(
                name=f"{o.provider}/{o.accelerator}/{o.region}/{o.price_regime.value}",
                vendor=acc.vendor,
                provider=o.provider,
                accelerator=o.accelerator,
                platform=acc.platform.value,
                committed=False,
                offer=o,
            )
        )
    return out


def _prices(
    problem: ProcurementProblem, fleet: Fleet, resources: Sequence[Resource]
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """R x T: each resource's USD per chip-hour along the price paths, and whether it can
    be bought in each period (a path's ``available_from``, a platform's lead time)."""
    T, H = problem.periods, problem.period_hours
    years = np.arange(T) / problem.periods_per_year
    price = np.zeros((len(resources), T))
    available = np.ones((len(resources), T), dtype=bool)
    for r, res in enumerate(resources):
        factor = np.ones(T)
        for path in problem.price_paths:
            if path.matches(res.vendor, res.accelerator):
                factor *= (1.0 + path.yearly_change) ** years
                available[r, : path.available_from] = False
        usd = res.product.usd_per_chip_hour if res.product else res.offer.usd_per_accelerator_hour  # type: ignore[union-attr]
        price[r] = usd * factor
        state = fleet.platform(Platform(res.platform)) if res.platform else None
        if state is not None and not state.enabled:
            lead = math.ceil(state.lead_weeks * HOURS_PER_WEEK / H)
            available[r, :lead] = False
    return price, available


def _demand(problem: ProcurementProblem) -> FloatArray:
    """J x S x T: each class's work units in each scenario and period."""
    T, H = problem.periods, problem.period_hours
    demand = np.zeros((len(problem.classes), len(problem.scenarios), T))
    for j, c in enumerate(problem.classes):
        for s, sc in enumerate(problem.scenarios):
            for t in range(T):
                demand[j, s, t] = work_units(c.workload, c.demand[t] * sc.factor(c.name, t), H)
    return demand


def _cheapest_unit(problem: ProcurementProblem, rate: FloatArray, price: FloatArray) -> FloatArray:
    """J x T: the least on-demand cost of a unit of each class's work (``rate`` and
    ``price`` of the offers); a class with no offer is an :class:`InfeasibleError`."""
    od = rate > 0
    unit = np.where(od[:, :, None], price[None, :, :] / np.where(od, rate, 1.0)[:, :, None], np.inf)
    cheapest = unit.min(axis=1)  # J x T
    if not np.isfinite(cheapest).all():
        bad = ~np.isfinite(cheapest).all(axis=1) | ~np.isfinite(cheapest).any(axis=1)
        j = int(np.flatnonzero(bad)[0])
        raise InfeasibleError(
            f"class {problem.classes[j].name!r} has no on-demand offer it can run on within "
            "the regions and platforms allowed, to price its unmet work"
        )
    return np.asarray(cheapest, dtype=np.float64)


def products(data: Data) -> list[CommitmentProduct]:
    """The commitment products, in resource order (the first ``n_products`` resources)."""
    out = []
    for res in data.resources[: data.n_products]:
        assert res.product is not None
        out.append(res.product)
    return out


TERM_MONTHS = {PriceRegime.RESERVED_1Y: 12, PriceRegime.RESERVED_3Y: 36, PriceRegime.COMMITTED: 12}


def catalog_commitments(
    problem: ProcurementProblem, catalog: Catalog, fleet: Fleet
) -> list[CommitmentProduct]:
    """Every reserved and committed offer of the catalog in the allowed regions, as a
    product: its price per chip-hour, its term (in whole periods), whole instances."""
    out = []
    for o in catalog.offers:
        months = TERM_MONTHS.get(o.price_regime)
        if months is None or fleet.platform(catalog.accelerators[o.accelerator].platform) is None:
            continue
        if fleet.regions is not None and not any(
            fnmatch.fnmatchcase(o.region.lower(), g.lower()) for g in fleet.regions
        ):
            continue
        term = max(1, math.ceil((o.term_months or months) * HOURS_PER_MONTH / problem.period_hours))
        if problem.salvage == "none" and term > problem.periods:
            continue
        out.append(
            CommitmentProduct(
                name=f"{o.provider}/{o.instance_type}/{o.region}/{o.price_regime.value}",
                provider=o.provider,
                accelerator=o.accelerator,
                region=o.region,
                usd_per_chip_hour=o.usd_per_accelerator_hour,
                term_periods=term,
                min_chips=o.accelerators_per_instance,
                source=o.source,
                as_of=o.as_of,
            )
        )
    return out
