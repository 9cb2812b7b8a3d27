"""Classification: a text and its two-class label. What the kind decides at job time: the run that finetunes the
classifier on a label column, what each evaluation measures (p(1), accuracy, AUROC), the model a prediction job
loads and its predictions file (w2s.records.predictions), and a k-shot prompt's worked examples. Comparisons are
this kind with a reward model (w2s.kinds.comparisons).

Torch and the models are imported inside the functions that use them: the workflow's parse asks a kind only its
facts and params, and stays light."""

from __future__ import annotations

import numpy as np
import polars as pl

from w2s.analysis.trajectories import pack_answers
from w2s.errors import W2SError
from w2s.records.metrics import accuracy, classification_metrics
from w2s.records.params import ModelParams, TrainingParams
from w2s.records.predictions import on_same_examples, prediction_table, read_split


class Classification:
    name = "classification"
    labels_column = "soft_label"  # what a weak model's labels file gives a student to learn

    # Parse time: what the workflow plans and checks for a dataset of this kind.
    transcripts = 1  # rows a model runs per example (a comparison runs both of its transcripts)
    trains_language_model = False  # reads its answer from the LM head, not a classification head
    has_chance_level = True  # a balanced two-class test split: 0.5
    supervised_by_ensembles = True  # an ensemble averages two classes' soft labels
    answers_untrained = False  # an untrained model answers only with label tokens to read
    head_outputs = 2  # the head's width the plan counts: a logit per class

    def task_params(self, config: dict, dataset: str) -> dict:
        """What the kind adds to its jobs' params: nothing (a classification job's params are what they were
        before the other kinds existed)."""
        return {}

    def check(self, config: dict, dataset: str) -> None:
        """The config's refusals for a dataset of this kind (every model entry can classify)."""

    def loss_refusal(self, loss_type: str) -> str | None:
        """Why a student of this kind cannot train with a loss type (None: it can; every loss is defined on two
        classes)."""
        return None

    def target_column(self, student: bool) -> str:
        """What a training run learns: its supervisor's soft labels (a student), or the truth."""
        return "soft_label" if student else "label"

    def few_shot_params(self) -> dict:
        """What k-shot prompts change in the kind's zero-shot params (nothing: read by the label tokens)."""
        return {}

    def generated_tokens(self, config: dict, dataset: str) -> int:
        """Tokens a prediction job writes after each prompt (none: it reads one position's logits)."""
        return 0

    def _scoring_model(self):
        """The model class a run or prediction job loads."""
        from w2s.models.classifier import Classifier

        return Classifier

    def training_run(
        self, params: TrainingParams, frames: dict, target_column: str, gradient_checkpointing: bool
    ):
        return FinetuneRun(self, params, frames, gradient_checkpointing)

    def evaluation(
        self, predict_batch_size: int, model, frames: dict, settings, kept, validation_targets
    ):
        return Evaluation(predict_batch_size, model, frames, settings, kept, validation_targets)

    def validation_column(self, supervised: bool) -> str:
        """What a run's early stopping compares with on the validation split: its supervisor's hard labels, or the
        truth."""
        return "hard_label" if supervised else "label"

    def targets(self, frame: pl.DataFrame, column: str) -> np.ndarray:
        """What the run learns for each training row: its label or soft label, p(1)."""
        return frame[column].to_numpy()

    def load_model(self, source: str, params: ModelParams, zero_shot: bool = False):
        """The model a prediction job runs (for a zero-shot answer, with its head read out of the label tokens)."""
        if zero_shot:
            return self._scoring_model().load(
                source,
                params.dtype,
                "readout",
                params.trust_remote_code,
                params.label_tokens,
            )
        return self._scoring_model().load(
            source, params.dtype, trust_remote_code=params.trust_remote_code
        )

    def predict(self, model, tokenizer, frame: pl.DataFrame, max_length: int, params: ModelParams):
        """The prediction table for `frame` and the number of its texts that were truncated."""
        from w2s.models.tokens import encode_split
        from w2s.training.predict import predict_p1

        ids, truncated = encode_split(frame, tokenizer, max_length)
        p1 = predict_p1(
            model, ids, tokenizer.pad_token_id, params.predict_batch_size, params.autocast
        )
        return prediction_table(frame, p1), truncated

    def shown_labels(self, train: pl.DataFrame, labels_path) -> pl.Series:
        """The labels a k-shot prompt shows strong_train's rows with: the truth (`labels_path` None), or a weak
        model's hard labels of the split."""
        if labels_path is None:
            return train["label"]
        return (aligned_labels(train, labels_path, self.labels_column) > 0.5).cast(pl.Int8)

    def demonstrations(
        self, train: pl.DataFrame, labels: pl.Series, params: ModelParams
    ) -> list[str]:
        """Each training row as a worked example: its text and its label's token."""
        label_tokens = params.label_tokens
        if not label_tokens:
            raise W2SError("k-shot prompts of a classification task need the model's label_tokens")
        return [f"{t}{label_tokens[int(y)]}" for t, y in zip(train["text"], labels, strict=True)]


def refuse_probes(config: dict, dataset: str, why: str) -> None:
    """A linear probe classifies one text's activations; a kind that is not one text and a class refuses it."""
    for name, entry in config["models"].items():
        if entry["mode"] == "probe":
            raise W2SError(
                f"config key models.{name}.mode: dataset {dataset} is {why}; finetune the model"
            )


def aligned_labels(train: pl.DataFrame, labels_path, column: str) -> pl.Series:
    """`column` of a labels file of strong_train, checked to be of its rows, in their order."""
    weak = read_split(labels_path, column).select("id", column)
    return on_same_examples(train.select("id"), weak, f"strong_train and {labels_path}")[column]


class FinetuneRun:
    """A run that finetunes the whole classifier (a reward model, on comparisons): each split's token ids (and how
    many were truncated)."""

    answer_lengths = None

    def __init__(
        self,
        kind: Classification,
        params: TrainingParams,
        frames: dict,
        gradient_checkpointing: bool = False,
    ):
        from w2s.models.classifier import load_tokenizer

        self.tokenizer = load_tokenizer(params.source, params.trust_remote_code)
        self.module = self.load(kind, params)
        self.adapt(params, gradient_checkpointing)
        self.max_length = self.module.max_tokens(params.max_length)
        self.pad_id = self.tokenizer.pad_token_id
        self.ids = self.encode(params, frames)

    def encode(self, params: TrainingParams, frames: dict) -> dict:
        """Each split's token ids and how many of its texts were truncated."""
        from w2s.models.tokens import encode_split

        return {
            name: encode_split(frame, self.tokenizer, self.max_length)
            for name, frame in frames.items()
        }

    @staticmethod
    def load(kind: Classification, params: TrainingParams):
        from w2s.models.dtypes import TRAINING_DTYPE

        return kind._scoring_model().load(
            params.source,
            TRAINING_DTYPE,  # not params.dtype, which is the dtype of the jobs that only predict
            params.head_init,
            params.trust_remote_code,
            params.label_tokens,
        )

    def adapt(self, params: TrainingParams, gradient_checkpointing: bool) -> None:
        """LoRA adapters and gradient checkpointing, where the run asks for them."""
        if params.lora:
            trainable = self.module.add_lora(params.lora, params.source)
            total = sum(p.numel() for p in self.module.parameters())
            print(
                f"LoRA: {trainable:,} of {total:,} parameters train (adapters and head)", flush=True
            )
        if gradient_checkpointing:
            from w2s.models.recompute import recompute_layers

            print(
                f"gradient checkpointing: {recompute_layers(self.module.backbone)} layers recomputed in the "
                "backward pass",
                flush=True,
            )

    def keep_rows(self, rows) -> None:
        """Keep only these training rows (a loss that chooses what it learns from)."""
        ids, truncated = self.ids["train"]
        self.ids["train"] = ([ids[i] for i in rows], truncated)

    def save(self, out_dir, state: dict | None = None) -> None:
        self.module.save(out_dir, self.tokenizer, state)


class Evaluation:
    """What the loop calls at each evaluation: test metrics and answers, the validation agreement (early
    stopping), and the weak_val early stop kept as a model. Keeps the last test predictions (`p1`)."""

    def __init__(
        self, predict_batch_size: int, model, frames: dict, settings, kept, validation_targets
    ):
        self.model, self.frames, self.kept = model, frames, kept
        self.batch, self.autocast = predict_batch_size, settings.autocast
        self.test_labels = frames["test"]["label"].to_numpy()
        self.validation_targets = validation_targets
        self.p1 = None

    def predict(self, module, split: str) -> np.ndarray:
        from w2s.training.predict import predict_p1

        return predict_p1(
            module, self.model.ids[split][0], self.model.pad_id, self.batch, self.autocast
        )

    def __call__(self, module) -> dict:
        self.p1 = self.predict(module, "test")
        metrics = classification_metrics(self.p1, self.test_labels)
        result = {f"test_{k}": v for k, v in metrics.items() if k != "n"}
        # the answers themselves, so that the trajectories analysis can compare them with any other model's
        result["test_answers"] = pack_answers(self.p1)
        if self.validation_targets is not None:
            result["val_agreement"] = accuracy(
                self.predict(module, "validation"), self.validation_targets
            )
            if self.kept:
                self.kept.offer(result, lambda: prediction_table(self.frames["test"], self.p1))
        return result

    def table(self, split: str, frame: pl.DataFrame, module) -> pl.DataFrame:
        """A split's predictions file by the trained model (`module`)."""
        return prediction_table(frame, self.predict(module, split))

    @property
    def test_table(self) -> pl.DataFrame:
        """The test predictions of the last evaluation."""
        return prediction_table(self.frames["test"], self.p1)


CLASSIFICATION = Classification()
