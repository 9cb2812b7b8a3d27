"""Running a rule's script: output to the rule's log file, user errors also on the console, in one line."""

from __future__ import annotations

import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from w2s.errors import W2SError


@contextmanager
def logged(log_path: str):
    """Send stdout and stderr (file descriptors too, for library output) to `log_path` for the block.

    A W2SError is written to the log and to the console, then the job exits with status 1 (no traceback: the
    message says what to fix). Any other exception keeps its traceback in the log.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    console = os.dup(2)
    sys.stdout.flush(), sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        except W2SError as exc:
            print(f"error: {exc}", flush=True)
            os.write(console, f"w2s error: {exc}\n".encode())
            raise SystemExit(1) from None
        except BaseException:
            traceback.print_exc()
            os.write(console, f"w2s: job failed, see {log_path}\n".encode())
            raise
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
