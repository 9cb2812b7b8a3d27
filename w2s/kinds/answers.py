"""Generated answers: a prompt whose label is an answer the model writes (w2s.data.answers: a world's value, a
puzzle's move), in the answer format the job's params carry (`answers`). What the kind decides at job time: the
causal LM trains on prompt-then-answer rows, each evaluation generates greedy answers and scores exact match, a
labels or predictions file holds the generated answers (for moves, with their legality), and a worked example is
the prompt and its answer.

Torch and the models are imported inside the functions that use them (see w2s.kinds.classification)."""

from __future__ import annotations

import numpy as np
import polars as pl

from w2s.data.answers import answer_format
from w2s.kinds.classification import Evaluation, FinetuneRun, aligned_labels, refuse_probes
from w2s.records.params import ModelParams, TrainingParams
from w2s.records.predictions import answer_table, scores


class Answers:
    name = "answers"
    labels_column = "generated"

    # Parse time (see w2s.kinds.classification)
    transcripts = 1
    trains_language_model = True
    has_chance_level = False  # written answers have no chance level to fall below
    supervised_by_ensembles = False  # an ensemble combines two classes' soft labels, not answers
    answers_untrained = True  # it writes its answer
    head_outputs = 2  # what the plan counts (as for classification: 2 x (width + 1), a rounding error beside the LM)

    def few_shot_params(self) -> dict:
        return {}

    def task_params(self, config: dict, dataset: str) -> dict:
        """The task's answer format, for every job that trains on or generates answers."""
        return {"answers": answer_format(config, dataset).params()}

    def check(self, config: dict, dataset: str) -> None:
        refuse_probes(config, dataset, "a generative task: a linear probe cannot write an answer")

    def loss_refusal(self, loss_type: str) -> str | None:
        from w2s.training.losses import LOSSES

        if LOSSES[loss_type].answers:
            return None
        defined = sorted(t for t, cls in LOSSES.items() if cls.answers)
        return (
            "is defined for two classes, and every dataset of this config asks for generated answers (whose "
            f"students train with {defined})"
        )

    def target_column(self, student: bool) -> str:
        """The answers to learn: its supervisor's generated ones (a student), or the true ones."""
        return "generated" if student else "answer"

    def generated_tokens(self, config: dict, dataset: str) -> int:
        return answer_format(config, dataset).max_new_tokens

    def training_run(
        self, params: TrainingParams, frames: dict, target_column: str, gradient_checkpointing: bool
    ):
        return AnswerRun(params, frames, target_column, gradient_checkpointing)

    def evaluation(
        self, predict_batch_size: int, model, frames: dict, settings, kept, validation_targets
    ):
        return AnswerEvaluation(
            predict_batch_size, model, frames, settings, kept, validation_targets
        )

    def validation_column(self, supervised: bool) -> str:
        return "generated" if supervised else "answer"

    def targets(self, frame: pl.DataFrame, column: str) -> np.ndarray:
        """The probability the run should give each training row's answer: 1 (w2s.models.answerer)."""
        return np.ones(len(frame))

    def load_model(self, source: str, params: ModelParams, zero_shot: bool = False):
        from w2s.models.answerer import Answerer

        return Answerer.load(source, params.dtype, params.trust_remote_code)

    def predict(self, model, tokenizer, frame: pl.DataFrame, max_length: int, params: ModelParams):
        """The model's greedy answer to each prompt of `frame` (in a launched job each process generates its share,
        in step with the others, and every process gets every answer), and how many prompts were truncated."""
        from w2s.models.tokens import encode_prompts
        from w2s.training.generate import generate_answers

        fmt = params.answers
        ids, truncated = encode_prompts(
            frame["text"].to_list(), tokenizer, max_length, fmt["max_new_tokens"]
        )
        generated = generate_answers(
            model.backbone, tokenizer, ids, fmt, params.predict_batch_size, params.autocast
        )
        return answers_file(frame, generated, fmt), truncated

    def shown_labels(self, train: pl.DataFrame, labels_path) -> pl.Series:
        """The answers a k-shot prompt shows: the true ones, or a weak model's generated answers."""
        return (
            train["answer"]
            if labels_path is None
            else aligned_labels(train, labels_path, self.labels_column)
        )

    def demonstrations(
        self, train: pl.DataFrame, labels: pl.Series, params: ModelParams
    ) -> list[str]:
        """Each training row as its prompt and answer, written in the task's answer format."""
        fmt = params.answers
        prefix, stop = fmt.get("prefix", ""), fmt["stop"]
        return [f"{t}{prefix}{a.strip()}{stop}" for t, a in zip(train["text"], labels, strict=True)]


def answers_file(frame: pl.DataFrame, answers: list, fmt: dict) -> pl.DataFrame:
    """The answers table a job writes: for Nim moves (`fmt` nim_moves) with each answer's legality; for chess moves
    (`fmt` legal_moves) with each answer's legality in the position its prompt reaches (replaying every transcript:
    for files, not for the evaluations during training) and whether it is the true move however it marks check
    (`move_correct`); with `any_mate`, a mating answer to a puzzle whose answer mates is correct too."""
    legal, mates, moves = None, None, None
    if fmt.get("nim_moves"):
        from w2s.data.nim import heaps_of, is_legal

        legal = [is_legal(heaps_of(p), a.text) for p, a in zip(frame["text"], answers, strict=True)]
    if fmt.get("legal_moves"):
        from w2s.data.chess_world import move_checks

        rows = zip(frame["text"], frame["answer"], answers, strict=True)
        checks = [move_checks(prompt, a.text, truth) for prompt, truth, a in rows]
        legal, moves = [c[0] for c in checks], [c[1] for c in checks]
        if fmt.get("any_mate"):  # where the true answer mates, so does any other mate
            mates = [c[2] for c in checks]
    table = answer_table(frame, answers, legal, mates)
    if moves is None:
        return table
    return table.with_columns(move_correct=pl.Series(moves, dtype=pl.Boolean) | pl.col("correct"))


class AnswerRun(FinetuneRun):
    """The causal LM itself trains on the answers of `target_column` (the truth, or a supervisor's generated
    answers); the other splits are prompts to answer."""

    def __init__(
        self,
        params: TrainingParams,
        frames: dict,
        target_column: str,
        gradient_checkpointing: bool = False,
    ):
        self.target_column, self.answer_format = target_column, params.answers
        super().__init__(ANSWERS, params, frames, gradient_checkpointing)

    def encode(self, params: TrainingParams, frames: dict) -> dict:
        """The training split as prompt-then-answer rows (their answer lengths kept), the others as prompts."""
        from w2s.models.tokens import encode_answers, encode_prompts

        fmt, train = self.answer_format, frames["train"]
        ids, self.answer_lengths, truncated = encode_answers(
            train["text"].to_list(),
            train[self.target_column].to_list(),
            self.tokenizer,
            self.max_length,
            fmt["prefix"],
            fmt["stop"],
        )
        prompts = {
            name: encode_prompts(
                frame["text"].to_list(), self.tokenizer, self.max_length, fmt["max_new_tokens"]
            )
            for name, frame in frames.items()
            if name != "train"
        }
        return {"train": (ids, truncated), **prompts}

    @staticmethod
    def load(kind, params: TrainingParams):
        from w2s.models.answerer import Answerer
        from w2s.models.dtypes import TRAINING_DTYPE

        return Answerer.load(params.source, TRAINING_DTYPE, params.trust_remote_code)

    def keep_rows(self, rows) -> None:
        super().keep_rows(rows)
        self.answer_lengths = [self.answer_lengths[i] for i in rows]


class AnswerEvaluation(Evaluation):
    """Evaluation on generated answers: the run's greedy answers, exact match, and the answer's probability as the
    confidence. Each process generates its share of the rows, in step with the others, and gets every answer
    (w2s.training.generate). Keeps the last test answers (`answers`)."""

    answers = None

    def generate(self, module, split: str) -> list:
        from w2s.training.generate import generate_answers

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


ANSWERS = Answers()
