"""Rule extract_activations: a frozen backbone's last-token activations of one split, for linear probes."""

from w2s.pipeline.warm import run_job

run_job("w2s.pipeline.run:extract_activations", snakemake.log[0], params=snakemake.params.activations,
        split_path=snakemake.input.split, out_path=snakemake.output[0], threads=snakemake.threads)
