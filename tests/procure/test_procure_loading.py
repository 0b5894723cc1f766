import copy
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.fleet import PlatformState, ShareCaps
from arbiter.domain.offer import PriceRegime
from arbiter.domain.procurement import PricePath
from arbiter.domain.scenario import Distribution
from arbiter.domain.workload import BatchJob, ServeJob, TrainJob, WorkloadKind
from arbiter.procure import load_procurement, parse_procurement, ramp, term_periods
from arbiter.scenarios.distributions import ppf

REPO = Path(__file__).resolve().parents[2]
FILE = "procure.yaml"

CHAT = {
    "kind": "serve",
    "model": "llama-3.3-70b",
    "precision": "fp8",
    "input_tokens": 1500,
    "output_tokens": 350,
    "slo": {"ttft_s": 1.5, "tpot_s": 0.04},
}
TRAIN = {"kind": "train", "model": "llama-3.1-70b", "seq_len": 8192}
H100 = {
    "name": "aws-h100-1y",
    "provider": "aws",
    "accelerator": "H100-SXM",
    "region": "us-east-1",
    "usd_per_chip_hour": 2.2,
    "term": "1y",
}


def base(**top):
    """A small valid file: four quarters, two classes, one commitment."""
    data = {
        "horizon": {"periods": 4, "period": "quarter"},
        "discount_rate": 0.08,
        "classes": [
            {"name": "chat", "workload": copy.deepcopy(CHAT), "demand": [100, 120, 140, 160]},
            {"name": "pretrain", "workload": copy.deepcopy(TRAIN), "demand": [0, "1.5T", 0, "2T"]},
        ],
        "commitments": [dict(H100)],
    }
    data.update(copy.deepcopy(top))
    return data


def parse(data):
    return parse_procurement(data, file=FILE)


def fails(data, field, fragment=""):
    with pytest.raises(InputError) as info:
        parse(data)
    err = info.value
    assert err.file == FILE
    assert err.field == field, str(err)
    assert err.exit_code == 2
    assert fragment in str(err), str(err)
    return err


def with_class(data, i, **fields):
    data["classes"][i].update(fields)
    return data


def with_workload(data, i, **fields):
    data["classes"][i]["workload"].update(fields)
    return data


def with_commitment(**fields):
    item = {**H100, **fields}
    return base(commitments=[{k: v for k, v in item.items() if v is not None}])


def on_demand_price(provider, accelerator, region):
    return min(
        o.usd_per_accelerator_hour
        for o in default_catalog().offers
        if o.provider == provider
        and o.accelerator == accelerator
        and o.region == region
        and o.price_regime is PriceRegime.ON_DEMAND
    )


# --- the example --------------------------------------------------------------------------


def test_example_loads():
    problem = load_procurement(REPO / "examples" / "procure.yaml")
    assert problem.periods == 8
    assert problem.period == "quarter"
    assert problem.period_hours == 2190.0
    assert [c.name for c in problem.classes] == ["chat", "pretrain", "synth-data"]
    assert [c.workload.kind for c in problem.classes] == [
        WorkloadKind.SERVE,
        WorkloadKind.TRAIN,
        WorkloadKind.BATCH,
    ]
    assert all(len(c.demand) == 8 for c in problem.classes)
    chat = problem.classes[0]
    assert chat.demand[-1] / chat.demand[0] == pytest.approx(3.0)
    assert [s.name for s in problem.scenarios] == ["low", "mid", "high"]
    assert math.fsum(s.probability for s in problem.scenarios) == pytest.approx(1.0, abs=1e-9)
    assert {p.term_periods for p in problem.products} == {4, 12}
    assert 4 <= len(problem.products) <= 8
    assert {p.accelerator for p in problem.products} == {"H100-SXM", "TPU-v6e", "Trainium2"}
    assert problem.discount_rate == 0.08
    assert problem.risk_weight == 0.3
    assert problem.cvar_level == 0.95
    assert problem.salvage == "prorate"
    assert problem.regions is not None
    assert problem.budget_per_period_usd is not None
    assert {s.platform for s in problem.platforms} == {Platform.CUDA, Platform.XLA, Platform.NEURON}


def test_example_scenarios_spread_serving_growth():
    problem = load_procurement(REPO / "examples" / "procure.yaml")
    low, mid, high = problem.scenarios
    last = problem.periods - 1
    chat = problem.classes[0]
    growth = {
        s.name: chat.demand[last] * s.factor("chat", last) / chat.demand[0]
        for s in (low, mid, high)
    }
    assert growth["mid"] == pytest.approx(3.0)
    assert growth["low"] < 2.0
    assert growth["high"] > 4.0


def test_example_discounts_are_priced_from_the_catalog():
    problem = load_procurement(REPO / "examples" / "procure.yaml")
    by_name = {p.name: p for p in problem.products}
    h100 = by_name["aws-h100-1y"]
    assert h100.usd_per_chip_hour == pytest.approx(
        on_demand_price("aws", "H100-SXM", "us-east-1") * 0.6
    )
    assert "40% off" in h100.source
    assert by_name["aws-trn2-1y"].source == "file"


# --- defaults and conversion --------------------------------------------------------------


def test_defaults():
    problem = parse(base())
    assert [(s.name, s.probability, s.factors) for s in problem.scenarios] == [("base", 1.0, {})]
    assert problem.risk_weight == 0.0
    assert problem.cvar_level == 0.95
    assert problem.unmet_penalty == 3.0
    assert problem.salvage == "prorate"
    assert problem.price_paths == ()
    assert problem.caps == ShareCaps()
    assert problem.regions is None
    assert problem.budget_per_period_usd is None
    assert problem.platforms == tuple(PlatformState(platform=p, enabled=True) for p in Platform)
    (product,) = problem.products
    assert product.usd_per_chip_hour == 2.2
    assert product.term_periods == 4
    assert product.upfront_share == 0.0
    assert product.min_chips == 1
    assert product.max_chips is None
    assert product.resale_share == 0.0
    assert product.source == "file"


def test_demand_values_take_suffixes():
    problem = parse(base())
    assert problem.classes[1].demand == (0.0, 1.5e12, 0.0, 2e12)
    assert problem.classes[0].demand == (100.0, 120.0, 140.0, 160.0)


def test_top_level_fields():
    problem = parse(
        base(
            discount_rate="8%",
            risk={"lambda": 0.5, "alpha": 0.9},
            unmet_penalty=5,
            salvage="none",
            price_paths=[
                {"accelerator": "h100", "yearly_change": -0.3},
                {"vendor": "nvidia", "yearly_change": "-20%"},
                {"accelerator": ["B300", "B200"], "available_from": 2},
                {"vendor": ["NVIDIA"], "accelerator": "H200", "yearly_change": 0.1},
            ],
            constraints={
                "max_share": {"vendor": 0.7, "provider": "60%"},
                "regions": ["us-*", "us-*"],
                "budget_per_period_usd": "30M",
            },
            platforms={"cuda": {"enabled": True}, "xla": {"enable_usd": "1.5M", "lead_weeks": 12}},
        )
    )
    assert problem.discount_rate == pytest.approx(0.08)
    assert (problem.risk_weight, problem.cvar_level) == (0.5, 0.9)
    assert problem.unmet_penalty == 5.0
    assert problem.salvage == "none"
    assert problem.price_paths == (
        PricePath(accelerators=("H100-SXM",), yearly_change=-0.3),
        PricePath(vendors=("NVIDIA",), yearly_change=pytest.approx(-0.2)),
        PricePath(accelerators=("B300", "B200"), available_from=2),
        PricePath(vendors=("NVIDIA",), accelerators=("H200-SXM",), yearly_change=0.1),
    )
    assert problem.caps == ShareCaps(vendor=0.7, provider=0.6)
    assert problem.regions == ("us-*",)
    assert problem.budget_per_period_usd == 30e6
    assert problem.platforms == (
        PlatformState(platform=Platform.CUDA, enabled=True),
        PlatformState(platform=Platform.XLA, enabled=False, enable_usd=1.5e6, lead_weeks=12),
    )


def test_serve_workload_is_one_request_per_second_for_the_period():
    problem = parse(base(horizon={"periods": 4, "period": "month"}))
    workload = problem.classes[0].workload
    assert workload.name == "chat"
    assert isinstance(workload.job, ServeJob)
    assert workload.job.requests_per_s == 1.0
    assert workload.job.hours == 730.0
    assert workload.job.input_tokens == 1500
    assert workload.job.ttft_s == 1.5


def test_train_and_finetune_workloads_are_one_token():
    data = base()
    data["classes"].append(
        {
            "name": "ft",
            "workload": {"kind": "finetune", "model": "llama-3.1-8b", "lora_rank": 32},
            "demand": ["2B", 0, "2B", 0],
        }
    )
    problem = parse(data)
    for klass in problem.classes[1:]:
        assert isinstance(klass.workload.job, TrainJob)
        assert klass.workload.job.tokens == 1.0
    assert problem.classes[1].workload.job.seq_len == 8192
    assert problem.classes[2].workload.job.lora_rank == 32


def test_batch_workload_is_one_generated_token():
    data = base()
    data["classes"].append(
        {
            "name": "synth",
            "workload": {
                "kind": "batch",
                "model": "llama-3.1-8b",
                "request_input_tokens": 2000,
                "request_output_tokens": 500,
            },
            "demand": ["40B"] * 4,
        }
    )
    job = parse(data).classes[2].workload.job
    assert isinstance(job, BatchJob)
    assert job.output_tokens == 1.0
    assert job.input_tokens == 4.0  # prompt tokens per generated token


def test_batch_workload_defaults_request_lengths():
    data = base()
    data["classes"].append(
        {"name": "synth", "workload": {"kind": "batch", "model": "llama-3.1-8b"}, "demand": [1] * 4}
    )
    job = parse(data).classes[2].workload.job
    assert isinstance(job, BatchJob)
    assert job.input_tokens == job.request_input_tokens / job.request_output_tokens


def test_workload_placement_rules_carry_over():
    data = with_workload(base(), 0, providers=["AWS", "gcp"], regions=["us-*"])
    placement = parse(data).classes[0].workload.placement
    assert placement.providers == ("aws", "gcp")
    assert placement.regions == ("us-*",)


# --- terms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "period", "periods"),
    [
        ("1y", "quarter", 4),
        ("3y", "quarter", 12),
        ("1y", "month", 12),
        ("3y", "month", 36),
        ("26w", "quarter", 2),
        ("13w", "quarter", 1),
        ("1w", "quarter", 1),
        ("4w", "month", 1),
        ("5w", "month", 2),
        ("6m", "quarter", 2),
        ("7m", "quarter", 3),
        ("2q", "month", 6),
        ("1.5y", "quarter", 6),
        ("3 years", "quarter", 12),
        ("12 Months", "quarter", 4),
    ],
)
def test_terms_round_up_to_whole_periods(term, period, periods):
    data = with_commitment(term=term)
    data["horizon"] = {"periods": 4, "period": period}
    assert parse(data).products[0].term_periods == periods


def test_term_periods_helper():
    assert term_periods("1y", 2190.0) == 4
    assert term_periods("1w", 730.0) == 1


def test_prorate_salvage_allows_terms_past_the_horizon():
    assert parse(with_commitment(term="3y")).products[0].term_periods == 12


def test_salvage_none_allows_a_term_that_fits():
    data = with_commitment(term="1y")
    data["salvage"] = "none"
    assert parse(data).products[0].term_periods == 4


# --- scenarios ----------------------------------------------------------------------------


def test_growth_ramps_from_one_to_the_factor_in_the_last_period():
    data = base(scenarios=[{"name": "high", "probability": 1, "growth": {"chat": 1.6}}])
    (scenario,) = parse(data).scenarios
    assert scenario.factors["chat"] == pytest.approx((1.0, 1.2, 1.4, 1.6))
    assert scenario.factor("chat", 0) == 1.0
    assert scenario.factor("chat", 3) == 1.6  # exactly the factor given
    assert scenario.factor("pretrain", 2) == 1.0  # not named: the forecast


def test_ramp_helper():
    assert ramp(3.0, 5) == pytest.approx((1.0, 1.5, 2.0, 2.5, 3.0))
    assert ramp(0.5, 1) == (0.5,)
    assert ramp(1.0, 3) == (1.0, 1.0, 1.0)


def test_listed_scenarios_with_factors():
    data = base(
        scenarios=[
            {"name": "low", "probability": 0.25, "growth": {"chat": 0.8}},
            {"name": "mid", "probability": 0.5},
            {"name": "high", "probability": 0.25, "factors": {"pretrain": [1, 1, 2, "1.5"]}},
        ]
    )
    low, mid, high = parse(data).scenarios
    assert low.factors["chat"][-1] == pytest.approx(0.8)
    assert mid.factors == {}
    assert high.factors == {"pretrain": (1.0, 1.0, 2.0, 1.5)}


def test_probabilities_within_tolerance_are_accepted():
    data = base(
        scenarios=[
            {"name": "a", "probability": 1 / 3},
            {"name": "b", "probability": 1 / 3},
            {"name": "c", "probability": 0.3333333},
        ]
    )
    assert len(parse(data).scenarios) == 3


def sampled(seed=0, n=50, growth=None):
    growth = growth or {"chat": {"lognormal": {"median": 1.0, "sigma": 0.3}}}
    return parse(base(scenarios={"sample": {"n": n, "seed": seed, "growth": growth}})).scenarios


def test_sampled_scenarios_are_equally_likely():
    scenarios = sampled(n=40)
    assert len(scenarios) == 40
    assert len({s.name for s in scenarios}) == 40
    assert all(s.probability == 1 / 40 for s in scenarios)
    assert math.fsum(s.probability for s in scenarios) == pytest.approx(1.0)
    for s in scenarios:
        assert set(s.factors) == {"chat"}
        assert s.factors["chat"][0] == 1.0
        assert s.factors["chat"] == pytest.approx(ramp(s.factors["chat"][-1], 4))


def test_sampled_scenarios_are_reproducible_for_a_seed():
    assert sampled(seed=7) == sampled(seed=7)


def test_sampled_scenarios_differ_across_seeds():
    a = [s.factors["chat"][-1] for s in sampled(seed=0)]
    b = [s.factors["chat"][-1] for s in sampled(seed=1)]
    assert a != b


def test_sampled_scenarios_follow_the_documented_draw():
    growth = {
        "pretrain": {"uniform": [0.5, 1.5]},
        "chat": {"lognormal": {"median": 1.2, "sigma": 0.4}},
    }
    scenarios = sampled(seed=3, n=20, growth=growth)
    u = np.random.default_rng(np.random.SeedSequence(3)).random((20, 2))  # classes in file order
    chat = ppf(Distribution("lognormal", (1.2, 0.4)), u[:, 0])
    pretrain = ppf(Distribution("uniform", (0.5, 1.5)), u[:, 1])
    for i, s in enumerate(scenarios):
        assert s.factors["chat"][-1] == pytest.approx(chat[i])
        assert s.factors["pretrain"][-1] == pytest.approx(pretrain[i])


def test_sampling_another_class_keeps_the_draws_of_the_first():
    alone = sampled(seed=5, growth={"chat": {"uniform": [0.5, 2]}})
    both = sampled(seed=5, growth={"chat": {"uniform": [0.5, 2]}, "pretrain": 1.2})
    assert [s.factors["chat"] for s in alone] == [s.factors["chat"] for s in both]
    assert all(s.factors["pretrain"][-1] == pytest.approx(1.2) for s in both)


def test_sampled_distribution_spread():
    values = np.array([s.factors["chat"][-1] for s in sampled(n=2000)])
    assert np.median(values) == pytest.approx(1.0, rel=0.05)
    assert values.min() > 0


# --- commitment prices --------------------------------------------------------------------


def test_discount_prices_off_the_cheapest_on_demand_offer_in_the_region():
    data = with_commitment(usd_per_chip_hour=None, discount="40%")
    (product,) = parse(data).products
    assert product.region == "us-east-1"
    assert product.usd_per_chip_hour == pytest.approx(
        on_demand_price("aws", "H100-SXM", "us-east-1") * 0.6
    )
    assert "us-east-1" in product.source


def test_discount_without_a_region_takes_the_cheapest_allowed_region():
    data = with_commitment(usd_per_chip_hour=None, discount=0.5, region=None)
    data["constraints"] = {"regions": ["eu-*"]}
    (product,) = parse(data).products
    cheapest = min(
        (o.usd_per_accelerator_hour, o.region)
        for o in default_catalog().offers
        if o.provider == "aws"
        and o.accelerator == "H100-SXM"
        and o.price_regime is PriceRegime.ON_DEMAND
        and o.region.startswith("eu-")
    )
    assert product.region == cheapest[1]
    assert product.usd_per_chip_hour == pytest.approx(cheapest[0] * 0.5)


def test_commitment_names_are_canonicalised():
    data = with_commitment(provider="AWS", accelerator="h100")
    (product,) = parse(data).products
    assert (product.provider, product.accelerator) == ("aws", "H100-SXM")


def test_commitment_fields():
    data = with_commitment(
        upfront_share="50%", min_chips=8, max_chips=512, resale_share=0.2, term="3y"
    )
    (product,) = parse(data).products
    assert product.upfront_share == 0.5
    assert (product.min_chips, product.max_chips) == (8, 512)
    assert product.resale_share == 0.2


# --- bad input ----------------------------------------------------------------------------


def _set(path, value):
    """A copy of the base file with ``path`` (keys and list indexes) set to ``value``."""
    data = base()
    *head, last = path
    node = data
    for key in head:
        node = node[key]
    node[last] = value
    return data


def _drop(path):
    data = base()
    *head, last = path
    node = data
    for key in head:
        node = node[key]
    del node[last]
    return data


SCENARIOS_ABC = [
    {"name": "a", "probability": 0.5},
    {"name": "b", "probability": 0.5},
]


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        # horizon and top level
        (_set(["horizon", "periods"], 0), "horizon.periods", "greater than 0"),
        (_set(["horizon", "periods"], 2.5), "horizon.periods", "integer"),
        (_set(["horizon", "period"], "week"), "horizon.period", "'month' or 'quarter'"),
        (_drop(["horizon"]), "horizon", "is required"),
        (_drop(["discount_rate"]), "discount_rate", "is required"),
        (_set(["discount_rate"], -0.1), "discount_rate", "greater than or equal to 0"),
        (_set(["risk"], {"lambda": -1}), "risk.lambda", "greater than or equal to 0"),
        (_set(["risk"], {"alpha": 1}), "risk.alpha", "(0, 1)"),
        (_set(["risk"], {"alpha": 0}), "risk.alpha", "(0, 1)"),
        (_set(["risk"], {"lamda": 0.3}), "risk.lamda", "Valid: lambda, alpha"),
        (_set(["unmet_penalty"], 0), "unmet_penalty", "greater than 0"),
        (_set(["salvage"], "keep"), "salvage", "'prorate', 'full' or 'none'"),
        (_set(["budget"], 5), "budget", "unknown field"),
        (_set(["classes"], []), "classes", "lists no classes"),
        (_set(["commitments"], []), "commitments", "lists no commitment"),
        # classes
        (_set(["classes", 0, "demand"], [1, 2, 3]), "classes[0].demand", "3 values for 4"),
        (_set(["classes", 0, "demand"], [1, 2, 3, 4, 5]), "classes[0].demand", "5 values"),
        (_set(["classes", 0, "demand", 2], -5), "classes[0].demand[2]", "greater than or equal"),
        (_set(["classes", 1, "demand", 1], "2X"), "classes[1].demand[1]", "2T"),
        (_set(["classes", 1, "name"], "chat"), "classes[1].name", "duplicate class name"),
        (_set(["classes", 0, "workload"], "chat"), "classes[0].workload", "mapping"),
        (_drop(["classes", 0, "workload", "kind"]), "classes[0].workload.kind", "is required"),
        (_set(["classes", 0, "workload", "kind"], "serving"), "classes[0].workload.kind", "serve"),
        (_drop(["classes", 0, "workload", "slo"]), "classes[0].workload.slo", "is required"),
        (
            _set(["classes", 0, "workload", "slo", "tpot_s"], 0),
            "classes[0].workload.slo.tpot_s",
            "greater than 0",
        ),
        (
            _set(["classes", 0, "workload", "model"], "lama-3.3-70b"),
            "classes[0].workload.model",
            "",
        ),
        (
            _set(["classes", 0, "workload", "tokens"], 5),
            "classes[0].workload.tokens",
            "belongs to train",
        ),
        (
            _set(["classes", 0, "workload", "requests_per_s"], 5),
            "classes[0].workload.requests_per_s",
            "demand",
        ),
        (_set(["classes", 0, "workload", "hours"], 730), "classes[0].workload.hours", "hours"),
        (_set(["classes", 1, "workload", "tokens"], "1T"), "classes[1].workload.tokens", "demand"),
        (_set(["classes", 0, "workload", "name"], "x"), "classes[0].workload.name", "class's name"),
        # scenarios
        (_set(["scenarios"], "low"), "scenarios", "list of scenarios"),
        (_set(["scenarios"], []), "scenarios", "list of scenarios"),
        (
            _set(
                ["scenarios"],
                [{"name": "a", "probability": 0.5}, {"name": "b", "probability": 0.4}],
            ),
            "scenarios",
            "sum to 0.9",
        ),
        (
            _set(
                ["scenarios"],
                [{"name": "a", "probability": 0.6}, {"name": "b", "probability": 0.6}],
            ),
            "scenarios",
            "summing to 1",
        ),
        (
            _set(
                ["scenarios"],
                [{"name": "a", "probability": 0.5}, {"name": "a", "probability": 0.5}],
            ),
            "scenarios[1].name",
            "duplicate scenario name",
        ),
        (_set(["scenarios"], [{"name": "a", "probability": 0}]), "scenarios[0].probability", ""),
        (_set(["scenarios"], [{"name": "a"}]), "scenarios[0].probability", "is required"),
        (
            _set(["scenarios"], [{"name": "a", "probability": 1, "growth": {"chat": -0.5}}]),
            "scenarios[0].growth.chat",
            "greater than or equal to 0",
        ),
        (
            _set(["scenarios"], [{"name": "a", "probability": 1, "factors": {"chat": [1, 1]}}]),
            "scenarios[0].factors.chat",
            "2 factors for 4 periods",
        ),
        (
            _set(
                ["scenarios"],
                [{"name": "a", "probability": 1, "factors": {"chat": [1, -1, 1, 1]}}],
            ),
            "scenarios[0].factors.chat[1]",
            "greater than or equal to 0",
        ),
        (
            _set(
                ["scenarios"],
                [
                    {
                        "name": "a",
                        "probability": 1,
                        "growth": {"chat": 2},
                        "factors": {"chat": [1, 1, 1, 1]},
                    }
                ],
            ),
            "scenarios[0].factors.chat",
            "both growth and factors",
        ),
        (_set(["scenarios"], {"sample": {"n": 0}}), "scenarios.sample.n", "greater than 0"),
        (_set(["scenarios"], {"sample": {"n": 5}}), "scenarios.sample.growth", "is required"),
        (
            _set(["scenarios"], {"sample": {"n": 5, "growth": {}}}),
            "scenarios.sample.growth",
            "samples nothing",
        ),
        (
            _set(["scenarios"], {"n": 5, "growth": {"chat": 1}}),
            "scenarios",
            "got a mapping of n, growth",
        ),
        (
            _set(["scenarios"], {"sample": {"n": 5, "growth": {"chat": {"uniform": [-1, 2]}}}}),
            "scenarios.sample.growth.chat",
            "below 0",
        ),
        (
            _set(["scenarios"], {"sample": {"n": 5, "growth": {"chat": {"normal": [1, 2]}}}}),
            "scenarios.sample.growth.chat.normal",
            "unknown field",
        ),
        (
            _set(["scenarios"], {"sample": {"n": 5, "seed": -1, "growth": {"chat": 1}}}),
            "scenarios.sample.seed",
            "greater than or equal to 0",
        ),
        # price paths
        (
            _set(["price_paths"], [{"accelerator": "B300", "available_from": 4}]),
            "price_paths[0].available_from",
            "from 0 to 3",
        ),
        (
            _set(["price_paths"], [{"accelerator": "B300", "available_from": -1}]),
            "price_paths[0].available_from",
            "greater than or equal to 0",
        ),
        (
            _set(["price_paths"], [{"vendor": "NVIDIA", "yearly_change": -1}]),
            "price_paths[0].yearly_change",
            "above -1",
        ),
        (
            _set(["price_paths"], [{"vendor": "Google", "accelerator": "H100"}]),
            "price_paths[0].accelerator",
            "selects no chip",
        ),
        # commitments
        (
            _set(["commitments"], [H100, {**H100, "term": "3y"}]),
            "commitments[1].name",
            "duplicate commitment name",
        ),
        (with_commitment(upfront_share=1.5), "commitments[0].upfront_share", "[0, 1]"),
        (with_commitment(upfront_share=-0.1), "commitments[0].upfront_share", "[0, 1]"),
        (with_commitment(resale_share=2), "commitments[0].resale_share", "[0, 1]"),
        (with_commitment(resale_share="-5%"), "commitments[0].resale_share", "[0, 1]"),
        (with_commitment(min_chips=0), "commitments[0].min_chips", "greater than or equal to 1"),
        (
            with_commitment(min_chips=16, max_chips=8),
            "commitments[0].max_chips",
            "below min_chips 16",
        ),
        (with_commitment(max_chips=0), "commitments[0].max_chips", "greater than 0"),
        (with_commitment(discount=0.4), "commitments[0].discount", "exactly one of"),
        (with_commitment(usd_per_chip_hour=None), "commitments[0].usd_per_chip_hour", "one of"),
        (
            with_commitment(usd_per_chip_hour=0),
            "commitments[0].usd_per_chip_hour",
            "greater than 0",
        ),
        (
            with_commitment(usd_per_chip_hour=None, discount=1),
            "commitments[0].discount",
            "(0, 1)",
        ),
        (
            with_commitment(usd_per_chip_hour=None, discount=0),
            "commitments[0].discount",
            "(0, 1)",
        ),
        (with_commitment(region=None), "commitments[0].region", "needs its region"),
        (
            with_commitment(usd_per_chip_hour=None, discount=0.3, accelerator="Trainium2"),
            "commitments[0].accelerator",
            "aws sells no Trainium2 on demand",
        ),
        (
            with_commitment(usd_per_chip_hour=None, discount=0.3, region="mars-north-1"),
            "commitments[0].region",
            "no H100-SXM on demand in mars-north-1",
        ),
        (
            with_commitment(usd_per_chip_hour=None, discount=0.3, provider="lambda", region=None)
            | {"constraints": {"regions": ["eu-*"]}},
            "commitments[0].accelerator",
            "in a region constraints.regions allows (eu-*)",
        ),
        (with_commitment(term="1 decade"), "commitments[0].term", "26w"),
        (with_commitment(term=12), "commitments[0].term", "with a unit"),
        (with_commitment(term="0y"), "commitments[0].term", "26w"),
        (_drop(["commitments", 0, "term"]), "commitments[0].term", "is required"),
        (with_commitment(term="3y") | {"salvage": "none"}, "commitments[0].term", "12 quarters"),
        (
            with_commitment(term="5q") | {"salvage": "none"},
            "commitments[0].term",
            "a 5q term is 5 quarters, longer than the 4-quarter horizon",
        ),
        (
            with_commitment() | {"constraints": {"regions": ["eu-*"]}},
            "commitments[0].region",
            "not among the regions",
        ),
        (with_commitment(price=3), "commitments[0].price", "unknown field"),
        # constraints and platforms
        (
            _set(["constraints"], {"max_share": {"vendor": 1.5}}),
            "constraints.max_share.vendor",
            "(0, 1]",
        ),
        (
            _set(["constraints"], {"budget_per_period_usd": -5}),
            "constraints.budget_per_period_usd",
            "greater than 0",
        ),
        (
            _set(["constraints"], {"budget_usd": "5M"}),
            "constraints.budget_usd",
            "budget_per_period_usd",
        ),
        (
            _set(["platforms"], {"cuda": {"enabled": True}, "xla": {}}),
            "platforms.xla",
            "enable_usd",
        ),
    ],
)
def test_bad_input(data, field, fragment):
    fails(data, field, fragment)


@pytest.mark.parametrize(
    ("data", "field", "kind", "suggestion"),
    [
        (
            base(scenarios=[{"name": "a", "probability": 1, "growth": {"chatt": 2}}]),
            "scenarios[0].growth.chatt",
            "class",
            "chat",
        ),
        (
            base(scenarios=[{"name": "a", "probability": 1, "factors": {"pretrian": [1] * 4}}]),
            "scenarios[0].factors.pretrian",
            "class",
            "pretrain",
        ),
        (
            base(scenarios={"sample": {"n": 3, "growth": {"chta": 1.5}}}),
            "scenarios.sample.growth.chta",
            "class",
            "chat",
        ),
        (
            with_commitment(accelerator="H100-SMX"),
            "commitments[0].accelerator",
            "accelerator",
            "H100-SXM",
        ),
        (with_commitment(provider="awss"), "commitments[0].provider", "provider", "aws"),
        (
            base(price_paths=[{"accelerator": "TPU-v6"}]),
            "price_paths[0].accelerator[0]",
            "accelerator",
            "TPU-v6e",
        ),
        (
            base(price_paths=[{"vendor": ["NVIDIA", "Nvida"]}]),
            "price_paths[0].vendor[1]",
            "vendor",
            "NVIDIA",
        ),
        (
            base(platforms={"cuda": {"enabled": True}, "xlaa": {"enable_usd": 0}}),
            "platforms.xlaa",
            "platform",
            "xla",
        ),
        (
            with_workload(base(), 0, model="lama-3.3-70b"),
            "classes[0].workload.model",
            "model",
            "llama-3.3-70b",
        ),
    ],
)
def test_unknown_names_suggest(data, field, kind, suggestion):
    err = fails(data, field)
    assert isinstance(err, UnknownNameError)
    assert err.kind == kind
    assert suggestion in err.suggestions


def test_unknown_workload_field_lists_the_fields_a_class_takes():
    err = fails(with_workload(base(), 0, rps=5), "classes[0].workload.rps", "unknown field")
    assert err.valid is not None
    assert "slo" in err.valid
    assert "requests_per_s" not in err.valid
    assert "name" not in err.valid.split(", ")


def test_demand_fields_in_a_batch_workload_are_rejected():
    data = base()
    data["classes"].append(
        {
            "name": "synth",
            "workload": {"kind": "batch", "model": "llama-3.1-8b", "output_tokens": "1B"},
            "demand": [1] * 4,
        }
    )
    err = fails(data, "classes[2].workload.output_tokens", "generated tokens")
    assert "request_output_tokens" in (err.valid or "")


def test_several_problems_are_counted():
    data = base()
    data["commitments"][0]["min_chips"] = 0
    data["commitments"][0]["term"] = "forever"
    err = fails(data, "commitments[0].term", "(and 1 more problem)")
    assert "min_chips" not in str(err)


def test_problems_after_the_top_level_are_collected():
    data = base(
        scenarios=[{"name": "a", "probability": 1, "growth": {"chatt": 2}}],
        price_paths=[{"accelerator": "B300", "available_from": 9}],
    )
    data["classes"][0]["demand"] = [1, 2]
    data["commitments"][0]["upfront_share"] = 0.5
    data["commitments"][0]["max_chips"] = 0
    err = fails(data, "commitments[0].max_chips")
    assert "(and" not in str(err)  # a top-level problem stops before the rest
    data["commitments"][0]["max_chips"] = 4
    err = fails(data, "classes[0].demand")
    assert "(and 2 more problems)" in str(err)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (None, "the file is empty"),
        ({}, "the file is empty"),
        ([1, 2], "got a list"),
        ("text", "expected a mapping"),
    ],
)
def test_bad_top_level(data, fragment):
    with pytest.raises(InputError) as info:
        parse(data)
    assert info.value.file == FILE
    assert info.value.exit_code == 2
    assert fragment in str(info.value)


# --- files --------------------------------------------------------------------------------


def test_load_from_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(base()), encoding="utf-8")
    problem = load_procurement(path)
    assert problem.periods == 4
    assert [c.name for c in problem.classes] == ["chat", "pretrain"]


def test_load_reports_the_path(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(base(salvage="sometimes")), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_procurement(path)
    assert info.value.file == str(path)
    assert info.value.field == "salvage"
    assert info.value.exit_code == 2


def test_load_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        load_procurement(tmp_path / "nope.yaml")
    assert "file not found" in str(info.value)
    assert "procurement file" in str(info.value)
    assert info.value.exit_code == 2


def test_load_duplicate_yaml_keys(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("horizon: {periods: 4, period: quarter}\nhorizon: {periods: 8}\n", "utf-8")
    with pytest.raises(InputError) as info:
        load_procurement(path)
    assert "duplicate key" in str(info.value)


def test_parse_does_not_mutate_its_input():
    data = base(scenarios={"sample": {"n": 3, "growth": {"chat": 1.5}}})
    data["classes"].append(
        {"name": "synth", "workload": {"kind": "batch", "model": "llama-3.1-8b"}, "demand": [1] * 4}
    )
    before = copy.deepcopy(data)
    parse(data)
    assert data == before
