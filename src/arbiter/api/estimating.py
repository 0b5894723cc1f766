"""Cost per unit of work: each workload's best configuration on every accelerator, priced
by the cheapest matching offer (what ``arbiter estimate`` prints)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arbiter.api.loading import Source, read_source, sha12
from arbiter.api.planning import resolve_calibration
from arbiter.api.provenance import provenance
from arbiter.api.settings import Settings
from arbiter.api.stores import catalog_store, settings
from arbiter.catalog.names import resolve_accelerator
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError
from arbiter.domain.workload import ServeJob, TrainJob, Workload
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.estimate import Estimate, estimate_workload
from arbiter.perf.pricing import PriceBook
from arbiter.perf.records import workload_record
from arbiter.results.estimate import EstimateReport
from arbiter.workloads import parse_workloads

TOP = 10


def estimate(
    workloads: Source | Sequence[Workload],
    *,
    accelerators: Sequence[str] | None = None,
    top: int = TOP,
    catalog: Catalog | str | None = None,
    calibration: str | CalibrationProfile | None = None,
    config: Settings | None = None,
) -> EstimateReport:
    """Every workload of ``workloads`` (a workload or fleet file's path, YAML text, a
    mapping, a list of workload mappings, or :class:`Workload` objects) on every
    accelerator of ``catalog`` (a catalog, a version, or the store's current one), or only
    on ``accelerators``: its ``top`` cheapest configurations per unit of work and why the
    others cannot run it. A workload no accelerator can run is bad input
    (:class:`InputError`, naming the field), unless ``accelerators`` narrowed the choice."""
    config = config or settings()
    profile = resolve_calibration(calibration, config)
    if isinstance(workloads, Sequence) and not isinstance(workloads, str):
        if all(isinstance(w, Workload) for w in workloads):
            found, name = tuple(workloads), "<workloads>"
            input_hash = sha12(repr(found).encode())
        else:  # a list of workload mappings, as under a file's `workloads:` key
            loaded = read_source({"workloads": list(workloads)}, "workload")
            found, name = parse_workloads(loaded.data, file=loaded.name), loaded.name
            input_hash = loaded.sha256
    else:
        loaded = read_source(workloads, "workload")
        found, name = parse_workloads(loaded.data, file=loaded.name), loaded.name
        input_hash = loaded.sha256
    if isinstance(catalog, Catalog):
        version = catalog.content_hash
    else:
        store = catalog_store(config)
        version = catalog or store.current()
        catalog = store.load(version)
    accs = list(catalog.accelerators.values())
    if accelerators:
        wanted = {
            resolve_accelerator(a, catalog.accelerators, field="--accelerator")
            for a in accelerators
        }
        accs = [a for a in accs if a.name in wanted]
    eff = default_efficiency()
    prices = PriceBook(catalog)
    results = [(w, estimate_workload(w, accs, eff, prices, calibration=profile)) for w in found]
    if not accelerators:  # with a choice of chips, "not on these" is an answer, not an error
        for index, (w, chips) in enumerate(results):
            _check_feasible(name, index, w, chips)
    doc: dict[str, Any] = {
        "catalog_version": version,
        "efficiency": eff.fitted_on,
        "workloads": [workload_record(w, chips, top, config.today) for w, chips in results],
        "provenance": provenance(catalog, name=name, input_hash=input_hash),
    }
    if profile is not None:
        doc["calibration"] = profile.summary()
    return EstimateReport.model_validate(doc)


def _check_feasible(file: str, index: int, w: Workload, found: tuple[Estimate, ...]) -> None:
    """A workload no allowed accelerator can run is bad input: say what is reachable."""
    if any(e.feasible for e in found):
        return
    where = f"workloads[{index}]"
    if not found:
        raise InputError(
            f"workload {w.name!r}: no accelerator satisfies its vendors/platforms",
            file=file,
            field=f"{where}.vendors",
        )
    job = w.job
    slo = [e for e in found if e.best_tpot_s is not None and e.best_ttft_s is not None]
    if isinstance(job, ServeJob) and slo:
        tpot = min(slo, key=lambda e: e.best_tpot_s or 0.0)
        ttft = min(slo, key=lambda e: e.best_ttft_s or 0.0)
        raise InputError(
            f"workload {w.name!r}: no accelerator meets TTFT <= {job.ttft_s:g} s and TPOT <= "
            f"{job.tpot_s:g} s (p99); the best reachable is TPOT {tpot.best_tpot_s:.3f} s on "
            f"{tpot.accelerator} and TTFT {ttft.best_ttft_s:.2f} s on {ttft.accelerator}",
            file=file,
            field=f"{where}.slo",
            valid="a looser SLO, or a smaller model or precision",
        )
    if isinstance(job, TrainJob) and any(e.reason.startswith("too slow") for e in found):
        reasons = "; ".join(f"{e.accelerator}: {e.reason}" for e in found[:3])
        raise InputError(
            f"workload {w.name!r}: no accelerator finishes by the deadline ({reasons})",
            file=file,
            field=f"{where}.deadline_days",
        )
    raise InputError(
        f"workload {w.name!r} fits no accelerator: {found[0].accelerator}: {found[0].reason}",
        file=file,
        field=f"{where}.model",
    )
