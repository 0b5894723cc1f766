import copy
from pathlib import Path

import pytest
import yaml

from arbiter.domain.accelerator import Platform
from arbiter.domain.deal import Deal, Obligation, Tranche
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.scenario import Distribution
from arbiter.procure import load_procurement

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "deals"
PROCURE = EXAMPLES / "lab.yaml"

BASE = {
    "name": "test-deal",
    "counterparty": "aws",
    "covers": ["Trainium2", "Trainium3"],
    "discount": 0.25,
    "capital": {
        "tranches": [
            {"usd": "4B", "period": 0, "kind": "equity"},
            {"usd": "6B", "period": 4, "probability": 0.7, "condition": "usage >= 50%"},
        ],
        "credits_usd": "500M",
    },
    "obligation": {
        "min_spend_usd_per_year": ["2B", "3B", "3B", "4B"],
        "shortfall_penalty": 1.0,
        "min_share": 0.3,
    },
    "porting": {
        "platform": "neuron",
        "enable_usd": "2M",
        "lead_weeks": 16,
        "efficiency": {"triangular": [0.7, 0.9, 1.0]},
    },
    "valuation": {"discount_rate": 0.1, "horizon_years": 4, "equity_haircut": 0.3},
    "procurement": str(PROCURE),
}


def write(tmp_path, data, name="deal.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def deal(tmp_path, **top):
    from arbiter.deals import load_deal

    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(top))
    return load_deal(write(tmp_path, data))


def fails(tmp_path, field, fragment="", **top):
    with pytest.raises(InputError) as info:
        deal(tmp_path, **top)
    err = info.value
    assert err.file == str(tmp_path / "deal.yaml")
    assert err.field == field, str(err)
    assert err.exit_code == 2
    assert fragment in str(err), str(err)
    return err


def changed(section, **fields):
    data = copy.deepcopy(BASE[section])
    data.update(fields)
    return {section: data}


def tranche(**fields):
    return {"capital": {"tranches": [{"usd": "1B", "period": 0, **fields}]}}


# --- the examples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["trainium-10b.yaml", "trainium-50b-tranched.yaml", "tpu-commitment.yaml"]
)
def test_examples_load(name):
    from arbiter.deals import load_deal

    d = load_deal(EXAMPLES / name)
    assert isinstance(d, Deal)
    assert d.procurement == load_procurement(PROCURE)
    assert d.porting is not None
    assert all(t.period < d.horizon_periods for t in d.tranches)
    assert d.scenarios is not None
    assert d.scenarios_file == "scenarios.yaml"


DEAL_FILES = ("trainium-10b.yaml", "trainium-50b-tranched.yaml", "tpu-commitment.yaml")


def test_examples_are_labelled_illustrative():
    for path in EXAMPLES.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        phrase = "ILLUSTRATIVE TERMS ONLY" if path.name in DEAL_FILES else "ILLUSTRATIVE"
        assert phrase in text, path


def test_trainium_10b_example():
    from arbiter.deals import load_deal

    d = load_deal(EXAMPLES / "trainium-10b.yaml")
    assert d.counterparty == "aws"
    assert d.covers == ("Trainium2", "Trainium3")
    assert d.discount == 0.25
    assert d.tranches == (
        Tranche(usd=4e9, period=0, kind="equity"),
        Tranche(
            usd=6e9,
            period=4,
            kind="equity",
            probability=0.7,
            condition="usage >= 50% of commitment",
        ),
    )
    assert d.credits_usd == 5e8
    assert d.obligation == Obligation(
        min_spend_usd_per_year=(2e9, 3e9, 3e9, 4e9), shortfall_penalty=1.0, min_share=0.3
    )
    assert d.obligation.committed_usd == 12e9
    assert d.porting is not None
    assert d.porting.platform is Platform.NEURON
    assert d.porting.enable_usd == 2e6
    assert d.porting.efficiency == Distribution("triangular", (0.7, 0.9, 1.0))
    assert (d.discount_rate, d.horizon_years, d.equity_haircut) == (0.1, 4, 0.3)
    assert d.periods_per_year == 4  # the procurement file plans in quarters
    assert d.horizon_periods == 16
    assert d.year_of(4) == 1
    assert d.tranche_value(d.tranches[0]) == pytest.approx(4e9 * 0.7)


def test_tranched_example_has_conditions_and_a_ramped_total():
    from arbiter.deals import load_deal

    d = load_deal(EXAMPLES / "trainium-50b-tranched.yaml")
    assert sum(t.usd for t in d.tranches) == 50e9
    assert [t.condition != "" for t in d.tranches] == [False, True, True, True]
    assert any(t.condition.startswith("milestone:") for t in d.tranches)
    assert {t.kind for t in d.tranches} == {"equity", "credit"}
    assert d.obligation.total_spend_usd == 100e9
    assert d.obligation.minimum_in_year(4) == pytest.approx(30e9)
    assert "Trainium2" in d.covers  # {vendor: AWS} expands to the vendor's chips
    assert d.discount == pytest.approx(0.3)


def test_tpu_example_has_a_discount_and_credits_but_no_capital():
    from arbiter.deals import load_deal

    d = load_deal(EXAMPLES / "tpu-commitment.yaml")
    assert d.counterparty == "gcp"
    assert d.tranches == ()
    assert d.credits_usd == 3e8
    assert d.discount == 0.35
    assert d.equity_haircut == 0.0


# --- valid variations ---------------------------------------------------------------------


def test_procurement_path_is_relative_to_the_deal_file(tmp_path):
    sub = tmp_path / "deals"
    sub.mkdir()
    (tmp_path / "procure.yaml").write_text(PROCURE.read_text(encoding="utf-8"))
    from arbiter.deals import load_deal

    data = {**copy.deepcopy(BASE), "procurement": "../procure.yaml"}
    assert load_deal(write(sub, data)).procurement.periods == 20


def test_defaults_and_aliases(tmp_path):
    data = copy.deepcopy(BASE)
    del data["capital"], data["porting"], data["discount"]
    data["covers"] = "trainium2"
    data["counterparty"] = " AWS "
    data["obligation"] = {"total_spend_usd": "12B"}
    data["valuation"] = {"discount_rate": "10%", "horizon_years": 4}
    from arbiter.deals import load_deal

    d = load_deal(write(tmp_path, data))
    assert d.covers == ("Trainium2",)
    assert d.counterparty == "aws"
    assert d.tranches == ()
    assert d.credits_usd == 0.0
    assert d.porting is None
    assert d.discount == 0.0
    assert d.obligation.shortfall_penalty == 1.0
    assert d.obligation.minimum_in_year(0) == 0.0
    assert d.discount_rate == pytest.approx(0.1)


def test_zero_yearly_minimum_is_allowed(tmp_path):
    d = deal(tmp_path, **changed("obligation", min_spend_usd_per_year=[0, "1B", "2B", "3B"]))
    assert d.obligation.minimum_in_year(0) == 0.0


# --- bad input ----------------------------------------------------------------------------


def test_tranche_period_outside_the_horizon(tmp_path):
    err = fails(
        tmp_path, "capital.tranches[0].period", "past the 4-year horizon", **tranche(period=16)
    )
    assert "0 to 15" in str(err)


def test_tranche_period_negative(tmp_path):
    fails(tmp_path, "capital.tranches[0].period", **tranche(period=-1))


def test_covered_chip_not_in_catalog_suggests(tmp_path):
    with pytest.raises(UnknownNameError) as info:
        deal(tmp_path, covers=["Trainium2", "Tranium3"])
    err = info.value
    assert err.field == "covers[1]"
    assert err.file == str(tmp_path / "deal.yaml")
    assert err.exit_code == 2
    assert "Trainium3" in err.suggestions


def test_unknown_vendor(tmp_path):
    fails(tmp_path, "covers.vendor", covers={"vendor": "Amazonn"})


def test_unknown_counterparty_suggests(tmp_path):
    err = fails(tmp_path, "counterparty", "Did you mean", counterparty="awz")
    assert isinstance(err, UnknownNameError)


@pytest.mark.parametrize(
    ("top", "field"),
    [
        (tranche(usd="-1B"), "capital.tranches[0].usd"),
        (tranche(usd=0), "capital.tranches[0].usd"),
        ({"capital": {"credits_usd": "-5M"}}, "capital.credits_usd"),
        (
            changed("obligation", min_spend_usd_per_year=["2B", "-3B", "3B", "4B"]),
            "obligation.min_spend_usd_per_year[1]",
        ),
        (changed("obligation", shortfall_penalty=-0.5), "obligation.shortfall_penalty"),
        (changed("porting", enable_usd="-2M"), "porting.enable_usd"),
        (changed("porting", lead_weeks=-1), "porting.lead_weeks"),
    ],
)
def test_negative_amounts(tmp_path, top, field):
    fails(tmp_path, field, **top)


def test_negative_total_spend(tmp_path):
    obligation = {"total_spend_usd": "-1B"}
    fails(tmp_path, "obligation.total_spend_usd", obligation=obligation)


@pytest.mark.parametrize("probability", [0, -0.1, 1.5])
def test_probability_outside_zero_one(tmp_path, probability):
    fails(tmp_path, "capital.tranches[0].probability", "(0, 1]", **tranche(probability=probability))


@pytest.mark.parametrize("haircut", [-0.1, 1.2, "120%"])
def test_haircut_outside_zero_one(tmp_path, haircut):
    fails(
        tmp_path,
        "valuation.equity_haircut",
        "[0, 1]",
        **changed("valuation", equity_haircut=haircut),
    )


@pytest.mark.parametrize("share", [-0.1, 1.01])
def test_min_share_outside_zero_one(tmp_path, share):
    fails(tmp_path, "obligation.min_share", "[0, 1]", **changed("obligation", min_share=share))


def test_discount_outside_zero_one(tmp_path):
    fails(tmp_path, "discount", "[0, 1]", discount=1.5)


def test_missing_procurement_file(tmp_path):
    err = fails(tmp_path, "procurement", "not found", procurement="nowhere/procure.yaml")
    assert "nowhere/procure.yaml" in str(err)


def test_problems_in_the_procurement_file_name_that_file(tmp_path):
    bad = tmp_path / "bad-procure.yaml"
    bad.write_text("horizon: {periods: 4, period: quarter}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        deal(tmp_path, procurement="bad-procure.yaml")
    assert info.value.file == str(bad)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("top", "field"),
    [
        ({"terms": 1}, "terms"),
        (
            {"capital": {"tranches": [{"usd": "1B", "period": 0, "when": "now"}]}},
            "capital.tranches[0].when",
        ),
        (changed("obligation", exclusivity=0.3), "obligation.exclusivity"),
        (changed("valuation", horizon=4), "valuation.horizon"),
        (changed("porting", cost="2M"), "porting.cost"),
    ],
)
def test_unknown_keys(tmp_path, top, field):
    err = fails(tmp_path, field, "unknown field", **top)
    assert err.valid


def test_unknown_tranche_kind(tmp_path):
    fails(tmp_path, "capital.tranches[0].kind", "equity", **tranche(kind="loan"))


def test_yearly_minimums_need_one_per_year(tmp_path):
    fails(
        tmp_path,
        "obligation.min_spend_usd_per_year",
        "3 values for a 4-year horizon",
        **changed("obligation", min_spend_usd_per_year=["1B", "2B", "3B"]),
    )


def test_minimum_spend_is_per_year_or_total(tmp_path):
    both = changed("obligation", total_spend_usd="12B")
    fails(tmp_path, "obligation", "exactly one of", **both)
    fails(tmp_path, "obligation", "exactly one of", obligation={"min_share": 0.3})


def test_ramp_checks(tmp_path):
    fails(tmp_path, "obligation", "ramp", **changed("obligation", ramp=[0.25] * 4))
    total = {"total_spend_usd": "12B"}
    fails(tmp_path, "obligation.ramp", "one per year", obligation={**total, "ramp": [0.5, 0.5]})
    fails(tmp_path, "obligation.ramp", "above 1", obligation={**total, "ramp": [0.4] * 4})
    fails(tmp_path, "obligation.ramp[0]", obligation={**total, "ramp": [1.5, 0, 0, 0]})


def test_porting_platform_must_be_the_covered_chips(tmp_path):
    fails(tmp_path, "porting.platform", "neuron", **changed("porting", platform="xla"))


def test_porting_efficiency_must_be_positive(tmp_path):
    efficiency = {"uniform": [0, 1]}
    fails(tmp_path, "porting.efficiency", "> 0", **changed("porting", efficiency=efficiency))


def test_several_problems_are_counted(tmp_path):
    err = fails(
        tmp_path,
        "counterparty",
        "(and 2 more problems)",
        counterparty="awz",
        covers=["Tranium3"],
        **changed("obligation", min_share=0.5, min_spend_usd_per_year=["1B"]),
    )
    assert err.exit_code == 2


def test_empty_and_non_mapping_files(tmp_path):
    from arbiter.deals import load_deal

    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        load_deal(empty)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected a mapping"):
        load_deal(listed)
    with pytest.raises(InputError, match="not found"):
        load_deal(tmp_path / "missing.yaml")
