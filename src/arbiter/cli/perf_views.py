"""Tables and JSON records for ``arbiter estimate`` and ``arbiter perf``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from arbiter.domain.model_arch import ModelArch
from arbiter.perf.cross_validation import CrossValidation
from arbiter.perf.validation import ValidationReport
from arbiter.results.estimate import WorkloadEstimates


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


def band_text(
    share: float | None, cases: int | None, basis: str = "", chip: int | None = None
) -> str:
    """``+/-38%, 12 cases (3 on this chip)`` (``measured`` for a user's own measurement,
    ``-`` if unknown)."""
    if basis.startswith("measured by the user"):
        return "measured"
    if share is None or cases is None:
        return "-"
    on_chip = "" if chip is None else f" ({chip} on this chip)"
    return f"+/-{100 * share:.0f}%, {cases} case{'' if cases == 1 else 's'}{on_chip}"


def estimates_table(w: WorkloadEstimates) -> Table:
    unit = "trained" if w.kind in ("train", "finetune") else "generated"
    table = Table(
        title=f"{w.name}: {w.kind} {w.model} {w.precision}, {w.work_tokens:,.3g} {unit} tokens",
        title_justify="left",
    )
    for col, justify in (
        ("#", "right"),
        ("accelerator", "left"),
        ("chips", "right"),
        ("layout", "left"),
        ("tokens/s", "right"),
        ("hours", "right"),
        ("HBM GB/chip", "right"),
        ("cheapest offer", "left"),
        ("$/chip-h", "right"),
        ("USD per job", "right"),
        ("$/M tokens", "right"),
        ("error band", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for rank, e in enumerate(w.estimates, start=1):
        offer = e.offer
        where = "-" if offer is None else f"{offer.provider} {offer.region} {offer.price_regime}"
        if offer is not None and offer.price_age_days is not None:
            where += f" ({offer.price_age_days} d old)"
        layout = "measured" if e.source == "measured" else (e.layout.text if e.layout else "-")
        table.add_row(
            str(rank),
            e.accelerator + ("*" if e.notes else ""),
            f"{e.chips:,}",
            layout,
            _num(e.tokens_per_s),
            _num(e.hours, ",.1f"),
            _num(e.hbm_gb_per_chip or None, ".0f"),
            where,
            _num(None if offer is None else offer.usd_per_accelerator_hour, ".2f"),
            _num(e.usd_per_job),
            _num(e.usd_per_million_tokens, ",.3f"),
            band_text(e.error_band_share, e.band_cases, e.band_basis, e.chip_cases),
        )
    return table


def notes_lines(w: WorkloadEstimates) -> list[str]:
    lines = [f"  * {e.accelerator}: {note}" for e in w.estimates for note in e.notes]
    if w.infeasible:
        lines.append("  not feasible:")
        lines.extend(f"    {e.accelerator}: {e.reason}" for e in w.infeasible)
    return lines


def validation_table(report: ValidationReport) -> Table:
    table = Table(title=f"{len(report.results)} cases predicted", title_justify="left")
    for col in ("case", "accelerator", "metric", "predicted", "published", "error"):
        table.add_column(
            col, justify="left" if col in ("case", "accelerator", "metric") else "right"
        )
    for r in report.results:
        flag = " (outlier)" if r.case_id in report.outliers else ""
        table.add_row(
            r.case_id + flag,
            r.accelerator,
            r.metric,
            f"{r.predicted:,.4g}",
            f"{r.published:,.4g}",
            f"{100 * r.error_share:+.1f}%",
        )
    return table


def mape_table(report: ValidationReport, attribute: str) -> Table:
    table = Table(title=f"MAPE by {attribute}", title_justify="left")
    table.add_column(attribute)
    table.add_column("cases", justify="right")
    table.add_column("MAPE", justify="right")
    counts = report.count_by(attribute)
    for key, value in report.mape_by(attribute).items():
        table.add_row(key, str(counts[key]), f"{100 * value:.1f}%")
    return table


def cross_validation_table(result: CrossValidation, attribute: str, *, held: bool = False) -> Table:
    title = f"Out-of-sample MAPE by {attribute}" + (" (held-out rounds)" if held else "")
    table = Table(title=title, title_justify="left")
    table.add_column(attribute)
    table.add_column("cases", justify="right")
    table.add_column("MAPE", justify="right")
    for key, cell in result.by(attribute, held=held).items():
        table.add_row(key, str(cell.cases), f"{cell.mape_percent:.1f}%")
    return table


def print_cross_validation(console: Console, result: CrossValidation) -> None:
    for attribute in ("platform", "accelerator", "kind"):
        console.print(cross_validation_table(result, attribute))
    if result.held_out:
        console.print(cross_validation_table(result, "platform", held=True))
    console.print(
        f"Leave-one-source-out MAPE {result.mape_percent:.1f}% over "
        f"{len(result.residuals)} cases from {result.sources} sources "
        f"(a source is one {result.by_source}); "
        f"{result.mape_excluding_outliers_percent:.1f}% without {len(result.outliers)} "
        f"outlier submissions; {result.unpredicted} cases the model cannot predict"
    )
    line = replicates_line(result)
    if line:
        console.print(line)


def replicates_line(result: CrossValidation) -> str:
    """The sources' own disagreement beside the model's error on the same cases
    (:mod:`arbiter.perf.replicates`); empty without replicates."""
    spread = result.replicates
    if not spread.case_ids:
        return ""
    without = result.replicates_excluding_outliers
    return (
        f"Published sources disagree: on the {len(spread.case_ids)} cases whose question "
        f"another source also published, the other sources' median is "
        f"{spread.mape_percent:.1f}% off ({without.mape_percent:.1f}% without outliers); "
        "the model, out of sample, "
        f"{result.model_mape_on_replicates_percent():.1f}% "
        f"({result.model_mape_on_replicates_percent(outliers=False):.1f}%)"
    )


def models_table(models: Sequence[ModelArch]) -> Table:
    table = Table(title=f"{len(models)} models", title_justify="left")
    for col in (
        "model",
        "params B",
        "active B",
        "layers",
        "d_model",
        "heads/kv",
        "attention",
        "KV KiB/token bf16",
    ):
        table.add_column(col, justify="left" if col in ("model", "attention") else "right")
    for m in models:
        table.add_row(
            m.name,
            f"{m.params_total / 1e9:,.1f}",
            f"{m.params_active / 1e9:,.1f}",
            str(m.n_layers),
            str(m.d_model),
            f"{m.n_heads}/{m.n_kv_heads}",
            m.attention.value + (f" MoE {m.n_active_experts}/{m.n_experts}" if m.is_moe else ""),
            f"{m.kv_cache_bytes_per_token(2) / 1024:,.0f}",
        )
    return table
