"""Extraction in worker processes (pure: no database). The database work stays in the calling
process: it claims a batch, hands the pure, CPU-heavy part of each page to the pool, and stores the
results in its own transaction, so the kill-anywhere guarantees of the stage are unchanged.

One pool per process and worker count, started on first use (spawn: the workers import only what
extraction needs, never inherit a database connection) and reused by every later batch; a worker
whose parent died (a SIGKILL mid-batch) notices within a fraction of a second and exits, so it never
outlives the run nor holds the run's output pipes open.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

_POOLS: dict[int, ProcessPoolExecutor] = {}
CHUNKS_PER_WORKER = 4  # small chunks even out pages of very different sizes


PARENT_CHECK_S = 0.2


def _exit_with_parent(parent: int) -> None:
    """In a worker: end this process as soon as its parent is gone (its queues give no EOF then: the
    worker holds their write ends too)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _pool(workers: int) -> ProcessPoolExecutor:
    if workers not in _POOLS:
        _POOLS[workers] = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )  # fmt: skip
    return _POOLS[workers]


def shutdown() -> None:
    """Stop every pool of this process (also done at exit)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)


def map_chunked(
    func: Callable[[list[In]], list[Out]],
    items: Sequence[In],
    workers: int,
    *,
    tick: Callable[[int], None] | None = None,
) -> list[Out]:
    """`func` over `items` in chunks, in `workers` processes (1: in this process), results in order.
    `func` takes a chunk and returns one result per item; it must be importable (a module-level
    function) and must not raise (each item's failure is its result)."""
    if workers <= 1 or len(items) < 2:
        results = func(list(items))
        if tick:
            tick(len(items))
        return results
    size = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    results = []
    for chunk, done in zip(chunks, _pool(workers).map(func, chunks), strict=True):
        if len(done) != len(chunk):
            raise RuntimeError(f"an extraction worker returned {len(done)} results for {len(chunk)} pages")
        results.extend(done)
        if tick:
            tick(len(chunk))
    return results
