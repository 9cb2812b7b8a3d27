"""Rule write_report_page: the first page of `snakemake --report`, from the results."""

import yaml

from w2s.analysis.agreement import imitation_by_cell
from w2s.analysis.groups import group_pgr
from w2s.analysis.report_page import report_page
from w2s.io import atomic_path, read_parquet
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    tables = {
        name: read_parquet(snakemake.input[name]) for name in ("aggregate", "overall", "runs")
    }
    page = report_page(
        tables["aggregate"],
        tables["overall"],
        tables["runs"],
        snakemake.params.figures,
        yaml.safe_dump(dict(snakemake.config), sort_keys=False),
        list(snakemake.input.labels),
        imitation_by_cell(read_parquet(snakemake.input.agreement)),
        group_pgr(read_parquet(snakemake.input.groups)),
    )
    with atomic_path(snakemake.output[0]) as tmp:
        with open(tmp, "w") as f:
            f.write(page)
    print(f"wrote {snakemake.output[0]}: {len(page)} characters", flush=True)
