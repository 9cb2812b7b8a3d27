"""Rule split_chain_train: a chain link's fresh split (chain_folds fresh), drawn after and disjoint from the others."""

from w2s.data.registry import make_source
from w2s.data.splits import continued_split
from w2s.io import write_parquet
from w2s.pipeline.job import logged
from w2s.version import code_version

with logged(snakemake.log[0]):
    dataset, seed, entry = (
        snakemake.wildcards.dataset,
        int(snakemake.wildcards.seed),
        snakemake.params.entry,
    )
    sizes, split = snakemake.params.sizes, f"chain_train{snakemake.wildcards.position}"
    source = make_source(
        dataset, entry, world_dir=snakemake.input.files[0] if entry["kind"] == "world" else None
    )
    frame = continued_split(source, dataset, sizes, seed, snakemake.input.splits)
    write_parquet(
        frame,
        snakemake.output[0],
        {"dataset": dataset, "seed": seed, "split": split, "code_version": code_version()},
    )
    print(f"{split}: {len(frame)} rows, {int(frame['label'].sum())} of label 1", flush=True)
