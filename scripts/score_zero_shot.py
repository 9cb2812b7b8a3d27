"""Rule score_zero_shot: a model's own answer on each seed's test split (its label tokens' logits), no finetuning."""

from w2s.pipeline.warm import run_job

outs = [{"metrics": m, "predictions": p} for m, p in zip(snakemake.output.metrics, snakemake.output.predictions)]
run_job("w2s.pipeline.run:zero_shot", snakemake.log[0], params=snakemake.params.prediction,
        test_paths=list(snakemake.input.test), outs=outs, infos=snakemake.params.info, threads=snakemake.threads)
