"""Progress bars for long work: done/total, rate, ETA, cache hits and failures.

Set ``CULTURALIGN_PROGRESS=0`` to silence them (tests do).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


class Tracker:
    def __init__(self, progress: Progress | None, task: int | None):
        self._progress = progress
        self._task = task
        self.done = 0
        self.cached = 0
        self.failed = 0

    def advance(self, n: int = 1, *, cached: int = 0, failed: int = 0) -> None:
        self.done += n
        self.cached += cached
        self.failed += failed
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=n, cached=self.cached, failed=self.failed)


def enabled() -> bool:
    return os.environ.get("CULTURALIGN_PROGRESS", "1") not in ("0", "false", "no")


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[override]
        # items per second over the whole task: model calls arrive in batches, so rich's
        # sliding-window speed swings wildly between them
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed or not task.completed:
            return "-/s"
        return f"{task.completed / elapsed:.2f}/s"


@contextmanager
def track(total: int, description: str) -> Iterator[Tracker]:
    """A progress bar over ``total`` items; yields a ``Tracker`` to advance."""
    if not enabled() or total == 0:
        yield Tracker(None, None)
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        TextColumn("cache hits {task.fields[cached]}  failed {task.fields[failed]}"),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, cached=0, failed=0)
        yield Tracker(progress, task)
