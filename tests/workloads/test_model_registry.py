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
    "llama-3-8b": 8.03,
    "llama-3-70b": 70.6,
    "mistral-7b": 7.3,
    "mistral-7b-instruct-v0.2": 7.3,
    "codellama-13b": 13.0,
    "gemma3-12b": 11.77,  # text decoder: 1,012M embedding + 10,759M other (Gemma 3 report)
    "llama4-scout-17b-16e": 109.0,
    "llama4-maverick-17b-128e": 400.0,
    "qwen3-8b": 8.2,
    "qwen3-32b": 32.8,
    "qwen3-30b-a3b": 30.5,
    "qwen3-235b-a22b": 235.0,
    # GPT-3-style Neuron benchmark models and MaxText's 2023 v4 models: sizes in the names
    "gpt3-23b-neuron-nemo": 23.0,
    "gpt3-46b-neuron-nemo": 46.0,
    "gpt3-6.7b-megatron": 6.7,
    "maxtext-22b": 22.0,
    "maxtext-52b": 52.0,
}
# MaxText's global_parameter_scale models: the name is the scale, a nominal size. Each
# doubling step is a little short of 2x (MaxText says so), so the totals fall 1-2.6% under
# the names; 3% holds them without admitting a wrong shape (a step off is 2x).
NOMINAL_TOTAL_B = {
    "maxtext-16b": 16.0,
    "maxtext-32b": 32.0,
    "maxtext-64b": 64.0,
    "maxtext-128b": 128.0,
    "maxtext-256b": 256.0,
    "maxtext-512b": 512.0,
    "maxtext-1024b": 1024.0,
}
PUBLISHED_ACTIVE_B = {
    "mixtral-8x7b": 12.9,
    "mixtral-8x22b": 39.0,
    "deepseek-v3": 37.0,
    "deepseek-r1": 37.0,
    "llama4-scout-17b-16e": 17.0,
    "llama4-maverick-17b-128e": 17.0,
    "qwen3-30b-a3b": 3.3,
    "qwen3-235b-a22b": 22.0,
}


def test_gpt_oss_active_matmul_parameters_match_openai_5_1b():
    # OpenAI's 5.1B active counts what a token multiplies by: 4 of 128 experts
    # (36 x 4 x 3 x 2880^2 = 3.58B) + attention (36 x 26.5M = 0.95B) + the output head
    # (201,088 x 2880 = 0.58B) = 5.11B; the input embedding is a lookup.
    model = resolve_model("gpt-oss-120b")
    assert model.matmul_params_active / 1e9 == pytest.approx(5.1, rel=0.02)


def test_registry_holds_exactly_the_expected_models():
    assert not set(PUBLISHED_TOTAL_B) & set(NOMINAL_TOTAL_B)
    assert set(model_names()) == set(PUBLISHED_TOTAL_B) | set(NOMINAL_TOTAL_B)
    assert list(model_names()) == sorted(model_names())


@pytest.mark.parametrize(("name", "published_b"), sorted(PUBLISHED_TOTAL_B.items()))
def test_derived_total_parameters_match_published_within_2_percent(name, published_b):
    model = resolve_model(name)
    assert model.params_total / 1e9 == pytest.approx(published_b, rel=0.02)
    # the yaml's own published figure is the one the authors state
    assert model.published_params_b == pytest.approx(published_b)


@pytest.mark.parametrize(("name", "nominal_b"), sorted(NOMINAL_TOTAL_B.items()))
def test_maxtext_scaled_models_are_within_3_percent_of_their_nominal_size(name, nominal_b):
    model = resolve_model(name)
    assert model.params_total / 1e9 == pytest.approx(nominal_b, rel=0.03)
    assert model.params_total / 1e9 < nominal_b  # every scaling step is short of 2x
    assert model.published_params_b == pytest.approx(nominal_b)


@pytest.mark.parametrize("name", model_names())
def test_every_registry_model_lands_on_its_own_published_figure(name):
    # iterates the registry itself, so a model added to the yaml is checked even before
    # it is added to the tables above
    model = resolve_model(name)
    assert model.published_params_b is not None
    tolerance = 0.03 if name in NOMINAL_TOTAL_B else 0.02
    assert model.params_total / 1e9 == pytest.approx(model.published_params_b, rel=tolerance)


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
        ("meta-llama/Meta-Llama-3-8B-Instruct", "llama-3-8b"),
        ("Llama3-70B", "llama-3-70b"),
        ("mistralai/Mistral-7B-v0.1", "mistral-7b"),
        ("Mistral-7B-Instruct-v0.2", "mistral-7b-instruct-v0.2"),
        ("codellama/CodeLlama-13b-hf", "codellama-13b"),
        ("google/gemma-3-12b-it", "gemma3-12b"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "llama4-scout-17b-16e"),
        ("Llama 4 Maverick", "llama4-maverick-17b-128e"),
        ("Qwen/Qwen3-30B-A3B", "qwen3-30b-a3b"),
        ("GPT3-6.7B", "gpt3-6.7b-megatron"),
        ("gpt3_23b", "gpt3-23b-neuron-nemo"),
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
        resolve_model("llama-3.1-7b", file="w.yaml", field="workloads[0].model")
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


def _shape(model):
    return {
        f.name: getattr(model, f.name)
        for f in dataclasses.fields(model)
        if f.name not in ("name", "source", "max_context", "published_params_b")
    }


def test_llama3_has_llama31_shapes_with_an_8k_context():
    for old, new in (("llama-3-8b", "llama-3.1-8b"), ("llama-3-70b", "llama-3.1-70b")):
        llama3, llama31 = resolve_model(old), resolve_model(new)
        assert _shape(llama3) == _shape(llama31)
        assert (llama3.max_context, llama31.max_context) == (8192, 131072)


def test_mistral_7b_versions_share_a_shape_and_codellama_is_llama2_13b_with_16_more_tokens():
    v01, v02 = resolve_model("mistral-7b"), resolve_model("mistral-7b-instruct-v0.2")
    assert _shape(v01) == _shape(v02)
    assert (v01.n_kv_heads, v01.ffn_dim, v01.vocab_size) == (8, 14336, 32000)
    assert v01.max_context == v02.max_context == 32768
    code, llama2 = resolve_model("codellama-13b"), resolve_model("llama-2-13b")
    assert _shape(dataclasses.replace(code, vocab_size=32000)) == _shape(llama2)
    assert (code.vocab_size, code.max_context) == (32016, 16384)


def test_llama4_maverick_alternates_dense_and_moe_layers_and_scout_is_all_moe():
    scout = resolve_model("llama4-scout-17b-16e")
    maverick = resolve_model("llama4-maverick-17b-128e")
    assert (scout.n_experts, scout.n_moe_layers, scout.n_shared_experts) == (16, 48, 1)
    assert (maverick.n_experts, maverick.n_moe_layers, maverick.n_dense_layers) == (128, 24, 24)
    assert (maverick.ffn_dim, maverick.moe_ffn_dim, maverick.n_shared_experts) == (16384, 8192, 1)
    # both activate 17B: attention, a shared and a routed expert per MoE layer, the head
    assert scout.params_active == pytest.approx(maverick.params_active, rel=0.01)


def test_qwen3_moe_models_route_8_of_128_experts_without_a_shared_one():
    for name, width in (("qwen3-30b-a3b", 768), ("qwen3-235b-a22b", 1536)):
        model = resolve_model(name)
        assert (model.n_experts, model.n_active_experts, model.n_shared_experts) == (128, 8, 0)
        assert (model.moe_ffn_dim, model.n_dense_layers) == (width, 0)


def test_gemma3_12b_counts_every_layer_as_global_attention():
    # 2 (K and V) * 48 layers * 8 KV heads * 256: an upper bound, 5 of 6 layers use a
    # 1024-token window
    model = resolve_model("gemma3-12b")
    assert model.tied_embeddings and model.head_dim == 256
    assert model.kv_cache_elements_per_token() == 2 * 48 * 8 * 256


def test_neuron_gpt3_models_are_gpt3_shaped():
    for name, layers, width in (
        ("gpt3-23b-neuron-nemo", 28, 8192),
        ("gpt3-46b-neuron-nemo", 56, 8192),
        ("gpt3-6.7b-megatron", 32, 4096),
    ):
        model = resolve_model(name)
        assert (model.n_layers, model.d_model, model.ffn_dim) == (layers, width, 4 * width)
        assert model.attention is Attention.MHA and model.head_dim == 128
        assert not model.gated_ffn and model.tied_embeddings and model.vocab_size == 50257


@pytest.mark.parametrize("scale", [16, 32, 64, 128, 256, 512, 1024])
def test_maxtext_scaled_models_follow_global_parameter_scale(scale):
    # MaxText get_individual_scales: log2(scale) = 3b + r; heads and MLP double b + (r > 0)
    # times, emb b + (r > 1) times, layers b times, from base.yml's 2048 / 16 heads of 128
    # / MLP 7168 / 16 layers, vocabulary 32000
    b, r = divmod(scale.bit_length() - 1, 3)
    heads, emb = b + (r > 0), b + (r > 1)
    model = resolve_model(f"maxtext-{scale}b")
    assert (model.d_model, model.n_layers) == (2048 << emb, 16 << b)
    assert (model.n_heads, model.n_kv_heads, model.head_dim) == (16 << heads, 16 << heads, 128)
    assert (model.ffn_dim, model.vocab_size) == (7168 << heads, 32000)
    assert model.gated_ffn and not model.tied_embeddings and not model.is_moe


def test_maxtext_v4_models_have_the_2023_base_shape():
    # head_dim 256, ReLU MLP (not gated), vocabulary 32768, shared embedding: the shape
    # the names 22B and 52B describe (today's base.yml would make them 25.8B and 65.2B)
    v4 = (("maxtext-22b", 48, 6144, 24), ("maxtext-52b", 32, 12288, 32))
    for name, layers, width, heads in v4:
        model = resolve_model(name)
        assert (model.n_layers, model.d_model, model.n_heads) == (layers, width, heads)
        assert model.ffn_dim == 4 * width
        assert (model.head_dim, model.vocab_size) == (256, 32768)
        assert not model.gated_ffn and model.tied_embeddings


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
