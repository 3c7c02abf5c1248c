"""Thread-count-independent CPU results: every float that reaches an output is computed on one intra-op thread.

torch splits a CPU matrix product or reduction over its intra-op threads (``OMP_NUM_THREADS``,
``torch.set_num_threads``), and the split changes the order of the float32 sums: a 1-thread and a 2-thread run
of the same probe differed in 13,393 of 33,180 VVP scores (up to 2.4e-5), enough to reorder 137 ranked rows. So
on CPU every probe batch (``ScFM.reconstruct`` / ``perturb`` / ``jacobian`` / ``attention``) and every translator
call runs with torch intra-op threads = 1 (``single_thread``), which makes the result independent of the
configured thread count: byte-identical to an ``OMP_NUM_THREADS=1`` run on the same CPU. The configured threads
are used instead to run independent batches side by side (``map_batches``: a pool of that many Python threads;
torch releases the GIL inside its operators), each batch's result written to its own position, so the order in
which batches finish does not matter. CUDA devices are left as they are (their kernels are not affected by the
CPU thread count).

The reduction order still depends on the CPU's instruction set (AVX-512 vs AVX2 kernels), so results are
reproducible per kind of CPU, not across kinds; tests compare across machines with tolerances.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, Sequence, TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")
_state = threading.local()


@contextlib.contextmanager
def single_thread() -> Iterator[int]:
    """Run the block with torch intra-op threads = 1 in this thread; restore the previous count afterwards.

    Yields: the thread count configured before the block (``torch.get_num_threads()``; the outer block's value when
    nested), for sizing a ``map_batches`` pool. Not for CUDA work (it would only slow the CPU side down).
    """
    outer = getattr(_state, "configured", None)
    if outer is not None:  # nested: an enclosing block in this thread already pinned the count
        yield outer
        return
    configured = torch.get_num_threads()
    if configured != 1:
        torch.set_num_threads(1)
    _state.configured = configured
    try:
        yield configured
    finally:
        _state.configured = None
        if configured != 1:
            torch.set_num_threads(configured)


def map_batches(fn: Callable[[T], R], items: Sequence[T], workers: int,
                done: Callable[[int], None] | None = None) -> list[R]:
    """``[fn(item) for item in items]``, computed by up to ``workers`` threads at once, each on one torch intra-op
    thread; results in the order of ``items`` whatever order they finish in.

    Args:
        fn: the batch computation (must not depend on thread-local torch state other than grad mode / autocast,
            which it has to set itself: worker threads start with grad enabled and no autocast).
        items: one entry per batch.
        workers: pool size (≤ 1: run in the calling thread).
        done: called in the calling thread with the index of each finished item, in order (progress).
    Returns: list of ``fn`` results, one per item.
    """
    if workers <= 1 or len(items) <= 1:
        out = []
        for k, item in enumerate(items):
            out.append(fn(item))
            if done:
                done(k)
        return out

    def task(item):
        torch.set_num_threads(1)  # this worker's OpenMP / MKL thread count (thread-local in both)
        return fn(item)

    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="ugrn-batch") as pool:
        futures = [pool.submit(task, item) for item in items]
        out = []
        try:
            for k, fut in enumerate(futures):
                out.append(fut.result())
                if done:
                    done(k)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return out
