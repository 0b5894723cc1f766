import copy
from pathlib import Path

import pytest
import yaml

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.fleet import (
    COST,
    TIME,
    CapacityLimit,
    Fleet,
    Objective,
    PlatformState,
    ShareCaps,
)
from arbiter.domain.offer import PriceRegime
from arbiter.workloads import load_fleet, load_workloads, parse_fleet, parse_workloads

REPO = Path(__file__).resolve().parents[2]
FILE = "fleet.yaml"

SERVE = {
    "name": "chat",
    "kind": "serve",
    "model": "llama-3.3-70b",
    "requests_per_s": 20,
    "input_tokens": 1000,
    "output_tokens": 300,
    "slo": {"ttft_s": 2, "tpot_s": 0.05},
}
TRAIN = {"name": "pt", "kind": "train", "model": "llama-3.1-70b", "tokens": "2T"}


def fleet(**keys):
    return parse_fleet({"workloads": [SERVE, TRAIN], **keys}, file=FILE)


def fails(**keys):
    with pytest.raises(InputError) as info:
        fleet(**keys)
    assert FILE in str(info.value)
    return info.value


# --- defaults -------------------------------------------------------------------------------


def test_plain_workload_file_is_a_fleet_with_defaults():
    f = fleet()
    assert [w.name for w in f.workloads] == ["chat", "pt"]
    assert f.caps == ShareCaps(vendor=None, provider=None, region=None)
    assert f.regions is None and f.budget_usd is None and f.capacity == ()
    assert f.platforms == tuple(PlatformState(p, enabled=True) for p in Platform)
    assert f.objective == COST and f.objective.kind == "cost"


def test_bare_workload_mapping_is_a_fleet():
    f = parse_fleet(SERVE, file=FILE)
    assert [w.name for w in f.workloads] == ["chat"] and f.objective == COST


def test_domain_fleet_defaults_match_the_loader():
    f = fleet()
    assert Fleet(workloads=f.workloads) == f


def test_empty_constraints_and_max_share_are_no_caps():
    assert fleet(constraints={}).caps == ShareCaps(None, None, None)
    assert fleet(constraints={"max_share": {}}).caps == ShareCaps(None, None, None)


# --- each field -----------------------------------------------------------------------------


def test_constraints():
    f = fleet(
        constraints={
            "max_share": {"vendor": 0.6, "provider": "50%", "region": 1},
            "regions": ["us-*", " eu-* ", "us-*"],
            "budget_usd": "40M",
        }
    )
    assert f.caps == ShareCaps(vendor=0.6, provider=0.5, region=1.0)
    assert f.regions == ("us-*", "eu-*")
    assert f.budget_usd == 4e7


def test_one_share_cap_leaves_the_others_open():
    assert fleet(constraints={"max_share": {"provider": "0.5"}}).caps == ShareCaps(
        vendor=None, provider=0.5, region=None
    )


def test_platforms_listed_are_the_only_usable_ones():
    f = fleet(
        platforms={
            "cuda": {"enabled": True},
            "ROCm": {"enable_usd": 400_000, "lead_weeks": 6},
            "xla": {"enable_usd": "1.5M", "lead_weeks": "12"},
            "neuron": {"enable_usd": 0},
        }
    )
    assert f.platforms == (
        PlatformState(Platform.CUDA, enabled=True),
        PlatformState(Platform.ROCM, enabled=False, enable_usd=4e5, lead_weeks=6),
        PlatformState(Platform.XLA, enabled=False, enable_usd=1.5e6, lead_weeks=12),
        PlatformState(Platform.NEURON, enabled=False, enable_usd=0, lead_weeks=0),
    )
    assert f.platform(Platform.GAUDI) is None
    assert f.platform(Platform.ROCM).enable_usd == 4e5


def test_capacity():
    f = fleet(
        capacity=[
            {"provider": "AWS", "accelerator": "h100", "max_instances": 64},
            {
                "provider": "gcp",
                "accelerator": "H100-SXM",
                "max_instances": 0,
                "region": "us-*",
                "price_regime": "Spot",
            },
        ]
    )
    assert f.capacity == (
        CapacityLimit(provider="aws", accelerator="H100-SXM", max_instances=64),
        CapacityLimit(
            provider="gcp",
            accelerator="H100-SXM",
            max_instances=0,
            region="us-*",
            price_regime=PriceRegime.SPOT,
        ),
    )


@pytest.mark.parametrize(
    ("value", "expected", "kind"),
    [
        ("cost", COST, "cost"),
        (" Time ", TIME, "time"),
        ({"cost": 1, "time_usd_per_hour": 50}, Objective(1, 50), "weighted"),
        ({"time_usd_per_hour": "50"}, Objective(1, 50), "weighted"),
        ({"cost": 0, "time_usd_per_hour": 10}, Objective(0, 10), "time"),
        ({"cost": 2}, Objective(2, 0), "cost"),
    ],
)
def test_objective_forms(value, expected, kind):
    objective = fleet(objective=value).objective
    assert objective == expected and objective.kind == kind


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "field", "fragment"),
    [
        # constraints
        ({"constraints": None}, "constraints", "must be a mapping"),
        ({"constraints": {"budget": 1}}, "constraints.budget", "unknown field 'budget'"),
        ({"constraints": {"max_share": {"vendor": 0}}}, "constraints.max_share.vendor", "(0, 1]"),
        ({"constraints": {"max_share": {"vendor": 1.5}}}, "constraints.max_share.vendor", "1.5"),
        (
            {"constraints": {"max_share": {"provider": "150%"}}},
            "constraints.max_share.provider",
            "(0, 1]",
        ),
        (
            {"constraints": {"max_share": {"region": -0.2}}},
            "constraints.max_share.region",
            "(0, 1]",
        ),
        (
            {"constraints": {"max_share": {"region": True}}},
            "constraints.max_share.region",
            "not true",
        ),
        (
            {"constraints": {"max_share": {"region": "half"}}},
            "constraints.max_share.region",
            "must be a number",
        ),
        (
            {"constraints": {"max_share": {"chip": 0.5}}},
            "constraints.max_share.chip",
            "vendor, provider, region",
        ),
        ({"constraints": {"max_share": 0.5}}, "constraints.max_share", "must be a mapping"),
        ({"constraints": {"regions": []}}, "constraints.regions", "must not be empty"),
        ({"constraints": {"regions": "us-*"}}, "constraints.regions", "must be a list"),
        ({"constraints": {"regions": [""]}}, "constraints.regions[0]", "must not be empty"),
        ({"constraints": {"budget_usd": 0}}, "constraints.budget_usd", "greater than 0"),
        ({"constraints": {"budget_usd": -5}}, "constraints.budget_usd", "greater than 0"),
        ({"constraints": {"budget_usd": "lots"}}, "constraints.budget_usd", "must be a number"),
        # platforms
        ({"platforms": {}}, "platforms", "must not be empty"),
        ({"platforms": ["cuda"]}, "platforms", "must be a mapping"),
        ({"platforms": {"cuda": True}}, "platforms.cuda", "must be a mapping"),
        ({"platforms": {"cuda": {"enabled": "yes"}}}, "platforms.cuda.enabled", "boolean"),
        (
            {"platforms": {"cuda": {"on": True}}},
            "platforms.cuda.on",
            "enabled, enable_usd, lead_weeks",
        ),
        (
            {"platforms": {"rocm": {"enable_usd": -1}}},
            "platforms.rocm.enable_usd",
            "greater than or equal to 0",
        ),
        (
            {"platforms": {"rocm": {"enable_usd": 1, "lead_weeks": -2}}},
            "platforms.rocm.lead_weeks",
            "greater than or equal to 0",
        ),
        ({"platforms": {"rocm": {"lead_weeks": 2}}}, "platforms.rocm", "needs enable_usd"),
        ({"platforms": {"rocm": {"enabled": False}}}, "platforms.rocm", "needs enable_usd"),
        (
            {"platforms": {"cuda": {"enabled": True, "enable_usd": 5}}},
            "platforms.cuda",
            "takes no enable_usd",
        ),
        (
            {"platforms": {"cuda": {"enabled": True, "lead_weeks": 0}}},
            "platforms.cuda",
            "takes no enable_usd or lead_weeks",
        ),
        (
            {"platforms": {"cuda": {"enabled": True}, "CUDA": {"enabled": True}}},
            "platforms.CUDA",
            "listed twice",
        ),
        # capacity
        ({"capacity": {"provider": "aws"}}, "capacity", "must be a list"),
        (
            {"capacity": [{"provider": "aws", "accelerator": "H100"}]},
            "capacity[0].max_instances",
            "is required",
        ),
        (
            {"capacity": [{"provider": "aws", "accelerator": "H100", "max_instances": -1}]},
            "capacity[0].max_instances",
            "greater than or equal to 0",
        ),
        (
            {"capacity": [{"provider": "aws", "accelerator": "H100", "max_instances": 6.5}]},
            "capacity[0].max_instances",
            "integer",
        ),
        (
            {"capacity": [{"provider": "aws", "accelerator": "H100", "max_instances": "8"}]},
            "capacity[0].max_instances",
            "integer",
        ),
        (
            {"capacity": [{"provider": "aws", "accelerator": "H100", "max_instances": True}]},
            "capacity[0].max_instances",
            "integer",
        ),
        (
            {
                "capacity": [
                    {
                        "provider": "aws",
                        "accelerator": "H100",
                        "max_instances": 1,
                        "price_regime": "cheap",
                    }
                ]
            },
            "capacity[0].price_regime",
            "on_demand",
        ),
        (
            {
                "capacity": [
                    {"provider": "aws", "accelerator": "H100", "max_instances": 1, "zone": "a"}
                ]
            },
            "capacity[0].zone",
            "provider, accelerator, max_instances, region, price_regime",
        ),
        (
            {
                "capacity": [
                    {"provider": "aws", "accelerator": "H100", "max_instances": 1},
                    {"provider": "aws", "accelerator": "H100-SXM", "max_instances": 2},
                ]
            },
            "capacity[1]",
            "also at capacity[0]",
        ),
        # objective
        ({"objective": "fast"}, "objective", "unknown objective 'fast'"),
        ({"objective": 3}, "objective", "must be cost, time, or a mapping"),
        ({"objective": {"cost": 0, "time_usd_per_hour": 0}}, "objective", "must not both be 0"),
        ({"objective": {"cost": -1}}, "objective.cost", "greater than or equal to 0"),
        (
            {"objective": {"time_usd_per_hour": -5}},
            "objective.time_usd_per_hour",
            "greater than or equal to 0",
        ),
        ({"objective": {"cost": 1, "time": 50}}, "objective.time", "cost, time_usd_per_hour"),
    ],
)
def test_bad_fleet_keys(keys, field, fragment):
    error = fails(**keys)
    assert error.field == field
    assert fragment in str(error)


@pytest.mark.parametrize(
    ("keys", "field", "kind", "suggestion"),
    [
        ({"platforms": {"rocmm": {"enable_usd": 1}}}, "platforms.rocmm", "platform", "rocm"),
        (
            {"capacity": [{"provider": "aws", "accelerator": "H100-SXN", "max_instances": 1}]},
            "capacity[0].accelerator",
            "accelerator",
            "H100-SXM",
        ),
        (
            {"capacity": [{"provider": "awz", "accelerator": "H100", "max_instances": 1}]},
            "capacity[0].provider",
            "provider",
            "aws",
        ),
    ],
)
def test_unknown_names_suggest(keys, field, kind, suggestion):
    error = fails(**keys)
    assert isinstance(error, UnknownNameError)
    assert error.field == field and error.kind == kind
    assert suggestion in error.suggestions


def test_several_problems_are_counted():
    error = fails(
        constraints={"max_share": {"vendor": 2, "region": 0}},
        objective="fast",
    )
    assert error.field == "constraints.max_share.vendor"
    assert "(and 2 more problems)" in str(error)


def test_name_problems_in_platforms_and_capacity_are_counted_together():
    error = fails(
        platforms={"cuda": {"enabled": True}, "tpu": {"enable_usd": 1}},
        capacity=[{"provider": "nope", "accelerator": "H100", "max_instances": 1}],
    )
    assert error.field == "platforms.tpu" and "(and 1 more problem)" in str(error)


def test_workload_problems_are_reported_first():
    data = {"workloads": [{**SERVE, "requests_per_s": -1}], "objective": "fast"}
    with pytest.raises(InputError) as info:
        parse_fleet(data, file=FILE)
    assert info.value.field == "workloads[0].requests_per_s"


def test_unknown_top_level_key_lists_the_fleet_keys():
    with pytest.raises(InputError) as info:
        parse_fleet({"workloads": [SERVE], "constraint": {}}, file=FILE)
    assert info.value.field == "constraint"
    assert "workloads, constraints, platforms, capacity, objective" in str(info.value)


def test_fleet_keys_in_a_bare_workload_are_unknown_fields():
    with pytest.raises(InputError) as info:
        parse_fleet({**SERVE, "objective": "cost"}, file=FILE)
    assert info.value.field == "objective"


def test_domain_types_check_their_invariants():
    with pytest.raises(ValueError, match="both be 0"):
        Objective(0, 0)
    with pytest.raises(ValueError, match="cost_weight"):
        Objective(-1, 0)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        ShareCaps(vendor=1.2)
    with pytest.raises(ValueError, match="enable_usd"):
        PlatformState(Platform.ROCM, enabled=False, enable_usd=-1)
    with pytest.raises(ValueError, match="lead_weeks"):
        PlatformState(Platform.ROCM, enabled=False, lead_weeks=float("nan"))
    with pytest.raises(ValueError, match="max_instances"):
        CapacityLimit(provider="aws", accelerator="H100-SXM", max_instances=-1)


# --- files ----------------------------------------------------------------------------------


def test_example_fleet_loads():
    f = load_fleet(REPO / "examples" / "fleet.yaml")
    names = [w.name for w in f.workloads]
    assert len(names) == 6 and "pretrain-70b" in names
    assert any(w.placement.interruptible for w in f.workloads)
    assert f.caps == ShareCaps(vendor=0.75, provider=0.5, region=0.7)
    assert f.regions is not None and "us-*" in f.regions
    assert f.budget_usd is not None and f.budget_usd > 0
    assert f.platform(Platform.CUDA) == PlatformState(Platform.CUDA, enabled=True)
    rocm = f.platform(Platform.ROCM)
    assert rocm is not None and not rocm.enabled and rocm.enable_usd > 0 and rocm.lead_weeks > 0
    assert f.platform(Platform.GAUDI) is None
    assert f.capacity and all(c.max_instances >= 0 for c in f.capacity)
    assert f.objective.kind == "cost"


def test_example_fleet_reads_as_workloads():
    path = REPO / "examples" / "fleet.yaml"
    assert load_workloads(path) == load_fleet(path).workloads


def test_workload_example_is_a_fleet_with_defaults():
    path = REPO / "examples" / "workloads.yaml"
    f = load_fleet(path)
    assert f.workloads == load_workloads(path) and f.objective == COST
    assert f.platform(Platform.GAUDI) == PlatformState(Platform.GAUDI, enabled=True)


def test_load_workloads_ignores_fleet_keys():
    data = {"workloads": [SERVE], "objective": "time", "platforms": {"cuda": {"enabled": True}}}
    assert parse_workloads(data, file=FILE) == parse_workloads({"workloads": [SERVE]}, file=FILE)


def test_load_fleet_from_file(tmp_path):
    path = tmp_path / "f.yaml"
    data = {"workloads": [SERVE], "constraints": {"budget_usd": 1e6}, "objective": "time"}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    f = load_fleet(path)
    assert f.budget_usd == 1e6 and f.objective == TIME


@pytest.mark.parametrize(
    ("content", "field", "fragment"),
    [
        ("workloads: [{name: a\n", None, "invalid YAML"),
        ("objective: cost\nobjective: time\n", None, "duplicate key 'objective'"),
        ("", None, "empty"),
    ],
)
def test_load_fleet_bad_files(tmp_path, content, field, fragment):
    path = tmp_path / "f.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_fleet(path)
    assert (
        info.value.field == field and fragment in str(info.value) and str(path) in str(info.value)
    )


def test_load_fleet_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_fleet(tmp_path / "nope.yaml")


def test_parse_fleet_does_not_mutate_its_input():
    data = {"workloads": [SERVE], "objective": "time", "capacity": []}
    before = copy.deepcopy(data)
    parse_fleet(data, file=FILE)
    assert data == before


# --- pricing.after_term -------------------------------------------------------------------


def test_after_term_defaults_to_on_demand_and_reads_renew():
    from arbiter.domain.after_term import AfterTerm

    assert fleet().after_term is AfterTerm.ON_DEMAND
    assert fleet(pricing={"after_term": "Renew"}).after_term is AfterTerm.RENEW
    assert fleet(pricing={"after_term": "on_demand"}).after_term is AfterTerm.ON_DEMAND


def test_a_bad_after_term_names_the_field_and_the_valid_values():
    error = fails(pricing={"after_term": "committed"})
    assert error.field == "pricing.after_term"
    assert "on_demand" in str(error) and "renew" in str(error)
    assert fails(pricing={"after": "renew"}).field == "pricing.after"
