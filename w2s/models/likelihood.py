"""A language model's own preference between a comparison's two completions, untrained: the zero-shot baseline of a
comparison task for a model without label tokens.

Each completion is scored by the mean log-probability the causal LM gives its tokens after the prefix both
transcripts share (the tokens where the two rows first differ onwards), and p(a preferred) = sigmoid(score_a -
score_b). The mean rather than the sum, so that a shorter completion is not preferred for being short. The module
has the reward model's face (rows [a_1..a_n, b_1..b_n] -> [n, 2] logits (0, margin)), so every prediction path runs
it unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from w2s.models.backbone import BackboneModel


class LikelihoodPreference(BackboneModel):
    def __init__(self, language_model: nn.Module):
        super().__init__(language_model)

    @classmethod
    def load(cls, name_or_path: str, dtype: str, trust_remote_code: bool) -> LikelihoodPreference:
        from w2s.models.answerer import Answerer

        return cls(Answerer.load(name_or_path, dtype, trust_remote_code).backbone)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        half = input_ids.shape[0] // 2
        hidden = self.backbone.base_model(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        starts = completion_starts(input_ids[:half], input_ids[half:], attention_mask)
        head = self.backbone.get_output_embeddings()
        # a row's logits at a time: a pass's rows' logits together are a vocabulary wide (152k for Qwen2.5)
        scores = torch.stack(
            [
                completion_score(
                    head(hidden[row]), input_ids[row], attention_mask[row], starts[row]
                )
                for row in range(input_ids.shape[0])
            ]
        )
        margin = scores[:half] - scores[half:]
        return torch.stack([torch.zeros_like(margin), margin], dim=-1)


def completion_starts(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Where each pair's rows first differ (right-padded rows [a..., b...]; a row that ends first differs where it
    ends): the first completion token, at least 1 (the first token has no prediction)."""
    half = a.shape[0]
    same = (a == b) & (mask[:half] == 1) & (mask[half:] == 1)
    shared = torch.cumprod(same.long(), dim=1).sum(dim=1)
    return shared.clamp(min=1).repeat(2)


def completion_score(
    logits: torch.Tensor, input_ids: torch.Tensor, mask: torch.Tensor, start: torch.Tensor
) -> torch.Tensor:
    """A row's mean log-probability of its real tokens from `start` on (0 where it has none)."""
    log_probs = torch.log_softmax(logits[:-1].float(), dim=-1)
    token_log_probs = log_probs.gather(-1, input_ids[1:, None])[:, 0]
    positions = torch.arange(1, input_ids.shape[0], device=input_ids.device)
    counted = (positions >= start) & (mask[1:] == 1)
    return (token_log_probs * counted).sum() / counted.sum().clamp(min=1)
