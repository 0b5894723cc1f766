"""Model architectures: the shapes that decide FLOPs, weight bytes and KV-cache bytes.

Parameter counts are derived from the shape, not typed in, so a custom architecture is as
good as a shipped one. Conventions (checked against published totals in the tests):

- attention, standard (MHA/GQA): ``q, o: d x H*hd``; ``k, v: d x KV*hd``;
- attention, MLA (DeepSeek-V2/V3): ``q_a: d x q_lora``, ``q_b: q_lora x H*(hd + rope)``,
  ``kv_a: d x (kv_lora + rope)``, ``kv_b: kv_lora x H*(hd + v_hd)``, ``o: H*v_hd x d``;
- FFN: 3 matrices ``d x ffn`` when gated (SwiGLU), 2 otherwise (GPT-3);
- MoE layers: ``n_experts + n_shared_experts`` FFNs of ``moe_ffn_dim`` plus a router
  ``d x n_experts``; a token uses ``n_active_experts + n_shared_experts`` of them;
- embeddings ``V x d``, and a separate output head unless ``tied_embeddings``;
- biases and norms are ignored (well under 0.1% of any shipped model).

"Matmul parameters" are the parameters a token multiplies by: every active parameter except
the input embedding (a lookup). Training FLOPs use them (the ``6N`` of Kaplan et al.).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Attention(enum.StrEnum):
    """How keys and values are stored: it sets the KV-cache size."""

    MHA = "mha"
    GQA = "gqa"
    MLA = "mla"


@dataclass(frozen=True, slots=True)
class ModelArch:
    """A decoder-only transformer, dense or mixture-of-experts."""

    name: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_dim: int
    vocab_size: int
    attention: Attention = Attention.GQA
    gated_ffn: bool = True
    tied_embeddings: bool = False
    n_experts: int = 0
    n_active_experts: int = 0
    n_shared_experts: int = 0
    moe_ffn_dim: int = 0
    n_dense_layers: int = 0
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    rope_head_dim: int = 0
    v_head_dim: int = 0
    max_context: int = 0
    published_params_b: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        positive = ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "vocab_size")
        for field in positive:
            if getattr(self, field) <= 0:
                raise ValueError(f"model {self.name}: {field} must be > 0")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"model {self.name}: n_heads must be a multiple of n_kv_heads")
        if self.is_moe and not 0 < self.n_active_experts <= self.n_experts:
            raise ValueError(f"model {self.name}: need 0 < n_active_experts <= n_experts")
        if self.is_moe and self.moe_ffn_dim <= 0:
            raise ValueError(f"model {self.name}: MoE models need moe_ffn_dim > 0")
        if self.attention is Attention.MLA and self.kv_lora_rank <= 0:
            raise ValueError(f"model {self.name}: MLA needs kv_lora_rank > 0")

    # --- shape -----------------------------------------------------------------------------

    @property
    def is_moe(self) -> bool:
        return self.n_experts > 0

    @property
    def n_moe_layers(self) -> int:
        return self.n_layers - self.n_dense_layers if self.is_moe else 0

    @property
    def qk_head_dim(self) -> int:
        return self.head_dim + (self.rope_head_dim if self.attention is Attention.MLA else 0)

    @property
    def value_head_dim(self) -> int:
        return self.v_head_dim or self.head_dim

    # --- parameters ------------------------------------------------------------------------

    @property
    def attention_params_per_layer(self) -> int:
        d, h = self.d_model, self.n_heads
        if self.attention is Attention.MLA:
            q = (
                d * self.q_lora_rank + self.q_lora_rank * h * self.qk_head_dim
                if self.q_lora_rank
                else d * h * self.qk_head_dim
            )
            kv = d * (self.kv_lora_rank + self.rope_head_dim)
            kv += self.kv_lora_rank * h * (self.head_dim + self.value_head_dim)
            return q + kv + h * self.value_head_dim * d
        return 2 * d * h * self.head_dim + 2 * d * self.n_kv_heads * self.head_dim

    def _ffn_params(self, width: int) -> int:
        return (3 if self.gated_ffn else 2) * self.d_model * width

    @property
    def expert_params(self) -> int:
        """Parameters of one routed expert."""
        return self._ffn_params(self.moe_ffn_dim) if self.is_moe else 0

    @property
    def embedding_params(self) -> int:
        """Input embedding plus the output head when it is separate."""
        return self.vocab_size * self.d_model * (1 if self.tied_embeddings else 2)

    @property
    def dense_params(self) -> int:
        """Parameters every token uses: attention, dense FFNs, shared experts, routers, head."""
        dense_layers = self.n_layers - self.n_moe_layers
        total = self.n_layers * self.attention_params_per_layer
        total += dense_layers * self._ffn_params(self.ffn_dim)
        total += self.n_moe_layers * (
            self.n_shared_experts * self.expert_params + self.d_model * self.n_experts
        )
        return total + self.embedding_params

    @property
    def params_total(self) -> int:
        return self.dense_params + self.n_moe_layers * self.n_experts * self.expert_params

    @property
    def params_active(self) -> int:
        """Parameters one token passes through (MoE: shared plus the routed experts it uses)."""
        return self.dense_params + self.n_moe_layers * self.n_active_experts * self.expert_params

    @property
    def matmul_params_active(self) -> int:
        """Active parameters a token multiplies by (all but the input-embedding lookup)."""
        return self.params_active - self.vocab_size * self.d_model * (
            0 if self.tied_embeddings else 1
        )

    # --- per-token costs -------------------------------------------------------------------

    def kv_cache_elements_per_token(self) -> int:
        """Cached values per token over all layers (K and V, or MLA's compressed latent)."""
        if self.attention is Attention.MLA:
            return self.n_layers * (self.kv_lora_rank + self.rope_head_dim)
        return 2 * self.n_layers * self.n_kv_heads * self.head_dim

    def kv_cache_bytes_per_token(self, bytes_per_element: float) -> float:
        return self.kv_cache_elements_per_token() * bytes_per_element

    def attention_flops_per_token(self, context_tokens: float) -> float:
        """Forward FLOPs of the score and value matmuls for one token over ``context_tokens``.

        ``2 * L * H * (d_qk + d_v) * context``; pass the mean context (half the sequence
        for causal training) to get the average over a sequence.
        """
        per_context = 2 * self.n_layers * self.n_heads * (self.qk_head_dim + self.value_head_dim)
        return per_context * context_tokens

    def forward_flops_per_token(self, context_tokens: float) -> float:
        """``2 N_matmul + attention``: the forward pass of one token."""
        return 2.0 * self.matmul_params_active + self.attention_flops_per_token(context_tokens)
