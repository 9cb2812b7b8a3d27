"""A run's trajectory: its log lines and evaluation points, printed, kept and written as jsonl."""

from __future__ import annotations

from pathlib import Path

from w2s.io import json_text

UNPRINTED = ("test_answers",)  # trajectory keys kept in the file, not in the log


class Trajectory:
    """The run's log and eval points: printed, kept (they go into resumable states), written as jsonl, and sent to
    the `mirrors` (w2s.training.dashboards), which this closes."""

    def __init__(self, path: str | Path | None, earlier: list[dict], mirrors: list = ()):
        self.history, self.mirrors = earlier, list(mirrors)
        self.file = None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "w")
            self.file.writelines(
                json_text(entry) + "\n" for entry in earlier
            )  # a resumed run's earlier points
        for entry in earlier:
            for mirror in self.mirrors:
                mirror.log(entry)

    def __enter__(self) -> Trajectory:
        return self

    def __exit__(self, *exc) -> None:
        if self.file:
            self.file.close()
        for mirror in self.mirrors:
            mirror.close()

    def record(self, entry: dict) -> None:
        self.history.append(entry)
        print(
            " | ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in entry.items()
                if k not in UNPRINTED
            ),
            flush=True,
        )
        if self.file:
            self.file.write(json_text(entry) + "\n")
            self.file.flush()
        for mirror in self.mirrors:
            mirror.log(entry)
