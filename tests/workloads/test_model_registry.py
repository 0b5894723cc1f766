import dataclasses

import pytest
import yaml

from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.model_arch import Attention
from arbiter.workloads import model_aliases, model_from_mapping, model_names, resolve_model
from arbiter.workloads.registry import REGISTRY_FILE

# Totals the model authors publish, in billions. Only the shape is in the registry; the
# derived count must land within 2% of these.
PUBLISHED_TOTAL_B = {
    "llama-2-7b": 6.74,
    "llama-2-13b": 13.0,
    "llama-2-70b": 69.0,
    "llama-3.1-8b": 8.03,
    "llama-3.1-70b": 70.6,
    "llama-3.1-405b": 405.9,
    "llama-3.3-70b": 70.6,
    "mixtral-8x7b": 46.7,
    "mixtral-8x22b": 141.0,
    "deepseek-v3": 671.0,
    "deepseek-r1": 671.0,
    "qwen2.5-72b": 72.7,
    "gpt-3-175b": 175.0,
    "palm-540b": 540.0,
    "megascale-175b": 175.0,
    "gpt-oss-120b": 116.8,
    "llama-3.2-1b": 1.24,
    "llama-3.2-3b": 3.21,
}
PUBLISHED_ACTIVE_B = {
    "mixtral-8x7b": 12.9,
    "mixtral-8x22b": 39.0,
    "deepseek-v3": 37.0,
    "deepseek-r1": 37.0,
}


def test_gpt_oss_active_matmul_parameters_match_openai_5_1b():
    # OpenAI's 5.1B active counts what a token multiplies by: 4 of 128 experts
    # (36 x 4 x 3 x 2880^2 = 3.58B) + attention (36 x 26.5M = 0.95B) + the output head
    # (201,088 x 2880 = 0.58B) = 5.11B; the input embedding is a lookup.
    model = resolve_model("gpt-oss-120b")
    assert model.matmul_params_active / 1e9 == pytest.approx(5.1, rel=0.02)


def test_registry_holds_exactly_the_expected_models():
    assert set(model_names()) == set(PUBLISHED_TOTAL_B)
    assert list(model_names()) == sorted(model_names())


@pytest.mark.parametrize(("name", "published_b"), sorted(PUBLISHED_TOTAL_B.items()))
def test_derived_total_parameters_match_published_within_2_percent(name, published_b):
    model = resolve_model(name)
    assert model.params_total / 1e9 == pytest.approx(published_b, rel=0.02)
    # the yaml's own published figure is the one the authors state
    assert model.published_params_b == pytest.approx(published_b)


@pytest.mark.parametrize(("name", "published_b"), sorted(PUBLISHED_ACTIVE_B.items()))
def test_moe_active_parameters_match_published_within_2_percent(name, published_b):
    model = resolve_model(name)
    assert model.is_moe
    assert model.params_active / 1e9 == pytest.approx(published_b, rel=0.02)
    assert model.params_active < model.params_total / 3


def test_dense_models_are_active_in_full():
    for name in ("llama-3.1-405b", "qwen2.5-72b", "gpt-3-175b", "palm-540b"):
        model = resolve_model(name)
        assert not model.is_moe
        assert model.params_active == model.params_total


def test_every_model_has_a_source_and_a_context():
    for name in model_names():
        model = resolve_model(name)
        assert model.source.startswith("https://"), name
        assert model.max_context >= 2048, name
        assert model.name == name


def test_llama2_70b_kv_cache_at_fp16_is_320_kib_per_token():
    # 2 (K and V) * 80 layers * 8 KV heads * 128 head dim * 2 bytes = 327,680 bytes = 320 KiB
    model = resolve_model("llama-2-70b")
    assert model.kv_cache_bytes_per_token(2) == 2 * 80 * 8 * 128 * 2 == 327_680
    assert model.kv_cache_bytes_per_token(2) / 1024 == 320


def test_deepseek_v3_mla_caches_the_latent_only():
    # MLA caches kv_lora_rank + rope dim = 512 + 64 = 576 values per layer, 61 layers
    model = resolve_model("deepseek-v3")
    assert model.attention is Attention.MLA
    assert model.kv_cache_elements_per_token() == 61 * 576


def test_llama31_405b_training_flops_on_15_6t_tokens():
    # Meta reports ~3.8e25 FLOPs for 405B on 15.6T tokens; 6 * N * D gives the same.
    model = resolve_model("llama-3.1-405b")
    flops = 6 * model.matmul_params_active * 15.6e12
    assert flops == pytest.approx(3.8e25, rel=0.03)


def test_deepseek_r1_has_deepseek_v3_architecture():
    v3, r1 = resolve_model("deepseek-v3"), resolve_model("deepseek-r1")
    shape = {f.name for f in dataclasses.fields(v3)} - {"name", "source"}
    assert {f: getattr(v3, f) for f in shape} == {f: getattr(r1, f) for f in shape}
    assert (r1.n_layers, r1.d_model, r1.n_heads, r1.q_lora_rank, r1.kv_lora_rank) == (
        61,
        7168,
        128,
        1536,
        512,
    )
    assert (r1.head_dim, r1.rope_head_dim, r1.v_head_dim, r1.vocab_size) == (128, 64, 128, 129280)
    assert (r1.n_experts, r1.n_active_experts, r1.n_shared_experts, r1.moe_ffn_dim) == (
        256,
        8,
        1,
        2048,
    )
    assert (r1.n_dense_layers, r1.ffn_dim) == (3, 18432)


def test_gpt3_palm_and_megascale_shapes():
    gpt3, palm, mega = (
        resolve_model("gpt-3-175b"),
        resolve_model("palm-540b"),
        resolve_model("megascale-175b"),
    )
    assert not gpt3.gated_ffn and gpt3.tied_embeddings and gpt3.attention is Attention.MHA
    assert palm.n_kv_heads == 1 and palm.head_dim == 256 and palm.tied_embeddings
    assert dataclasses.replace(mega, name=gpt3.name, source=gpt3.source) == gpt3
    assert "2402.15627" in mega.source


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("llama2-70b", "llama-2-70b"),
        ("llama-2-70b-chat", "llama-2-70b"),
        ("llama3.1-405b", "llama-3.1-405b"),
        ("Llama-3.1-405B", "llama-3.1-405b"),
        ("meta-llama/Llama-3.1-405B-Instruct", "llama-3.1-405b"),
        ("LLAMA 3.3 70B instruct", "llama-3.3-70b"),
        ("deepseek-r1-0528", "deepseek-r1"),
        ("Mixtral_8x7B", "mixtral-8x7b"),
        ("gpt-3", "gpt-3-175b"),
    ],
)
def test_aliases_and_any_case_resolve(alias, name):
    assert resolve_model(alias).name == name


def test_every_alias_points_at_a_registry_model():
    aliases = model_aliases()
    assert len(aliases) >= 20
    assert set(aliases.values()) <= set(model_names())
    assert aliases["llama2-70b"] == "llama-2-70b"


def test_unknown_model_suggests_close_names_and_names_the_field():
    with pytest.raises(UnknownNameError) as info:
        resolve_model("llama-3-70b", file="w.yaml", field="workloads[0].model")
    err = info.value
    assert "llama-3.1-70b" in err.suggestions
    text = str(err)
    assert "w.yaml" in text and "workloads[0].model" in text and "Did you mean" in text


def test_registry_yaml_keys_are_lower_case_and_aliases_do_not_shadow_names():
    from importlib import resources

    data = yaml.safe_load(
        resources.files("arbiter.workloads.data").joinpath("models.yaml").read_text("utf-8")
    )
    assert all(k == k.lower() for k in data["models"])
    assert not set(data["aliases"]) & set(data["models"])
    assert REGISTRY_FILE.endswith("models.yaml")


# --- custom architectures ----------------------------------------------------------------

CUSTOM = {
    "name": "tiny",
    "n_layers": 4,
    "d_model": 512,
    "n_heads": 8,
    "ffn_dim": 1024,
    "vocab_size": 1000,
}


def test_custom_model_defaults_to_mha_shaped_heads():
    model = model_from_mapping(CUSTOM, "w.yaml", "workloads[0].model")
    assert model.n_kv_heads == 8 and model.head_dim == 64
    # 4 layers * (4 * 512 * 512 + 3 * 512 * 1024) + 2 * 1000 * 512
    assert model.params_total == 4 * (4 * 512 * 512 + 3 * 512 * 1024) + 2 * 1000 * 512


def test_custom_moe_mla_model_is_accepted():
    data = {
        **CUSTOM,
        "attention": "MLA",
        "kv_lora_rank": 64,
        "rope_head_dim": 16,
        "n_experts": 4,
        "n_active_experts": 1,
        "moe_ffn_dim": 256,
    }
    model = model_from_mapping(data, "w.yaml", "m")
    assert model.attention is Attention.MLA and model.is_moe
    assert model.kv_cache_elements_per_token() == 4 * (64 + 16)


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"n_layers": 0}, "m.n_layers", "> 0"),
        ({"n_layers": -2}, "m.n_layers", "> 0"),
        ({"n_layers": 4.5}, "m.n_layers", "whole number"),
        ({"n_layers": True}, "m.n_layers", "whole number"),
        ({"n_experts": -1}, "m.n_experts", ">= 0"),
        ({"gated_ffn": "yes"}, "m.gated_ffn", "true or false"),
        ({"attention": "flash"}, "m.attention", "mha, gqa, mla"),
        ({"hidden_size": 512}, "m.hidden_size", "unknown model field"),
        ({"name": ""}, "m.name", "non-empty"),
        ({"published_params_b": -1}, "m.published_params_b", "positive"),
        ({"n_heads": 7}, "m.head_dim", "not a multiple of n_heads"),
        ({"n_kv_heads": 3}, "m", "n_heads must be a multiple of n_kv_heads"),
        ({"n_experts": 8}, "m", "n_active_experts"),
        ({"attention": "mla"}, "m", "kv_lora_rank"),
        ({"n_dense_layers": 9}, "m.n_dense_layers", "exceeds n_layers"),
    ],
)
def test_bad_custom_models_name_file_and_field(change, field, fragment):
    with pytest.raises(InputError) as info:
        model_from_mapping({**CUSTOM, **change}, "w.yaml", "m")
    text = str(info.value)
    assert info.value.file == "w.yaml" and info.value.field == field
    assert "w.yaml" in text and field in text and fragment in text


def test_custom_model_missing_fields_are_listed():
    with pytest.raises(InputError) as info:
        model_from_mapping({"name": "x", "n_layers": 2}, "w.yaml", "m")
    assert "d_model" in str(info.value) and "vocab_size" in str(info.value)


def test_custom_model_must_be_a_mapping():
    with pytest.raises(InputError) as info:
        model_from_mapping(["n_layers", 2], "w.yaml", "m")
    assert info.value.field == "m" and "mapping" in str(info.value)
