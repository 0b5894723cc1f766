"""Every price carries its age and source (arbiter.domain.price_age)."""

import datetime as dt

from arbiter.domain.as_of import AsOf
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.price_age import price_age


def _offer(as_of: str) -> Offer:
    return Offer(
        provider="lambda",
        region="us-east-1",
        instance_type="gpu_1x_gh200",
        accelerator="GH200",
        accelerators_per_instance=1,
        price_regime=PriceRegime.ON_DEMAND,
        usd_per_hour=2.29,
        as_of=AsOf.parse(as_of),
        source="lambda.ai/pricing",
    )


def test_age_runs_from_the_end_of_the_observation_interval():
    age = price_age(_offer("2025-10/2026-09"), dt.date(2026, 11, 29))
    assert age.age_days == 60  # from 2026-09-30
    assert (age.as_of, age.source) == ("2025-10/2026-09", "lambda.ai/pricing")
    assert price_age(_offer("2026-09-16"), dt.date(2026, 9, 17)).age_days == 1


def test_age_defaults_to_today():
    age = price_age(_offer("2026-09-16"))
    assert abs((age.on - dt.date.today()).days) <= 1  # the call may straddle midnight
    assert age.age_days == (age.on - dt.date(2026, 9, 16)).days
