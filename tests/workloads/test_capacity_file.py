"""Capacity files: YAML or CSV rows, and one-paragraph errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbiter.domain.capacity import Needs
from arbiter.domain.errors import InputError
from arbiter.domain.offer import PriceRegime
from arbiter.workloads.capacity_file import load_capacity_file


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_csv_rows(tmp_path):
    yml = _write(
        tmp_path,
        "c.yaml",
        "capacity:\n"
        "  - {provider: AWS, accelerator: h100, instances: 32, region: 'us-*',\n"
        "     price_regime: capacity_block}\n"
        "  - {provider: runpod, accelerator: MI300X, chips: 64, needs: contract, lead_days: 30}\n",
    )
    rows = load_capacity_file(yml)
    assert rows[0].provider == "aws" and rows[0].accelerator == "H100-SXM"
    assert rows[0].instances == 32 and rows[0].price_regime is PriceRegime.CAPACITY_BLOCK
    assert rows[1].chips == 64 and rows[1].needs is Needs.CONTRACT and rows[1].lead_days == 30
    csv_file = _write(tmp_path, "c.csv", "provider,accelerator,chips,region\ngcp,H100-SXM,64,\n")
    (row,) = load_capacity_file(csv_file)
    assert (row.provider, row.chips, row.region) == ("gcp", 64, None)


@pytest.mark.parametrize(
    ("name", "text", "field", "valid"),
    [
        ("bad.yaml", "- {provider: aws, accelerator: H100, chips: [\n", None, "YAML"),
        ("neg.yaml", "- {provider: aws, accelerator: H100, chips: -8}\n", "[0].chips", "greater than or equal to 0"),
        ("who.yaml", "- {provider: nimbus, accelerator: H100, chips: 8}\n", "[0].provider", "aws"),
        ("extra.yaml", "- {provider: aws, accelerator: H100, chips: 8, colour: red}\n",
         "[0].colour", ""),
        ("both.yaml", "- {provider: aws, accelerator: H100, chips: 8, instances: 1}\n",
         "capacity[0]", "exactly one"),
        ("col.csv", "provider,accelerator,gpus\naws,H100,8\n", "header", "chips"),
        ("neg.csv", "provider,accelerator,chips\naws,H100,-1\n", "row 2.chips", "greater than or equal to 0"),
        ("who.csv", "provider,accelerator,chips\nnimbus,H100,8\n", "row 2.provider", "aws"),
    ],
)  # fmt: skip
def test_bad_capacity_files_name_file_and_field(tmp_path, name, text, field, valid):
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        load_capacity_file(path)
    message = str(info.value)
    assert str(path) in message
    if field:
        assert field in message
    assert valid.lower() in message.lower()
    assert info.value.exit_code == 2
