"""Rule summarize_runs: PGR tables (per run, per task over seeds, across tasks) as csv and parquet."""

from w2s.analysis.summary import aggregate, flagged_runs, overall, runs_table
from w2s.io import read_json, write_table
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    # a metrics.json holds one record, an early_stopping.json a list of them
    records = [read_json(path) for path in snakemake.input]
    runs = runs_table(
        [r for record in records for r in (record if isinstance(record, list) else [record])]
    )
    tables = {"runs": runs, "aggregate": aggregate(runs)}
    tables["overall"] = overall(tables["aggregate"])
    for name, table in tables.items():
        write_table(table, snakemake.output[f"{name}_csv"], snakemake.output[f"{name}_parquet"])
    print(tables["aggregate"], flush=True)
    for line in flagged_runs(runs):
        print(f"WARNING {line}", flush=True)
