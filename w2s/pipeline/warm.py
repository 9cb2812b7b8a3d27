"""The name the rules' byte-frozen scripts import the warm worker's `run_job` by (it lives in w2s.process.warm)."""

from w2s.process.warm import run_job

__all__ = ["run_job"]
