"""Read procurement files into a domain
:class:`~arbiter.domain.procurement.ProcurementProblem`.

The format is described in :mod:`arbiter.procure.spec`. Every problem becomes an
:class:`InputError` (or :class:`UnknownNameError`, with did-you-mean suggestions) naming
the file and the field path, such as ``commitments[2].term`` or
``scenarios[0].growth.chat``, and what is valid; when a file has several problems the
first is reported with "(and N more problems)". Accelerator, provider and vendor names are
canonicalised; a commitment priced by ``discount`` gets its price (and, when it names
none, its region) from the embedded catalog's on-demand offers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.names import resolve_accelerator
from arbiter.domain.accelerator import PLATFORM_BY_VENDOR
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.fleet import ShareCaps
from arbiter.domain.procurement import (
    HOURS_PER_PERIOD,
    DemandClass,
    DemandScenario,
    PricePath,
    ProcurementProblem,
)
from arbiter.domain.workload import Workload, WorkloadKind
from arbiter.procure.commitments import duplicate_name, products_of
from arbiter.procure.spec import (
    ClassSpec,
    PricePathSpec,
    ProcurementFileSpec,
    SampledScenariosSpec,
    ScenarioSpec,
)
from arbiter.scenarios.distributions import ppf
from arbiter.scenarios.loading import _check_vendor_accelerators, _distribution, resolved_names
from arbiter.scenarios.spec import DISTRIBUTION_FORMS
from arbiter.workloads.convert import _named, spec_to_workload
from arbiter.workloads.fleet import _platforms
from arbiter.workloads.loading import _kind_problems, read_data
from arbiter.workloads.problems import join_path, top_mapping, validation_problems, with_more
from arbiter.workloads.spec import SPEC_BY_KIND, BatchSpec, fields_of

_EXPECTED = "a mapping with horizon, discount_rate, classes and commitments"
PROBABILITY_TOLERANCE = 1e-6
BASE_SCENARIO = DemandScenario(name="base", probability=1.0)
"""The one scenario of a file without ``scenarios``."""

DEMAND_FIELDS: dict[WorkloadKind, tuple[str, ...]] = {
    WorkloadKind.SERVE: ("requests_per_s", "hours"),
    WorkloadKind.TRAIN: ("tokens",),
    WorkloadKind.FINETUNE: ("tokens",),
    WorkloadKind.BATCH: ("input_tokens", "output_tokens"),
}
"""The workload fields a class's ``demand`` replaces, per kind."""

_DEMAND_UNITS: dict[WorkloadKind, str] = {
    WorkloadKind.SERVE: "requests/s held through the period",
    WorkloadKind.TRAIN: "tokens to train on within the period",
    WorkloadKind.FINETUNE: "tokens to train on within the period",
    WorkloadKind.BATCH: "generated tokens within the period",
}
_VENDORS: tuple[str, ...] = tuple(PLATFORM_BY_VENDOR)
_SCENARIO_FORMS = (
    "a list of {name, probability, growth or factors}, or {sample: {n, seed, growth}}; "
    "leave scenarios out for one base scenario"
)


def load_procurement(path: Path) -> ProcurementProblem:
    """The procurement problem in the YAML (or JSON) file at ``path``."""
    return parse_procurement(read_data(path, "procurement"), file=str(path))


def parse_procurement(data: object, *, file: str) -> ProcurementProblem:
    """The procurement problem in already-parsed YAML/JSON ``data``; ``file`` names it."""
    top = _top(data, file)
    periods = top.horizon.periods
    period_hours = HOURS_PER_PERIOD[top.horizon.period]
    problems: list[InputError] = []
    classes = _classes(top.classes, periods, period_hours, file, problems)
    names = tuple(dict.fromkeys(c.name for c in top.classes))
    scenarios = _scenarios(top.scenarios, names, periods, file, problems)
    paths = _price_paths(top.price_paths, periods, file, problems)
    constraints = top.constraints
    regions = tuple(dict.fromkeys(constraints.regions)) if constraints.regions else None
    products = products_of(top, period_hours, regions, file, problems)
    platforms = _platforms(top.platforms, file, problems)
    if problems:
        raise with_more(problems)
    caps = constraints.max_share
    try:
        return ProcurementProblem(
            periods=periods,
            period=top.horizon.period,
            discount_rate=top.discount_rate,
            classes=classes,
            scenarios=scenarios,
            products=products,
            price_paths=paths,
            caps=ShareCaps(vendor=caps.vendor, provider=caps.provider, region=caps.region),
            budget_per_period_usd=constraints.budget_per_period_usd,
            platforms=platforms,
            regions=regions,
            risk_weight=top.risk.lambda_,
            cvar_level=top.risk.alpha,
            unmet_penalty=top.unmet_penalty,
            salvage=top.salvage,
            catalog_commitments=top.catalog_commitments,
        )
    except ValueError as exc:  # a rule of the domain that the checks above missed
        raise InputError(str(exc), file=file) from None


def ramp(growth: float, periods: int) -> tuple[float, ...]:
    """Multipliers from 1 in period 0 linearly to ``growth`` in the last (one period: it)."""
    if periods == 1:
        return (float(growth),)
    last = periods - 1
    return (*(1.0 + (growth - 1.0) * p / last for p in range(last)), float(growth))


# --- top level ----------------------------------------------------------------------------


def _problems(
    exc: ValidationError, root: type[BaseModel], prefix: str, file: str
) -> list[InputError]:
    """As :func:`validation_problems`, with ``risk.lambda`` listed under its own name."""
    out = []
    for problem in validation_problems(exc, root, prefix, file):
        if problem.valid and "lambda_" in problem.valid:
            out.append(_with_valid(problem, problem.valid.replace("lambda_", "lambda")))
        else:
            out.append(problem)
    return out


def _top(data: object, file: str) -> ProcurementFileSpec:
    data = top_mapping(data, file, _EXPECTED)
    try:
        top = ProcurementFileSpec.model_validate(data)
    except ValidationError as exc:
        raise with_more(_problems(exc, ProcurementFileSpec, "", file)) from None
    for key, what in (("classes", "classes of work"), ("commitments", "commitment products")):
        if not getattr(top, key):
            raise InputError(f"lists no {what}", file=file, field=key, valid=f"a list of {what}")
    return top


# --- classes ------------------------------------------------------------------------------


def _classes(
    specs: list[ClassSpec],
    periods: int,
    period_hours: float,
    file: str,
    problems: list[InputError],
) -> tuple[DemandClass, ...]:
    out: list[DemandClass] = []
    seen: dict[str, str] = {}
    for i, spec in enumerate(specs):
        prefix = join_path("classes", i)
        found: list[InputError] = []
        duplicate = duplicate_name("class", spec.name, join_path(prefix, "name"), seen, file)
        if duplicate is not None:
            found.append(duplicate)
        if len(spec.demand) != periods:
            found.append(
                InputError(
                    f"has {len(spec.demand)} values for {periods} periods",
                    file=file,
                    field=join_path(prefix, "demand"),
                    valid=f"a list of {periods} values >= 0, one per period",
                )
            )
        workload = _workload(spec, period_hours, join_path(prefix, "workload"), file, found)
        problems.extend(found)
        if workload is not None and not found:
            out.append(DemandClass(name=spec.name, workload=workload, demand=tuple(spec.demand)))
    return tuple(out)


def _workload(
    spec: ClassSpec, period_hours: float, prefix: str, file: str, problems: list[InputError]
) -> Workload | None:
    """The class's workload for one unit of demand, or ``None`` after adding its problems."""
    raw = spec.workload
    kind, found = _kind_problems(raw, prefix, file)
    if kind is None or found:
        if kind is not None:  # fields of other kinds: list the ones a class takes
            takes = f"a {kind} class's workload takes {_takes(kind)}"
            found = [_with_valid(p, takes) for p in found]
        problems.extend(found)
        return None
    replaced = DEMAND_FIELDS[kind]
    own = _takes(kind)
    bad = False
    for key in raw:
        name = str(key)
        if name == "name":
            message = "the class's name names its workload; leave name out here"
        elif name == "hours" and kind is WorkloadKind.SERVE:
            message = (
                f"a class's service runs through every period ({period_hours:g} h); leave hours out"
            )
        elif name in replaced:
            message = (
                f"the class's demand ({_DEMAND_UNITS[kind]}, one value per period) "
                f"replaces {name}; leave it out here"
            )
        else:
            continue
        bad = True
        problems.append(
            InputError(
                message,
                file=file,
                field=join_path(prefix, name),
                valid=f"a {kind} class's workload takes {own}",
            )
        )
    if bad:
        return None
    item: dict[str, Any] = {**raw, "name": spec.name, **_placeholders(kind, period_hours)}
    spec_cls = SPEC_BY_KIND[kind]
    try:
        workload_spec = spec_cls.model_validate(item)
    except ValidationError as exc:
        for problem in validation_problems(exc, spec_cls, prefix, file):
            unknown = problem.message.startswith("unknown field")
            at_top = (problem.field or "").rpartition(".")[0] == prefix
            problems.append(_with_valid(problem, own) if unknown and at_top else problem)
        return None
    if isinstance(workload_spec, BatchSpec):
        per_token = workload_spec.request_input_tokens / workload_spec.request_output_tokens
        workload_spec = workload_spec.model_copy(update={"input_tokens": per_token})
    try:
        return spec_to_workload(workload_spec, file=file, prefix=prefix)
    except InputError as exc:
        problems.append(exc)
        return None


def _placeholders(kind: WorkloadKind, period_hours: float) -> dict[str, float]:
    """Values for the demand fields that make the workload one unit of demand."""
    if kind is WorkloadKind.SERVE:
        return {"requests_per_s": 1.0, "hours": period_hours}
    if kind is WorkloadKind.BATCH:
        return {"input_tokens": 1.0, "output_tokens": 1.0}  # input set per generated token
    return {"tokens": 1.0}


def _takes(kind: WorkloadKind) -> str:
    """The fields a class's workload of ``kind`` takes: all but the name and the demand."""
    return ", ".join(f for f in fields_of(kind) if f not in {"name", *DEMAND_FIELDS[kind]})


def _with_valid(problem: InputError, valid: str) -> InputError:
    return InputError(problem.message, file=problem.file, field=problem.field, valid=valid)


# --- scenarios ----------------------------------------------------------------------------


def _scenarios(
    raw: object,
    classes: tuple[str, ...],
    periods: int,
    file: str,
    problems: list[InputError],
) -> tuple[DemandScenario, ...]:
    if raw is None:
        return (BASE_SCENARIO,)
    if isinstance(raw, Mapping) and "sample" in raw:
        return _sampled(raw, classes, periods, file, problems)
    if not isinstance(raw, list) or not raw:
        if isinstance(raw, Mapping):
            got = f"a mapping of {', '.join(str(k) for k in raw) or 'nothing'}"
        else:
            got = repr(raw)
        problems.append(
            InputError(
                f"must be a list of scenarios or a {{sample: ...}} mapping, got {got}",
                file=file,
                field="scenarios",
                valid=_SCENARIO_FORMS,
            )
        )
        return ()
    out: list[DemandScenario] = []
    seen: dict[str, str] = {}
    total = 0.0
    complete = True
    for i, item in enumerate(raw):
        prefix = join_path("scenarios", i)
        try:
            spec = ScenarioSpec.model_validate(item)
        except ValidationError as exc:
            problems.extend(_problems(exc, ScenarioSpec, prefix, file))
            complete = False
            continue
        total += spec.probability
        found: list[InputError] = []
        duplicate = duplicate_name("scenario", spec.name, join_path(prefix, "name"), seen, file)
        if duplicate is not None:
            found.append(duplicate)
        factors = _listed_factors(spec, classes, periods, prefix, file, found)
        problems.extend(found)
        if not found:
            out.append(DemandScenario(spec.name, spec.probability, factors))
    if complete and abs(total - 1.0) > PROBABILITY_TOLERANCE:
        problems.append(
            InputError(
                f"the probabilities of the scenarios sum to {total:g}",
                file=file,
                field="scenarios",
                valid=f"probabilities summing to 1 (within {PROBABILITY_TOLERANCE:g})",
            )
        )
    return tuple(out)


def _known_class(
    name: str, classes: tuple[str, ...], where: str, file: str, problems: list[InputError]
) -> bool:
    if name in classes:
        return True
    problems.append(UnknownNameError("class", name, classes, file=file, field=where))
    return False


def _listed_factors(
    spec: ScenarioSpec,
    classes: tuple[str, ...],
    periods: int,
    prefix: str,
    file: str,
    problems: list[InputError],
) -> dict[str, tuple[float, ...]]:
    out: dict[str, tuple[float, ...]] = {}
    for name, growth in spec.growth.items():
        where = join_path(join_path(prefix, "growth"), name)
        if _known_class(name, classes, where, file, problems):
            out[name] = ramp(growth, periods)
    for name, values in spec.factors.items():
        where = join_path(join_path(prefix, "factors"), name)
        if not _known_class(name, classes, where, file, problems):
            continue
        if name in spec.growth:
            problems.append(
                InputError(
                    f"class {name!r} has both growth and factors",
                    file=file,
                    field=where,
                    valid="growth (a factor ramped to the last period) or factors (one per "
                    "period) for a class, not both",
                )
            )
        elif len(values) != periods:
            problems.append(
                InputError(
                    f"has {len(values)} factors for {periods} periods",
                    file=file,
                    field=where,
                    valid=f"a list of {periods} factors >= 0, one per period",
                )
            )
        else:
            out[name] = tuple(values)
    return out


def _sampled(
    raw: Mapping[Any, Any],
    classes: tuple[str, ...],
    periods: int,
    file: str,
    problems: list[InputError],
) -> tuple[DemandScenario, ...]:
    """``n`` equally likely scenarios: one uniform per (scenario, class), through its ppf."""
    try:
        spec = SampledScenariosSpec.model_validate(raw).sample
    except ValidationError as exc:
        problems.extend(_problems(exc, SampledScenariosSpec, "scenarios", file))
        return ()
    prefix = "scenarios.sample.growth"
    if not spec.growth:
        problems.append(
            InputError(
                "samples nothing: every scenario would be the same",
                file=file,
                field=prefix,
                valid="a growth distribution for one class or more, such as "
                "{chat: {lognormal: {median: 1.0, sigma: 0.3}}}",
            )
        )
        return ()
    dists = {}
    for name, dist_spec in spec.growth.items():
        where = join_path(prefix, name)
        if not _known_class(name, classes, where, file, problems):
            continue
        dist = _distribution(dist_spec)
        if dist.support[0] < 0:
            problems.append(
                InputError(
                    f"can be {dist.support[0]:g}, below 0",
                    file=file,
                    field=where,
                    valid=f"a growth factor with every value >= 0: {DISTRIBUTION_FORMS}",
                )
            )
            continue
        dists[name] = dist
    if len(dists) != len(spec.growth):
        return ()
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed))
    uniforms = rng.random((spec.n, len(classes)))
    growth = {
        name: ppf(dists[name], uniforms[:, j]) for j, name in enumerate(classes) if name in dists
    }
    width = len(str(spec.n - 1))
    return tuple(
        DemandScenario(
            name=f"sample-{i:0{width}d}",
            probability=1.0 / spec.n,
            factors={name: ramp(float(values[i]), periods) for name, values in growth.items()},
        )
        for i in range(spec.n)
    )


# --- price paths --------------------------------------------------------------------------


def _vendor(name: str, where: str, file: str) -> str:
    by_lower = {v.lower(): v for v in _VENDORS}
    hit = by_lower.get(name.strip().lower())
    if hit is None:
        raise UnknownNameError("vendor", name, _VENDORS, file=file, field=where)
    return hit


def _names(
    names: Sequence[str] | None,
    resolve: Callable[[str, str], str],
    field: str,
    problems: list[InputError],
) -> tuple[str, ...] | None:
    """``names`` resolved one by one (problems added for unknown ones), without repeats."""
    return None if names is None else resolved_names(resolve, names, field, problems)


def _price_paths(
    specs: list[PricePathSpec], periods: int, file: str, problems: list[InputError]
) -> tuple[PricePath, ...]:
    known = sorted(known_accelerators())

    def vendor(name: str, where: str) -> str:
        return _vendor(name, where, file)

    def accelerator(name: str, where: str) -> str:
        return _named(resolve_accelerator, name, known, where, file)

    out: list[PricePath] = []
    for i, spec in enumerate(specs):
        prefix = join_path("price_paths", i)
        found: list[InputError] = []
        vendors = _names(spec.vendor, vendor, join_path(prefix, "vendor"), found)
        accelerators = _names(
            spec.accelerator, accelerator, join_path(prefix, "accelerator"), found
        )
        _check_vendor_accelerators(vendors, accelerators, prefix, file, found)
        if spec.available_from >= periods:
            found.append(
                InputError(
                    f"period {spec.available_from} is past the {periods}-period horizon",
                    file=file,
                    field=join_path(prefix, "available_from"),
                    valid=f"a period from 0 to {periods - 1} (periods count from 0)",
                )
            )
        problems.extend(found)
        if not found:
            out.append(
                PricePath(
                    vendors=vendors,
                    accelerators=accelerators,
                    yearly_change=spec.yearly_change,
                    available_from=spec.available_from,
                )
            )
    return tuple(out)
