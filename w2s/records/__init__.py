"""The record formats every floor above reads or writes: split, labels, predictions and answers files (their columns,
provenance, shards) and the metrics computed from them. Parse-time code, the jobs and the analyses all import these,
so they sit below all three."""
