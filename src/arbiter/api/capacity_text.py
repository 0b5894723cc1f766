"""Why a workload has no option under obtainable capacity, in one paragraph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from arbiter.domain.capacity import CapacityAssumption
from arbiter.optimize.capacity import largest_purchase
from arbiter.optimize.options import Option


def no_option_message(
    file: str,
    name: str,
    at: int,
    unlimited: Sequence[Option],
    assumptions: Mapping[str, CapacityAssumption],
) -> str:
    """``unlimited``: the workload's options when capacity is not considered."""
    need = min(o.instances * o.offer.accelerators_per_instance for o in unlimited)
    most, offer = largest_purchase([o.offer for o in unlimited], assumptions)
    where = ""
    if offer is not None:
        a = assumptions[offer.offer_id]
        where = (
            f" ({offer.provider} {offer.instance_type} in {offer.region}, "
            f"{offer.price_regime.value}, {a.basis}"
            f"{f'; needs a {a.needs.value} with a lead time of {a.lead_days:g} days' if a.lead_days else ''})"  # noqa: E501
        )
    return (
        f"In {file}: workload {name!r} (workloads[{at}]) cannot be placed within obtainable "
        f"capacity: it needs at least {need} chips from one region and one purchase, but "
        f"the largest single purchase of the chips it may use is {most}{where}, or the lead "
        f"time of the quota request or contract that purchase needs does not fit its "
        f"deadline. State what you can obtain in the fleet's capacity: rows or a capacity "
        f"file (arbiter plan --capacity FILE; docs/capacity.md)"
    )
