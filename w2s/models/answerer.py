"""A causal LM trained and scored on answers it writes (generative tasks, w2s.data.answers), and its checkpoint.

The training loop and its losses see every run as two classes: for a generative task the row's "p(1)" is the
model's probability of the target answer, its tokens' mean log-probability (the stop string's included) taken as a
log-probability, and its two logits are log(1 - p) and log p. Cross-entropy to target 1 is then the mean next-token
cross-entropy over the answer's tokens, with the prompt masked. A checkpoint is an ordinary Hugging Face causal LM
directory with its tokenizer (or, with LoRA, the adapters and the base model's record, w2s.models.lora).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from w2s.errors import W2SError
from w2s.models import lora
from w2s.models.backbone import BackboneModel
from w2s.models.paths import local_model_dir

# p = 1 exactly would make log(1 - p) minus infinity; the answers' mean log-probability is capped just below 0
MAX_LOGPROB = -1e-6


class Answerer(BackboneModel):
    """`forward(input_ids, attention_mask, answer_lengths)`: right-padded rows whose last `answer_lengths` real
    tokens are the answer -> [B, 2] logits of the two-class view (module docstring)."""

    def __init__(self, lm: nn.Module):
        super().__init__(lm)
        # per row of the last forward pass: whether the model's own next token was the target at every answer
        # position (teacher-forced exact match): the training loop's agreement with the targets; and the mean
        # log-probability of those own tokens (with its gradient: the confidence loss's own term, w2s.training.losses)
        self.last_matches = None
        self.last_own_logprobs = None

    def forward(self, input_ids, attention_mask, answer_lengths) -> torch.Tensor:
        mean = self.answer_logprobs(input_ids, attention_mask, answer_lengths)
        logp = mean.clamp(max=MAX_LOGPROB)
        return torch.stack([torch.log(-torch.expm1(logp)), logp], dim=-1)

    def answer_logprobs(self, input_ids, attention_mask, answer_lengths) -> torch.Tensor:
        """Each row's mean log-probability of its answer tokens given what precedes them. The LM head runs on the
        answer positions only: a vocabulary of 150k over every position of a batch would cost gigabytes."""
        extra = {"use_cache": False} if self.takes_use_cache else {}
        hidden = self.backbone.base_model(
            input_ids=input_ids, attention_mask=attention_mask, **extra
        ).last_hidden_state
        lengths, width = attention_mask.sum(dim=1), int(answer_lengths.max())
        offsets = torch.arange(width, device=input_ids.device)
        in_answer = offsets[None, :] < answer_lengths[:, None]
        # the position before each answer token predicts it
        before = (lengths - answer_lengths - 1)[:, None] + offsets[None, :]
        before = torch.where(in_answer, before, 0)
        states = hidden.gather(1, before[..., None].expand(-1, -1, hidden.shape[-1]))
        logits = self.backbone.get_output_embeddings()(states).float()
        targets = input_ids.gather(1, before + 1)
        logprobs = torch.log_softmax(logits, dim=-1)
        token_logprobs = logprobs.gather(-1, targets[..., None])[..., 0]
        self.last_matches = ((logits.argmax(dim=-1) == targets) | ~in_answer).all(dim=1).detach()
        self.last_own_logprobs = (logprobs.max(dim=-1).values * in_answer).sum(
            dim=1
        ) / answer_lengths
        return (token_logprobs * in_answer).sum(dim=1) / answer_lengths

    @classmethod
    def load(
        cls, name_or_path: str, dtype: str = "float32", trust_remote_code: bool = False
    ) -> Answerer:
        """A causal LM by hub id or path, or an answerer checkpoint (LoRA adapters included)."""
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging

        from w2s.models.classifier import DTYPES, HEAD_FILE, refuse_pickled_only

        if lora.is_adapter_checkpoint(name_or_path):
            model = cls.load(lora.read_base(name_or_path), dtype, trust_remote_code)
            lora.load_adapters(model.backbone, name_or_path)
            return model
        path = local_model_dir(name_or_path)
        if (path / HEAD_FILE).exists():
            raise W2SError(
                f"model {name_or_path!r} is a classifier checkpoint (it has {HEAD_FILE}): a generative task "
                "starts from a causal language model"
            )
        refuse_pickled_only(path, name_or_path)
        logging.set_verbosity_error()
        logging.disable_progress_bar()
        try:
            lm = AutoModelForCausalLM.from_pretrained(
                path, dtype=DTYPES[dtype], trust_remote_code=trust_remote_code, use_safetensors=True
            )
        except (OSError, ValueError) as exc:
            raise W2SError(f"could not load model {name_or_path!r} as a causal LM: {exc}") from exc
        return cls(lm)

    def save(self, out_dir: str | Path, tokenizer, state: dict | None = None) -> None:
        """The LM (or its adapters) and tokenizer; from `state` (this module's state dict) where given."""
        self.save_backbone(Path(out_dir), state)
        tokenizer.save_pretrained(out_dir)
