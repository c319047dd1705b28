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
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

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
    _AHEAD.clear()
    _AHEAD_ROUNDS.clear()
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)


def _chunks(items: Sequence[In], workers: int) -> list[list[In]]:
    size = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


# ---------------------------------------------------------------- work started ahead of its batch

# (func, item key) -> (the future of the chunk the item went in, its place in that chunk)
_AHEAD: dict[tuple[Callable[..., Any], Hashable], tuple[Future[Any], int]] = {}
_AHEAD_ROUNDS: list[list[tuple[Callable[..., Any], Hashable]]] = []
AHEAD_ROUNDS = 2  # rounds of work kept waiting for their batch; older ones are dropped


def start_ahead(
    func: Callable[[list[In]], list[Out]], items: Sequence[In], workers: int, key: Callable[[In], Hashable]
) -> None:
    """Start `func` over `items` in the pool now, for a later `map_chunked(func, ..., key=key)` that
    asks for the same items (matched by `key`): the caller does other work meanwhile (a backfill
    stores its next pages while the pool extracts these). Pure work only, so a result taken this way
    is the one the later call would compute; an item never asked for is dropped after AHEAD_ROUNDS
    rounds. Does nothing with one worker."""
    if workers <= 1 or not items:
        return
    pool = _pool(workers)
    keys = []
    for chunk in _chunks(items, workers):
        future = pool.submit(func, chunk)
        for place, item in enumerate(chunk):
            keys.append((func, key(item)))
            _AHEAD[keys[-1]] = (future, place)
    _AHEAD_ROUNDS.append(keys)
    while len(_AHEAD_ROUNDS) > AHEAD_ROUNDS:
        for old in _AHEAD_ROUNDS.pop(0):
            found = _AHEAD.pop(old, None)
            if found is not None:
                found[0].cancel()  # not started yet: never started


def _taken_ahead(
    func: Callable[..., Any], item: Any, key: Callable[[Any], Hashable] | None
) -> tuple[Future[Any], int] | None:
    if key is None or not _AHEAD:
        return None
    found = _AHEAD.pop((func, key(item)), None)
    return None if found is None or found[0].cancelled() else found


def map_chunked(
    func: Callable[[list[In]], list[Out]],
    items: Sequence[In],
    workers: int,
    *,
    tick: Callable[[int], None] | None = None,
    key: Callable[[In], Hashable] | None = None,
) -> list[Out]:
    """`func` over `items` in chunks, in `workers` processes (1: in this process), results in order.
    `func` takes a chunk and returns one result per item; it must be importable (a module-level
    function) and must not raise (each item's failure is its result). With `key`, items whose work
    `start_ahead` started are taken from there."""
    ahead = [_taken_ahead(func, item, key) for item in items]
    rest = [item for item, taken in zip(items, ahead, strict=True) if taken is None]
    computed = iter(_map_now(func, rest, workers, tick))
    results = []
    for taken in ahead:
        if taken is None:
            results.append(next(computed))
            continue
        future, place = taken
        results.append(future.result()[place])
        if tick:
            tick(1)
    return results


def _map_now(
    func: Callable[[list[In]], list[Out]], items: Sequence[In], workers: int, tick: Callable[[int], None] | None
) -> list[Out]:
    if not items:
        return []
    if workers <= 1 or len(items) < 2:
        results = func(list(items))
        if tick:
            tick(len(items))
        return results
    chunks = _chunks(items, workers)
    results = []
    for chunk, done in zip(chunks, _pool(workers).map(func, chunks), strict=True):
        if len(done) != len(chunk):
            raise RuntimeError(f"an extraction worker returned {len(done)} results for {len(chunk)} pages")
        results.extend(done)
        if tick:
            tick(len(chunk))
    return results
