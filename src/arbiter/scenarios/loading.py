"""Read scenario files into a domain :class:`~arbiter.domain.scenario.ScenarioSet`.

The format is described in :mod:`arbiter.scenarios.spec`. Every problem becomes an
:class:`InputError` (or :class:`UnknownNameError`, with did-you-mean suggestions) naming
the file and the field path, such as ``shocks[2].capacity_factor.triangular``, and what
is valid; when a file has several problems the first is reported with "(and N more
problems)". Vendor, provider and accelerator names are canonicalised; workload names are
kept as given (they are checked against a fleet where one is known).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError

from arbiter.catalog.embedded import default_accelerators, known_accelerators
from arbiter.catalog.names import PROVIDERS, resolve_accelerator, resolve_provider
from arbiter.domain.accelerator import PLATFORM_BY_VENDOR
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.limits import shown
from arbiter.domain.scenario import (
    FOREVER,
    ZERO,
    Distribution,
    ScenarioSet,
    Selector,
    Shock,
    ShockKind,
    days_problem,
    magnitude_problem,
)
from arbiter.domain.workload import WorkloadKind
from arbiter.scenarios.spec import (
    MAGNITUDE_FIELD,
    OFFER_KEYS,
    SHOCK_KINDS,
    SPEC_BY_KIND,
    WORKLOAD_KEYS,
    DistributionSpec,
    ScenarioFileSpec,
    SelectSpec,
    ShockSpec,
    WindowedShockSpec,
    fields_of,
    kinds_with_field,
)
from arbiter.workloads.loading import read_data
from arbiter.workloads.problems import join_path, top_mapping, validation_problems, with_more

_EXPECTED = "a mapping with a `shocks:` list (and optionally horizon_days, penalty, factors)"
_DAYS_VALID = "days >= 0, such as 7 or {uniform: [0, 60]}"
_VALID_MAGNITUDE: dict[ShockKind, str] = {
    ShockKind.SUPPLY_CUT: "the factor of capacity left, every value in [0, 1], such as "
    "{triangular: [0.3, 0.6, 0.9]} or {beta: {a: 2, b: 2}}",
    ShockKind.PRICE_SHIFT: "a price factor, every value > 0, such as {uniform: [1.2, 1.8]}",
    ShockKind.SPOT_SURGE: "an interruption-rate multiplier, every value >= 1, such as "
    "{triangular: [1.5, 2, 4]}",
    ShockKind.OUTAGE: "an outage takes no magnitude",
    ShockKind.ROADMAP_SLIP: "a delay in days >= 0, such as {uniform: [30, 120]}",
    ShockKind.DEMAND_SHIFT: "a demand factor, every value > 0, such as "
    "{triangular: [1.0, 1.3, 2.0]}",
}
_VENDORS: tuple[str, ...] = tuple(PLATFORM_BY_VENDOR)
_WORKLOAD_KINDS: tuple[str, ...] = tuple(k.value for k in WorkloadKind)


def load_scenarios(path: Path) -> ScenarioSet:
    """The scenario set in the YAML (or JSON) file at ``path``."""
    return parse_scenarios(read_data(path, "scenario"), file=str(path))


def parse_scenarios(data: object, *, file: str) -> ScenarioSet:
    """The scenario set in already-parsed YAML/JSON ``data``; ``file`` names it in errors."""
    top = _top(data, file)
    problems: list[InputError] = []
    factors = _factors(top.factors, file, problems)
    shocks: list[Shock] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(top.shocks):
        prefix = join_path("shocks", i)
        spec = _shock_spec(item, prefix, file, problems)
        if spec is None:
            continue
        where = join_path(prefix, "name")
        if spec.name in seen:
            problems.append(
                InputError(
                    f"duplicate shock name {spec.name!r} (also at {seen[spec.name]})",
                    file=file,
                    field=where,
                    valid="a name no other shock in the file uses",
                )
            )
        seen.setdefault(spec.name, where)
        found: list[InputError] = []
        shock = _shock(spec, factors, top.horizon_days, prefix, file, found)
        problems.extend(found)
        if shock is not None and not found:
            shocks.append(shock)
    if problems:
        raise with_more(problems)
    try:
        return ScenarioSet(
            shocks=tuple(shocks),
            factors=factors,
            horizon_days=top.horizon_days,
            penalty=top.penalty,
            samples=top.samples,
            seed=top.seed,
            perf_error=top.perf_error,
        )
    except ValueError as exc:  # a rule of the domain that the checks above missed
        raise InputError(str(exc), file=file) from None


def _top(data: object, file: str) -> ScenarioFileSpec:
    data = top_mapping(data, file, _EXPECTED)
    try:
        top = ScenarioFileSpec.model_validate(data)
    except ValidationError as exc:
        raise with_more(validation_problems(exc, ScenarioFileSpec, "", file)) from None
    if not top.shocks:
        raise InputError(
            "lists no shocks", file=file, field="shocks", valid="a list of one or more shocks"
        )
    return top


def _factors(names: list[str], file: str, problems: list[InputError]) -> tuple[str, ...]:
    out: list[str] = []
    for i, name in enumerate(names):
        if name in out:
            problems.append(
                InputError(
                    f"duplicate factor {name!r}",
                    file=file,
                    field=join_path("factors", i),
                    valid="each factor listed once",
                )
            )
        else:
            out.append(name)
    return tuple(out)


def _shock_spec(
    item: object, prefix: str, file: str, problems: list[InputError]
) -> ShockSpec | None:
    """The validated spec of one shock, or ``None`` after adding its problems."""
    if not isinstance(item, Mapping):
        problems.append(
            InputError(
                f"each shock must be a mapping with name, kind and probability, got {shown(item)}",
                file=file,
                field=prefix,
            )
        )
        return None
    raw = item.get("kind")
    where = join_path(prefix, "kind")
    if raw is None:
        problems.append(
            InputError("is required", file=file, field=where, valid=", ".join(SHOCK_KINDS))
        )
        return None
    key = raw.strip().lower() if isinstance(raw, str) else raw
    if key not in SHOCK_KINDS:
        problems.append(
            UnknownNameError("shock kind", str(raw), SHOCK_KINDS, file=file, field=where)
        )
        return None
    kind = ShockKind(key)
    wrong = [str(name) for name in item if _wrong_field(str(name), kind, prefix, file, problems)]
    spec_cls = SPEC_BY_KIND[kind]
    try:  # the other fields, so that their problems are reported too
        spec = spec_cls.model_validate({k: v for k, v in item.items() if k not in wrong})
    except ValidationError as exc:
        problems.extend(validation_problems(exc, spec_cls, prefix, file))
        return None
    return None if wrong else spec


def _article(word: str) -> str:
    return "an" if word[:1] in set("aeiou") else "a"


def _wrong_field(
    name: str, kind: ShockKind, prefix: str, file: str, problems: list[InputError]
) -> bool:
    """Whether ``name`` is a field of other shock kinds only (adding the problem if so)."""
    own = fields_of(kind)
    others = kinds_with_field(name)
    if name in own or not others:
        return False
    if kind is ShockKind.ROADMAP_SLIP and name in {"start_days", "duration_days"}:
        message = f"a roadmap_slip starts at day 0 and lasts delay_days: it takes no {name}"
    elif len(others) == len(SHOCK_KINDS) - 1:
        message = f"{name} applies to every shock kind but {kind}"
    else:
        message = f"{name} belongs to {' and '.join(others)} shocks, not {kind}"
    problems.append(
        InputError(
            message,
            file=file,
            field=join_path(prefix, name),
            valid=f"{_article(kind)} {kind} shock takes {', '.join(own)}",
        )
    )
    return True


def _distribution(spec: DistributionSpec) -> Distribution:
    if spec.uniform is not None:
        return Distribution("uniform", (spec.uniform[0], spec.uniform[1]))
    if spec.triangular is not None:
        lo, mode, hi = spec.triangular
        return Distribution("triangular", (lo, mode, hi))
    if spec.lognormal is not None:
        return Distribution("lognormal", (spec.lognormal.median, spec.lognormal.sigma))
    if spec.beta is not None:
        b = spec.beta
        return Distribution("beta", (b.a, b.b, b.lo, b.hi))
    assert spec.fixed is not None
    return Distribution.fixed(spec.fixed)


def _shock(
    spec: ShockSpec,
    factors: tuple[str, ...],
    horizon_days: float | None,
    prefix: str,
    file: str,
    problems: list[InputError],
) -> Shock | None:
    """The domain shock for ``spec``, or ``None`` after adding its problems."""
    kind = spec.kind
    selector = _selector(spec.select, kind, join_path(prefix, "select"), file, problems)
    field = MAGNITUDE_FIELD[kind]
    magnitude = ZERO if field is None else _distribution(getattr(spec, field))
    if field is not None:
        problem = magnitude_problem(kind, magnitude)
        if problem is not None:
            problems.append(
                InputError(
                    problem,
                    file=file,
                    field=join_path(prefix, field),
                    valid=_VALID_MAGNITUDE[kind],
                )
            )
    if not isinstance(spec, WindowedShockSpec):  # a roadmap slip: from day 0, for the delay
        start, duration = ZERO, magnitude
    else:
        start = _distribution(spec.start_days)
        duration = FOREVER if spec.duration_days is None else _distribution(spec.duration_days)
        for name, dist in (("start_days", start), ("duration_days", duration)):
            problem = days_problem(dist, duration=name == "duration_days")
            if problem is not None:
                problems.append(
                    InputError(problem, file=file, field=join_path(prefix, name), valid=_DAYS_VALID)
                )
        if horizon_days is not None and start.support[0] >= horizon_days:
            problems.append(
                InputError(
                    f"the shock starts on day {start.support[0]:g} or later, after the "
                    f"{horizon_days:g}-day horizon ends",
                    file=file,
                    field=join_path(prefix, "start_days"),
                    valid=f"start days that can fall below horizon_days ({horizon_days:g})",
                )
            )
    factor, loading = _factor(spec, factors, prefix, file, problems)
    if problems:
        return None
    try:
        return Shock(
            name=spec.name,
            kind=kind,
            selector=selector,
            probability=spec.probability,
            magnitude=magnitude,
            start_days=start,
            duration_days=duration,
            factor=factor,
            loading=loading,
        )
    except ValueError as exc:  # a rule of the domain that the checks above missed
        problems.append(InputError(str(exc), file=file, field=prefix))
        return None


def _factor(
    spec: ShockSpec, factors: tuple[str, ...], prefix: str, file: str, problems: list[InputError]
) -> tuple[str | None, float]:
    if spec.factor is None:
        return None, 0.0
    name = spec.factor.name
    where = join_path(join_path(prefix, "factor"), "name")
    if name in factors:
        return name, spec.factor.loading
    if not factors:
        problems.append(
            InputError(
                f"factor {name!r} is not declared",
                file=file,
                field=where,
                valid=f"a name listed under the top-level `factors:`, such as factors: [{name}]",
            )
        )
    else:
        problems.append(UnknownNameError("factor", name, factors, file=file, field=where))
    return None, 0.0


def resolved_names(
    resolve: Callable[[str, str], str], names: Sequence[str], field: str, problems: list[InputError]
) -> tuple[str, ...]:
    """``names`` resolved one by one (problems added for unknown ones), without repeats."""
    out: list[str] = []
    for i, name in enumerate(names):
        try:
            hit = resolve(name, join_path(field, i))
        except InputError as exc:
            problems.append(exc)
            continue
        if hit not in out:
            out.append(hit)
    return tuple(out)


def _selector(
    spec: SelectSpec, kind: ShockKind, prefix: str, file: str, problems: list[InputError]
) -> Selector:
    given = [k for k in type(spec).model_fields if getattr(spec, k) is not None]
    for key in given:
        where = join_path(prefix, key)
        if kind.acts_on_workloads and key in OFFER_KEYS:
            problems.append(
                InputError(
                    f"a demand_shift acts on workloads, so it cannot select by {key}",
                    file=file,
                    field=where,
                    valid=f"select keys {', '.join(WORKLOAD_KEYS)}",
                )
            )
        elif not kind.acts_on_workloads and key in WORKLOAD_KEYS:
            problems.append(
                InputError(
                    f"a {kind} acts on offers, so it cannot select by {key} (workload and "
                    "kind select workloads, for demand_shift only)",
                    file=file,
                    field=where,
                    valid=f"select keys {', '.join(OFFER_KEYS)}",
                )
            )

    def vendor(name: str, where: str) -> str:
        by_lower = {v.lower(): v for v in _VENDORS}
        hit = by_lower.get(name.strip().lower())
        if hit is None:
            raise UnknownNameError("vendor", name, _VENDORS, file=file, field=where)
        return hit

    def provider(name: str, where: str) -> str:
        try:
            return resolve_provider(name, PROVIDERS, field=where)
        except UnknownNameError as exc:
            raise UnknownNameError(exc.kind, exc.name, PROVIDERS, file=file, field=where) from None

    known = sorted(known_accelerators())

    def accelerator(name: str, where: str) -> str:
        try:
            return resolve_accelerator(name, known, field=where)
        except UnknownNameError as exc:
            raise UnknownNameError(exc.kind, exc.name, known, file=file, field=where) from None

    def workload_kind(name: str, where: str) -> str:
        key = name.strip().lower()
        if key not in _WORKLOAD_KINDS:
            raise UnknownNameError("workload kind", name, _WORKLOAD_KINDS, file=file, field=where)
        return key

    def keep(name: str, _where: str) -> str:
        return name

    def field(key: str, resolve: Callable[[str, str], str]) -> tuple[str, ...] | None:
        names = getattr(spec, key)
        return (
            None
            if names is None
            else resolved_names(resolve, names, join_path(prefix, key), problems)
        )

    vendors = field("vendor", vendor)
    accelerators = field("accelerator", accelerator)
    kinds = field("kind", workload_kind)
    _check_vendor_accelerators(vendors, accelerators, prefix, file, problems)
    return Selector(
        vendors=vendors or None,
        providers=field("provider", provider) or None,
        regions=field("region", keep) or None,
        accelerators=accelerators or None,
        workloads=field("workload", keep) or None,
        kinds=tuple(WorkloadKind(k) for k in kinds) if kinds else None,
    )


def _check_vendor_accelerators(
    vendors: tuple[str, ...] | None,
    accelerators: tuple[str, ...] | None,
    prefix: str,
    file: str,
    problems: list[InputError],
) -> None:
    """A selector naming both vendors and accelerators must leave some chip."""
    if not vendors or not accelerators:
        return
    chips = default_accelerators()
    by = {a: chips[a].vendor for a in accelerators if a in chips}
    if by and not any(v in vendors for v in by.values()):
        made = ", ".join(f"{a} is made by {v}" for a, v in by.items())
        problems.append(
            InputError(
                f"selects no chip: {made}, not {' or '.join(vendors)}",
                file=file,
                field=join_path(prefix, "accelerator"),
                valid="accelerators made by one of the selected vendors, or only one of the two",
            )
        )
