"""Benchmarks of the catalog: feed parsing and offer filtering.

    make bench            # or: .venv/bin/python bench/run.py

Writes bench/RESULTS.md with the machine, the date and the figures. Each figure is the
median of several repeats in one run; targets are from the catalog issue:
parse 100,000 Azure retail records in <= 3 s, filter 50,000 offers by accelerator and
region in <= 20 ms.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from arbiter.catalog.embedded import default_catalog, known_accelerators
from arbiter.catalog.feeds import azure
from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.query import OfferQuery, OfferTable
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.offer import Offer, PriceRegime

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "feeds" / "azure-retail-prices.sample.json"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

AZURE_RECORDS = 100_000
FILTER_OFFERS = 50_000
AZURE_SKUS = (
    "Standard_ND96isr_H100_v5",
    "Standard_ND96isr_H200_v5",
    "Standard_ND96amsr_A100_v4",
    "Standard_NC24ads_A100_v4",
    "Standard_NC40ads_H100_v5",
    "Standard_D8s_v5",
    "Standard_E64_v5",
    "Standard_NC6s_v3",
)
AZURE_REGIONS = ("eastus", "westus2", "westeurope", "swedencentral", "southcentralus", "japaneast")


def _median_seconds(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def azure_feed(n: int, seed: int = 7) -> bytes:
    """``n`` Azure retail records with the sample's shape: each a copy of a real sample
    record with SKU, region, meter kind (Linux, Windows, Spot, Low Priority,
    Reservation) and price varied."""
    rng = random.Random(seed)
    template = json.loads(SAMPLE.read_text())
    base = next(i for i in template["Items"] if i["type"] == "Consumption")
    items = []
    for k in range(n):
        item = dict(base)
        sku = rng.choice(AZURE_SKUS)
        kind = rng.choice(("linux", "linux", "windows", "spot", "low", "reservation"))
        words = sku.removeprefix("Standard_").replace("_", " ")
        item["armSkuName"] = sku
        item["armRegionName"] = rng.choice(AZURE_REGIONS)
        item["meterName"] = words + {"spot": " Spot", "low": " Low Priority"}.get(kind, "")
        item["skuName"] = item["meterName"]
        item["productName"] = "Virtual Machines Series" + (" Windows" if kind == "windows" else "")
        item["retailPrice"] = item["unitPrice"] = round(rng.uniform(0.5, 120.0), 4)
        item["meterId"] = f"meter-{k}"
        item.pop("savingsPlan", None)
        if kind == "reservation":
            item["type"] = "Reservation"
            item["reservationTerm"] = rng.choice(("1 Year", "3 Years"))
            item["retailPrice"] = item["unitPrice"] = round(item["retailPrice"] * 8760 * 0.6, 2)
        else:
            item["type"] = "Consumption"
            item.pop("reservationTerm", None)
        items.append(item)
    return json.dumps({**template, "Items": items, "NextPageLink": None, "Count": n}).encode()


def synthetic_catalog(n: int, seed: int = 11) -> Catalog:
    """``n`` offers spread over the real accelerators, providers, regions and regimes of
    the default catalog, with random prices."""
    rng = random.Random(seed)
    real = default_catalog()
    regions = sorted({o.region for o in real.offers}) + [f"region-{i}" for i in range(60)]
    providers = real.providers
    accs = sorted(real.accelerators)
    offers = [
        Offer(
            provider=rng.choice(providers),
            region=rng.choice(regions),
            instance_type=f"type-{k}",
            accelerator=rng.choice(accs),
            accelerators_per_instance=rng.choice((1, 4, 8, 16)),
            price_regime=rng.choice(list(PriceRegime)),
            usd_per_hour=round(rng.uniform(0.5, 120.0), 4),
            as_of=AsOf.parse("2026-09-01"),
            source="synthetic",
        )
        for k in range(n)
    ]
    return Catalog.of(real.accelerators.values(), offers)


def main() -> None:
    ctx = FeedContext(
        file="synthetic-azure.json",
        known_accelerators=known_accelerators(),
        observed_on=dt.date(2026, 11, 1),
    )
    feed = azure_feed(AZURE_RECORDS)
    parse_s, parsed = _median_seconds(lambda: azure.parse(feed, ctx), repeats=3)
    n_offers = len(parsed.offers)  # type: ignore[attr-defined]

    catalog = synthetic_catalog(FILTER_OFFERS)
    index_s, table = _median_seconds(lambda: OfferTable(catalog), repeats=3)
    query = OfferQuery(accelerators=["H100"], region="us-*")
    filter_s, hits = _median_seconds(lambda: table.select(query), repeats=50)  # type: ignore[attr-defined]
    scan_s, scan_hits = _median_seconds(
        lambda: sorted(
            (
                o
                for o in catalog.offers
                if o.accelerator == "H100-SXM" and o.region.startswith("us-")
            ),
            key=lambda o: o.usd_per_accelerator_hour,
        ),
        repeats=10,
    )
    assert len(hits) == len(scan_hits)  # type: ignore[arg-type]

    cpu = _cpu_model()
    rows = [
        (
            "parse 100,000 Azure retail records",
            f"{parse_s:.3f} s",
            "<= 3 s",
            parse_s <= 3.0,
            f"{n_offers} offers kept",
        ),
        (
            "filter 50,000 offers by accelerator and region (indexed)",
            f"{filter_s * 1000:.2f} ms",
            "<= 20 ms",
            filter_s <= 0.020,
            f"{len(hits)} hits",
        ),  # type: ignore[arg-type]
        (
            "  same query as a plain Python scan, for comparison",
            f"{scan_s * 1000:.2f} ms",
            "",
            None,
            f"{scan_s / filter_s:.0f}x the indexed query",
        ),
        (
            "  building the index of 50,000 offers (once per catalog)",
            f"{index_s * 1000:.1f} ms",
            "",
            None,
            "",
        ),
    ]
    lines = [
        "# Benchmark results",
        "",
        f"Run {dt.date.today().isoformat()} with `make bench` (bench/run.py); medians of repeats.",
        "",
        f"Machine: {platform.platform()}, {cpu}, Python {platform.python_version()}.",
        "",
        "| benchmark | result | target | met | note |",
        "|---|---|---|---|---|",
    ]
    for name, result, target, met, note in rows:
        flag = "" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {result} | {target} | {flag} | {note} |")
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                count = Path("/proc/cpuinfo").read_text().count("model name")
                return f"{count} x {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
