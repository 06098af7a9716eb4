"""One process pool per scoring pass, shared by text cleaning and the local engine.

The pool is started once per pass, not per chunk or per batch: a spawned worker imports the
project again (about a second per worker), which pools made per 100k-row chunk paid ten times
over at a million messages. Its workers start on the first task, so a pass that never needs
them (a daily run's few thousand texts) costs nothing.

spawn, not fork: the Dagster process runs threads, and forking a threaded process can
deadlock its children.
"""

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor | None]:
    """A spawn process pool of ``workers`` processes, or None when there is one core to use."""
    if workers <= 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            yield pool
        except BaseException:
            # Work queued ahead (the next chunk's cleaning) is dropped, so a failure is
            # reported at once instead of after the queue drains.
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def submit_in_chunks(
    pool: Executor | None,
    function: Callable[[Sequence[Item]], list[Result]],
    items: Sequence[Item],
    chunk_size: int,
    min_items: int,
) -> Callable[[], list[Result]]:
    """Start ``function(items)``, split into chunks across ``pool``, and return a function
    that waits for the results (in the order of ``items``). The work is queued at once, so the
    caller can do its own work meanwhile.

    Below ``min_items`` items (where shipping them to other processes costs more than it
    saves), or without a pool, the work runs in this process when the results are asked for.
    """
    if pool is None or len(items) < min_items:
        return lambda: list(function(items))
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    parts = pool.map(function, chunks)  # submits every chunk now

    def results() -> list[Result]:
        collected: list[Result] = []
        for part in parts:
            collected.extend(part)
        return collected

    return results


def map_in_chunks(
    pool: Executor | None,
    function: Callable[[Sequence[Item]], list[Result]],
    items: Sequence[Item],
    chunk_size: int,
    min_items: int,
) -> list[Result]:
    """``function(items)`` across ``pool`` in chunks (see :func:`submit_in_chunks`)."""
    return submit_in_chunks(pool, function, items, chunk_size, min_items)()
