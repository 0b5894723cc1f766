"""A fleet plan as a document: the solution, its shares and concentration, what binds,
the alternatives, and the baselines solved on the same inputs (``baselines.py``).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from arbiter._version import __version__
from arbiter.catalog.spot import RESTART_HOURS, interruptions_per_hour, throughput_factor
from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InputError
from arbiter.domain.fleet import GROUPS, CapacityLimit, Fleet
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.optimize.baselines import baselines, meets_fleet, solve_or_none
from arbiter.optimize.fleet import (
    DEFAULT_TIME_LIMIT_S,
    FleetSolution,
    Placed,
    group_of,
)
from arbiter.optimize.folding import Folded
from arbiter.optimize.highs import highs_version
from arbiter.optimize.linear import Status
from arbiter.optimize.options import Option
from arbiter.optimize.pruning import prune
from arbiter.spotsim.outlook import SpotOutlook

ALTERNATIVES = 3


def shares_of(placed: Sequence[Placed]) -> dict[str, dict[str, float]]:
    """Share of compute spend by vendor, provider and provider/region."""
    total = sum(p.usd for p in placed)
    out: dict[str, dict[str, float]] = {}
    for group in GROUPS:
        spend: dict[str, float] = defaultdict(float)
        for p in placed:
            spend[group_of(p.option, group)] += p.usd
        out[group] = {k: v / total if total else 0.0 for k, v in sorted(spend.items())}
    return out


def hhi(shares: Mapping[str, float]) -> float:
    """Herfindahl-Hirschman index on shares in 0..1: 1 is a single supplier."""
    return sum(s * s for s in shares.values())


def placed_record(fleet: Fleet, p: Placed) -> dict[str, Any]:
    o, e, off = p.option, p.option.estimate, p.option.offer
    w = fleet.workloads[o.workload]
    layout = e.layout
    # layout.replicas: the replicas this assignment places (a service: its units; a batch
    # job: the replicas its option runs; training: data-parallel replicas), each of
    # tp x cp x pp chips, so accelerator_count = layout.replicas x tp x cp x pp
    replicas = p.units if o.serve else (layout.replicas if layout is not None else 1)
    tokens = p.units * o.tokens_per_s
    work = w.work_tokens
    return {
        "workload": w.name,
        "kind": w.kind.value,
        "offer_id": off.offer_id,
        "provider": off.provider,
        "region": off.region,
        "instance_type": off.instance_type,
        "accelerator": off.accelerator,
        "vendor": e.vendor,
        "platform": e.platform,
        "price_regime": off.price_regime.value,
        "price_source": off.source,
        "price_as_of": off.as_of.text,
        "instance_count": p.instances,
        "accelerator_count": p.units * o.chips,
        "accelerators_per_instance": off.accelerators_per_instance,
        "replicas": p.units if o.serve else None,
        "layout": None
        if layout is None
        else {"tp": layout.tp, "pp": layout.pp, "cp": layout.cp, "replicas": replicas},
        "hours": o.hours,
        "billed_hours": o.billed_hours,
        "usd": p.usd,
        "tokens_per_s": tokens,
        "usd_per_million_tokens": None if not o.serve and work <= 0 else _per_m(p, w.work_tokens),
        "error_band_share": e.error_band_share,  # the perf model's 80% band (arbiter.perf.bands)
        "band_cases": e.band_cases,
        "chip_cases": e.chip_cases,
        **(
            {"class_requests_per_s": [round(v, 9) for v in p.class_requests_per_s]}
            if p.class_requests_per_s
            else {}
        ),
        **(
            {"spot": spot_record(off, o.spot, p.units * o.chips)}
            if off.price_regime is PriceRegime.SPOT
            else {}
        ),
    }


def spot_record(offer: Offer, outlook: SpotOutlook | None, chips: int) -> dict[str, Any]:
    """What a spot placement rests on: the rate of interruptions and its basis, and for a
    job with a deadline its expected outcome (``spotsim/outlook.py``) over its ``chips``."""
    if outlook is None:
        rate = interruptions_per_hour(offer)
        return {
            "interruptions_per_hour": rate.interruptions_per_hour,
            "basis": rate.basis.value,
            "source": rate.source,
            "as_of": rate.as_of,
            "restart_hours": RESTART_HOURS,
            "throughput_factor": throughput_factor(offer),
        }
    a = outlook.availability
    on_demand_h = outlook.on_demand_h * chips
    return {
        "interruptions_per_hour": a.interruptions_per_hour,
        "basis": a.basis,
        "source": a.source,
        "as_of": a.as_of,
        "restart_hours": RESTART_HOURS,
        "throughput_factor": outlook.throughput_factor,
        "policy": outlook.policy,
        "available_share": a.available_share,
        "mean_outage_hours": a.mean_outage_h,
        "spot_share": outlook.spot_share,
        "on_demand_hours": on_demand_h,
        "on_demand_usd_per_hour": outlook.fallback_usd_per_hour,
        "miss_probability": outlook.miss_probability,
    }


def _per_m(p: Placed, work_tokens: float) -> float | None:
    return p.usd / work_tokens * 1e6 if work_tokens > 0 else None


def alternatives(
    fleet: Fleet, options: Sequence[Option], solution: FleetSolution, n: int
) -> dict[str, list[dict[str, Any]]]:
    """Per train/finetune/batch workload, the next-best options on other chips or clouds,
    priced as the plan would pay for them: plus the enabling of a platform the plan does
    not enable. An alternative in a capacity limit the plan fills says so (it could be
    cheaper, but only by moving another workload)."""
    chosen = {p.option.workload: p for p in solution.placed if not p.option.serve}
    enabled = set(solution.enabled)
    pending = {s.platform: s.enable_usd for s in fleet.platforms if not s.enabled}
    full = _full_limits(fleet, solution)
    out: dict[str, list[dict[str, Any]]] = {}

    def enable_usd(o: Option) -> float:
        platform = Platform(o.estimate.platform)
        return pending.get(platform, 0.0) if platform not in enabled else 0.0

    own: dict[int, list[Option]] = defaultdict(list)
    for o in options:
        if o.workload in chosen:
            own[o.workload].append(o)
    for wi, p in sorted(chosen.items()):
        seen = {(p.option.offer.accelerator, p.option.offer.provider)}
        rows = []
        for o in sorted(own[wi], key=lambda o: o.usd + enable_usd(o)):
            key = (o.offer.accelerator, o.offer.provider)
            if key in seen:
                continue
            seen.add(key)
            enable = enable_usd(o)
            rows.append(
                {
                    "accelerator": o.offer.accelerator,
                    "provider": o.offer.provider,
                    "region": o.offer.region,
                    "price_regime": o.offer.price_regime.value,
                    "usd": o.usd,
                    "enable_usd": enable,
                    "extra_usd": o.usd + enable - p.usd,
                    "capacity_full": [label for label, limit in full if limit.covers(o.offer)],
                }
            )
            if len(rows) == n:
                break
        out[fleet.workloads[wi].name] = rows
    return out


def _full_limits(fleet: Fleet, solution: FleetSolution) -> list[tuple[str, CapacityLimit]]:
    """The fleet's capacity limits the plan uses to the last instance."""
    out = []
    for limit in fleet.capacity:
        used = sum(p.instances for p in solution.placed if limit.covers(p.option.offer))
        if used >= limit.max_instances:
            out.append((f"capacity[{limit.label}]", limit))
    return out


def baseline_record(
    fleet: Fleet, found: FleetSolution | str | None, options: Sequence[Option]
) -> dict[str, Any]:
    if isinstance(found, str):  # not reached within the time limit
        return {
            "total_usd": None,
            "feasible": None,
            "shares": {g: {} for g in GROUPS},
            "note": found,
        }
    if found is None:
        return {"total_usd": None, "feasible": False, "shares": {g: {} for g in GROUPS}}
    return {
        "total_usd": found.total_usd,
        "feasible": meets_fleet(fleet, found.placed, options),
        "shares": shares_of(found.placed),
    }


BINDING_GAP = 1e-3  # relaxed re-solves: the plan's own default gap


def binding_constraints(
    fleet: Fleet,
    options: Sequence[Option],
    solution: FleetSolution,
    *,
    all_options: Sequence[Option] | None = None,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = BINDING_GAP,
    cheaper: list[FleetSolution] | None = None,
) -> list[dict[str, Any]]:
    """Every constraint whose relaxation would lower the plan's cost, with what relaxing
    it saves, found by solving again with it relaxed (each share cap by 0.1, each capacity
    limit by one instance, the budget by 1%): with integer choices, re-solving is the
    honest shadow price. A capacity limit can cost money while the plan uses none of it
    (an option needs more instances than it allows), so every row is tried, not only the
    tight ones. The relaxed fleets are solved on ``all_options`` (default ``options``),
    pruned for the relaxed fleet: the same model the user asked for, one row looser,
    each seeded with the plan (still feasible there) and solved to ``mip_gap``.

    All re-solves share ``time_limit_s``, each row an equal share of what is left (the rows
    tight in the plan go first); a row not re-solved within it is listed with
    ``shadow_price_usd: None`` ("not checked") rather than left out, so the list never
    claims more than was shown. A saving is the plan's cost less the relaxed plan's: what
    relaxing the row is proven to save at least; ``at_most_usd`` is what it can save at
    most (against the relaxed re-solve's bound, cost objective only). A relaxed plan that
    also meets every row of the fleet as given is a better plan within the plan's own
    gap, not a saving of the row: the row is not listed, and the plan is appended to
    ``cheaper`` when given."""
    everything = options if all_options is None else all_options
    tolerance = 1e-9 * abs(solution.total_usd) + 1e-6
    clock_end = None if time_limit_s is None else time.monotonic() + time_limit_s
    shares = shares_of(solution.placed)
    rows = _loosened(fleet, solution, everything, shares)
    out: list[dict[str, Any]] = []
    for at, row in enumerate(rows):
        label = f"{row.name}_share" if row.kind == "share" else row.name
        left = None if clock_end is None else clock_end - time.monotonic()
        pruned = prune(everything, row.fleet) if left is None or left > 0 else []
        left = None if clock_end is None else clock_end - time.monotonic()  # pruning counts
        if left is not None and left <= 0:
            out.append(_not_checked(label))
            continue
        share_s = None if left is None else left / (len(rows) - at)
        found = solve_or_none(
            row.fleet, pruned, time_limit_s=share_s, mip_gap=mip_gap, start=solution
        )
        unproven = found is None or found.status is not Status.OPTIMAL
        if found is None or (unproven and solution.total_usd - found.total_usd <= tolerance):
            # one row looser, the plan is still feasible: no plan found, or none better
            # without proof, is a re-solve the time cut short, not a row that costs nothing
            out.append(_not_checked(label))
            continue
        if solution.total_usd - found.total_usd <= tolerance:
            continue
        if meets_fleet(fleet, found.placed, everything):
            # a better plan of the fleet as given: the plan's gap, not the row
            if cheaper is not None:
                cheaper.append(found)
            continue
        out.append(_saving(fleet, solution, row, found, shares))
    return out


@dataclass(frozen=True, slots=True)
class _Loosened:
    """One row of the fleet, relaxed: whether the plan makes it tight, its name, the
    fleet with it relaxed, its kind (``share``, ``capacity``, ``budget``) and, for a
    capacity row, its limit."""

    tight: bool
    name: str
    fleet: Fleet
    kind: str
    limit: CapacityLimit | None = None


def _loosened(
    fleet: Fleet,
    solution: FleetSolution,
    everything: Sequence[Option],
    shares: dict[str, dict[str, float]],
) -> list[_Loosened]:
    """Every row of ``fleet`` that can be relaxed (each share cap by 0.1, each capacity
    limit any option is in by one instance, the budget by 1%), tight rows first."""
    rows: list[_Loosened] = []
    for group in GROUPS:
        cap = getattr(fleet.caps, group)
        if cap is None or cap >= 1.0:
            continue
        looser = min(1.0, cap + 0.1)
        tight = any(v >= cap - 1e-4 for v in shares[group].values())
        relaxed = replace(fleet, caps=replace(fleet.caps, **{group: looser}))
        rows.append(_Loosened(tight, group, relaxed, "share"))
    for k, row in enumerate(fleet.capacity):
        if not any(row.covers(o.offer) for o in everything):
            continue  # no option of the model is in this row
        used = sum(p.instances for p in solution.placed if row.covers(p.option.offer))
        if row.offer_ids is not None and used < row.max_instances:
            continue  # a limit from obtainable capacity (many, one per place): only if full
        more = list(fleet.capacity)
        more[k] = replace(row, max_instances=row.max_instances + 1)
        relaxed = replace(fleet, capacity=tuple(more))
        name = f"capacity[{row.label}]"
        rows.append(_Loosened(used >= row.max_instances, name, relaxed, "capacity", row))
    if fleet.budget_usd is not None:
        tight = solution.total_usd >= fleet.budget_usd * (1 - 1e-4)
        relaxed = replace(fleet, budget_usd=fleet.budget_usd * 1.01)
        rows.append(_Loosened(tight, "budget", relaxed, "budget"))
    rows.sort(key=lambda r: not r.tight)  # tight rows first (stable otherwise)
    return rows


def _saving(
    fleet: Fleet,
    solution: FleetSolution,
    row: _Loosened,
    found: FleetSolution,
    shares: dict[str, dict[str, float]],
) -> dict[str, Any]:
    """The binding row ``row`` with what relaxing it saves (``found``: the plan of the
    fleet with it relaxed)."""
    saved = solution.total_usd - found.total_usd
    at_most = None
    if fleet.objective.kind == "cost" and math.isfinite(found.mip_gap):
        at_most = max(solution.total_usd - found.total_usd * (1.0 - found.mip_gap), saved)
    name, limit = row.name, row.limit
    if row.kind == "share":
        cap = getattr(fleet.caps, name)
        looser = getattr(row.fleet.caps, name)
        hit = [k for k, v in shares[name].items() if v >= cap - 1e-4]
        if not hit:  # what the looser cap lets past the old one
            hit = [k for k, v in shares_of(found.placed)[name].items() if v > cap + 1e-9]
        label = f"{name}_share[{', '.join(hit)}]" if hit else f"{name}_share"
        text = f"{label} is binding at {cap:.0%}: allowing {looser - cap:.1f} more would save "
        return _binding_row(label, saved, at_most, text)
    if limit is not None:
        used = sum(p.instances for p in solution.placed if limit.covers(p.option.offer))
        what = "binding" if used >= limit.max_instances else f"binding with {used} used"
        text = f"{name} is {what}: one more instance would save "
        return _binding_row(name, saved, at_most, text)
    return _binding_row("budget", saved, at_most, "budget is binding: 1% more would save ")


def _not_checked(label: str) -> dict[str, Any]:
    return {
        "constraint": label,
        "shadow_price_usd": None,
        "at_most_usd": None,
        "text": f"{label}: not checked within the time limit",
    }


def _binding_row(name: str, saved: float, at_most: float | None, text: str) -> dict[str, Any]:
    amount = max(saved, 0.0)
    text = f"{text}${amount:,.0f}"
    if at_most is not None and at_most > amount * (1.0 + 1e-3) + 1.0:
        text += f" (at most ${at_most:,.0f})"
    return {"constraint": name, "shadow_price_usd": amount, "at_most_usd": at_most, "text": text}


def plan_document(
    fleet: Fleet,
    options: Sequence[Option],
    solution: FleetSolution,
    *,
    provenance: Mapping[str, Any],
    n_alternatives: int = ALTERNATIVES,
    with_baselines: bool = True,
    all_options: Sequence[Option] | None = None,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    folded: Folded | None = None,
    baseline_options: Sequence[Option] | None = None,
    baseline_time_s: float | None = None,
) -> dict[str, Any]:
    """The plan as JSON-ready data (keys documented in the README). ``options`` are those
    the plan was solved on; ``all_options`` (default: the same), before any pruning, are
    where baselines and alternatives are found. ``time_limit_s`` bounds the analyses
    together: the baselines first, then the binding re-solves with what is left (what the
    time does not reach is marked so). With ``folded``, ``fleet`` is its
    folded fleet: the analyses run on it, the assignments and alternatives are listed
    per workload of the original. ``baseline_options`` (default ``all_options``): where
    the baselines are found when they differ (built without obtainable capacity);
    ``baseline_time_s`` (default: all of ``time_limit_s``) caps their share of it."""
    everything = options if all_options is None else all_options
    per_workload = (
        (fleet, solution) if folded is None else (folded.original, folded.unfold(solution))
    )
    options_of = _alternatives_of(fleet, everything, solution, n_alternatives, folded)
    shares = shares_of(solution.placed)
    clock_end = None if time_limit_s is None else time.monotonic() + time_limit_s
    for_baselines = time_limit_s
    if baseline_time_s is not None:
        for_baselines = (
            baseline_time_s if time_limit_s is None else min(baseline_time_s, time_limit_s)
        )
    found_baselines = (
        baselines(fleet, baseline_options or everything, time_limit_s=for_baselines)
        if with_baselines
        else {}
    )
    left = None if clock_end is None else max(clock_end - time.monotonic(), 0.0)
    cheaper: list[FleetSolution] = []
    doc: dict[str, Any] = {
        "status": solution.status.value,
        "objective": fleet.objective.kind,
        "total_usd": solution.total_usd,
        "compute_usd": solution.compute_usd,
        "enablement_usd": solution.enablement_usd,
        "assignments": [placed_record(per_workload[0], p) for p in per_workload[1].placed],
        "platforms_enabled": _platforms_enabled(fleet, solution),
        "shares": shares,
        "hhi": {g: hhi(shares[g]) for g in GROUPS},
        "caps": {g: getattr(fleet.caps, g) for g in GROUPS},
        "binding": binding_constraints(
            fleet, options, solution, all_options=everything, time_limit_s=left, cheaper=cheaper
        ),
        "alternatives": options_of,
        "mip_gap": solution.mip_gap if math.isfinite(solution.mip_gap) else None,
        "provenance": {
            **provenance,
            "solver": "HiGHS",
            "solver_version": highs_version(),
            "arbiter_version": __version__,
        },
    }
    # a plan of the same fleet, cheaper than this one (within its gap), that a binding
    # re-solve came upon: said, not silently swapped in
    doc["cheaper_plan_usd"] = min((c.total_usd for c in cheaper), default=None)
    if with_baselines:
        doc["baselines"] = {
            name: baseline_record(fleet, found, everything)
            for name, found in found_baselines.items()
        }
    return doc


def _alternatives_of(
    fleet: Fleet,
    everything: Sequence[Option],
    solution: FleetSolution,
    n_alternatives: int,
    folded: Folded | None,
) -> dict[str, Any]:
    """The alternatives per workload; a folded workload's are each member's."""
    options_of = alternatives(fleet, everything, solution, n_alternatives)
    if folded is None:
        return options_of
    names = {w.name: k for k, w in enumerate(fleet.workloads)}
    return {
        folded.original.workloads[m].name: rows
        for name, rows in options_of.items()
        for m in folded.members[names[name]]
    }


def _platforms_enabled(fleet: Fleet, solution: FleetSolution) -> list[dict[str, Any]]:
    pending = {s.platform: s for s in fleet.platforms}
    return [
        {
            "platform": p.value,
            "enable_usd": pending[p].enable_usd,
            "lead_weeks": pending[p].lead_weeks,
            "already_enabled": False,
        }
        for p in solution.enabled
    ]


def solution_from_document(
    fleet: Fleet, options: Sequence[Option], doc: Mapping[str, Any], *, name: str
) -> FleetSolution:
    """The placement a plan document (``arbiter plan --json``, or a saved plan) holds, on
    ``options`` of the same fleet and catalog; an assignment no option matches is an
    :class:`InputError` naming the plan ``name``."""
    index = {w.name: i for i, w in enumerate(fleet.workloads)}
    by_key = {(o.workload, o.offer.offer_id, o.offer.accelerator): o for o in options}
    placed = []
    for k, a in enumerate(doc.get("assignments", [])):
        key = (index.get(a.get("workload"), -1), a.get("offer_id"), a.get("accelerator"))
        option = by_key.get(key)
        if option is None:
            raise InputError(
                f"plan {name}: assignment {k} ({a.get('workload')} on {a.get('accelerator')}, "
                f"offer {a.get('offer_id')}) matches no option of this fleet and catalog",
                field="--compare",
                valid="a plan saved from the same fleet file and catalog version",
            )
        placed.append(
            Placed(
                option=option,
                units=int(a.get("replicas") or 1),
                instances=int(a["instance_count"]),
                usd=float(a["usd"]),
                class_requests_per_s=tuple(a.get("class_requests_per_s", ())),
            )
        )
    return FleetSolution(
        status=Status(doc.get("status", "optimal")),
        placed=tuple(placed),
        compute_usd=float(sum(p.usd for p in placed)),
        enabled=tuple(Platform(e["platform"]) for e in doc.get("platforms_enabled", [])),
        enablement_usd=float(doc.get("enablement_usd", 0.0)),
        mip_gap=float(doc.get("mip_gap") or 0.0),
    )
