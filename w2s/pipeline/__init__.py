"""The Snakemake side: the validated config, the experiment grid and each rule's params, cluster resources, and
the jobs the rules' scripts run (launched under DeepSpeed where a model entry asks for it)."""
