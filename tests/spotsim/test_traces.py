"""Reading availability traces: the public format, a user's JSON and CSV, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from arbiter.domain.errors import InputError
from arbiter.spotsim.traces import read_trace, read_traces

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "spot-traces" / "availability"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_one_node_files_read_1_as_available_unless_told_otherwise(tmp_path):
    data = {"metadata": {"gap_seconds": 195}, "data": [0, 0, 1, 0, 1, 1]}
    path = write(
        tmp_path / "aws-x" / "1-node" / "zone" / "us-east-2a_v100_1.json", json.dumps(data)
    )
    tr = read_trace(path)
    assert tr.available.tolist() == [False, False, True, False, True, True]
    flipped = read_trace(path, ones="unavailable")
    assert flipped.available.tolist() == [True, True, False, True, False, False]
    with pytest.raises(InputError, match="ones"):
        read_trace(path, ones="maybe")
    assert (tr.name, tr.region, tr.chip, tr.gap_s) == (
        "zone/us-east-2a_v100_1",
        "us-east-2a",
        "V100",
        195.0,
    )


def test_multi_node_files_count_instances(tmp_path):
    data = {"metadata": {"gap_seconds": 300}, "data": [0, 1, 15, 16, 3]}
    path = write(tmp_path / "16-node" / "f" / "us-west-2a_v100_1.json", json.dumps(data))
    assert read_trace(path).available.tolist() == [False, True, True, True, True]
    assert read_trace(path, nodes=16).available.tolist() == [False, False, False, True, False]
    assert read_trace(path, nodes=4).available.tolist() == [False, False, True, True, False]


def test_own_json_and_csv_read_1_as_available(tmp_path):
    own = write(
        tmp_path / "mine" / "eu-1_h100.json",
        json.dumps({"gap_seconds": 60, "available": [1, 0, 1]}),
    )
    tr = read_trace(own)
    assert tr.available.tolist() == [True, False, True]
    assert (tr.gap_s, tr.chip) == (60.0, "H100")
    csv = write(tmp_path / "mine" / "eu-2_h100.csv", "minutes,available\n0,1\n5,1\n10,0\n")
    tr = read_trace(csv)
    assert tr.available.tolist() == [True, True, False]
    assert tr.gap_s == 300.0


def test_public_traces_read_sorted_with_their_own_gaps():
    traces = read_traces(PUBLIC)
    assert len(traces) == 20
    assert [t.name for t in traces] == sorted(t.name for t in traces)
    by_name = {t.name: t for t in traces}
    assert by_name["aws-02-15-2023/us-east-2a_v100_1"].gap_s == 195
    assert len(by_name["aws-02-15-2023/us-east-2a_v100_1"].available) == 20158
    assert by_name["aws-10-26-2022/us-west-2a_k80_1"].gap_s == 600
    assert by_name["aws-08-27-2023/us-east-2b_v100_1"].chip == "V100"
    # 1-node: 1 is available, so the availability is the share of ones in the file
    raw = json.loads((PUBLIC / "1-node" / "aws-02-15-2023" / "us-east-2a_v100_1.json").read_text())
    ones = np.mean(np.array(raw["data"]) == 1)
    assert by_name["aws-02-15-2023/us-east-2a_v100_1"].available.mean() == pytest.approx(ones)
    other = {t.name: t for t in read_traces(PUBLIC, ones="unavailable")}
    assert other["aws-02-15-2023/us-east-2a_v100_1"].available.mean() == pytest.approx(1 - ones)
    # the 16-node counts are read the same either way
    assert np.array_equal(
        other["aws-08-27-2023/us-east-2b_v100_1"].available,
        by_name["aws-08-27-2023/us-east-2b_v100_1"].available,
    )


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("a.json", "{", None),
        ("a.json", json.dumps({"data": [0, 1]}), "metadata"),
        (
            "a.json",
            json.dumps({"metadata": {"gap_seconds": 0}, "data": [0]}),
            "metadata.gap_seconds",
        ),
        ("a.json", json.dumps({"metadata": {"gap_seconds": 60}, "data": [0, -1]}), "data[1]"),
        ("a.json", json.dumps({"metadata": {"gap_seconds": 60}, "data": []}), "data"),
        ("a.json", json.dumps({"gap_seconds": 60, "available": [0, 2]}), "available"),
        ("a.csv", "time,up\n0,1\n", "header"),
        ("a.csv", "minutes,available\n0,1\n5,yes\n", "row 3.available"),
        ("a.csv", "minutes,available\n0,1\n5,1\n7,1\n", "minutes"),
    ],
)
def test_bad_files_name_the_file_and_field(tmp_path, name, text, field):
    path = write(tmp_path / name, text)
    with pytest.raises(InputError) as err:
        read_trace(path)
    assert err.value.file == str(path)
    assert err.value.field == field


def test_empty_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no trace files"):
        read_traces(tmp_path)
