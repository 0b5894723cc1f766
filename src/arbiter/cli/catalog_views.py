"""Rich tables and JSON records for the catalog commands."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from arbiter.catalog.diff import CatalogDiff
from arbiter.catalog.history import HistoricalPrice
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.catalog import Catalog
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.store import VersionInfo


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def accelerator_record(acc: Accelerator) -> dict[str, Any]:
    return {
        "name": acc.name,
        "vendor": acc.vendor,
        "platform": acc.platform.value,
        "generation": acc.generation,
        "year": acc.year,
        "bf16_tflops": acc.bf16_tflops,
        "fp16_tflops": acc.fp16_tflops,
        "fp8_tflops": acc.fp8_tflops,
        "fp4_tflops": acc.fp4_tflops,
        "int8_tops": acc.int8_tops,
        "hbm_gb": acc.hbm_gb,
        "hbm_tbps": acc.hbm_tbps,
        "interconnect_gbps": acc.interconnect_gbps,
        "tdp_w": acc.tdp_w,
        "chips_per_node": acc.chips_per_node,
        "memory_type": acc.memory_type,
        "interconnect_type": acc.interconnect_type,
        "source": acc.source,
        "verified": acc.verified,
    }


def accelerators_table(accs: Sequence[Accelerator]) -> Table:
    table = Table(title=f"{len(accs)} accelerators (dense peaks per chip)")
    for name, justify in [
        ("accelerator", "left"),
        ("vendor", "left"),
        ("platform", "left"),
        ("year", "right"),
        ("BF16 TFLOPS", "right"),
        ("FP8 TFLOPS", "right"),
        ("FP4 TFLOPS", "right"),
        ("HBM GB", "right"),
        ("HBM TB/s", "right"),
        ("scale-up GB/s", "right"),
        ("TDP W", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for a in accs:
        table.add_row(
            a.name,
            a.vendor,
            a.platform.value,
            str(a.year),
            _num(a.bf16_tflops, 0),
            _num(a.fp8_tflops, 0),
            _num(a.fp4_tflops, 0),
            _num(a.hbm_gb, 0),
            _num(a.hbm_tbps, 2),
            _num(a.interconnect_gbps, 0),
            _num(a.tdp_w, 0),
        )
    return table


def offer_record(catalog: Catalog, offer: Offer) -> dict[str, Any]:
    acc = catalog.accelerators[offer.accelerator]
    return {
        "offer_id": offer.offer_id,
        "provider": offer.provider,
        "region": offer.region,
        "zone": offer.zone,
        "instance_type": offer.instance_type,
        "accelerator": offer.accelerator,
        "vendor": acc.vendor,
        "platform": acc.platform.value,
        "accelerators_per_instance": offer.accelerators_per_instance,
        "price_regime": offer.price_regime.value,
        "source_regime": offer.source_regime,
        "term_months": offer.term_months,
        "usd_per_hour": offer.usd_per_hour,
        "usd_per_accelerator_hour": offer.usd_per_accelerator_hour,
        "as_of": offer.as_of.text,
        "source": offer.source,
        "derived": offer.derived,
        "provenance": offer.provenance,
    }


def superseded_record(h: HistoricalPrice) -> dict[str, object]:
    """What replaced a superseded price, for ``catalog offers --history --json``."""
    return {
        "superseded_by_region": h.superseded_by_region,
        "superseded_by_usd_per_hour": h.superseded_by_usd_per_hour,
        "superseded_by_as_of": h.superseded_by_as_of,
        "superseded_reason": h.superseded_reason,
    }


def offers_table(catalog: Catalog, offers: Sequence[Offer], today: dt.date) -> Table:
    table = Table(title=f"{len(offers)} offers", caption="* derived price (see --json provenance)")
    for name, justify in [
        ("provider", "left"),
        ("region", "left"),
        ("instance type", "left"),
        ("accelerator", "left"),
        ("vendor", "left"),
        ("chips", "right"),
        ("regime", "left"),
        ("$/chip-h", "right"),
        ("$/h", "right"),
        ("as of", "left"),
        ("source", "left"),
    ]:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for o in offers:
        as_of = Text(o.as_of.text)
        if o.as_of.age_days(today) > 365:
            as_of.stylize("dim")
        table.add_row(
            o.provider,
            o.region,
            o.instance_type,
            o.accelerator,
            catalog.accelerators[o.accelerator].vendor,
            str(o.accelerators_per_instance),
            o.price_regime.value
            + (
                f" {o.term_months}m"
                if o.term_months and o.price_regime is PriceRegime.COMMITTED
                else ""
            ),
            f"{o.usd_per_accelerator_hour:,.3f}" + ("*" if o.derived else ""),
            f"{o.usd_per_hour:,.2f}",
            as_of,
            _short_source(o.source),
        )
    return table


def _short_source(source: str) -> str:
    text = source.removeprefix("https://").removeprefix("github.com/")
    return text[:48] + ("..." if len(text) > 48 else "")


def staleness_warning(offers: Sequence[Offer], today: dt.date, max_age_days: int) -> str | None:
    old = [o for o in offers if o.as_of.age_days(today) > max_age_days]
    if not old:
        return None
    oldest = min(old, key=lambda o: o.as_of.end)
    return (
        f"warning: {len(old)} of {len(offers)} offers shown are older than {max_age_days} days "
        f"(oldest observed by {oldest.as_of.end.isoformat()}: {oldest.provider} "
        f"{oldest.instance_type} {oldest.price_regime.value}). Prices move: import fresh feeds "
        "with 'arbiter catalog import', or change the limit with --max-age-days or "
        "ARBITER_MAX_AGE_DAYS."
    )


def _counts_table(title: str, counts: Counter[str]) -> Table:
    table = Table(title=title)
    table.add_column(title.rsplit(maxsplit=1)[-1])
    table.add_column("offers", justify="right")
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(key, str(n))
    return table


def summary(catalog: Catalog, version: str) -> list[Any]:
    offers = catalog.offers
    header = Text.assemble(
        ("arbiter catalog ", "bold"),
        f"version {version} (content hash {catalog.content_hash[:12]}): ",
        f"{len(catalog.accelerators)} accelerators, {len(offers)} offers from "
        f"{len(catalog.providers)} providers, "
        f"{len({catalog.vendor_of(o) for o in offers})} vendors, "
        f"{len({o.price_regime for o in offers})} price regimes",
    )
    grid = Table.grid(padding=(0, 4))
    grid.add_row(
        _counts_table("offers by vendor", Counter(catalog.vendor_of(o) for o in offers)),
        _counts_table("offers by provider", Counter(o.provider for o in offers)),
        _counts_table("offers by regime", Counter(o.price_regime.value for o in offers)),
    )
    return [header, grid, cheapest_table(catalog)]


def cheapest_table(catalog: Catalog) -> Table:
    table = Table(title="cheapest offer per accelerator ($ per accelerator-hour)")
    for name, justify in [
        ("accelerator", "left"),
        ("vendor", "left"),
        ("on-demand", "right"),
        ("where", "left"),
        ("any regime", "right"),
        ("where", "left"),
        ("as of", "left"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for acc, best_od, best_any in _cheapest(catalog):
        table.add_row(
            acc.name,
            acc.vendor,
            f"{best_od.usd_per_accelerator_hour:,.2f}" if best_od else "-",
            _where(best_od) if best_od else "",
            f"{best_any.usd_per_accelerator_hour:,.2f}",
            _where(best_any) + f" {best_any.price_regime.value}",
            best_any.as_of.text,
        )
    return table


def _where(offer: Offer) -> str:
    return f"{offer.provider} {offer.region} {offer.instance_type}"


def _cheapest(catalog: Catalog) -> Iterable[tuple[Accelerator, Offer | None, Offer]]:
    by_acc: dict[str, list[Offer]] = {}
    for o in catalog.offers:
        by_acc.setdefault(o.accelerator, []).append(o)
    for name in sorted(by_acc, key=lambda n: (catalog.accelerators[n].vendor, n)):
        group = by_acc[name]
        on_demand = [o for o in group if o.price_regime is PriceRegime.ON_DEMAND]
        best_od = min(on_demand, key=lambda o: o.usd_per_accelerator_hour) if on_demand else None
        yield (
            catalog.accelerators[name],
            best_od,
            min(group, key=lambda o: o.usd_per_accelerator_hour),
        )


def version_record(info: VersionInfo, current: str) -> dict[str, Any]:
    return {
        "version": info.version,
        "created_at": info.created_at,
        "label": info.label,
        "parent": info.parent,
        "n_offers": info.n_offers,
        "n_accelerators": info.n_accelerators,
        "current": info.version == current,
    }


def versions_table(infos: Sequence[VersionInfo], current: str) -> Table:
    table = Table(title="catalog versions")
    for name in ("", "version", "created", "offers", "label"):
        table.add_column(name)
    for v in infos:
        table.add_row(
            "*" if v.version == current else "",
            v.version if v.version == "default" else v.version[:16],
            v.created_at or "",
            str(v.n_offers),
            v.label or "",
        )
    return table


def diff_record(result: CatalogDiff) -> dict[str, Any]:
    def brief(o: Offer) -> dict[str, Any]:
        return {
            "offer_id": o.offer_id,
            "provider": o.provider,
            "region": o.region,
            "instance_type": o.instance_type,
            "price_regime": o.price_regime.value,
            "usd_per_hour": o.usd_per_hour,
            "as_of": o.as_of.text,
        }

    return {
        "added": [brief(o) for o in result.added],
        "removed": [brief(o) for o in result.removed],
        "changed": [
            {
                **brief(c.after),
                "usd_per_hour_before": c.before.usd_per_hour,
                "change_share": round(c.change_share, 6),
            }
            for c in result.changed
        ],
        "unchanged": result.unchanged,
    }


def diff_tables(result: CatalogDiff) -> list[Any]:
    out: list[Any] = [
        Text(
            f"{len(result.added)} added, {len(result.removed)} removed, "
            f"{len(result.changed)} price changes, {result.unchanged} unchanged"
        )
    ]
    if result.changed:
        table = Table(title="price changes")
        for name in (
            "provider",
            "region",
            "instance type",
            "regime",
            "before $/h",
            "after $/h",
            "change",
        ):
            table.add_column(name)
        for c in sorted(result.changed, key=lambda c: c.change_share):
            table.add_row(
                c.after.provider,
                c.after.region,
                c.after.instance_type,
                c.after.price_regime.value,
                f"{c.before.usd_per_hour:,.4f}",
                f"{c.after.usd_per_hour:,.4f}",
                f"{c.change_share:+.1%}",
            )
        out.append(table)
    for title, offers in (("added", result.added), ("removed", result.removed)):
        if offers:
            table = Table(title=title)
            for name in ("provider", "region", "instance type", "regime", "$/h", "as of"):
                table.add_column(name)
            for o in offers:
                table.add_row(
                    o.provider,
                    o.region,
                    o.instance_type,
                    o.price_regime.value,
                    f"{o.usd_per_hour:,.4f}",
                    o.as_of.text,
                )
            out.append(table)
    return out
