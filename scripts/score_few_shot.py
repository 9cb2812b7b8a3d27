"""Rule score_few_shot: a model's own answers, untrained, to k-shot prompts of each seed's test split."""

from w2s.pipeline.warm import run_job

outs = [
    {"metrics": m, "predictions": p}
    for m, p in zip(snakemake.output.metrics, snakemake.output.predictions)
]
run_job(
    "w2s.pipeline.run:few_shot",
    snakemake.log[0],
    params=snakemake.params.prediction,
    test_paths=list(snakemake.input.test),
    train_paths=list(snakemake.input.train),
    label_paths=list(snakemake.input.labels) or None,
    outs=outs,
    infos=snakemake.params.info,
    threads=snakemake.threads,
)
