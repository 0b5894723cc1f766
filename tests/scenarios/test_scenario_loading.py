import json
import math
from pathlib import Path

import pytest
import yaml

from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.scenario import FOREVER, ZERO, Distribution, Selector, ShockKind
from arbiter.domain.workload import WorkloadKind
from arbiter.scenarios import load_scenarios, parse_scenarios

REPO = Path(__file__).resolve().parents[2]
FILE = "scenarios.yaml"

CUT = {
    "name": "cut",
    "kind": "supply_cut",
    "select": {"vendor": "NVIDIA"},
    "probability": 0.15,
    "capacity_factor": {"triangular": [0.3, 0.6, 0.9]},
    "start_days": {"uniform": [0, 60]},
    "duration_days": {"lognormal": {"median": 30, "sigma": 0.5}},
}
PRICE = {
    "name": "price",
    "kind": "price_shift",
    "select": {"accelerator": ["H100-SXM", "H200-SXM"]},
    "probability": 0.2,
    "price_factor": {"uniform": [1.2, 1.8]},
    "duration_days": 45,
}
SPOT = {
    "name": "spot",
    "kind": "spot_surge",
    "probability": 0.3,
    "interruption_multiplier": {"triangular": [1.5, 2, 4]},
    "duration_days": {"uniform": [7, 21]},
}
OUTAGE = {
    "name": "outage",
    "kind": "outage",
    "select": {"provider": "aws", "region": "us-east-1"},
    "probability": 0.05,
    "duration_days": 7,
}
SLIP = {
    "name": "slip",
    "kind": "roadmap_slip",
    "select": {"accelerator": "B200"},
    "probability": 0.3,
    "delay_days": {"uniform": [30, 120]},
}
DEMAND = {
    "name": "demand",
    "kind": "demand_shift",
    "select": {"kind": "serve"},
    "probability": 0.25,
    "demand_factor": {"triangular": [1.0, 1.3, 2.0]},
    "start_days": {"uniform": [0, 60]},
}
BASES = {
    "supply_cut": CUT,
    "price_shift": PRICE,
    "spot_surge": SPOT,
    "outage": OUTAGE,
    "roadmap_slip": SLIP,
    "demand_shift": DEMAND,
}


def parse_one(item, **top):
    scenarios = parse_scenarios({**top, "shocks": [item]}, file=FILE)
    (shock,) = scenarios.shocks
    return shock


# --- each kind, defaults and canonical names ----------------------------------------------


def test_every_kind_parses():
    scen = parse_scenarios({"shocks": list(BASES.values())}, file=FILE)
    assert [s.kind for s in scen.shocks] == list(ShockKind)
    assert (scen.horizon_days, scen.penalty, scen.samples, scen.seed) == (None, 3.0, 1000, 0)
    assert scen.factors == ()


def test_supply_cut_fields():
    s = parse_one(CUT)
    assert s.selector == Selector(vendors=("NVIDIA",))
    assert s.probability == 0.15
    assert s.magnitude == Distribution("triangular", (0.3, 0.6, 0.9))
    assert s.start_days == Distribution("uniform", (0.0, 60.0))
    assert s.duration_days == Distribution("lognormal", (30.0, 0.5))
    assert (s.factor, s.loading) == (None, 0.0)


def test_defaults_per_kind():
    assert parse_one(PRICE).start_days == ZERO
    assert parse_one(PRICE).duration_days == Distribution.fixed(45)
    outage = parse_one(OUTAGE)
    assert outage.magnitude == ZERO and outage.duration_days == Distribution.fixed(7)
    slip = parse_one(SLIP)
    assert slip.start_days == ZERO and slip.duration_days == slip.magnitude
    assert slip.magnitude == Distribution("uniform", (30.0, 120.0))
    demand = parse_one(DEMAND)
    assert demand.duration_days == FOREVER
    assert demand.selector == Selector(kinds=(WorkloadKind.SERVE,))
    assert parse_one(SPOT).selector == Selector()  # no select: everything


def test_top_level_fields_and_factors():
    scen = parse_scenarios(
        {
            "horizon_days": 90,
            "penalty": "2.5",
            "samples": 500,
            "seed": 7,
            "factors": ["gpu_shortage", "energy"],
            "shocks": [
                {**CUT, "factor": {"name": "gpu_shortage", "loading": 0.8}},
                {**PRICE, "factor": {"name": "gpu_shortage", "loading": "7e-1"}},
            ],
        },
        file=FILE,
    )
    assert (scen.horizon_days, scen.penalty, scen.samples, scen.seed) == (90.0, 2.5, 500, 7)
    assert scen.factors == ("gpu_shortage", "energy")
    assert [(s.factor, s.loading) for s in scen.shocks] == [
        ("gpu_shortage", 0.8),
        ("gpu_shortage", 0.7),
    ]


def test_names_are_canonicalised_and_deduplicated():
    s = parse_one(
        {
            **CUT,
            "select": {
                "vendor": ["nvidia", "NVIDIA"],
                "provider": ["AWS", " gcp "],
                "accelerator": ["h100", "H100-SXM", "h200"],
                "region": "US-*",
            },
        }
    )
    assert s.selector == Selector(
        vendors=("NVIDIA",),
        providers=("aws", "gcp"),
        accelerators=("H100-SXM", "H200-SXM"),
        regions=("US-*",),
    )
    d = parse_one({**DEMAND, "select": {"kind": ["Serve", "batch"], "workload": "Chat-70B"}})
    assert d.selector.kinds == (WorkloadKind.SERVE, WorkloadKind.BATCH)
    assert d.selector.workloads == ("Chat-70B",)  # workload names are kept as given


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (0.7, Distribution.fixed(0.7)),
        ("7e-1", Distribution.fixed(0.7)),
        ({"fixed": 0.5}, Distribution.fixed(0.5)),
        ({"uniform": ["2e-1", 0.9]}, Distribution("uniform", (0.2, 0.9))),
        ({"beta": {"a": 2, "b": 5}}, Distribution("beta", (2.0, 5.0, 0.0, 1.0))),
        (
            {"beta": {"a": 2, "b": 5, "lo": 0.2, "hi": 0.8}},
            Distribution("beta", (2.0, 5.0, 0.2, 0.8)),
        ),
        ({"triangular": [0.5, 0.5, 0.5]}, Distribution("triangular", (0.5, 0.5, 0.5))),
    ],
)
def test_distribution_forms(text, want):
    assert parse_one({**CUT, "capacity_factor": text}).magnitude == want


def test_yaml_text_with_exponents_and_flow_mappings(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "factors: [f]\n"
        "shocks:\n"
        "  - {name: p, kind: price_shift, probability: 2e-1, price_factor: {lognormal: "
        "{median: 1.3, sigma: 0.2}}, duration_days: 45, factor: {name: f, loading: 0.5}}\n",
        encoding="utf-8",
    )
    (s,) = load_scenarios(path).shocks
    assert s.probability == 0.2 and s.magnitude == Distribution("lognormal", (1.3, 0.2))


def test_example_file_loads_every_kind():
    scen = load_scenarios(REPO / "examples" / "scenarios.yaml")
    assert {s.kind for s in scen.shocks} == set(ShockKind)
    assert scen.factors == ("gpu_shortage",)
    on_factor = [s for s in scen.shocks if s.factor == "gpu_shortage"]
    assert {s.kind for s in on_factor} == {ShockKind.SUPPLY_CUT, ShockKind.PRICE_SHIFT}
    assert all(0 < s.loading <= 1 for s in on_factor)
    by_kind = {s.kind: s for s in scen.shocks}
    assert by_kind[ShockKind.SUPPLY_CUT].selector.vendors == ("NVIDIA",)
    assert set(by_kind[ShockKind.PRICE_SHIFT].selector.accelerators or ()) <= {
        "H100-SXM",
        "H200-SXM",
    }
    outage = by_kind[ShockKind.OUTAGE]
    assert outage.selector.providers == ("aws",) and outage.selector.regions == ("us-east-1",)
    assert outage.duration_days == Distribution.fixed(7)
    assert by_kind[ShockKind.DEMAND_SHIFT].selector.kinds == (WorkloadKind.SERVE,)
    assert scen.horizon_days is not None
    assert all(0 < s.probability < 0.5 for s in scen.shocks)  # a quarter: none is likely


# --- bad input: every message names the file and the field path -----------------------------


def _set(base, path, value):
    item = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    if "." in path:
        outer, inner = path.split(".")
        item[outer] = {**item.get(outer, {}), inner: value}
    else:
        item[path] = value
    return item


def _drop(base, key):
    return {k: v for k, v in base.items() if k != key}


BAD = [
    # (item, field path after shocks[1], fragment of the message)
    (_set(CUT, "probability", 0), "probability", "(0, 1]"),
    (_set(CUT, "probability", 1.5), "probability", "(0, 1]"),
    (_set(CUT, "probability", -0.1), "probability", "(0, 1]"),
    (_set(CUT, "probability", "often"), "probability", "must be a number"),
    (_set(CUT, "probability", True), "probability", "not true"),
    (_drop(CUT, "probability"), "probability", "is required"),
    (_drop(CUT, "name"), "name", "is required"),
    (_set(CUT, "name", ""), "name", "must not be empty"),
    (_drop(CUT, "kind"), "kind", "is required"),
    (_set(CUT, "kind", "supplycut"), "kind", "Did you mean 'supply_cut'"),
    (_set(CUT, "kind", 3), "kind", "unknown shock kind"),
    (_set(CUT, "colour", "red"), "colour", "unknown field"),
    (_set(CUT, "price_factor", 2), "price_factor", "belongs to price_shift"),
    (_set(OUTAGE, "capacity_factor", 0), "capacity_factor", "belongs to supply_cut"),
    (_set(SLIP, "start_days", 3), "start_days", "starts at day 0"),
    (_set(SLIP, "duration_days", 3), "duration_days", "lasts delay_days"),
    (_set(DEMAND, "delay_days", 3), "delay_days", "belongs to roadmap_slip"),
    (_drop(CUT, "capacity_factor"), "capacity_factor", "is required"),
    (_drop(CUT, "duration_days"), "duration_days", "is required"),
    (_drop(PRICE, "duration_days"), "duration_days", "is required"),
    (_drop(SPOT, "duration_days"), "duration_days", "is required"),
    (_drop(OUTAGE, "duration_days"), "duration_days", "is required"),
    (_drop(SLIP, "delay_days"), "delay_days", "is required"),
    # distributions
    (
        _set(CUT, "capacity_factor", {"uniform": [0.9, 0.3]}),
        "capacity_factor.uniform",
        "lo 0.9 is above hi 0.3",
    ),
    (
        _set(CUT, "capacity_factor", {"uniform": [0.3]}),
        "capacity_factor.uniform",
        "list of 2 numbers",
    ),
    (
        _set(CUT, "capacity_factor", {"uniform": 0.3}),
        "capacity_factor.uniform",
        "list of 2 numbers",
    ),
    (
        _set(CUT, "capacity_factor", {"uniform": [0.3, "x"]}),
        "capacity_factor.uniform[1]",
        "must be a number",
    ),
    (
        _set(CUT, "capacity_factor", {"triangular": [0.3, 1.0, 0.9]}),
        "capacity_factor.triangular",
        "mode 1 is outside [lo, hi]",
    ),
    (
        _set(CUT, "capacity_factor", {"triangular": [0.9, 0.5, 0.3]}),
        "capacity_factor.triangular",
        "lo 0.9 is above hi 0.3",
    ),
    (
        _set(CUT, "capacity_factor", {"triangular": [0.1, 0.5]}),
        "capacity_factor.triangular",
        "[lo, mode, hi]",
    ),
    (
        _set(PRICE, "price_factor", {"lognormal": {"median": 0, "sigma": 1}}),
        "price_factor.lognormal.median",
        "greater than 0",
    ),
    (
        _set(PRICE, "price_factor", {"lognormal": {"median": 1.2}}),
        "price_factor.lognormal.sigma",
        "is required",
    ),
    (
        _set(PRICE, "price_factor", {"lognormal": {"median": 1.2, "sigma": 0.1, "mu": 0}}),
        "price_factor.lognormal.mu",
        "unknown field",
    ),
    (
        _set(CUT, "capacity_factor", {"beta": {"a": 2, "b": 2, "lo": 0.8, "hi": 0.2}}),
        "capacity_factor.beta",
        "lo 0.8 is above hi 0.2",
    ),
    (
        _set(CUT, "capacity_factor", {"beta": {"a": -1, "b": 2}}),
        "capacity_factor.beta.a",
        "greater than 0",
    ),
    (_set(CUT, "capacity_factor", {"normal": [0, 1]}), "capacity_factor.normal", "unknown field"),
    (
        _set(CUT, "capacity_factor", {"uniform": [0, 1], "fixed": 1}),
        "capacity_factor",
        "exactly one key",
    ),
    (_set(CUT, "capacity_factor", {}), "capacity_factor", "exactly one key"),
    (_set(CUT, "capacity_factor", {"uniform": None}), "capacity_factor", "one distribution"),
    (_set(CUT, "capacity_factor", [0.3, 0.6]), "capacity_factor", "a number, or one of"),
    (_set(CUT, "capacity_factor", "lots"), "capacity_factor.fixed", "must be a number"),
    (_set(CUT, "capacity_factor", float("nan")), "capacity_factor.fixed", "finite"),
    # ranges per kind
    (_set(CUT, "capacity_factor", {"uniform": [0.5, 1.2]}), "capacity_factor", "outside [0, 1]"),
    (_set(CUT, "capacity_factor", 1.5), "capacity_factor", "outside [0, 1]"),
    (
        _set(CUT, "capacity_factor", {"lognormal": {"median": 0.5, "sigma": 0.1}}),
        "capacity_factor",
        "unbounded",
    ),
    (_set(PRICE, "price_factor", 0), "price_factor", "must be > 0"),
    (_set(PRICE, "price_factor", {"uniform": [-1, 2]}), "price_factor", "must be > 0"),
    (_set(DEMAND, "demand_factor", {"triangular": [0, 1, 2]}), "demand_factor", "must be > 0"),
    (_set(SPOT, "interruption_multiplier", 0.5), "interruption_multiplier", ">= 1"),
    (
        _set(SPOT, "interruption_multiplier", {"uniform": [0.8, 2]}),
        "interruption_multiplier",
        ">= 1",
    ),
    (
        _set(SPOT, "interruption_multiplier", {"lognormal": {"median": 2, "sigma": 0.2}}),
        "interruption_multiplier",
        "below 1",
    ),
    (_set(SLIP, "delay_days", {"uniform": [-10, 30]}), "delay_days", ">= 0"),
    (_set(CUT, "duration_days", -3), "duration_days", "days must be >= 0"),
    (_set(CUT, "start_days", {"uniform": [-5, 3]}), "start_days", "days must be >= 0"),
    (_set(DEMAND, "duration_days", {"triangular": [-1, 2, 3]}), "duration_days", ">= 0"),
    # selectors
    (_set(CUT, "select.vendor", "nvidea"), "select.vendor[0]", "Did you mean 'NVIDIA'"),
    (_set(CUT, "select.provider", ["aws", "awz"]), "select.provider[1]", "Did you mean 'aws'"),
    (
        _set(PRICE, "select.accelerator", ["H100-SXM", "H1000"]),
        "select.accelerator[1]",
        "Did you mean",
    ),
    (_set(CUT, "select.vendor", []), "select.vendor", "must not be empty"),
    (_set(CUT, "select.region", [""]), "select.region[0]", "must not be empty"),
    (_set(CUT, "select.vendor", 3), "select.vendor", "must be a list"),
    (_set(CUT, "select.zone", "a"), "select.zone", "unknown field"),
    (_set(CUT, "select", "NVIDIA"), "select", "must be a mapping"),
    (_set(CUT, "select.kind", "serve"), "select.kind", "for demand_shift only"),
    (_set(OUTAGE, "select.workload", "chat"), "select.workload", "for demand_shift only"),
    (_set(DEMAND, "select.vendor", "NVIDIA"), "select.vendor", "cannot select by vendor"),
    (_set(DEMAND, "select.region", "us-*"), "select.region", "cannot select by region"),
    (_set(DEMAND, "select.kind", "servve"), "select.kind[0]", "Did you mean 'serve'"),
    (
        {**CUT, "select": {"vendor": "AMD", "accelerator": "H100"}},
        "select.accelerator",
        "H100-SXM is made by NVIDIA, not AMD",
    ),
    # factors
    (
        _set(CUT, "factor", {"name": "gpu_shortag", "loading": 0.5}),
        "factor.name",
        "Did you mean 'gpu_shortage'",
    ),
    (_set(CUT, "factor", {"name": "gpu_shortage", "loading": 1.5}), "factor.loading", "[0, 1]"),
    (_set(CUT, "factor", {"name": "gpu_shortage", "loading": -0.1}), "factor.loading", "[0, 1]"),
    (_set(CUT, "factor", {"name": "gpu_shortage"}), "factor.loading", "is required"),
    (_set(CUT, "factor", "gpu_shortage"), "factor", "must be a mapping"),
    # the horizon
    (_set(CUT, "start_days", {"uniform": [100, 120]}), "start_days", "after the 90-day horizon"),
]


@pytest.mark.parametrize(
    ("item", "field", "fragment"),
    BAD,
    ids=[f"{b[0].get('kind', '-')}:{b[1]}:{b[2]}" for b in BAD],
)
def test_bad_input_names_file_and_field_path(item, field, fragment):
    data = {
        "horizon_days": 90,
        "factors": ["gpu_shortage"],
        "shocks": [{**OUTAGE, "name": "ok"}, item],
    }
    with pytest.raises(InputError) as info:
        parse_scenarios(data, file=FILE)
    err = info.value
    text = str(err)
    path = f"shocks[1].{field}"
    assert err.file == FILE
    assert err.field == path, text
    assert err.exit_code == 2
    assert text.startswith(f"In {FILE}, at field {path}: "), text
    assert fragment in text, text
    assert "more problem" not in text, text  # one mistake, one problem
    assert "Traceback" not in text and "pydantic" not in text.lower()


def test_undeclared_factor_says_where_to_declare_it():
    with pytest.raises(InputError) as info:
        parse_scenarios({"shocks": [{**CUT, "factor": {"name": "f", "loading": 0.5}}]}, file=FILE)
    assert info.value.field == "shocks[0].factor.name"
    assert "not declared" in str(info.value) and "factors: [f]" in str(info.value)


def test_unknown_names_stay_unknown_name_errors():
    with pytest.raises(UnknownNameError) as info:
        parse_one(_set(PRICE, "select.accelerator", "H20O"))
    assert info.value.file == FILE
    assert info.value.field == "shocks[0].select.accelerator[0]"
    assert info.value.exit_code == 2


def test_duplicate_shock_names_are_rejected():
    with pytest.raises(InputError) as info:
        parse_scenarios({"shocks": [CUT, PRICE, {**OUTAGE, "name": "cut"}]}, file=FILE)
    assert info.value.field == "shocks[2].name"
    assert "duplicate shock name 'cut' (also at shocks[0].name)" in str(info.value)


def test_several_problems_report_the_first_and_count_the_rest():
    data = {"shocks": [_set(CUT, "probability", 2), _set(PRICE, "price_factor", 0), SPOT]}
    with pytest.raises(InputError) as info:
        parse_scenarios(data, file=FILE)
    assert info.value.field == "shocks[0].probability"
    assert "(and 1 more problem)" in str(info.value)
    with pytest.raises(InputError, match=r"\(and 2 more problems\)"):
        parse_scenarios({"shocks": [{**CUT, "probability": 2, "name": "", "x": 1}]}, file=FILE)


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        (None, None, "empty"),
        ({}, None, "empty"),
        ([CUT], None, "got a list"),
        ("cut", None, "expected a mapping"),
        ({"shocks": []}, "shocks", "lists no shocks"),
        ({"shocks": CUT}, "shocks", "must be a list"),
        ({"factors": ["f"]}, "shocks", "is required"),
        ({"shocks": [CUT], "version": 2}, "version", "unknown field"),
        ({"shocks": [CUT], "workloads": []}, "workloads", "unknown field"),
        ({"shocks": [CUT, "outage"]}, "shocks[1]", "must be a mapping"),
        ({"shocks": [CUT], "penalty": 0}, "penalty", "greater than 0"),
        ({"shocks": [CUT], "penalty": -3}, "penalty", "greater than 0"),
        ({"shocks": [CUT], "horizon_days": 0}, "horizon_days", "greater than 0"),
        ({"shocks": [CUT], "samples": 0}, "samples", "greater than 0"),
        ({"shocks": [CUT], "samples": 10.5}, "samples", "integer"),
        ({"shocks": [CUT], "seed": -1}, "seed", "greater than or equal to 0"),
        ({"shocks": [CUT], "factors": "f"}, "factors", "must be a list"),
        ({"shocks": [CUT], "factors": ["f", "g", "f"]}, "factors[2]", "duplicate factor 'f'"),
    ],
)
def test_bad_file_structure(data, field, fragment):
    with pytest.raises(InputError) as info:
        parse_scenarios(data, file=FILE)
    assert info.value.field == field
    assert info.value.file == FILE and info.value.exit_code == 2
    assert fragment in str(info.value), str(info.value)


# --- files -------------------------------------------------------------------------------------


def test_load_from_yaml_and_json(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"shocks": [CUT, SLIP]}), encoding="utf-8")
    assert [s.name for s in load_scenarios(path).shocks] == ["cut", "slip"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"seed": 4, "shocks": [DEMAND]}), encoding="utf-8")
    scen = load_scenarios(path)
    assert scen.seed == 4 and math.isinf(scen.shocks[0].duration_days.mean)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("shocks:\n  - name: a\n    kind: [oops\n", "invalid YAML at line"),
        ("shocks:\n  - name: a\n    kind: outage\n    kind: supply_cut\n", "duplicate key 'kind'"),
        ("", "empty"),
        ("# only a comment\n", "empty"),
        (
            "shocks:\n  - name: a\n    kind: outage\n    probability: 0.1\n    duration_days: -7\n",
            "shocks[0].duration_days",
        ),
    ],
)
def test_bad_files_name_the_file(tmp_path, content, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenarios(path)
    assert info.value.file == str(path) and info.value.exit_code == 2
    assert fragment in str(info.value)


def test_missing_file_directory_and_binary(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_scenarios(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="directory, not a scenario file"):
        load_scenarios(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="UTF-8"):
        load_scenarios(binary)
