"""Rule split_validation: the validation split, drawn after (and disjoint from) weak_train, strong_train and test."""

from w2s.data.registry import make_source
from w2s.data.splits import validation_split
from w2s.io import write_parquet
from w2s.pipeline.job import logged
from w2s.version import code_version

with logged(snakemake.log[0]):
    dataset, seed, entry = snakemake.wildcards.dataset, int(snakemake.wildcards.seed), snakemake.params.entry
    source = make_source(dataset, entry, world_dir=snakemake.input.files[0] if entry["kind"] == "world" else None)
    frame = validation_split(source, dataset, entry, seed, snakemake.input.splits)
    write_parquet(frame, snakemake.output[0], {"dataset": dataset, "seed": seed, "split": "validation",
                                               "code_version": code_version()})
    print(f"validation: {len(frame)} rows, {int(frame['label'].sum())} of label 1", flush=True)
