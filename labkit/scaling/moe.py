"""Mixture of experts: total versus active parameters.

A mixture-of-experts (MoE) layer replaces the one feed-forward block of a transformer layer by
``n_experts`` of them and a router that sends each token to ``experts_per_token`` (top-k) of them. Every
expert must sit in some device's memory (total parameters); each token's arithmetic uses only the ones it
is routed to (active parameters), so training costs ≈ 6·N_active·D FLOP. Moving tokens to the devices that
hold their experts is expert parallelism's all-to-all (:func:`labkit.scaling.step_time`,
``expert_parallel``).

Sources: Shazeer et al. 2017 and Fedus et al. 2022 (routing, top-k); Jiang et al. 2024, "Mixtral of
Experts" (arXiv:2401.04088: 8 experts, top-2, 47B total / 13B active; 46.7B / 12.9B in Mistral AI's
announcement, 2023-12-11); DeepSeek-AI 2024, "DeepSeek-V3 Technical Report" (arXiv:2412.19437: 671B total,
37B active, 14.8T tokens, 2.788M H800 GPU-hours, 2,048 H800).
"""

from ..core.validate import flag, integer

#: Mixtral 8x7B's shape (Jiang et al. 2024, Table 1: 32 layers, d_model 4,096, d_ff 14,336, 32 heads, 8 key/value
#: heads, vocabulary 32,000, 8 experts, top-2) and the counts Mistral AI published (46.7B total, 12.9B active).
MIXTRAL_8X7B = dict(n_layers=32, d_model=4096, vocab_size=32000, d_ff=14336, n_heads=32, n_kv_heads=8, n_experts=8,
                    experts_per_token=2)
MIXTRAL_8X7B_PUBLISHED = dict(n_params=46.7e9, n_active_params=12.9e9)
#: DeepSeek-V3 as its technical report states it (arXiv:2412.19437, abstract and Table 1 of §1): parameters,
#: pre-training tokens, H800 GPU-hours for the whole training (pre-training 2.664M, context extension 0.119M,
#: post-training 0.005M) and the cluster size.
DEEPSEEK_V3 = dict(n_params=671e9, n_active_params=37e9, n_tokens=14.8e12, device_hours=2.788e6,
                   pretraining_device_hours=2.664e6, n_devices=2048)


def moe_params(n_layers, d_model, vocab_size, d_ff, n_experts, experts_per_token, n_heads=None, n_kv_heads=None,
               n_shared_experts=0, gated_ffn=True, tied_embeddings=False):
    """(total, active) parameters of a decoder whose every layer's feed-forward block is a mixture of
    ``n_experts`` experts (each ``d_ff`` wide), ``experts_per_token`` of them used per token, plus
    ``n_shared_experts`` that every token uses, and a router (d_model × n_experts per layer).

    The rest is :func:`labkit.scaling.transformer_params` with RMSNorm and no biases (Mixtral's and Llama's
    choices). Attention, embeddings, norms and the router count in both totals.
    """
    from . import transformer_params
    layers = integer("n_layers", n_layers, minimum=1)
    d = integer("d_model", d_model, minimum=1)
    d_ff = integer("d_ff", d_ff, minimum=1)
    experts = integer("n_experts", n_experts, minimum=1, maximum=100_000)
    k = integer("experts_per_token", experts_per_token, minimum=1)
    shared = integer("n_shared_experts", n_shared_experts, minimum=0, maximum=100_000)
    if k > experts:
        raise ValueError(f"experts_per_token ({k}) must be at most n_experts ({experts})")
    gated = flag("gated_ffn", gated_ffn)
    dense = transformer_params(layers, d, vocab_size, d_ff=d_ff, n_heads=n_heads, n_kv_heads=n_kv_heads,
                               gated_ffn=gated, tied_embeddings=tied_embeddings, biases=False, norm="rmsnorm")
    expert = (3 if gated else 2) * d * d_ff
    router = d * experts
    total = dense + layers * ((experts + shared - 1) * expert + router)
    active = dense + layers * ((k + shared - 1) * expert + router)
    return int(total), int(active)
