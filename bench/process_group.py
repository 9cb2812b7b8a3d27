"""DeepSpeed needs a process group: a benchmark in one process forms one of its own, at a free local port."""

from __future__ import annotations

import os
import socket


def free_port_environment() -> None:
    """The environment a launcher gives the only process of a group, at a free local port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ.update(
        RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )


def join_single_process_group() -> None:
    from w2s.training.distributed import init_distributed

    free_port_environment()
    init_distributed()
