"""AWS Local Zones as regions of their own (arbiter.domain.regions)."""

import pytest

from arbiter.domain.regions import is_local_zone, local_zone_region


@pytest.mark.parametrize(
    ("region", "zone", "group"),
    [
        ("us-east-1", "use1-atl2-az1", "us-east-1-atl-2"),  # a zone id (SkyPilot's)
        ("us-west-2", "usw2-phx2-az1", "us-west-2-phx-2"),
        ("", "us-east-1-dfw-2a", "us-east-1-dfw-2"),  # a zone name (the curated tables')
        ("", "us-west-2-lax-1b", "us-west-2-lax-1"),
        ("us-east-1", "use1-az6", None),  # a standard availability zone
        ("us-east-1", "", None),
        ("us-gov-west-1", "usgw1-az1", None),
    ],
)
def test_local_zone_region(region, zone, group):
    assert local_zone_region(region, zone) == group


@pytest.mark.parametrize(
    ("provider", "region", "expected"),
    [
        ("aws", "us-east-1-atl-2", True),
        ("aws", "us-west-2-phx-2", True),
        ("aws", "us-east-1", False),
        ("aws", "us-gov-west-1", False),
        ("aws", "ap-southeast-4", False),
        ("gcp", "us-east4", False),
        ("oci", "us-ashburn-1", False),
        ("lambda", "us-east-1", False),
    ],
)
def test_is_local_zone(provider, region, expected):
    assert is_local_zone(provider, region) is expected
