"""What a finetuning run measures each time the loop evaluates it (w2s.pipeline.finetune): its test predictions or
answers and their metrics, its agreement with its supervision on the validation split (for early stopping), and
the weak_val early stop kept as a model; and the validation split with that supervision."""

from __future__ import annotations

import numpy as np
import polars as pl

from w2s.analysis.metrics import accuracy, classification_metrics
from w2s.analysis.predictions import (
    answer_table,
    check_provenance,
    prediction_table,
    read_split,
    scores,
)
from w2s.analysis.trajectories import pack_answers
from w2s.pipeline.run import answers_file
from w2s.training.generate import generate_answers
from w2s.training.predict import predict_p1


def validation_set(
    path, supervision: dict | None, generative: bool = False
) -> tuple[pl.DataFrame, np.ndarray]:
    """The validation split (a run on ground truth), or the labels of it by the model that supervises a student
    (checked to be that model's, as its training labels are), and the run's own supervision on it: ground truth,
    or its supervisor's hard labels (a generative task's: the true answers, or the supervisor's)."""
    if supervision:
        check_provenance(path, {**supervision, "split": "validation"})
    if generative:
        column = "generated" if supervision else "answer"
    else:
        column = "hard_label" if supervision else "label"
    frame = read_split(path, column)
    return frame, frame[column].to_numpy()


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


class AnswerEvaluation(Evaluation):
    """Evaluation on a generative task: the run's greedy answers, exact match, and the answer's probability as the
    confidence. Each process generates its share of the rows, in step with the others, and gets every answer
    (w2s.training.generate). Keeps the last test answers (`answers`)."""

    answers = None

    def generate(self, module, split: str) -> list:
        return generate_answers(
            module.backbone,
            self.model.tokenizer,
            self.model.ids[split][0],
            self.model.answer_format,
            self.batch,
            self.autocast,
        )

    def __call__(self, module) -> dict:
        self.answers = self.generate(module, "test")
        metrics = scores(answer_table(self.frames["test"], self.answers))
        result = {f"test_{k}": v for k, v in metrics.items() if k != "n"}
        result["test_answers"] = [a.text for a in self.answers]  # the answers themselves, unpacked
        if self.validation_targets is not None:
            answers = self.generate(module, "validation")
            result["val_agreement"] = float(
                np.mean([a.text == t for a, t in zip(answers, self.validation_targets)])
            )
            if self.kept:
                self.kept.offer(result, lambda: self.test_table)
        return result

    def table(self, split: str, frame: pl.DataFrame, module) -> pl.DataFrame:
        return answers_file(frame, self.generate(module, split), self.model.answer_format)

    @property
    def test_table(self) -> pl.DataFrame:
        return answers_file(self.frames["test"], self.answers, self.model.answer_format)
