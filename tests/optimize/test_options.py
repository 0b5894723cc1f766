"""Building options: thinning offers before they become objects keeps exactly what
pruning, the baselines and the alternatives need."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.fleet import CapacityLimit, Fleet, ShareCaps
from arbiter.domain.offer import PriceRegime
from arbiter.optimize.baselines import baselines
from arbiter.optimize.options import PAY_AS_YOU_GO, Option, build_options
from arbiter.optimize.pruning import prune
from arbiter.perf.efficiency import default_efficiency
from arbiter.workloads.fleet import load_fleet

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"


def _key(o: Option) -> tuple[int, str, str]:
    return (o.workload, o.estimate.accelerator, o.offer.offer_id)


def _both(fleet: Fleet) -> tuple[list[Option], list[Option]]:
    catalog, eff = default_catalog(), default_efficiency()
    thin, _ = build_options(fleet, catalog, eff)
    full, _ = build_options(fleet, catalog, eff, thin=False)
    return thin, full


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"caps_region": 0.4},  # regions compared apart under a region cap
        {"capacity": (CapacityLimit("aws", "H100-SXM", 4),)},
        {"time": 50.0},
    ],
    ids=["example", "region-cap", "capacity", "time-objective"],
)
def test_thinning_keeps_what_prune_and_the_baselines_need(change) -> None:
    fleet = load_fleet(EXAMPLE)
    if "caps_region" in change:
        fleet = replace(fleet, caps=replace(fleet.caps, region=change["caps_region"]))
    if "capacity" in change:
        fleet = replace(fleet, capacity=change["capacity"])
    if "time" in change:
        fleet = replace(fleet, objective=replace(fleet.objective, time_usd_per_hour=change["time"]))
    if "no_caps" in change:
        fleet = replace(fleet, caps=ShareCaps())
    thin, full = _both(fleet)
    # thinning compares offers of one estimate (under share caps, within a place only)
    assert len(thin) < len(full)
    assert {_key(o) for o in thin} <= {_key(o) for o in full}
    assert [_key(o) for o in prune(thin, fleet)] == [_key(o) for o in prune(full, fleet)]
    # per provider, the cheapest on-demand NVIDIA option of each workload survives
    # (locked_in), and so does each workload's lowest price per accelerator-hour
    for pick in (
        lambda o: o.offer.price_regime is PriceRegime.ON_DEMAND and o.estimate.vendor == "NVIDIA",
        lambda o: True,
    ):
        best_thin = _cheapest(thin, pick)
        assert best_thin == _cheapest(full, pick)
    # (cheapest_per_hour takes pay-as-you-go offers only)
    hourly = lambda opts: {  # noqa: E731
        w: min(
            o.offer.usd_per_accelerator_hour
            for o in opts
            if o.workload == w and o.offer.price_regime in PAY_AS_YOU_GO
        )
        for w in {o.workload for o in opts}
    }
    assert hourly(thin) == hourly(full)


def _cheapest(opts: list[Option], pick) -> dict[tuple[int, str], float]:
    out: dict[tuple[int, str], float] = {}
    for o in opts:
        if pick(o) and not o.serve:
            key = (o.workload, o.offer.provider)
            out[key] = min(out.get(key, np.inf), o.usd)
    return out


def test_the_baselines_are_the_same_from_thinned_options() -> None:
    fleet = load_fleet(EXAMPLE)
    thin, full = _both(fleet)
    a, b = baselines(fleet, thin), baselines(fleet, full)
    for name in a:
        x, y = a[name], b[name]
        assert (x is None) == (y is None), name
        if x is not None and y is not None:
            assert x.total_usd == pytest.approx(y.total_usd, rel=1e-3), name
