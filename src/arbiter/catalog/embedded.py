"""The default catalog shipped inside the package (built by scripts/build_catalog.py)."""

from __future__ import annotations

import functools
from importlib import resources

from arbiter.catalog.history import HistoricalPrice, history_from_csv
from arbiter.catalog.tables import accelerators_from_csv, offers_from_csv
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.catalog import Catalog

DEFAULT_VERSION = "default"


def _data(name: str) -> str:
    return resources.files("arbiter.catalog.data").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def default_accelerators() -> dict[str, Accelerator]:
    """The accelerator table, by canonical name."""
    accs = accelerators_from_csv(_data("accelerators.csv"), "arbiter/catalog/data/accelerators.csv")
    return {a.name: a for a in accs}


@functools.cache
def default_catalog() -> Catalog:
    """The embedded default catalog: every accelerator and every curated offer."""
    offers = offers_from_csv(_data("offers.csv"), "arbiter/catalog/data/offers.csv")
    return Catalog.of(default_accelerators().values(), offers)


def known_accelerators() -> frozenset[str]:
    return frozenset(default_accelerators())


@functools.cache
def default_price_history() -> tuple[HistoricalPrice, ...]:
    """The observations the build of the default catalog set aside as no longer current."""
    text = _data("price_history.csv")
    return tuple(history_from_csv(text, "arbiter/catalog/data/price_history.csv"))
