import typing

import pytest
from pydantic import ValidationError

from arbiter.domain.accelerator import PLATFORM_BY_VENDOR
from arbiter.domain.workload import WorkloadKind
from arbiter.workloads.spec import SPEC_BY_KIND, TrainSpec, VendorName, fields_of, kinds_with_field


def test_every_kind_has_a_spec_and_vendors_match_the_domain():
    assert set(SPEC_BY_KIND) == set(WorkloadKind)
    literal = typing.get_args(VendorName)[0]
    assert set(typing.get_args(literal)) == set(PLATFORM_BY_VENDOR)


def test_kind_fields_are_disjoint_where_they_should_be():
    assert "slo" in fields_of(WorkloadKind.SERVE) and "slo" not in fields_of(WorkloadKind.BATCH)
    assert kinds_with_field("lora_rank") == (WorkloadKind.FINETUNE,)
    assert kinds_with_field("tokens") == (WorkloadKind.TRAIN, WorkloadKind.FINETUNE)
    assert set(kinds_with_field("input_tokens")) == {WorkloadKind.SERVE, WorkloadKind.BATCH}
    assert kinds_with_field("colour") == ()
    # batch has no 'hours' (that is serve's run length); deadline_hours is its own
    assert "hours" not in fields_of(WorkloadKind.BATCH)


@pytest.mark.parametrize("value", ["1e", "T", "2TT", "1.2.3", "nan", "inf", "2 T B", "", "0x10"])
def test_bad_token_count_strings_are_rejected(value):
    with pytest.raises(ValidationError):
        TrainSpec.model_validate({"name": "a", "kind": "train", "model": "m", "tokens": value})


def test_spec_is_frozen_and_strips_strings():
    spec = TrainSpec.model_validate(
        {"name": "  a  ", "kind": " TRAIN ", "model": "m", "tokens": ".5T"}
    )
    assert spec.name == "a" and spec.kind is WorkloadKind.TRAIN and spec.tokens == 5e11
    with pytest.raises(ValidationError):
        spec.name = "b"  # type: ignore[misc]
