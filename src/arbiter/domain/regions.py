"""AWS Local Zones as regions of their own.

A Local Zone is another city attached to a parent region (Atlanta to us-east-1). AWS names
its zone group ``us-east-1-atl-2``, its zone ``us-east-1-atl-2a`` and the zone's id
``use1-atl2-az1``. arbiter keeps a Local Zone's prices as the region of its zone group, so
a fleet allows or excludes it by name (``constraints.regions``) or all of them at once
(``constraints.local_zones: false``); offers there are marked ``local_zone``.
"""

from __future__ import annotations

import re

_ZONE_ID = re.compile(r"^[a-z]+\d-(?P<city>[a-z]+)(?P<n>\d+)-az\d+$")
_ZONE_NAME = re.compile(
    r"^(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)-(?P<city>[a-z]+)-(?P<n>\d+)[a-z]$"
)
_GROUP = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d-[a-z]+-\d+$")


def local_zone_region(region: str, zone: str) -> str | None:
    """The zone group a Local Zone ``zone`` (an id or a name) of ``region`` belongs to,
    or None when ``zone`` is a standard availability zone (or empty)."""
    if match := _ZONE_ID.match(zone):
        return f"{region}-{match['city']}-{match['n']}"
    if match := _ZONE_NAME.match(zone):
        return f"{match['region']}-{match['city']}-{match['n']}"
    return None


def is_local_zone(provider: str, region: str) -> bool:
    """Whether ``region`` is an AWS Local Zone group (``us-east-1-atl-2``)."""
    return provider == "aws" and _GROUP.match(region) is not None
