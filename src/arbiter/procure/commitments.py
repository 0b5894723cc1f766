"""The commitment products of a procurement file: resolved names, terms in whole periods,
prices per chip-hour given or derived as a discount off the catalog's on-demand price."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence

from arbiter.catalog.embedded import default_catalog, known_accelerators
from arbiter.catalog.names import PROVIDERS, resolve_accelerator, resolve_provider
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import InputError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.procurement import CommitmentProduct
from arbiter.procure.spec import (
    TERM_FORMS,
    CommitmentSpec,
    ProcurementFileSpec,
    term_hours,
)
from arbiter.workloads.convert import _named
from arbiter.workloads.problems import join_path


def duplicate_name(
    what: str, name: str, where: str, seen: dict[str, str], file: str
) -> InputError | None:
    """A problem if ``name`` is already in ``seen`` (which then keeps its first place)."""
    if name in seen:
        return InputError(
            f"duplicate {what} name {name!r} (also at {seen[name]})",
            file=file,
            field=where,
            valid=f"a name no other {what} in the file uses",
        )
    seen[name] = where
    return None


def term_periods(term: str, period_hours: float) -> int:
    """Whole periods a term covers: rounded up, at least one."""
    return max(1, math.ceil(term_hours(term) / period_hours - 1e-9))


# --- commitments --------------------------------------------------------------------------


def _in_regions(region: str, regions: tuple[str, ...] | None) -> bool:
    return regions is None or any(
        fnmatch.fnmatchcase(region.lower(), glob.lower()) for glob in regions
    )


def _on_demand(provider: str, accelerator: str) -> list[Offer]:
    return [
        o
        for o in default_catalog().offers
        if o.provider == provider
        and o.accelerator == accelerator
        and o.price_regime is PriceRegime.ON_DEMAND
    ]


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _cheapest(
    spec: CommitmentSpec,
    provider: str,
    accelerator: str,
    regions: tuple[str, ...] | None,
    prefix: str,
    file: str,
) -> Offer:
    """The cheapest on-demand offer a ``discount`` applies to; bad input if there is none."""
    offers = _on_demand(provider, accelerator)
    if not offers:
        sold = sorted(
            {
                o.accelerator
                for o in default_catalog().offers
                if o.provider == provider and o.price_regime is PriceRegime.ON_DEMAND
            }
        )
        raise InputError(
            f"{provider} sells no {accelerator} on demand in the embedded catalog, so a "
            "discount has no price to start from",
            file=file,
            field=join_path(prefix, "accelerator"),
            valid=f"usd_per_chip_hour (the committed price), or a chip {provider} sells on "
            f"demand: {_listing(sold)}",
        )
    if spec.region is not None:
        wanted = spec.region.lower()
        there = [o for o in offers if o.region.lower() == wanted]
        if not there:
            places = sorted({o.region for o in offers if _in_regions(o.region, regions)})
            raise InputError(
                f"{provider} sells no {accelerator} on demand in {spec.region} in the embedded "
                "catalog, so a discount has no price to start from",
                file=file,
                field=join_path(prefix, "region"),
                valid="usd_per_chip_hour (the committed price), or a region with an on-demand "
                f"offer: {_listing(places) or 'none that constraints.regions allows'}",
            )
        return min(there, key=lambda o: (o.usd_per_accelerator_hour, o.region, o.key))
    there = [o for o in offers if _in_regions(o.region, regions)]
    if not there:
        raise InputError(
            f"{provider} sells no {accelerator} on demand in a region constraints.regions "
            f"allows ({', '.join(regions or ())}) in the embedded catalog, so a discount has "
            "no price to start from",
            file=file,
            field=join_path(prefix, "accelerator"),
            valid="usd_per_chip_hour with a region, or constraints.regions that allow one of "
            f"{_listing(sorted({o.region for o in offers}))}",
        )
    return min(there, key=lambda o: (o.usd_per_accelerator_hour, o.region, o.key))


def _price(
    spec: CommitmentSpec,
    provider: str,
    accelerator: str,
    regions: tuple[str, ...] | None,
    prefix: str,
    file: str,
) -> tuple[float, str, str, AsOf | None]:
    """USD per chip-hour, region, source and (for a discount) the date of the catalog price
    of a commitment."""
    given = [k for k in ("usd_per_chip_hour", "discount") if getattr(spec, k) is not None]
    if len(given) != 1:
        raise InputError(
            "a commitment needs exactly one of usd_per_chip_hour and discount",
            file=file,
            field=join_path(prefix, given[1] if given else "usd_per_chip_hour"),
            valid="usd_per_chip_hour (the committed price, > 0) or discount (a fraction in "
            "(0, 1) off the provider's cheapest on-demand price for the chip)",
        )
    if spec.usd_per_chip_hour is not None:
        if spec.region is None:
            raise InputError(
                "a commitment priced with usd_per_chip_hour needs its region",
                file=file,
                field=join_path(prefix, "region"),
                valid="the region the chips are in, such as us-east-1",
            )
        return spec.usd_per_chip_hour, spec.region, "file", None
    assert spec.discount is not None
    offer = _cheapest(spec, provider, accelerator, regions, prefix, file)
    base = offer.usd_per_accelerator_hour
    source = (
        f"{spec.discount * 100:g}% off the {provider} on-demand price of {base:.4g} USD/chip-h "
        f"in {offer.region} ({offer.instance_type}, embedded catalog, as of {offer.as_of.text}: "
        f"{offer.source})"
    )
    return base * (1.0 - spec.discount), spec.region or offer.region, source, offer.as_of


def products_of(
    top: ProcurementFileSpec,
    period_hours: float,
    regions: tuple[str, ...] | None,
    file: str,
    problems: list[InputError],
) -> tuple[CommitmentProduct, ...]:
    known = sorted(known_accelerators())
    out: list[CommitmentProduct] = []
    seen: dict[str, str] = {}
    for i, spec in enumerate(top.commitments):
        prefix = join_path("commitments", i)
        found: list[InputError] = []
        duplicate = duplicate_name("commitment", spec.name, join_path(prefix, "name"), seen, file)
        if duplicate is not None:
            found.append(duplicate)
        try:
            provider = _named(
                resolve_provider, spec.provider, PROVIDERS, join_path(prefix, "provider"), file
            )
            accelerator = _named(
                resolve_accelerator, spec.accelerator, known, join_path(prefix, "accelerator"), file
            )
        except InputError as exc:
            problems.extend([*found, exc])
            continue
        if spec.region is not None and not _in_regions(spec.region, regions):
            found.append(
                InputError(
                    f"region {spec.region!r} is not among the regions constraints.regions allows",
                    file=file,
                    field=join_path(prefix, "region"),
                    valid=f"a region matching {' or '.join(regions or ())}",
                )
            )
        try:
            price, region, source, as_of = _price(
                spec, provider, accelerator, regions, prefix, file
            )
        except InputError as exc:
            found.append(exc)
            price, region, source, as_of = 0.0, "", "", None
        periods = term_periods(spec.term, period_hours)
        found += _size_problems(spec, top, periods, prefix, file)
        problems.extend(found)
        if found:
            continue
        out.append(
            CommitmentProduct(
                name=spec.name,
                provider=provider,
                accelerator=accelerator,
                region=region,
                usd_per_chip_hour=price,
                term_periods=periods,
                upfront_share=spec.upfront_share,
                min_chips=spec.min_chips,
                max_chips=spec.max_chips,
                resale_share=spec.resale_share,
                source=source,
                as_of=as_of,
            )
        )
    return tuple(out)


def _size_problems(
    spec: CommitmentSpec, top: ProcurementFileSpec, periods: int, prefix: str, file: str
) -> list[InputError]:
    """A term longer than the horizon (with salvage none), ``max_chips`` below
    ``min_chips``."""
    unit = top.horizon.period
    found: list[InputError] = []
    if top.salvage == "none" and periods > top.horizon.periods:
        found.append(
            InputError(
                f"a {spec.term} term is {periods} {unit}s, longer than the "
                f"{top.horizon.periods}-{unit} horizon, and salvage is none",
                file=file,
                field=join_path(prefix, "term"),
                valid=f"a term of at most {top.horizon.periods} {unit}s ({TERM_FORMS}), "
                "or salvage: prorate to count only the periods inside the horizon",
            )
        )
    if spec.max_chips is not None and spec.max_chips < spec.min_chips:
        found.append(
            InputError(
                f"max_chips {spec.max_chips} is below min_chips {spec.min_chips}",
                file=file,
                field=join_path(prefix, "max_chips"),
                valid=f"at least min_chips ({spec.min_chips}), or leave it out for no limit",
            )
        )
    return found
