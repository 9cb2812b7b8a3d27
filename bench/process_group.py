"""DeepSpeed needs a process group: a benchmark in one process forms one of its own, at a free local port."""

from __future__ import annotations

import os
import socket


def join_single_process_group() -> None:
    from w2s.training.distributed import init_distributed

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ.update(
        RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    init_distributed()
