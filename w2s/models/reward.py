"""A reward model: the causal LM backbone with a linear head of one output on the last real token, as the paper's
reward models are (a scalar per prefix + completion). On a comparison (w2s.data.pairs) it scores the two transcripts
separately, in one forward batch, and the training loop's two-class view of the pair is the logits (0, r_a - r_b):
p(a preferred) = sigmoid(r_a - r_b), trained by cross-entropy against the (soft) preference, as Bradley-Terry.
A checkpoint is a classifier's (w2s.models.classifier) with a head of one row."""

from __future__ import annotations

import torch

from w2s.models.classifier import Classifier


class RewardModel(Classifier):
    head_outputs = 1

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Rows [a_1..a_n, b_1..b_n] (w2s.models.tokens.batch_rows) -> [n, 2] logits (0, r_a - r_b)."""
        rewards = self.rewards(input_ids, attention_mask)
        half = rewards.shape[0] // 2
        margin = rewards[:half] - rewards[half:]
        return torch.stack([torch.zeros_like(margin), margin], dim=-1)

    def rewards(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Each row's scalar reward."""
        return self.read_head(self.features(input_ids, attention_mask))[:, 0]

    def init_readout(self, rows: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        """The LM's own reward: its logit of the positive label token minus the negative one's at the last token
        (rows: the two tokens' unembedding rows, negative first), so the untrained pair prediction is the LM's
        zero-shot preference."""
        with torch.no_grad():
            self.head.weight.copy_((rows[1] - rows[0]).float()[None])
            self.head.bias.fill_(float(bias[1] - bias[0]) if bias is not None else 0.0)
