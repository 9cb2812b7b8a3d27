"""Rule split_dataset: draw the seeded, balanced weak_train / strong_train / test splits of one dataset."""

from w2s.data.registry import make_source
from w2s.data.splits import sample_splits
from w2s.io import write_parquet
from w2s.pipeline.job import logged
from w2s.version import code_version

with logged(snakemake.log[0]):
    dataset, seed, entry = snakemake.wildcards.dataset, int(snakemake.wildcards.seed), snakemake.params.entry
    sizes = {split: entry[f"n_{split}"] for split in ("weak_train", "strong_train", "test")}
    source = make_source(dataset, entry, world_dir=snakemake.input.files[0] if entry["kind"] == "world" else None)
    splits, duplicates = sample_splits(source, dataset, sizes, seed)
    dropped = {"duplicate_texts_dropped": duplicates, **{f"{k}_dropped": v for k, v in source.dropped.items()}}
    print(", ".join(f"{k}: {v}" for k, v in dropped.items()), flush=True)
    for split, frame in splits.items():
        meta = {"dataset": dataset, "seed": seed, "split": split, "code_version": code_version(), **dropped}
        write_parquet(frame, snakemake.output[split], meta)
        print(f"{split}: {len(frame)} rows, {int(frame['label'].sum())} of label 1", flush=True)
