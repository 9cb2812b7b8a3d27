"""Rules label_strong_train and predict_<role>_test: a trained model's predictions on one shard of a split."""

from w2s.pipeline.warm import run_job

run_job("w2s.pipeline.run:label_split", snakemake.log[0], checkpoint=snakemake.input.checkpoint,
        split_path=snakemake.input.split, out_path=snakemake.output[0], params=snakemake.params.prediction,
        info=snakemake.params.info, threads=snakemake.threads, shard=snakemake.params.shard,
        shards=snakemake.params.shards)
