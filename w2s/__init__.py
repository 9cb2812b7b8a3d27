"""w2s: weak-to-strong generalization experiments as a Snakemake workflow."""

__version__ = "0.1.0"
