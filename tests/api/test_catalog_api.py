"""The catalog as typed results: the CLI's ``--json`` is the API's ``to_json()``, each
document validates back into its model, and the figures agree with the catalog itself,
counted here by hand."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import arbiter
from arbiter.cli.app import main
from arbiter.domain.errors import InputError
from arbiter.domain.offer import PriceRegime
from arbiter.results import CatalogDiff, CatalogOffer, CatalogSummary, CatalogVersion

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")


def _cli_json(capsys, *args: str) -> object:
    assert main(["catalog", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_catalog_json_is_the_api_result(capsys):
    cases = [
        (("accelerators", "--vendor", "amd"), arbiter.accelerators(["amd"]).to_list()),
        (
            ("offers", "-a", "H100", "--regime", "spot", "--limit", "7"),
            arbiter.offers(accelerators=["H100"], regimes=["spot"], limit=7).to_list(),
        ),
        (("summary",), arbiter.catalog_summary().to_dict()),
        (("versions",), arbiter.catalog_versions().to_list()),
        (("diff", "default", "default"), arbiter.catalog_diff("default", "default").to_dict()),
    ]
    for args, expected in cases:
        assert _cli_json(capsys, *args) == expected, args


def test_the_summary_counts_the_catalog():
    catalog = arbiter.load_catalog()
    s = arbiter.catalog_summary()
    vendor = {a.name: a.vendor for a in catalog.accelerators.values()}
    assert s.version == "default" and s.content_hash == catalog.content_hash
    assert s.n_offers == len(catalog.offers) == sum(s.offers_by_vendor.values())
    assert s.offers_by_provider == dict(Counter(o.provider for o in catalog.offers))
    assert s.offers_by_regime == dict(Counter(o.price_regime.value for o in catalog.offers))
    assert s.n_regimes == len(s.offers_by_regime) and s.n_vendors == len(s.offers_by_vendor)
    # the cheapest per chip, found by walking every offer
    for row in s.cheapest:
        mine = [o for o in catalog.offers if o.accelerator == row.accelerator]
        assert row.vendor == vendor[row.accelerator]
        assert row.any_regime.usd_per_accelerator_hour == min(
            o.usd_per_accelerator_hour for o in mine
        )
        on_demand = [o for o in mine if o.price_regime is PriceRegime.ON_DEMAND]
        if on_demand:
            assert row.on_demand is not None
            assert row.on_demand.usd_per_accelerator_hour == min(
                o.usd_per_accelerator_hour for o in on_demand
            )
        else:
            assert row.on_demand is None
    assert {r.accelerator for r in s.cheapest} == {o.accelerator for o in catalog.offers}
    assert CatalogSummary.model_validate(s.to_dict()).to_dict() == s.to_dict()


def test_offers_are_rows_with_a_frame_cheapest_first():
    found = arbiter.offers(vendors=["google"], regimes=["spot"], region="us-*")
    assert found and all(isinstance(o, CatalogOffer) for o in found)
    assert {(o.vendor, o.price_regime) for o in found} == {("Google", "spot")}
    assert all(o.region.startswith("us-") for o in found)
    frame = found.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(found)
    assert frame["usd_per_accelerator_hour"].is_monotonic_increasing
    # the superseded keys belong to --history only
    assert not any(k.startswith("superseded") for k in found.to_list()[0])
    for doc in found.to_list():
        assert CatalogOffer.model_validate(doc).to_dict() == doc


def test_history_rows_say_what_replaced_them():
    past = arbiter.offers(history=True, providers=["lambda"], accelerators=["GH200"])
    assert [(o.region, o.usd_per_hour) for o in past] == [("global", 1.49)]
    assert past[0].superseded_by_usd_per_hour == 2.29
    assert "superseded_reason" in past.to_list()[0]


def test_an_imported_version_is_listed_and_diffed(capsys):
    feed = str(FEEDS / "azure-retail-prices.sample.json")
    assert main(["catalog", "import", "azure", feed]) == 0
    capsys.readouterr()
    versions = arbiter.catalog_versions()
    assert versions[0].version == "default"
    new = next(v for v in versions if v.current)
    assert isinstance(new, CatalogVersion) and new.parent == "default"
    diff = arbiter.catalog_diff("default", new.version[:12])
    assert isinstance(diff, CatalogDiff)
    old_n = arbiter.catalog_summary("default").n_offers
    # every offer of either version is added, removed, changed or unchanged
    assert len(diff.added) + len(diff.changed) + diff.unchanged == new.n_offers
    assert len(diff.removed) + len(diff.changed) + diff.unchanged == old_n
    for c in diff.changed:
        assert c.change_share == pytest.approx(c.usd_per_hour / c.usd_per_hour_before - 1, abs=1e-6)
    assert _cli_json(capsys, "diff", "default", new.version[:12]) == diff.to_dict()
    assert CatalogDiff.model_validate(diff.to_dict()).to_dict() == diff.to_dict()


def test_unknown_names_are_input_errors_with_a_suggestion():
    with pytest.raises(InputError, match="Did you mean 'AMD'"):
        arbiter.accelerators(["AMDD"])
    with pytest.raises(InputError, match="H1000"):
        arbiter.offers(accelerators=["H1000"])
