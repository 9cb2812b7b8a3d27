"""What generative finetuning does to a world model's own answer: the zero-shot readout (its logits for the source
marks R and U after a statement) of the plain model and of the generatively finetuned one, on the test split (texts
the generative finetuning never saw) and on strong_train (texts it learnt), per pretraining and config seed.

    python bench/demo.py --configfile configs/paper_methods.yaml --pretrain-seeds 0,1,2 --keep WORKDIR
    python bench/generative_readout.py WORKDIR [--plain knows100] [--generative knows100_gen] [--out FILE]

WORKDIR is the kept working directory of that benchmark (one `pretrain_seed<k>/` per pretraining seed). A benchmark,
not a test: nothing is asserted; the table is for reading (and for docs/methods.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl
from stamp import commit

from w2s.kinds import CLASSIFICATION
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.pipeline.config_checks import label_tokens
from w2s.pipeline.paths import DATA, GENERATIVE, PRETRAINED
from w2s.records.params import PredictionParams
from w2s.records.predictions import read_split

SPLITS = ("test", "strong_train")


def readout(model_dir: Path):
    """A world model's own answer (its logits for the source marks U and R) as a classifier, and its tokenizer."""
    marks = label_tokens({"pretrain": {}})
    return Classifier.load(
        str(model_dir), "float32", "readout", label_tokens=marks
    ), load_tokenizer(str(model_dir))


def readout_accuracy(model, tokenizer, split_path: Path, max_length: int = 16) -> float:
    """The share of a split's statements whose mark the model, untrained for the task, predicts right."""
    frame = read_split(split_path, "label")
    params = PredictionParams(
        dtype="float32",
        trust_remote_code=False,
        max_length=max_length,
        predict_batch_size=256,
        autocast="off",
    )
    table, _ = CLASSIFICATION.predict(model, tokenizer, frame, max_length, params)
    return float(table["correct"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workdir")
    parser.add_argument("--dataset", default="kb_facts")
    parser.add_argument("--plain", default="knows100")
    parser.add_argument("--generative", default="knows100_gen")
    parser.add_argument("--out")
    args = parser.parse_args()
    rows = []
    for run in sorted(Path(args.workdir).glob("pretrain_seed*")):
        plain = readout(run / PRETRAINED.format(model=args.plain))  # one per pretraining seed
        for seed_dir in sorted((run / f"results/data/{args.dataset}").glob("seed*")):
            seed = int(seed_dir.name.removeprefix("seed"))
            tuned = readout(
                run / GENERATIVE.format(dataset=args.dataset, seed=seed, model=args.generative)
            )
            for split in SPLITS:
                path = run / DATA.format(dataset=args.dataset, seed=seed, split=split)
                rows.append(
                    {
                        "pretrain_seed": int(run.name.removeprefix("pretrain_seed")),
                        "seed": seed,
                        "split": split,
                        "plain": readout_accuracy(*plain, path),
                        "generative": readout_accuracy(*tuned, path),
                    }
                )
    table = pl.DataFrame(rows)
    summary = (
        table.group_by("split")
        .agg(
            pl.len().alias("runs"),
            pl.col("plain").mean(),
            pl.col("generative").mean(),
            pl.col("generative").min().alias("gen_min"),
            pl.col("generative").max().alias("gen_max"),
        )
        .sort("split", descending=True)
    )
    lines = [
        f"# Zero-shot readout before and after generative finetuning ({args.generative})",
        "",
        f"Written by `python bench/generative_readout.py` at commit `{commit(12)}` from {len(table)} "
        f"(pretraining seed, config seed, split) cells of `{args.workdir}`.",
        "",
        f"| split | cells | {args.plain} readout (mean) | {args.generative} readout (mean) | "
        f"{args.generative} readout (range) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['split']} | {r['runs']} | {r['plain']:.3f} | {r['generative']:.3f} | "
        f"{r['gen_min']:.3f}-{r['gen_max']:.3f} |"
        for r in summary.iter_rows(named=True)
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    print(table)
    if args.out:
        Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
