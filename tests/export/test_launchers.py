from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from arbiter.domain.errors import InputError
from arbiter.export import to_dstack, to_json, to_skypilot

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "plans" / "sample_plan.json"


@pytest.fixture
def plan() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def _parsed(files: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    return {name: yaml.safe_load(text) for name, text in files}


def test_skypilot_one_task_per_assignment(plan):
    files = _parsed(to_skypilot(plan))
    assert list(files) == ["chat-serve.sky.yaml", "llama-pretrain.sky.yaml"]

    serve = files["chat-serve.sky.yaml"]
    assert serve["name"] == "chat-serve"
    assert serve["num_nodes"] == 2
    assert serve["resources"] == {
        "infra": "aws/us-east-1",
        "accelerators": "H100:8",
        "use_spot": True,
        "instance_type": "p5.48xlarge",
    }

    train = files["llama-pretrain.sky.yaml"]
    assert train["num_nodes"] == 4
    assert train["resources"]["infra"] == "gcp/us-east5"
    assert train["resources"]["accelerators"] == "tpu-v6e-8"
    assert train["resources"]["use_spot"] is False
    assert "instance_type" not in train["resources"]  # TPU VMs have no machine type


def test_skypilot_legacy_location_uses_cloud_and_region(plan):
    serve = _parsed(to_skypilot(plan, legacy_location=True))["chat-serve.sky.yaml"]
    assert serve["resources"]["cloud"] == "aws"
    assert serve["resources"]["region"] == "us-east-1"
    assert "infra" not in serve["resources"]


def test_skypilot_accelerator_names(plan):
    a = plan["assignments"][0]
    for ours, theirs in [
        ("H200-SXM", "H200"),
        ("A100-SXM-80GB", "A100-80GB"),
        ("A100-SXM-40GB", "A100"),
        ("MI300X", "MI300X"),
        ("L40S", "L40S"),
    ]:
        a["accelerator"] = ours
        task = yaml.safe_load(to_skypilot(plan)[0][1])
        assert task["resources"]["accelerators"] == f"{theirs}:8"


def test_tpu_slice_names_without_catalog_slice(plan):
    train = plan["assignments"][1]
    train["instance_type"] = "tpu-v5p per chip"
    train["accelerator"] = "TPU-v5p"
    train["accelerators_per_instance"] = 4
    sky = yaml.safe_load(to_skypilot(plan)[1][1])
    dstack = yaml.safe_load(to_dstack(plan)[1][1])
    assert sky["resources"]["accelerators"] == "tpu-v5p-8"  # v5p slices count TensorCores
    assert dstack["resources"]["gpu"] == "v5p-8"


def test_reserved_regime_carries_a_comment(plan):
    plan["assignments"][0]["price_regime"] = "capacity_block"
    _name, text = to_skypilot(plan)[0]
    assert "reserved beforehand" in text
    assert "Capacity Block" in text
    assert yaml.safe_load(text)["resources"]["use_spot"] is False
    _, dstack_text = to_dstack(plan)[0]
    assert "reservation: <its id>" in dstack_text
    assert "reservation" not in yaml.safe_load(dstack_text)


def test_price_list_label_is_not_emitted_as_instance_type(plan):
    a = plan["assignments"][0]
    a["instance_type"] = "8x NVIDIA H100 SXM (per GPU)"
    a["provider"] = "lambda"
    sky = yaml.safe_load(to_skypilot(plan)[0][1])
    assert "instance_type" not in sky["resources"]
    assert sky["resources"]["infra"] == "lambda/us-east-1"


def test_dstack_service_and_task(plan):
    files = _parsed(to_dstack(plan))
    assert list(files) == ["chat-serve.dstack.yml", "llama-pretrain.dstack.yml"]

    serve = files["chat-serve.dstack.yml"]
    assert serve["type"] == "service"
    assert serve["name"] == "chat-serve"
    assert serve["port"] == 8000
    assert serve["replicas"] == 2
    assert "nodes" not in serve
    assert serve["resources"] == {"gpu": "H100:8"}
    assert serve["backends"] == ["aws"]
    assert serve["regions"] == ["us-east-1"]
    assert serve["instance_types"] == ["p5.48xlarge"]
    assert serve["spot_policy"] == "spot"
    assert serve["commands"]

    train = files["llama-pretrain.dstack.yml"]
    assert train["type"] == "task"
    assert train["nodes"] == 4
    assert train["resources"] == {"gpu": "v6e-8"}
    assert train["backends"] == ["gcp"]
    assert train["regions"] == ["us-east5"]
    assert train["spot_policy"] == "on-demand"
    assert "instance_types" not in train


def test_unknown_provider_names_assignment_and_valid_values(plan):
    plan["assignments"][1]["provider"] = "acme-cloud"
    for export in (to_skypilot, to_dstack):
        with pytest.raises(InputError) as info:
            export(plan)
        message = str(info.value)
        assert "assignments[1]" in message
        assert "llama-pretrain" in message
        assert "acme-cloud" in message
        assert "aws" in message and "gcp" in message


def test_dstack_rejects_aws_silicon(plan):
    a = plan["assignments"][0]
    a.update(accelerator="Trainium2", vendor="AWS", instance_type="trn2.48xlarge")
    with pytest.raises(InputError, match="dstack cannot provision Trainium2"):
        to_dstack(plan)
    sky = yaml.safe_load(to_skypilot(plan)[0][1])
    assert sky["resources"]["accelerators"] == "Trainium2:8"


def test_missing_field_is_an_input_error(plan):
    del plan["assignments"][0]["region"]
    with pytest.raises(InputError, match=r"assignments\[0\]\.region"):
        to_skypilot(plan)


def test_duplicate_workload_names_get_distinct_files(plan):
    plan["assignments"].append(copy.deepcopy(plan["assignments"][0]))
    names = [name for name, _ in to_skypilot(plan)]
    assert names == ["chat-serve.sky.yaml", "llama-pretrain.sky.yaml", "chat-serve-2.sky.yaml"]


def test_hostile_workload_name_stays_a_comment(plan):
    plan["assignments"][0]["workload"] = "evil\nname: injected"
    name, text = to_skypilot(plan)[0]
    assert name == "evil-name-injected.sky.yaml"
    assert yaml.safe_load(text)["name"] == "evil\nname: injected"


def test_to_json_is_stable(plan):
    text = to_json(plan)
    assert json.loads(text) == plan
    shuffled = dict(reversed(list(plan.items())))
    assert to_json(shuffled) == text
    assert text.endswith("\n")
    assert text.splitlines()[1].startswith('  "alternatives"')


def test_output_is_deterministic(plan):
    assert to_skypilot(plan) == to_skypilot(copy.deepcopy(plan))
    assert to_dstack(plan) == to_dstack(copy.deepcopy(plan))
