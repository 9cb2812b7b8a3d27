"""The weak_val early stop kept as a model while a run trains (early_stopping weak_val)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from w2s.errors import W2SError
from w2s.io import atomic_path, write_json, write_parquet
from w2s.training.distributed import checkpoint_state


class KeptEarlyStop:
    """The weak_val early stop kept as a model: at each evaluation that agrees better with the run's supervision on
    the validation split than every one before (the first of equals, as `early_stops` picks), the model
    (`checkpoint/`) and its test predictions are written to `<folder>.partial` with the run's fingerprint. That
    folder survives a kill, is taken up by a resumed run of the same fingerprint only, and becomes `folder` when the
    run ends. Under ZeRO-3 every process takes part in gathering the weights; rank 0 writes."""

    def __init__(self, folder, fingerprint: str, run, rank: int, zero_stage: int):
        self.folder, self.partial = Path(folder), Path(f"{folder}.partial")
        self.fingerprint, self.run, self.rank, self.zero_stage = fingerprint, run, rank, zero_stage
        record = self.partial / "agreement.json"
        saved = json.loads(record.read_text()) if record.exists() else {}
        # read once, before training, by every process: their decisions to gather weights must agree
        self.best = saved.get("val_agreement") if saved.get("fingerprint") == fingerprint else None

    def offer(self, result: dict, test_table) -> None:
        if self.best is not None and result["val_agreement"] <= self.best:
            return
        self.best = result["val_agreement"]
        state = checkpoint_state(self.run.module, self.zero_stage, self.rank)
        if self.rank == 0:
            with atomic_path(self.partial) as tmp:
                tmp.mkdir()
                self.run.save(tmp / "checkpoint", state)
                write_parquet(test_table(), tmp / "test_predictions.parquet")
                write_json(
                    {
                        "fingerprint": self.fingerprint,
                        "val_agreement": result["val_agreement"],
                        "test_accuracy": result["test_accuracy"],
                    },
                    tmp / "agreement.json",
                )

    def finish(self, chosen: dict) -> None:
        saved = json.loads((self.partial / "agreement.json").read_text())
        if (saved["val_agreement"], saved["test_accuracy"]) != (
            chosen["val_agreement"],
            chosen["accuracy"],
        ):
            raise W2SError(
                f"{self.partial} holds the model of another evaluation than the weak_val early stop the "
                f"trajectory gives (step {chosen['step']}); delete it and rerun"
            )
        with atomic_path(self.folder) as tmp:
            os.replace(self.partial, tmp)
