"""Domain types: accelerators, offers, price regimes, catalogs and the error tree.

Only the standard library and NumPy may be imported here.
"""

from arbiter.domain.accelerator import PLATFORM_BY_VENDOR, Accelerator, Platform
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import (
    ArbiterError,
    FeedError,
    InfeasibleError,
    InputError,
    SolverError,
    StoreError,
    UnknownNameError,
)
from arbiter.domain.offer import Offer, PriceRegime

__all__ = [
    "PLATFORM_BY_VENDOR",
    "Accelerator",
    "ArbiterError",
    "AsOf",
    "Catalog",
    "FeedError",
    "InfeasibleError",
    "InputError",
    "Offer",
    "Platform",
    "PriceRegime",
    "SolverError",
    "StoreError",
    "UnknownNameError",
]
