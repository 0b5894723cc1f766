"""A strategic deal's worth: the lab's procurement solved with the deal and without it on
the same scenarios (what ``arbiter deal`` prints)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from arbiter.api.loading import Source, load_catalog, read_source, scenarios_source
from arbiter.api.planning import resolve_calibration
from arbiter.api.provenance import provenance
from arbiter.api.settings import Settings
from arbiter.api.stores import settings
from arbiter.deals.analysis import sensitivity
from arbiter.deals.evaluate import evaluate, world_data
from arbiter.deals.loading import check_class_names, parse_deal
from arbiter.deals.report import document
from arbiter.deals.samples import value_distribution
from arbiter.domain.catalog import Catalog
from arbiter.domain.scenario import ScenarioSet
from arbiter.parallel import executor_for
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import default_efficiency
from arbiter.results.deal import DealValuation

DEFAULT_SAMPLES = 200
"""Sampled futures when neither the call nor the deal's scenario file says."""

StageProgress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: the stage is ``"sensitivity"`` or ``"samples"``."""


def deal(
    source: Source,
    *,
    scenarios: Source | ScenarioSet | None = None,
    samples: int | None = None,
    seed: int | None = None,
    with_sensitivity: bool = True,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    catalog: Catalog | str | None = None,
    calibration: str | CalibrationProfile | None = None,
    base_dir: Path | None = None,
    progress: StageProgress | None = None,
    config: Settings | None = None,
) -> DealValuation:
    """What the deal file ``source`` (a path, YAML text or a mapping) is worth to the lab
    on ``catalog`` (a catalog, a version, or the store's current one): its procurement
    problem solved with the deal and without it on the same scenarios; NPV and its
    breakdown, the risk-adjusted value, the effective price per delivered PFLOP-hour and
    the lock-in per year (``arbiter.deals``). With ``with_sensitivity``, the break-evens
    and the tornado; with ``samples`` > 0 (default: the scenario file's, else 200), the
    distribution of its worth over sampled futures of ``scenarios`` (default: the deal
    file's own), seeded with ``seed``. The deal's ``procurement`` and ``scenarios`` paths
    are relative to the deal file's folder, or to ``base_dir`` (default: the working
    directory) for text or a mapping. ``engine`` ``ray`` runs the solves on a Ray cluster
    (``address``)."""
    config = config or settings()
    loaded = read_source(source, "deal")
    if isinstance(source, str | Path) and not loaded.name.startswith("<"):
        folder = Path(loaded.name).parent
    else:
        folder = base_dir or Path.cwd()
    the_deal = parse_deal(loaded.data, file=loaded.name, base=folder)
    shocks, shocks_name = the_deal.scenarios, the_deal.scenarios_file
    if scenarios is not None:
        shocks, named = scenarios_source(scenarios)
        check_class_names(shocks, the_deal.procurement, named)
        shocks_name = named if named.startswith("<") else Path(named).name
    n = samples if samples is not None else (shocks.samples if shocks else DEFAULT_SAMPLES)
    run_seed = seed if seed is not None else (shocks.seed if shocks else 0)
    profile = resolve_calibration(calibration, config)
    if not isinstance(catalog, Catalog):
        catalog = load_catalog(catalog, config=config)
    base = world_data(the_deal, catalog, default_efficiency(), profile)
    ev = evaluate(the_deal, base)

    def stage(name: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(name, done, total)

    with executor_for(engine, workers=workers, address=address) as pool:
        sens = None
        if with_sensitivity:
            sens = sensitivity(the_deal, base, executor=pool, progress=stage("sensitivity"))
        dist = None
        if n > 0:
            dist = value_distribution(
                ev, base, samples=n, seed=run_seed, shocks=shocks, shocks_file=shocks_name,
                executor=pool, progress=stage("samples"),
            )  # fmt: skip
        engine_name, engine_workers = pool.name, pool.workers
    doc = document(ev, sens, dist, config.today)
    doc["provenance"] = provenance(
        catalog, name=loaded.name, input_hash=loaded.sha256, profile=profile,
        engine=engine_name, workers=engine_workers,
        procurement_file=the_deal.procurement_file,
    )  # fmt: skip
    return DealValuation.model_validate(doc)
