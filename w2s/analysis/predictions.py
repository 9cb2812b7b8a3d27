"""The names the rules' byte-frozen scripts import from here; the predictions format lives in
w2s.records.predictions."""

from w2s.records.predictions import merge_label_shards, score_run

__all__ = ["merge_label_shards", "score_run"]
