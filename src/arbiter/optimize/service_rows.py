"""Two families of rows of the fleet model for plain services (the formulation is in
``fleet_model.py``): valid inequalities on whole replicas and instances that tighten the LP
relaxation (:func:`define_whole_units`), and the no-padding rows that keep a service's
capacity above its rate below one replica of its slowest option in use
(:func:`define_no_surplus`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from arbiter.optimize.linear import Block, IntArray

if TYPE_CHECKING:
    from arbiter.optimize.fleet_model import FleetDraft


def define_whole_units(d: FleetDraft, index: dict[int, int]) -> None:
    """Valid inequalities that tighten the LP relaxation of whole replicas and instances
    (they cut off no whole-number plan, so the optimum is unchanged):

        min_replicas[w]   sum_{o in w} r_o >= ceil(rate_w / max_o tput_o)
        min_instances[w]  sum_{o in w} n_o >= ceil(rate_w min_o chips_o / (per_o tput_o))

    the second because ``pack`` gives ``n_o >= chips_o r_o / per_o`` and ``demand``
    ``sum tput_o r_o >= rate_w``. Without them the relaxation serves a small service with
    a sliver of an instance, and its bound says little about a plan of whole ones."""
    assert d.single is not None
    options, at, single = d.options, d.rep[d.single], d.single
    if not len(at):
        return
    wl = np.array([index[options[i].workload] for i in at.tolist()], dtype=np.int64)
    tput = np.array([options[i].tokens_per_s for i in at.tolist()], dtype=np.float64)
    chips = np.array([options[i].chips for i in at.tolist()], dtype=np.float64)
    per = np.array(
        [options[i].offer.accelerators_per_instance for i in at.tolist()], dtype=np.float64
    )
    need = np.asarray(d.rates, dtype=np.float64)
    most = np.zeros(len(need))
    np.maximum.at(most, wl, tput)
    fewest = np.full(len(need), np.inf)
    np.minimum.at(fewest, wl, chips / (per * np.maximum(tput, 1e-12)))
    placeable = most > 0
    replicas = np.where(placeable, np.ceil(need / np.maximum(most, 1e-12) - 1e-9), 0.0)
    instances = np.where(placeable, np.ceil(need * np.where(placeable, fewest, 0.0) - 1e-9), 0.0)
    labels = [d.names[i] for i in d.serve_list]
    d.model.add_constraints(
        "min_replicas", labels, wl, d.replicas.columns[single], np.ones(len(wl)), lower=replicas
    )
    d.model.add_constraints(
        "min_instances", labels, wl, d.instances.columns[single], np.ones(len(wl)), lower=instances
    )


SURPLUS_TOL = 1e-6  # relative to the rate: "less than one replica" made a closed row


def define_no_surplus(d: FleetDraft, index: dict[int, int]) -> tuple[Block, IntArray, Block] | None:
    """The no-padding rows of a plain service (see the formulation): ``v_o`` marks an
    option with replicas, ``m_w`` is at most the throughput of every marked option, and
    the capacity above the rate stays below ``m_w``."""
    assert d.single is not None
    model, options, r, names = d.model, d.options, d.replicas, d.names
    at = np.flatnonzero(d.single)
    if not len(at):
        return None
    opts = d.rep[at]
    wl = np.array([index[options[i].workload] for i in opts.tolist()], dtype=np.int64)
    tput = np.array([options[i].tokens_per_s for i in opts.tolist()], dtype=np.float64)
    need = np.asarray(d.rates, dtype=np.float64)
    most = np.zeros(len(need))
    np.maximum.at(most, wl, tput)
    replicas = np.ceil(need[wl] / np.maximum(tput, 1e-12) - 1e-9).clip(min=1.0)
    labels = [r.labels[k] for k in at.tolist()]
    # r_o <= R_o v_o <= R_o, also as the column's bound: the LP without these rows keeps it
    model.cap_columns(r.columns[at], replicas)
    v = model.add_variables("used", labels, upper=1.0, integer=True)
    m = model.add_variables("least", [names[i] for i in d.serve_list], upper=most)
    k = np.arange(len(at), dtype=np.int64)
    model.add_constraints(
        "used",
        labels,
        np.concatenate([k, k]),
        np.concatenate([r.columns[at], v.columns]),
        np.concatenate([np.ones(len(at)), -replicas]),
        upper=0.0,
    )
    model.add_constraints(
        "least",
        labels,
        np.concatenate([k, k]),
        np.concatenate([m.columns[wl], v.columns]),
        np.concatenate([np.ones(len(at)), most[wl] - tput]),
        upper=most[wl],
    )
    w_rows = np.arange(len(need), dtype=np.int64)
    model.add_constraints(
        "surplus",
        [names[i] for i in d.serve_list],
        np.concatenate([wl, w_rows]),
        np.concatenate([r.columns[at], m.columns]),
        np.concatenate([tput, -np.ones(len(need))]),
        upper=need * (1.0 - SURPLUS_TOL),
    )
    return v, at, m
