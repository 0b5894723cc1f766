from pathlib import Path

import pytest
import yaml

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.workload import (
    BatchJob,
    FinetuneMethod,
    Precision,
    ServeJob,
    TrainJob,
    WorkloadKind,
)
from arbiter.workloads import load_workloads, parse_workloads

REPO = Path(__file__).resolve().parents[2]
FILE = "fleet.yaml"

TRAIN = {"name": "pt", "kind": "train", "model": "llama-3.1-70b", "tokens": "2T"}
FINETUNE = {"name": "ft", "kind": "finetune", "model": "llama-3.1-8b", "tokens": 2e9}
SERVE = {
    "name": "chat",
    "kind": "serve",
    "model": "llama-3.3-70b",
    "requests_per_s": 20,
    "input_tokens": 1000,
    "output_tokens": 300,
    "slo": {"ttft_s": 2, "tpot_s": 0.05},
}
BATCH = {
    "name": "sum",
    "kind": "batch",
    "model": "llama-3.1-70b",
    "input_tokens": "10B",
    "output_tokens": "1B",
}
BASES = {"train": TRAIN, "finetune": FINETUNE, "serve": SERVE, "batch": BATCH}


def parse_one(item):
    (workload,) = parse_workloads({"workloads": [item]}, file=FILE)
    return workload


# --- each kind, and defaults --------------------------------------------------------------


def test_train_defaults():
    w = parse_one(TRAIN)
    assert w.kind is WorkloadKind.TRAIN and w.model.name == "llama-3.1-70b"
    assert w.precision is Precision.BF16
    assert w.job == TrainJob(tokens=2e12, seq_len=4096, method=FinetuneMethod.FULL)
    assert w.placement.providers is None and w.placement.interruptible is False
    assert w.measured == ()
    assert w.work_tokens == 2e12


def test_train_with_every_field():
    w = parse_one(
        {
            **TRAIN,
            "seq_len": 8192,
            "deadline_days": 60,
            "global_batch_tokens": "16M",
            "precision": "FP8",
        }
    )
    assert w.job == TrainJob(
        tokens=2e12, seq_len=8192, deadline_days=60.0, global_batch_tokens=16e6
    )
    assert w.precision is Precision.FP8


def test_finetune_defaults_to_lora_rank_16():
    w = parse_one(FINETUNE)
    assert w.kind is WorkloadKind.FINETUNE
    assert isinstance(w.job, TrainJob)
    assert (w.job.method, w.job.lora_rank, w.job.seq_len, w.job.tokens) == (
        FinetuneMethod.LORA,
        16,
        4096,
        2e9,
    )


def test_finetune_full_and_lora_rank():
    assert parse_one({**FINETUNE, "method": "FULL"}).job.method is FinetuneMethod.FULL
    assert parse_one({**FINETUNE, "lora_rank": 64}).job.lora_rank == 64


def test_serve_defaults_to_one_month():
    w = parse_one(SERVE)
    assert w.job == ServeJob(
        requests_per_s=20, input_tokens=1000, output_tokens=300, ttft_s=2, tpot_s=0.05, hours=730
    )
    # 20 req/s * 300 tokens * 730 h * 3600 s
    assert w.total_output_tokens == pytest.approx(20 * 300 * 730 * 3600)


def test_batch_defaults_request_lengths():
    w = parse_one(BATCH)
    assert w.job == BatchJob(
        input_tokens=10e9, output_tokens=1e9, request_input_tokens=1024, request_output_tokens=256
    )
    w = parse_one(
        {**BATCH, "deadline_hours": 72, "request_input_tokens": 3000, "request_output_tokens": 300}
    )
    assert w.job.deadline_hours == 72 and w.job.request_input_tokens == 3000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2T", 2e12),
        ("500B", 5e11),
        ("1M", 1e6),
        ("4k", 4e3),
        ("15.6e12", 15.6e12),
        ("1_000_000", 1e6),
        (" 2.5 B ", 2.5e9),
        (3, 3.0),
    ],
)
def test_token_counts_take_suffixes_and_yaml_1_1_exponents(text, value):
    assert parse_one({**TRAIN, "tokens": text}).job.tokens == pytest.approx(value)


def test_exponent_without_dot_in_yaml_is_read_as_a_number():
    # PyYAML reads 15.6e12 and 2e-1 as strings (YAML 1.1); they must still work.
    data = yaml.safe_load(
        "name: a\nkind: serve\nmodel: llama-3.1-8b\nrequests_per_s: 1e1\ninput_tokens: 1e3\noutput_tokens: 100\nslo: {ttft_s: 2e-1, tpot_s: 0.05}\n"
    )
    (w,) = parse_workloads(data, file=FILE)
    assert (w.job.requests_per_s, w.job.input_tokens, w.job.ttft_s) == (10.0, 1000.0, 0.2)


def test_placement_is_resolved():
    w = parse_one(
        {
            **SERVE,
            "interruptible": True,
            "providers": ["AWS", "gcp", "aws"],
            "forbidden_providers": ["runpod"],
            "regions": ["us-*", "europe-west4"],
            "vendors": ["nvidia", "AMD"],
            "platforms": ["CUDA", "rocm"],
        }
    )
    p = w.placement
    assert p.providers == ("aws", "gcp")
    assert p.forbidden_providers == ("runpod",)
    assert p.regions == ("us-*", "europe-west4")
    assert p.vendors == ("NVIDIA", "AMD")
    assert p.platforms == (Platform.CUDA, Platform.ROCM)
    assert p.interruptible is True


def test_measured_accelerator_aliases_are_canonicalised():
    w = parse_one(
        {**SERVE, "measured": [{"accelerator": "h100", "chips": 8, "tokens_per_s": "2.5e3"}]}
    )
    (m,) = w.measured
    assert (m.accelerator, m.chips, m.tokens_per_s) == ("H100-SXM", 8, 2500.0)


def test_custom_inline_model():
    model = {
        "name": "acme-1b",
        "n_layers": 16,
        "d_model": 2048,
        "n_heads": 16,
        "ffn_dim": 8192,
        "vocab_size": 32000,
        "max_context": 4096,
    }
    w = parse_one({**BATCH, "model": model})
    assert w.model.name == "acme-1b" and w.model.head_dim == 128


def test_bare_single_workload_and_aliases():
    (w,) = parse_workloads({**SERVE, "model": "Llama-3.3-70B-Instruct"}, file=FILE)
    assert w.model.name == "llama-3.3-70b"


def test_order_is_kept():
    names = [
        w.name for w in parse_workloads({"workloads": [SERVE, TRAIN, BATCH, FINETUNE]}, file=FILE)
    ]
    assert names == ["chat", "pt", "sum", "ft"]


def test_example_file_loads_every_kind():
    workloads = load_workloads(REPO / "examples" / "workloads.yaml")
    assert 8 <= len(workloads) <= 12
    assert {w.kind for w in workloads} == set(WorkloadKind)
    by_name = {w.name: w for w in workloads}
    assert by_name["pretrain-llama-70b"].job.tokens == 2e12
    r1 = by_name["reasoning-deepseek-r1"]
    assert (r1.model.name, r1.precision, r1.job.tpot_s) == ("deepseek-r1", Precision.FP8, 0.08)
    assert any(w.measured for w in workloads)
    assert any(w.placement.providers for w in workloads)
    assert any(
        w.model.name
        not in {"llama-3.1-70b", "llama-3.1-8b", "llama-3.3-70b", "deepseek-r1", "qwen2.5-72b"}
        for w in workloads
    )


# --- bad input: every message names the file and the field path ---------------------------


def _set(base, path, value):
    item = {**base, "slo": dict(base["slo"])} if "slo" in base else dict(base)
    if "." in path:
        outer, inner = path.split(".")
        item[outer] = {**item[outer], inner: value}
    else:
        item[path] = value
    return item


def _drop(base, key):
    return {k: v for k, v in base.items() if k != key}


BAD = [
    # (item, field path after workloads[1], fragment of the message)
    (_set(SERVE, "slo.tpot_s", -0.05), "slo.tpot_s", "greater than 0"),
    (_set(SERVE, "slo.ttft_s", 0), "slo.ttft_s", "greater than 0"),
    (_set(SERVE, "slo.ttft_s", "soon"), "slo.ttft_s", "must be a number"),
    (_set(SERVE, "slo.p99_s", 1), "slo.p99_s", "unknown field"),
    (_drop(SERVE, "slo"), "slo", "is required"),
    (_set(SERVE, "slo", 3), "slo", "must be a mapping"),
    (_set(SERVE, "requests_per_s", -1), "requests_per_s", "greater than 0"),
    (_set(SERVE, "requests_per_s", True), "requests_per_s", "not true"),
    (_set(SERVE, "requests_per_s", [1]), "requests_per_s", "must be a number"),
    (_set(SERVE, "hours", float("inf")), "hours", "finite"),
    (_set(SERVE, "input_tokens", 200_000), "input_tokens", "131,072-token context"),
    (_set(SERVE, "tokens", 5), "tokens", "belongs to train and finetune"),
    (_set(SERVE, "precision", "fp32"), "precision", "'bf16'"),
    (_set(SERVE, "interruptible", "yes"), "interruptible", "boolean"),
    (_set(SERVE, "model", "llama-3.1-7b"), "model", "Did you mean"),
    (_set(SERVE, "model", 70), "model", "model name"),
    (
        _set(
            SERVE,
            "model",
            {
                "name": "x",
                "n_layers": 0,
                "d_model": 64,
                "n_heads": 4,
                "ffn_dim": 8,
                "vocab_size": 8,
            },
        ),
        "model.n_layers",
        "> 0",
    ),
    (_set(SERVE, "providers", ["awz"]), "providers[0]", "Did you mean 'aws'"),
    (_set(SERVE, "providers", []), "providers", "must not be empty"),
    (_set(SERVE, "providers", "aws"), "providers", "must be a list"),
    (_set(SERVE, "forbidden_providers", ["lamda"]), "forbidden_providers[0]", "lambda"),
    (
        {**SERVE, "providers": ["aws"], "forbidden_providers": ["AWS"]},
        "forbidden_providers",
        "both allowed",
    ),
    (_set(SERVE, "regions", ["us-*", ""]), "regions[1]", "must not be empty"),
    (_set(SERVE, "vendors", ["nvidia", "Nvidea"]), "vendors[1]", "NVIDIA"),
    (_set(SERVE, "platforms", ["opencl"]), "platforms[0]", "'cuda'"),
    ({**SERVE, "vendors": ["AMD"], "platforms": ["cuda"]}, "platforms", "AMD -> rocm"),
    (
        _set(SERVE, "measured", [{"accelerator": "H10", "chips": 8, "tokens_per_s": 100}]),
        "measured[0].accelerator",
        "Did you mean",
    ),
    (
        _set(SERVE, "measured", [{"accelerator": "H100", "chips": 8.5, "tokens_per_s": 100}]),
        "measured[0].chips",
        "integer",
    ),
    (
        _set(SERVE, "measured", [{"accelerator": "H100", "chips": 8}]),
        "measured[0].tokens_per_s",
        "exactly one of tokens_per_s and requests_per_s",
    ),
    (
        _set(TRAIN, "measured", [{"accelerator": "H100", "chips": 8, "requests_per_s": 3}]),
        "measured[0].requests_per_s",
        "applies to serve workloads only",
    ),
    (_drop(SERVE, "output_tokens"), "output_tokens", "or a request_mix"),
    (_set(SERVE, "kind", "trian"), "kind", "Did you mean 'train'"),
    (_drop(SERVE, "kind"), "kind", "is required"),
    (_drop(SERVE, "model"), "model", "is required"),
    (_set(SERVE, "name", ""), "name", "must not be empty"),
    (_set(SERVE, "colour", "red"), "colour", "unknown field"),
    (_set(TRAIN, "tokens", 0), "tokens", "greater than 0"),
    (_set(TRAIN, "tokens", "-5T"), "tokens", "greater than 0"),
    (_set(TRAIN, "tokens", "2 trillion"), "tokens", "2T"),
    (_drop(TRAIN, "tokens"), "tokens", "is required"),
    (_set(TRAIN, "seq_len", 4096.0), "seq_len", "integer"),
    (_set(TRAIN, "seq_len", -1), "seq_len", "greater than 0"),
    (_set(TRAIN, "deadline_days", 0), "deadline_days", "greater than 0"),
    (_set(TRAIN, "global_batch_tokens", 1000), "global_batch_tokens", "holds no sequence"),
    (_set(TRAIN, "method", "lora"), "method", "belongs to finetune"),
    (_set(TRAIN, "slo", {"ttft_s": 1, "tpot_s": 1}), "slo", "belongs to serve"),
    (_set(FINETUNE, "method", "qlora"), "method", "'lora'"),
    (_set(FINETUNE, "lora_rank", 0), "lora_rank", "greater than 0"),
    ({**FINETUNE, "method": "full", "lora_rank": 8}, "lora_rank", "only to method: lora"),
    (_set(FINETUNE, "seq_len", 262_144), "seq_len", "context"),
    (_set(BATCH, "output_tokens", -1), "output_tokens", "greater than 0"),
    (_set(BATCH, "deadline_hours", -72), "deadline_hours", "greater than 0"),
    (_set(BATCH, "request_input_tokens", "200K"), "request_input_tokens", "context"),
    (_set(BATCH, "requests_per_s", 3), "requests_per_s", "belongs to serve"),
    (_set(BATCH, "hours", 3), "hours", "belongs to serve"),
]


@pytest.mark.parametrize(
    ("item", "field", "fragment"),
    BAD,
    ids=[f"{b[0].get('kind', '-')}:{b[1]}:{b[2]}" for b in BAD],
)
def test_bad_input_names_file_and_field_path(item, field, fragment):
    data = {"workloads": [SERVE | {"name": "ok"}, item]}
    with pytest.raises(InputError) as info:
        parse_workloads(data, file=FILE)
    text = str(info.value)
    path = f"workloads[1].{field}"
    assert info.value.field == path
    assert text.startswith(f"In {FILE}, at field {path}: "), text
    assert fragment in text, text
    assert "Traceback" not in text and "pydantic" not in text.lower()


def test_several_problems_report_the_first_and_count_the_rest():
    bad_serve = {**SERVE, "requests_per_s": -1, "hours": 0}
    data = {"workloads": [bad_serve, _set(TRAIN, "tokens", 0)]}
    with pytest.raises(InputError) as info:
        parse_workloads(data, file=FILE)
    text = str(info.value)
    assert "workloads[0].requests_per_s" in text
    assert "(and 2 more problems)" in text


def test_one_more_problem_is_singular():
    with pytest.raises(InputError, match=r"\(and 1 more problem\)"):
        parse_workloads({"workloads": [{**SERVE, "requests_per_s": -1, "hours": 0}]}, file=FILE)


def test_duplicate_names_are_rejected():
    with pytest.raises(InputError) as info:
        parse_workloads({"workloads": [SERVE, TRAIN, {**BATCH, "name": "chat"}]}, file=FILE)
    assert info.value.field == "workloads[2].name"
    assert "duplicate workload name 'chat' (also at workloads[0].name)" in str(info.value)


def test_unknown_names_stay_unknown_name_errors():
    with pytest.raises(UnknownNameError) as info:
        parse_one(_set(SERVE, "model", "mixtral-8x7"))
    assert info.value.file == FILE
    assert info.value.suggestions[0] == "mixtral-8x7b"


def test_bare_workload_paths_have_no_prefix():
    with pytest.raises(InputError) as info:
        parse_workloads(_set(SERVE, "slo.tpot_s", -1), file=FILE)
    assert info.value.field == "slo.tpot_s"


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        (None, None, "empty"),
        ({}, None, "empty"),
        ([SERVE], None, "got a list"),
        ("serve", None, "expected a mapping"),
        ({"jobs": [SERVE]}, None, "got a mapping of jobs"),
        ({"workloads": []}, "workloads", "no workloads"),
        ({"workloads": SERVE}, "workloads", "must be a list"),
        ({"workloads": [SERVE], "version": 2}, "version", "unknown top-level field"),
        ({"workloads": [SERVE, "train"]}, "workloads[1]", "must be a mapping"),
    ],
)
def test_bad_file_structure(data, field, fragment):
    with pytest.raises(InputError) as info:
        parse_workloads(data, file=FILE)
    assert info.value.field == field
    assert FILE in str(info.value) and fragment in str(info.value)


# --- files ---------------------------------------------------------------------------------


def test_load_from_file(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({"workloads": [SERVE, TRAIN]}), encoding="utf-8")
    assert [w.name for w in load_workloads(path)] == ["chat", "pt"]


def test_json_file_loads(tmp_path):
    import json

    path = tmp_path / "w.json"
    path.write_text(json.dumps({"workloads": [BATCH]}), encoding="utf-8")
    assert load_workloads(path)[0].job.output_tokens == 1e9


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("workloads:\n  - name: a\n    model: [oops\n", "invalid YAML at line"),
        (
            "workloads:\n  - name: a\n    kind: serve\n    kind: train\n",
            "line 4, column 5: duplicate key 'kind'",
        ),
        ("workloads:\n\t- name: a\n", "line 2"),
        ("", "empty"),
        ("# nothing but a comment\n", "empty"),
        (
            "workloads:\n  - name: a\n    kind: serve\n    model: llama-3.1-8b\n    requests_per_s: 1\n    input_tokens: 1\n    output_tokens: 1\n    slo: {ttft_s: 1, tpot_s: -1}\n",
            "workloads[0].slo.tpot_s",
        ),
    ],
)
def test_bad_files_name_the_file(tmp_path, content, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_workloads(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_missing_file_directory_and_binary(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_workloads(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="directory"):
        load_workloads(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="UTF-8"):
        load_workloads(binary)
