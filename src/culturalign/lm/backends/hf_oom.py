"""Out-of-memory back-off for the transformers backend: halve the batch and go on.

A batch size that fits one prompt set can run out of memory on the next (longer prompts,
more options, a larger model than the default batch was meant for). Instead of failing
the whole chunk, the backend catches the out-of-memory error, frees the allocator's
cache, halves its batch size and retries only the requests that have no result yet, the
way accelerate's ``find_executable_batch_size`` halves a training batch. Results already
delivered are never computed twice, and the smaller batch size is kept for later calls,
so a long run settles on a size that fits after its first failure. At batch size 1 the
error is raised: there is nothing left to halve.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from typing import Any

from culturalign.lm.base import OnDone

log = logging.getLogger(__name__)

# What accelerate's ``should_reduce_batch_size`` misses, case-insensitively: the plain
# "out of memory" without its full stop, and the "not enough memory" of newer CPU builds.
_OOM_MESSAGES = (
    "out of memory",
    "can't allocate memory",
    "not enough memory",
    "cudnn_status_not_supported",
)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for an allocation failure on CUDA, MPS or the CPU (accelerate's test first,
    the one ``find_executable_batch_size`` uses, then the messages it does not know)."""
    import torch
    from accelerate.utils.memory import should_reduce_batch_size

    if isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, Exception) and should_reduce_batch_size(exc)
    ):
        return True
    if isinstance(exc, RuntimeError) and exc.args and isinstance(exc.args[0], str):
        text = exc.args[0].lower()
        return any(m in text for m in _OOM_MESSAGES)
    return False


def free_memory() -> None:
    """Drop what the failed batch left behind before trying a smaller one."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def run_with_backoff(
    backend: Any,
    requests: Sequence[Any],
    call: Callable[[Sequence[Any], OnDone], None],
    on_done: OnDone,
    what: str,
) -> None:
    """``call`` the requests in batches of ``backend.chunk_size``; halve it on OOM.

    ``call(batch, done)`` reports ``done(j, result)`` for the batch's j-th request; here
    those are mapped back to ``on_done(i, result)`` for the i-th of ``requests``.
    """
    delivered: set[int] = set()
    pending = list(range(len(requests)))
    while pending:
        size = max(1, backend.chunk_size)
        part = pending[:size]

        def done(j: int, result: Any, part: list[int] = part) -> None:
            i = part[j]
            if i not in delivered:
                delivered.add(i)
                on_done(i, result)

        try:
            call([requests[i] for i in part], done)
        except Exception as exc:
            if not is_out_of_memory(exc) or size <= 1:
                raise
            failed = True
        else:
            failed = False
        if failed:
            # freed only here, once the error's traceback no longer holds the batch's tensors
            free_memory()
            backend.chunk_size = size // 2
            log.warning("%s ran out of memory at batch %d; retrying at batch %d", what, size, size // 2)
            pending = [i for i in pending if i not in delivered]
        else:
            pending = pending[len(part) :]
