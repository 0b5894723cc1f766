"""Read deal files into a domain :class:`~arbiter.domain.deal.Deal`.

The format is described in :mod:`arbiter.deals.spec`. Every problem becomes an
:class:`InputError` (or :class:`UnknownNameError`, with did-you-mean suggestions) naming
the deal file and the field path, such as ``capital.tranches[1].period``, and what is
valid; when a file has several problems the first is reported with "(and N more
problems)". The referenced procurement file is loaded with
:func:`arbiter.procure.load_procurement`; its own problems name that file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from arbiter.catalog.embedded import default_accelerators, known_accelerators
from arbiter.catalog.names import PROVIDERS, resolve_accelerator, resolve_provider
from arbiter.deals.spec import (
    CoversSpec,
    DealFileSpec,
    ObligationSpec,
    PortingSpec,
    TrancheSpec,
)
from arbiter.domain.deal import (
    SHARE_TOLERANCE,
    USAGE_CONDITION,
    Deal,
    Obligation,
    Porting,
    Tranche,
)
from arbiter.domain.errors import InputError
from arbiter.domain.procurement import HOURS_PER_PERIOD, ProcurementProblem
from arbiter.domain.scenario import ScenarioSet
from arbiter.domain.units import HOURS_PER_YEAR
from arbiter.procure import load_procurement
from arbiter.scenarios import load_scenarios
from arbiter.scenarios.loading import _distribution, resolved_names
from arbiter.scenarios.spec import DISTRIBUTION_FORMS
from arbiter.workloads.convert import _named
from arbiter.workloads.loading import read_data
from arbiter.workloads.problems import join_path, top_mapping, validation_problems, with_more

_EXPECTED = "a mapping with name, counterparty, covers, obligation, valuation and procurement"


def load_deal(path: Path) -> Deal:
    """The deal in the YAML (or JSON) file at ``path``, with its procurement problem."""
    return parse_deal(read_data(path, "deal"), file=str(path), base=path.parent)


def parse_deal(data: object, *, file: str, base: Path) -> Deal:
    """The deal in already-parsed ``data``; ``file`` names it and ``base`` is the folder
    its ``procurement`` path is relative to."""
    top = _top(data, file)
    problems: list[InputError] = []
    counterparty = _counterparty(top.counterparty, file, problems)
    raw_covers = data.get("covers") if isinstance(data, Mapping) else None
    covers = _covers(top.covers, isinstance(raw_covers, str | list), file, problems)
    procurement = _procurement(top.procurement, base, file, problems)
    years = top.valuation.horizon_years
    periods_per_year = (
        None
        if procurement is None
        else round(HOURS_PER_YEAR / HOURS_PER_PERIOD[procurement.period])
    )
    tranches = _tranches(top.capital.tranches, years, periods_per_year, file, problems)
    obligation = _obligation(top.obligation, years, file, problems)
    porting = _porting(top.porting, covers, file, problems)
    if procurement is not None and periods_per_year is not None:
        _horizon(procurement, years, periods_per_year, top.procurement, file, problems)
    scenarios = None
    if top.scenarios is not None:
        scenarios = _scenarios(top.scenarios, base, procurement, file, problems)
    if problems:
        raise with_more(problems)
    assert procurement is not None
    assert obligation is not None
    try:
        return Deal(
            name=top.name,
            counterparty=counterparty,
            covers=covers,
            discount=top.discount,
            tranches=tranches,
            credits_usd=top.capital.credits_usd,
            obligation=obligation,
            porting=porting,
            equity_haircut=top.valuation.equity_haircut,
            discount_rate=top.valuation.discount_rate,
            horizon_years=years,
            procurement=procurement,
            scenarios=scenarios,
            scenarios_file=top.scenarios,
            procurement_file=top.procurement,
        )
    except ValueError as exc:  # a rule of the domain that the checks above missed
        raise InputError(str(exc), file=file) from None


# --- top level ----------------------------------------------------------------------------


def _top(data: object, file: str) -> DealFileSpec:
    data = top_mapping(data, file, _EXPECTED)
    try:
        return DealFileSpec.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, DealFileSpec, "", file)
        if isinstance(data.get("covers"), str | list):  # written as a plain list of names
            problems = [_unlisted(p) for p in problems]
        raise with_more(problems) from None


def _unlisted(problem: InputError) -> InputError:
    """``covers.accelerators[i]`` as ``covers[i]``: the list was written as ``covers``."""
    field = problem.field or ""
    inner = "covers.accelerators"
    if not field.startswith(inner):
        return problem
    return InputError(
        problem.message,
        file=problem.file,
        field="covers" + field[len(inner) :],
        valid=problem.valid,
    )


def _counterparty(name: str, file: str, problems: list[InputError]) -> str:
    try:
        return _named(resolve_provider, name, PROVIDERS, "counterparty", file)
    except InputError as exc:
        problems.append(exc)
        return name


def _covers(
    spec: CoversSpec, as_list: bool, file: str, problems: list[InputError]
) -> tuple[str, ...]:
    """Canonical accelerator names; a vendor stands for all of its chips in the catalog."""
    if spec.vendor is not None:
        chips = sorted(a.name for a in default_accelerators().values() if a.vendor == spec.vendor)
        if not chips:
            problems.append(
                InputError(
                    f"the catalog has no {spec.vendor} chips",
                    file=file,
                    field="covers.vendor",
                    valid="a vendor with chips in the catalog, or a list of accelerators",
                )
            )
        return tuple(chips)
    assert spec.accelerators is not None
    known = sorted(known_accelerators())

    def accelerator(name: str, where: str) -> str:
        return _named(resolve_accelerator, name, known, where, file)

    field = "covers" if as_list else "covers.accelerators"
    return resolved_names(accelerator, spec.accelerators, field, problems)


def _procurement(
    reference: str, base: Path, file: str, problems: list[InputError]
) -> ProcurementProblem | None:
    """The procurement problem of the referenced file; its own problems name that file."""
    path = base / reference
    if not _is_file(path):
        what = "is a directory" if _is_dir(path) else "not found"
        problems.append(
            InputError(
                f"procurement file {reference!r} {what} (looked for {path})",
                file=file,
                field="procurement",
                valid="the path of a procurement file, relative to the deal file "
                "(such as ../procure.yaml)",
            )
        )
        return None
    return load_procurement(path)


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a path the file system refuses (a name too long)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _horizon(
    procurement: ProcurementProblem,
    years: int,
    periods_per_year: int,
    reference: str,
    file: str,
    problems: list[InputError],
) -> None:
    """The procurement file must run at least as long as the deal."""
    need = years * periods_per_year
    if procurement.periods < need:
        have = procurement.periods / periods_per_year
        problems.append(
            InputError(
                f"is {years} years ({need} {procurement.period}s), but the procurement file "
                f"{reference!r} covers only {procurement.periods} ({have:g} years)",
                file=file,
                field="valuation.horizon_years",
                valid=f"at most {procurement.periods // periods_per_year} years, or a "
                "procurement file that covers the deal's horizon",
            )
        )


def _scenarios(
    reference: str,
    base: Path,
    procurement: ProcurementProblem | None,
    file: str,
    problems: list[InputError],
) -> ScenarioSet | None:
    """The shock file the deal's worth is sampled over; its own problems name it."""
    path = base / reference
    if not _is_file(path):
        problems.append(
            InputError(
                f"scenario file {reference!r} not found (looked for {path})",
                file=file,
                field="scenarios",
                valid="the path of a scenario file, relative to the deal file",
            )
        )
        return None
    scenarios = load_scenarios(path)
    if procurement is not None:
        check_class_names(scenarios, procurement, str(path))
    return scenarios


def check_class_names(scenarios: ScenarioSet, procurement: ProcurementProblem, file: str) -> None:
    """Shocks that select workloads by name must name the procurement file's classes."""
    names = {c.name for c in procurement.classes}
    for i, shock in enumerate(scenarios.shocks):
        for name in shock.selector.workloads or ():
            if name not in names:
                raise InputError(
                    f"shock {shock.name!r} selects workload {name!r}, which is not a class "
                    "of the procurement file",
                    file=file,
                    field=f"shocks[{i}].select.workload",
                    valid=", ".join(sorted(names)),
                )


# --- capital, obligation, porting ---------------------------------------------------------


def _tranches(
    specs: list[TrancheSpec],
    years: int,
    periods_per_year: int | None,
    file: str,
    problems: list[InputError],
) -> tuple[Tranche, ...]:
    out: list[Tranche] = []
    for i, spec in enumerate(specs):
        horizon = None if periods_per_year is None else years * periods_per_year
        if horizon is not None and spec.period >= horizon:
            problems.append(
                InputError(
                    f"period {spec.period} is past the {years}-year horizon ({horizon} periods)",
                    file=file,
                    field=join_path(join_path("capital.tranches", i), "period"),
                    valid=f"a period from 0 to {horizon - 1} (the procurement file's periods, "
                    f"{periods_per_year} a year, counted from 0)",
                )
            )
            continue
        condition = spec.condition.strip()
        if condition.lower().startswith("usage") and not USAGE_CONDITION.match(condition):
            problems.append(
                InputError(
                    f"cannot read the usage condition {condition!r}",
                    file=file,
                    field=join_path(join_path("capital.tranches", i), "condition"),
                    valid="'usage >= X% of commitment' (paid once covered spend reaches X% of "
                    "the committed spend), or a condition outside the plan such as "
                    "'milestone: ...'",
                )
            )
            continue
        out.append(
            Tranche(
                usd=spec.usd,
                period=spec.period,
                probability=spec.probability,
                condition=spec.condition,
                kind=spec.kind,
            )
        )
    return tuple(out)


def _obligation(
    spec: ObligationSpec, years: int, file: str, problems: list[InputError]
) -> Obligation | None:
    found: list[InputError] = []
    for key in ("min_spend_usd_per_year", "ramp"):
        values = getattr(spec, key)
        if values is not None and len(values) != years:
            found.append(
                InputError(
                    f"has {len(values)} values for a {years}-year horizon",
                    file=file,
                    field=join_path("obligation", key),
                    valid=f"a list of {years} values, one per year (valuation.horizon_years)",
                )
            )
    if spec.ramp is not None and sum(spec.ramp) > 1 + SHARE_TOLERANCE:
        found.append(
            InputError(
                f"shares sum to {sum(spec.ramp):g}, above 1",
                file=file,
                field="obligation.ramp",
                valid="the minimum share of total_spend_usd to spend in each year, "
                "summing to at most 1",
            )
        )
    problems.extend(found)
    if found:
        return None
    return Obligation(
        min_spend_usd_per_year=(
            None if spec.min_spend_usd_per_year is None else tuple(spec.min_spend_usd_per_year)
        ),
        total_spend_usd=spec.total_spend_usd,
        ramp=None if spec.ramp is None else tuple(spec.ramp),
        shortfall_penalty=spec.shortfall_penalty,
        min_share=spec.min_share,
    )


def _porting(
    spec: PortingSpec | None, covers: tuple[str, ...], file: str, problems: list[InputError]
) -> Porting | None:
    if spec is None:
        return None
    found: list[InputError] = []
    accelerators = default_accelerators()
    platforms = sorted({accelerators[c].platform for c in covers if c in accelerators})
    if platforms and spec.platform not in platforms:
        found.append(
            InputError(
                f"the covered chips run on {', '.join(platforms)}, not {spec.platform}",
                file=file,
                field="porting.platform",
                valid=f"the platform of the covered chips: {', '.join(platforms)}",
            )
        )
    efficiency = _distribution(spec.efficiency)
    if not efficiency.is_positive:
        found.append(
            InputError(
                f"can be {efficiency.support[0]:g}, not above 0",
                file=file,
                field="porting.efficiency",
                valid=f"the achieved share of estimated performance, every value > 0: "
                f"{DISTRIBUTION_FORMS}",
            )
        )
    problems.extend(found)
    if found:
        return None
    return Porting(
        platform=spec.platform,
        enable_usd=spec.enable_usd,
        lead_weeks=spec.lead_weeks,
        efficiency=efficiency,
    )
