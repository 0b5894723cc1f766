"""``arbiter.deal``: a typed DealValuation from a path, YAML text or a mapping, equal to
what ``arbiter deal --json`` prints."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest
import yaml

import arbiter
from arbiter.cli.app import main
from arbiter.domain.errors import InputError
from arbiter.results import DealValuation

# the small deal and procurement files of the deal command's tests
_spec = importlib.util.spec_from_file_location(
    "deal_cli_files", Path(__file__).resolve().parents[1] / "cli" / "test_deal_cli.py"
)
assert _spec is not None and _spec.loader is not None
_files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_files)
DEAL, write = _files.DEAL, _files.write

FAST = {"samples": 12, "seed": 3, "with_sensitivity": False, "workers": 1}


@pytest.fixture(scope="module")
def valued(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deal")
    path = write(folder)
    return path, arbiter.deal(path, **FAST)


def test_the_cli_prints_the_api_valuation(valued, capsys):
    path, valuation = valued
    args = ["deal", str(path), "--json", "--samples", "12", "--seed", "3", "--no-sensitivity"]
    assert main([*args, "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == valuation.to_dict()
    assert valuation.provenance.input_hash == hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert valuation.provenance.file == "deal.yaml"
    assert valuation.provenance.procurement_file == "procure.yaml"
    assert (valuation.provenance.engine, valuation.provenance.workers) == ("local", 1)


def test_the_npv_is_its_breakdown_and_the_scenarios_weigh_to_it(valued):
    _, v = valued
    b = v.breakdown
    parts = b.compute_savings_usd + b.tranches_usd + b.credits_usd - b.shortfall_usd
    assert v.npv_usd == pytest.approx(parts, rel=1e-9, abs=1.0)
    weighted = sum(s.probability * s.value_usd for s in v.scenarios)
    assert v.npv_usd == pytest.approx(weighted, rel=1e-9, abs=1.0)
    assert sum(s.probability for s in v.scenarios) == pytest.approx(1.0)


def test_text_and_mapping_value_the_same_deal(valued):
    path, v = valued
    text = path.read_text(encoding="utf-8")
    from_text = arbiter.deal(text, base_dir=path.parent, **FAST)
    from_mapping = arbiter.deal(yaml.safe_load(text), base_dir=path.parent, **FAST)
    for other in (from_text, from_mapping):
        assert other.npv_usd == pytest.approx(v.npv_usd, rel=1e-9)
        assert other.distribution is not None and v.distribution is not None
        assert other.distribution.values_usd == v.distribution.values_usd
    assert from_text.provenance.file == "<string>"
    assert from_mapping.provenance.file == "<mapping>"


def test_the_distribution_is_a_frame_of_its_samples(valued):
    _, v = valued
    dist = v.distribution
    assert dist is not None and dist.samples == 12
    frame = dist.to_frame()
    assert list(frame.columns) == ["sample", "value_usd"] and len(frame) == 12
    assert frame["value_usd"].mean() == pytest.approx(dist.mean_usd)
    destroys = (frame["value_usd"] < 0).mean()
    assert destroys == pytest.approx(dist.probability_destroys_value)
    # both sides' schedules are frames too; commitments on the covered chip only where bought
    schedule = v.sides.with_deal.schedule.to_frame()
    assert set(schedule.columns) >= {"product", "chips", "commitment_usd"}


def test_a_round_trip_through_json_is_the_same_valuation(valued):
    _, v = valued
    again = DealValuation.model_validate_json(v.to_json())
    assert again == v


def test_a_relative_procurement_path_from_text_names_its_folder(tmp_path):
    with pytest.raises(InputError) as caught:
        arbiter.deal(DEAL, base_dir=tmp_path, **FAST)  # no procure.yaml in tmp_path
    message = str(caught.value)
    assert "<string>" in message and "procurement" in message
