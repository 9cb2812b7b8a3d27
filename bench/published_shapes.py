"""The published shapes of the hub models the paper configs use (the config.json fields that size a model): what
the benchmarks build or plan with, no download needed."""

from __future__ import annotations

GPT2 = {  # (n_embd, n_layer, n_head); vocabulary 50257, context 1024; no dtype named: fp32 weights
    "openai-community/gpt2": (768, 12, 12),
    "openai-community/gpt2-medium": (1024, 24, 16),
    "openai-community/gpt2-large": (1280, 36, 20),
    "openai-community/gpt2-xl": (1600, 48, 25),
}
PYTHIA = {  # (hidden, layers, heads); vocabulary 50304, context 2048, untied, float16 weights
    "EleutherAI/pythia-410m": (1024, 24, 16),
    "EleutherAI/pythia-1.4b": (2048, 24, 16),
}
QWEN = {  # (hidden, intermediate, layers, heads, kv heads, tied, vocabulary, context); bfloat16 weights
    "Qwen/Qwen2.5-0.5B": (896, 4864, 24, 14, 2, True, 151936, 32768),
    "Qwen/Qwen2.5-1.5B": (1536, 8960, 28, 12, 2, True, 151936, 131072),
    "Qwen/Qwen2.5-3B": (2048, 11008, 36, 16, 2, True, 151936, 32768),
    "Qwen/Qwen2.5-7B": (3584, 18944, 28, 28, 4, False, 152064, 131072),
}


def published_config(repo_id: str):
    from transformers import GPT2Config, GPTNeoXConfig, Qwen2Config

    if repo_id in GPT2:
        hidden, layers, heads = GPT2[repo_id]
        return GPT2Config(
            n_embd=hidden, n_layer=layers, n_head=heads, vocab_size=50257, n_positions=1024
        )
    if repo_id in PYTHIA:
        hidden, layers, heads = PYTHIA[repo_id]
        return GPTNeoXConfig(
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=4 * hidden,
            vocab_size=50304,
            max_position_embeddings=2048,
            tie_word_embeddings=False,
            dtype="float16",
        )
    hidden, intermediate, layers, heads, kv_heads, tied, vocab, context = QWEN[repo_id]
    return Qwen2Config(
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        tie_word_embeddings=tied,
        vocab_size=vocab,
        max_position_embeddings=context,
        dtype="bfloat16",
    )
