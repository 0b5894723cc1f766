"""Every column of the catalog's tables, declared once: name, dtype, unit, meaning.

Loaders, writers, the store and the docs (docs/catalog-schema.md) read this table, as
PyPSA reads its component attribute tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from arbiter.domain.accelerator import Platform
from arbiter.domain.as_of import AsOf
from arbiter.domain.offer import PriceRegime


def _str(raw: str) -> str:
    return raw


def _opt_float(raw: str) -> float | None:
    return float(raw) if raw.strip() else None


def _float(raw: str) -> float:
    if not raw.strip():
        raise ValueError("a number is required")
    return float(raw)


def _opt_int(raw: str) -> int | None:
    return int(float(raw)) if raw.strip() else None


def _int(raw: str) -> int:
    if not raw.strip():
        raise ValueError("an integer is required")
    return int(float(raw))


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no", ""}:
        return False
    raise ValueError(f"{raw!r} is not a boolean (true/false)")


def _platform(raw: str) -> Platform:
    return Platform(raw.strip())


def _regime(raw: str) -> PriceRegime:
    return PriceRegime(raw.strip())


def _as_of(raw: str) -> AsOf:
    return AsOf.parse(raw)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: str
    unit: str
    description: str
    parse: Callable[[str], object]
    required: bool = True

    @property
    def attr(self) -> str:
        return self.name


ACCELERATOR_COLUMNS: tuple[Column, ...] = (
    Column("name", "str", "", "canonical accelerator name", _str),
    Column("vendor", "str", "", "NVIDIA, AMD, Google, AWS or Intel", _str),
    Column("platform", "str", "", "software platform: cuda, rocm, xla, neuron, gaudi", _platform),
    Column("generation", "str", "", "architecture / generation", _str),
    Column("year", "int", "year", "first general availability", _int),
    Column("bf16_tflops", "float", "TFLOPS", "dense BF16 peak per chip", _float),
    Column("fp16_tflops", "float", "TFLOPS", "dense FP16 peak per chip", _opt_float),
    Column("fp8_tflops", "float", "TFLOPS", "dense FP8 peak per chip (empty: no FP8)", _opt_float),
    Column("fp4_tflops", "float", "TFLOPS", "dense FP4 peak per chip (empty: no FP4)", _opt_float),
    Column("int8_tops", "float", "TOPS", "dense INT8 peak per chip", _opt_float),
    Column("hbm_gb", "float", "GB", "device memory per chip", _float),
    Column("hbm_tbps", "float", "TB/s", "device memory bandwidth per chip", _float),
    Column(
        "interconnect_gbps",
        "float",
        "GB/s",
        "scale-up bandwidth per chip, bidirectional",
        _opt_float,
    ),
    Column("tdp_w", "float", "W", "board power (empty: not published)", _opt_float),
    Column("chips_per_node", "int", "chips", "typical chips per server or host", _opt_int),
    Column("memory_type", "str", "", "HBM3, HBM3e, GDDR6 ...", _str),
    Column("interconnect_type", "str", "", "NVLink, Infinity Fabric, ICI, NeuronLink ...", _str),
    Column("source", "str", "", "vendor datasheet or documentation page", _str),
    Column("verified", "str", "", "yes, partial or no: checked against the vendor's page", _str),
    Column("notes", "str", "", "caveats and cross-checks", _str, required=False),
)

OFFER_COLUMNS: tuple[Column, ...] = (
    Column("provider", "str", "", "cloud or neocloud: aws, gcp, azure, oci, lambda ...", _str),
    Column("region", "str", "", "the provider's region code", _str),
    Column("zone", "str", "", "availability zone (id) when the price is zonal", _str),
    Column("instance_type", "str", "", "the provider's instance type or SKU", _str),
    Column("accelerator", "str", "", "canonical accelerator name", _str),
    Column("accelerators_per_instance", "int", "chips", "chips in one instance", _int),
    Column("price_regime", "str", "", "on_demand, spot, reserved_1y/3y ...", _regime),
    Column("source_regime", "str", "", "the source's own name for the regime", _str),
    Column("term_months", "int", "months", "commitment term (empty: none)", _opt_int),
    Column("usd_per_hour", "float", "USD/h", "price of one instance-hour", _float),
    Column("as_of", "str", "date", "day, month or interval of the observation", _as_of),
    Column("source", "str", "", "where the price comes from (URL, pinned)", _str),
    Column("derived", "bool", "", "true if arbiter computed the price", _bool),
    Column("provenance", "str", "", "the rule used when derived; notes", _str),
    Column("interruption_rate", "float", "1/h", "spot interruptions per hour if known", _opt_float),
    Column("capacity_instances", "int", "instances", "instances obtainable if known", _opt_int),
)


def schema_markdown() -> str:
    """docs/catalog-schema.md, written from the column tables above."""
    lines = [
        "# Catalog schema",
        "",
        "Generated from `src/arbiter/catalog/schema.py` by `scripts/build_catalog.py`;",
        "do not edit by hand. The CSV files, the store and the JSON output use these names.",
    ]
    for title, columns in (("accelerators", ACCELERATOR_COLUMNS), ("offers", OFFER_COLUMNS)):
        lines += ["", f"## {title}", "", "| column | dtype | unit | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.dtype} | {c.unit} | {c.description} |" for c in columns]
    return "\n".join(lines) + "\n"
