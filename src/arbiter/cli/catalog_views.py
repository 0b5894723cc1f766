"""Rich tables of the catalog commands' typed results (:mod:`arbiter.results.catalog`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from arbiter.domain.as_of import AsOf
from arbiter.domain.offer import PriceRegime
from arbiter.results.catalog import (
    AcceleratorSpec,
    CatalogDiff,
    CatalogOffer,
    CatalogSummary,
    CatalogVersion,
    OfferBrief,
    OfferPrice,
    PriceHistory,
)

OLD_PRICE_DAYS = 365  # an offer observed longer ago than this shows dimmed


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def accelerators_table(accs: Sequence[AcceleratorSpec]) -> Table:
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
            a.platform,
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


def offers_table(offers: Sequence[CatalogOffer], today: dt.date) -> Table:
    table = Table(
        title=f"{len(offers)} offers",
        caption="* derived price (see --json provenance); LZ: an AWS Local Zone",
    )
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
        as_of = Text(o.as_of)
        if _age_days(o.as_of, today) > OLD_PRICE_DAYS:
            as_of.stylize("dim")
        table.add_row(
            o.provider,
            o.region + (" (LZ)" if o.local_zone else ""),
            o.instance_type,
            o.accelerator,
            o.vendor,
            str(o.accelerators_per_instance),
            o.price_regime
            + (
                f" {o.term_months}m"
                if o.term_months and o.price_regime == PriceRegime.COMMITTED
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


def _age_days(as_of: str, today: dt.date) -> int:
    return AsOf.parse(as_of).age_days(today)


def staleness_warning(
    offers: Sequence[CatalogOffer], today: dt.date, max_age_days: int
) -> str | None:
    old = [o for o in offers if _age_days(o.as_of, today) > max_age_days]
    if not old:
        return None
    oldest = min(old, key=lambda o: AsOf.parse(o.as_of).end)
    return (
        f"warning: {len(old)} of {len(offers)} offers shown are older than {max_age_days} days "
        f"(oldest observed by {AsOf.parse(oldest.as_of).end.isoformat()}: {oldest.provider} "
        f"{oldest.instance_type} {oldest.price_regime}). Prices move: import fresh feeds "
        "with 'arbiter catalog import', or change the limit with --max-age-days or "
        "ARBITER_MAX_AGE_DAYS."
    )


def _counts_table(title: str, counts: Mapping[str, int]) -> Table:
    table = Table(title=title)
    table.add_column(title.rsplit(maxsplit=1)[-1])
    table.add_column("offers", justify="right")
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(key, str(n))
    return table


def summary(s: CatalogSummary) -> list[Any]:
    header = Text.assemble(
        ("arbiter catalog ", "bold"),
        f"version {s.version} (content hash {s.content_hash[:12]}): ",
        f"{s.n_accelerators} accelerators, {s.n_offers} offers from "
        f"{s.n_providers} providers, {s.n_vendors} vendors, {s.n_regimes} price regimes",
    )
    grid = Table.grid(padding=(0, 4))
    grid.add_row(
        _counts_table("offers by vendor", s.offers_by_vendor),
        _counts_table("offers by provider", s.offers_by_provider),
        _counts_table("offers by regime", s.offers_by_regime),
    )
    return [header, grid, cheapest_table(s), freshness_table(s)]


def freshness_table(s: CatalogSummary) -> Table:
    """How old each provider's prices are on the summary's date."""
    max_age = s.freshness[0].max_age_days if s.freshness else 0
    table = Table(title=f"how old the prices are on {s.today} (stale: over {max_age} days)")
    for name in ("provider", "offers", "to the day", "to the month", "by interval"):
        table.add_column(name, justify="left" if name == "provider" else "right")
    for name in ("newest (days)", "oldest (days)", "stale"):
        table.add_column(name, justify="right")
    for f in s.freshness:
        table.add_row(
            f.provider, str(f.offers), str(f.dated_to_the_day), str(f.dated_to_the_month),
            str(f.dated_by_interval), str(f.newest_age_days), str(f.oldest_age_days),
            str(f.stale),
        )  # fmt: skip
    return table


def cheapest_table(s: CatalogSummary) -> Table:
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
    for row in s.cheapest:
        od, best = row.on_demand, row.any_regime
        table.add_row(
            row.accelerator,
            row.vendor,
            f"{od.usd_per_accelerator_hour:,.2f}" if od else "-",
            _where(od) if od else "",
            f"{best.usd_per_accelerator_hour:,.2f}",
            _where(best) + f" {best.price_regime}",
            best.as_of,
        )
    return table


def _where(offer: OfferPrice) -> str:
    return f"{offer.provider} {offer.region} {offer.instance_type}"


def versions_table(versions: Sequence[CatalogVersion]) -> Table:
    table = Table(title="catalog versions")
    for name in ("", "version", "created", "offers", "label"):
        table.add_column(name)
    for v in versions:
        table.add_row(
            "*" if v.current else "",
            v.version if v.version == "default" else v.version[:16],
            v.created_at or "",
            str(v.n_offers),
            v.label or "",
        )
    return table


LARGEST_MOVES_NAMED = 3


def diff_tables(result: CatalogDiff, limit: int | None = None) -> list[Any]:
    """The counts and the largest moves by name, the price changes (largest move first,
    at most ``limit``), then the offers added and removed."""
    out: list[Any] = [
        Text(
            f"{len(result.added)} added, {len(result.removed)} removed, "
            f"{len(result.changed)} price changes, {result.unchanged} unchanged"
        )
    ]
    if result.changed:
        named = "; ".join(
            f"{c.provider} {c.instance_type} {c.region} {c.price_regime} {c.change_share:+.1%}"
            for c in list(result.changed)[:LARGEST_MOVES_NAMED]
        )
        out.append(Text(f"largest moves: {named}"))
        table = Table(title="price changes, largest move first")
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
        for c in list(result.changed)[:limit]:
            table.add_row(
                c.provider,
                c.region,
                c.instance_type,
                c.price_regime,
                f"{c.usd_per_hour_before:,.4f}",
                f"{c.usd_per_hour:,.4f}",
                f"{c.change_share:+.1%}",
            )
        out.append(table)
        if limit is not None and len(result.changed) > limit:
            out.append(Text(f"... and {len(result.changed) - limit} more (--limit, --json)"))
    lists: tuple[tuple[str, Sequence[OfferBrief]], ...] = (
        ("added", result.added),
        ("removed", result.removed),
    )
    for title, offers in lists:
        if offers:
            table = Table(title=title)
            for name in ("provider", "region", "instance type", "regime", "$/h", "as of"):
                table.add_column(name)
            for o in offers:
                table.add_row(
                    o.provider,
                    o.region,
                    o.instance_type,
                    o.price_regime,
                    f"{o.usd_per_hour:,.4f}",
                    o.as_of,
                )
            out.append(table)
    return out


def history_tables(h: PriceHistory, limit: int) -> list[Any]:
    """The prices per provider and regime, then the offers whose price moved (at most
    ``limit``, largest move first)."""
    n_offers = len({o.offer_id for o in h.observations})
    before = h.versions_read - 1
    lineage = f" and the {before} stored versions before it" if before else ""
    out: list[Any] = [
        Text(
            f"{h.accelerator}: {len(h.observations)} observations of {n_offers} offers in "
            f"catalog version {h.version[:12]}{lineage} (the embedded catalog's older prices "
            f"included); ages on {h.today}"
        )
    ]
    table = Table(title="by provider and regime (prices per chip-hour)")
    for name, justify in (
        ("provider", "left"),
        ("regime", "left"),
        ("offers", "right"),
        ("observations", "right"),
        ("oldest", "left"),
        ("newest", "left"),
        ("age", "right"),
        ("lowest now", "right"),
        ("median now", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in h.by_provider:
        table.add_row(
            r.provider,
            r.price_regime,
            str(r.offers),
            str(r.observations),
            r.oldest_as_of,
            r.newest_as_of,
            f"{r.newest_age_days} d",
            f"{r.lowest_usd_per_accelerator_hour:,.3f}",
            f"{r.median_usd_per_accelerator_hour:,.3f}",
        )
    out.append(table)
    if h.moves:
        moves = Table(title=f"offers whose price moved ({len(h.moves)}, largest move first)")
        for name in ("provider", "region", "instance type", "regime", "n", "first", "last"):
            moves.add_column(name)
        moves.add_column("change", justify="right")
        for v in list(h.moves)[:limit]:
            moves.add_row(
                v.provider,
                v.region,
                v.instance_type,
                v.price_regime,
                str(v.observations),
                f"{v.first_as_of} ${v.first_usd_per_accelerator_hour:,.3f}",
                f"{v.last_as_of} ${v.last_usd_per_accelerator_hour:,.3f}",
                f"{v.change_share:+.1%}",
            )
        out.append(moves)
        if len(h.moves) > limit:
            out.append(Text(f"... and {len(h.moves) - limit} more (--limit, --json)"))
    else:
        out.append(Text("no offer has more than one observation"))
    return out
