"""Hypothesis strategies that build feasible instances by construction, shared by the
property tests.

Each strategy draws a witness first, a plan that places every workload, and then draws
every row that could exclude it (share caps, capacity limits, the offers' own capacity,
a budget) no tighter than the witness needs: the fleet always has a plan, so no draw is
infeasible and no property skips one. A property that tightens a row itself reads what
the witness needs (:meth:`FleetCase.least_cap`) to stay feasible.

The witness is checked against the fleet it was drawn for by the independent evaluation
of ``tests/optimize/plan_bruteforce.py`` (rows, padding, the caps' need), not by the
solver.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import strategies as st
from plan_bruteforce import Pick, beats, covers, evaluate, padding, serve_instances, shares

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.accelerator import Platform
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.fleet import GROUPS, CapacityLimit, Fleet, PlatformState, ShareCaps
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.workload import ServeJob
from arbiter.optimize.options import Option, build_options
from arbiter.perf.efficiency import default_efficiency
from arbiter.workloads.fleet import parse_fleet

OD, BLOCK = PriceRegime.ON_DEMAND, PriceRegime.CAPACITY_BLOCK
CAP_EPSILON = 1e-9  # a cap drawn below the witness's share is raised just above it


@dataclass(frozen=True)
class FleetCase:
    """A fleet, its options and a plan that meets every row of the fleet."""

    fleet: Fleet
    options: list[Option]
    witness: tuple[Pick, ...] = field(default=(), compare=False)

    @property
    def witness_usd(self) -> float:
        cost = evaluate(self.fleet, self.witness, self.options)
        assert cost is not None
        return cost

    def least_cap(self, group: str) -> float:
        """The tightest ``group`` share cap the witness meets."""
        return least_cap(self.fleet, self.witness, group, self.options)


def least_cap(
    fleet: Fleet, witness: Sequence[Pick], group: str, options: Sequence[Option]
) -> float:
    share = shares(fleet, witness, group, options)
    return min(1.0, max(share.values()) + CAP_EPSILON)


# --- fleets of hand-made options -------------------------------------------------------------


# what the small fleets draw from: few replicas per service, so that every placement can
# be enumerated
FEW_DEMANDS = st.sampled_from([10, 30, 50, 100])
SERVICE_HOURS = st.integers(2, 60)
REPLICA_TOKENS_PER_S = st.integers(20, 60)
JOB_HOURS = st.integers(2, 80).map(float)


@dataclass(frozen=True)
class Shape:
    """How big a drawn fleet is and what it is drawn from."""

    train: tuple[int, int] = (0, 2)  # jobs, at least and at most
    serve: tuple[int, int] = (0, 1)  # services
    offers: tuple[int, int] = (2, 4)
    platforms: tuple[str, ...] = ("cuda", "xla")
    providers: tuple[str, ...] = ("p", "p", "p", "q")
    regimes: tuple[PriceRegime, ...] = (OD, OD, BLOCK)
    chips: tuple[int, ...] = (1, 2, 8, 16)  # per instance
    sizes_per_job: int = 2  # options of one job on one offer, at most
    demand: st.SearchStrategy[int] = FEW_DEMANDS  # a service's tokens/s
    service_hours: st.SearchStrategy[int] = SERVICE_HOURS
    replica_tokens_per_s: st.SearchStrategy[int] = REPLICA_TOKENS_PER_S
    job_hours: st.SearchStrategy[float] = JOB_HOURS
    leave_out: bool = False  # drop some (workload, offer) pairs, never a workload's last
    caps: bool = True
    budget: bool = True


SMALL = Shape()
"""Small enough to enumerate every placement (``plan_bruteforce.brute_force``)."""

WIDE = Shape(
    train=(1, 3),
    serve=(0, 2),
    offers=(2, 6),
    platforms=("cuda", "xla", "rocm"),
    providers=("p", "q", "r"),
    regimes=(OD,),
    chips=(1, 2, 4, 8),
    sizes_per_job=1,
    demand=st.integers(10, 150),
    service_hours=st.integers(1, 24),
    replica_tokens_per_s=st.integers(5, 60),
    job_hours=st.integers(2, 200).map(lambda h: h / 2),
    leave_out=True,
)
"""Larger fleets over three platforms and providers, for properties that only solve."""


@st.composite
def fleet_cases(draw: st.DrawFn, shape: Shape = SMALL) -> FleetCase:
    """Workloads, offers and options of ``shape``; a witness plan (per job one option,
    per service whole replicas of one option, each the cheapest of its vendor, provider
    and region, so it never pads); then share caps, capacity limits, the offers' own
    capacity, platforms to enable and a budget that the witness meets."""
    n_train = draw(st.integers(*shape.train))
    n_serve = draw(st.integers(max(shape.serve[0], 0 if n_train else 1), shape.serve[1]))
    offers = []
    for k in range(draw(st.integers(*shape.offers))):
        platform = draw(st.sampled_from(shape.platforms))
        o = offer(
            draw(st.sampled_from(shape.providers)),
            draw(st.integers(4, 200)) / 10,
            chips=draw(st.sampled_from(shape.chips)),
            accelerator=f"acc-{platform}",
            region=draw(st.sampled_from(["r1", "r2"])),
            regime=draw(st.sampled_from(shape.regimes)),
        )
        offers.append((replace(o, instance_type=f"{o.instance_type}-{k}"), platform))
    workloads = [train(f"t{i}") for i in range(n_train)]
    workloads += [
        serve(f"s{i}", draw(shape.demand), hours=draw(shape.service_hours)) for i in range(n_serve)
    ]
    options: list[Option] = []
    for wi, w in enumerate(workloads):
        home = draw(st.integers(0, len(offers) - 1))  # an offer the workload always keeps
        for k, (o, platform) in enumerate(offers):
            if shape.leave_out and k != home and draw(st.integers(0, 7)) == 7:
                continue
            if isinstance(w.job, ServeJob):
                options.append(
                    serve_option(
                        wi,
                        o,
                        tokens_per_s=draw(shape.replica_tokens_per_s),
                        hours=w.job.hours,
                        platform=platform,
                        chips=draw(st.sampled_from([1, 2, 4])),
                    )
                )
                continue
            options.extend(
                train_option(
                    wi,
                    o,
                    hours=draw(shape.job_hours),
                    chips=draw(st.sampled_from([1, 2, 4, 8, 16])),
                    platform=platform,
                )
                for _ in range(draw(st.integers(1, shape.sizes_per_job)))
            )
    witness = [draw(_witness_pick(workloads, options, wi)) for wi in range(len(workloads))]
    caps: dict[str, float | None] = {}
    for group in GROUPS:
        drawn = draw(st.sampled_from([None, None, 0.5, 0.6, 0.7, 0.9])) if shape.caps else None
        floor = least_cap(Fleet(workloads=tuple(workloads)), witness, group, options)
        caps[group] = None if drawn is None else max(drawn, floor)
    # offers' own capacity, at least what the witness buys there
    used: dict[str, int] = defaultdict(int)
    for p in witness:
        used[p.option.offer.offer_id] += p.instances
    own = {
        o.offer_id: draw(st.sampled_from([None, None, used[o.offer_id] + 1, used[o.offer_id]]))
        for o, _ in offers
    }
    options = [
        replace(x, offer=replace(x.offer, capacity_instances=own[x.offer.offer_id]))
        for x in options
    ]
    witness = _witness_on(witness, options)
    limits = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        o, _platform = draw(st.sampled_from(offers))
        region = draw(st.sampled_from([None, "r1", "r*"]))
        limit = CapacityLimit(o.provider, o.accelerator, 0, region=region)
        need = sum(p.instances for p in witness if covers(limit, p.option))
        limits.append(replace(limit, max_instances=need + draw(st.integers(0, 2))))
    platforms = [PlatformState(Platform.CUDA, enabled=True)]
    for name in shape.platforms[1:]:
        if draw(st.booleans()):
            platforms.append(PlatformState(Platform(name), enabled=True))
        else:
            enable = draw(st.sampled_from([0.0, 20.0, 200.0]))
            platforms.append(PlatformState(Platform(name), enabled=False, enable_usd=enable))
    fleet = Fleet(
        workloads=tuple(workloads),
        caps=ShareCaps(**caps),
        platforms=tuple(platforms),
        capacity=tuple(limits),
    )
    witness = _unbarred(fleet, witness, options)
    cost = evaluate(fleet, witness, options)
    assert cost is not None, "the witness must meet the fleet it was drawn for"
    if shape.budget and draw(st.booleans()):
        fleet = replace(fleet, budget_usd=cost * (1 + draw(st.integers(0, 30)) / 100))
    return FleetCase(fleet, options, tuple(witness))


@st.composite
def _witness_pick(draw: st.DrawFn, workloads: list[Any], options: list[Option], wi: int) -> Pick:
    mine = cheapest_in_place([o for o in options if o.workload == wi])
    o = mine[draw(st.integers(0, len(mine) - 1))]
    job = workloads[wi].job
    if isinstance(job, ServeJob):
        r = math.ceil(job.requests_per_s * job.output_tokens / o.tokens_per_s - 1e-9)
        n = serve_instances(o, r)
        return Pick(o, r, n, n * o.usd)
    return Pick(o, 1, o.instances, o.usd)


def cheapest_in_place(options: Sequence[Option]) -> list[Option]:
    """Of each vendor, provider and region, the first option of least cost (a service's:
    per token/s of a full instance; a job's: then on the fewest instances)."""
    best: dict[tuple[str, str, str], Option] = {}

    def unit(o: Option) -> tuple[float, int]:
        # of two jobs at one cost, the one on fewer instances: it beats the other in
        # any capacity row the two share, the other does not beat it
        if not o.serve:
            return (o.usd, o.instances)
        return (o.usd * o.chips / (o.offer.accelerators_per_instance * o.tokens_per_s), 0)

    for o in options:
        place = (o.estimate.vendor, o.offer.provider, o.offer.region)
        if place not in best or unit(o) < unit(best[place]):
            best[place] = o
    return list(best.values())


def _witness_on(witness: list[Pick], options: list[Option]) -> list[Pick]:
    """The witness with its options as they are now (capacities filled in)."""
    out = []
    for p in witness:
        twin = next(
            o
            for o in options
            if o.workload == p.option.workload
            and o.offer.instance_type == p.option.offer.instance_type
            and o.chips == p.option.chips
            and o.usd == p.option.usd
            and o.hours == p.option.hours
            and o.tokens_per_s == p.option.tokens_per_s
        )
        out.append(replace(p, option=twin))
    return out


def _unbarred(fleet: Fleet, witness: list[Pick], options: list[Option]) -> list[Pick]:
    """The witness with each job that :func:`padding` bars (an option of its place beats
    it in the fleet drawn: a tie the capacity rows or platforms break the other way) on
    an option that beats it and is not barred: no dearer, no more instances, in no more
    capacity rows, in the same groups, so the witness still meets every row."""
    barred = padding(fleet, options)
    out = []
    for pick in witness:
        b = pick.option
        if id(b) not in barred or b.serve:
            out.append(pick)
            continue
        place = (b.estimate.vendor, b.offer.provider, b.offer.region)
        a = next(
            a
            for a in options
            if a.workload == b.workload
            and not a.serve
            and id(a) not in barred
            and (a.estimate.vendor, a.offer.provider, a.offer.region) == place
            and beats(fleet, a, b)
        )
        out.append(Pick(a, 1, a.instances, a.usd))
    return out


# --- fleet files over real chips ---------------------------------------------------------------

CATALOG = default_catalog()
EFF = default_efficiency()
CHIPS = ("H100-SXM", "H200-SXM", "A100-SXM-80GB")
REGIMES = (PriceRegime.ON_DEMAND, PriceRegime.SPOT, PriceRegime.CAPACITY_BLOCK)


@dataclass(frozen=True)
class FleetFile:
    """A fleet file's document, the offers it is planned on, and a witness plan on its
    raw options (``build_options(thin=False)``)."""

    doc: dict[str, Any]
    offers: list[Offer]
    witness: tuple[Pick, ...] = field(default=(), compare=False)


@st.composite
def catalog_offers(draw: st.DrawFn, k: int, *, regimes: Sequence[PriceRegime] = REGIMES) -> Offer:
    per = draw(st.sampled_from([1, 2, 4, 8]))
    return Offer(
        provider=draw(st.sampled_from(["aws", "gcp"])),
        region=draw(st.sampled_from(["us-1", "us-2"])),
        instance_type=f"it-{k}-{per}",
        accelerator=draw(st.sampled_from(CHIPS)),
        accelerators_per_instance=per,
        price_regime=draw(st.sampled_from(list(regimes))),
        usd_per_hour=per * draw(st.integers(10, 60)) / 10,
        as_of=AsOf.parse("2026-11-01"),
        source="test",
    )


@st.composite
def _workload_doc(draw: st.DrawFn, i: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["batch", "finetune", "serve"]))
    base = {"name": f"w{i}", "kind": kind, "model": "llama-3.1-8b", "interruptible": True}
    if kind == "batch":
        return {
            **base,
            "input_tokens": draw(st.sampled_from([1e9, 1e10])),
            "output_tokens": draw(st.sampled_from([1e8, 1e9])),
            "request_input_tokens": 1000,
            "request_output_tokens": 300,
            "deadline_hours": draw(st.sampled_from([24, 100, 400])),
        }
    if kind == "finetune":
        return {
            **base,
            "tokens": draw(st.sampled_from([1e8, 1e9])),
            "seq_len": 4096,
            "deadline_days": draw(st.sampled_from([1, 3, 10])),
        }
    return {
        **base,
        "interruptible": False,
        "requests_per_s": draw(st.sampled_from([0.5, 2, 10])),
        "input_tokens": 1000,
        "output_tokens": 200,
        "slo": {"ttft_s": 2, "tpot_s": 0.08},
        "hours": draw(st.sampled_from([24, 168])),
    }


def raw_options(doc: dict[str, Any], offers: Sequence[Offer]) -> tuple[Fleet, list[Option]]:
    """The fleet of ``doc`` and every option of it on ``offers``, unthinned."""
    fleet = parse_fleet(doc, file="test.yaml")
    catalog = Catalog.of(CATALOG.accelerators.values(), offers)
    return fleet, build_options(fleet, catalog, EFF, thin=False)[0]


@st.composite
def fleet_files(draw: st.DrawFn) -> FleetFile:
    """One or two workloads (batch, finetune or serve, on llama-3.1-8b) over two to four
    offers of H100, H200 and A100 at aws and gcp, the first an on-demand 8-chip H100
    (which every workload drawn can use within its deadline or SLO); an optional
    provider share cap and capacity limit, each no tighter than a witness plan on the
    raw options needs."""
    first = Offer(
        provider=draw(st.sampled_from(["aws", "gcp"])),
        region="us-1",
        instance_type="it-h100-8",
        accelerator="H100-SXM",
        accelerators_per_instance=8,
        price_regime=PriceRegime.ON_DEMAND,
        usd_per_hour=8 * draw(st.integers(10, 60)) / 10,
        as_of=AsOf.parse("2026-11-01"),
        source="test",
    )
    sold = [first, *(draw(catalog_offers(k)) for k in range(1, draw(st.integers(2, 4))))]
    doc: dict[str, Any] = {
        "workloads": [draw(_workload_doc(i)) for i in range(draw(st.integers(1, 2)))]
    }
    fleet, options = raw_options(doc, sold)
    witness = [
        draw(_witness_pick(list(fleet.workloads), options, w)) for w in range(len(fleet.workloads))
    ]
    if draw(st.booleans()):
        o = draw(st.sampled_from(sold))
        limit = CapacityLimit(o.provider, o.accelerator, 0)
        need = sum(p.instances for p in witness if covers(limit, p.option))
        doc["capacity"] = [
            {
                "provider": o.provider,
                "accelerator": o.accelerator,
                "max_instances": need + draw(st.integers(0, 4)),
            }
        ]
        fleet, options = raw_options(doc, sold)
        witness = _witness_on(witness, options)
    if draw(st.booleans()):
        floor = least_cap(fleet, witness, "provider", options)
        cap = max(draw(st.sampled_from([0.6, 0.8])), math.ceil(floor * 100) / 100)
        doc["constraints"] = {"max_share": {"provider": min(cap, 1.0)}}
        fleet, options = raw_options(doc, sold)
        witness = _witness_on(witness, options)
    witness = _unbarred(fleet, witness, options)
    assert evaluate(fleet, witness, options) is not None, "the witness must meet the fleet"
    return FleetFile(doc, sold, tuple(witness))
