"""The name the rules' byte-frozen scripts import a job's `logged` by (it lives in w2s.process.job)."""

from w2s.process.job import logged

__all__ = ["logged"]
