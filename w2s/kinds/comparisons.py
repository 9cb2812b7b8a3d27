"""Comparisons: a prefix and two completions, one preferred (w2s.data.pairs), learnt by a reward model. The kind is
classification's with the pair as its two classes (p(1): completion a preferred); what differs is the model (a
scalar reward head, w2s.models.reward), the untrained model's answer without label tokens (the LM's likelihood of
each completion), and a worked example (the prefix and its preferred completion)."""

from __future__ import annotations

import polars as pl

from w2s.columns import COMPLETIONS
from w2s.kinds.classification import Classification, refuse_probes
from w2s.records.params import ModelParams


class Comparisons(Classification):
    name = "comparisons"
    transcripts = 2
    head_outputs = 1  # a reward model's one reward
    answers_untrained = (
        True  # by its label tokens' reward, or the LM's likelihood of each completion
    )

    def task_params(self, config: dict, dataset: str) -> dict:
        """Its models are reward models (w2s.models.reward)."""
        return {"pairs": True}

    def check(self, config: dict, dataset: str) -> None:
        refuse_probes(
            config,
            dataset,
            "a comparison task, whose models are reward models scoring each completion; a linear probe is not one",
        )

    def few_shot_params(self) -> dict:
        """k-shot prompts are read by the likelihood of each completion after the examples, not label tokens."""
        return {"label_tokens": None}

    def _scoring_model(self):
        from w2s.models.reward import RewardModel

        return RewardModel

    def load_model(self, source: str, params: ModelParams, zero_shot: bool = False):
        if zero_shot and not params.label_tokens:
            from w2s.models.likelihood import LikelihoodPreference

            return LikelihoodPreference.load(source, params.dtype, params.trust_remote_code)
        return super().load_model(source, params, zero_shot)

    def demonstrations(
        self, train: pl.DataFrame, labels: pl.Series, params: ModelParams
    ) -> list[str]:
        """Each training row as its prefix followed by the completion `labels` prefers (1: completion a)."""
        a, b = (train[c].to_list() for c in COMPLETIONS)
        return [
            f"{t}{x if y else z}" for t, x, z, y in zip(train["text"], a, b, labels, strict=True)
        ]


COMPARISONS = Comparisons()
