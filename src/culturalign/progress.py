"""Progress and verbosity for long work: done/total, rate, ETA, cache hits, failures.

On a terminal wide enough for every number, a rich bar. When the output is not a
terminal (a log file, CI) or the terminal is too narrow for the bar, a plain line every
tenth of the work (and at least once a minute while it moves) with the same numbers,
so a log never holds a bar cut to ``━━━ 40/… 100% ETA 0:…``. ``CULTURALIGN_PROGRESS=0``
silences both (tests do); ``CULTURALIGN_PROGRESS_EVERY=N`` prints a line every N items.

Verbosity is one setting for the whole process: ``set_verbosity`` (the CLI's ``-q`` and
``-v``) sets the level of the ``culturalign`` loggers, whose records are printed on
stderr through the same console as the bars, so a log line never tears a bar apart.
Quiet also hides the bars; verbose shows the libraries' own output (TRL's raw log
dictionaries and bars, datasets' "Map" bars) that is otherwise kept out of sight.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn
from rich.text import Text

console = Console(stderr=True)

QUIET, NORMAL, VERBOSE = -1, 0, 1
_verbosity = NORMAL
_LEVELS = {QUIET: logging.WARNING, NORMAL: logging.INFO, VERBOSE: logging.DEBUG}
MIN_BAR = 10  # the narrowest bar worth drawing; narrower terminals get lines
MIN_LABEL = 12  # a bar's description is shortened to no less than this
LINE_INTERVAL_S = 60.0


def enabled() -> bool:
    if _verbosity == QUIET:
        return False
    return os.environ.get("CULTURALIGN_PROGRESS", "1") not in ("0", "false", "no")


def verbosity() -> int:
    return _verbosity


def verbose() -> bool:
    """True under ``-v``: the libraries' own progress output and logs are shown too."""
    return _verbosity >= VERBOSE


class ConsoleHandler(logging.Handler):
    """Log records as plain lines on the progress console (stderr): warnings say so."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = Text(self.format(record))
            if record.levelno >= logging.ERROR:
                text = Text.assemble(("error: ", "bold red"), text)
            elif record.levelno >= logging.WARNING:
                text = Text.assemble(("warning: ", "yellow"), text)
            elif record.levelno <= logging.DEBUG:
                text.stylize("dim")
            console.print(text, soft_wrap=True, highlight=False)
        except Exception:  # a logging failure must never end the run
            self.handleError(record)


def set_verbosity(level: int) -> None:
    """QUIET (warnings and errors only, no bars), NORMAL or VERBOSE (debug lines too)."""
    global _verbosity
    _verbosity = level
    logger = logging.getLogger("culturalign")
    logger.setLevel(_LEVELS[level])
    if not any(isinstance(h, ConsoleHandler) for h in logger.handlers):
        logger.addHandler(ConsoleHandler())


def route_library_logs(name: str, default_handler: logging.Handler | None = None) -> None:
    """Send library ``name``'s log records through the progress console (``[name] ...``),
    in place of ``default_handler``, so a warning printed mid-run does not tear a bar."""
    logger = logging.getLogger(name)
    if any(isinstance(h, ConsoleHandler) for h in logger.handlers):
        return
    if default_handler is not None:
        logger.removeHandler(default_handler)
    handler = ConsoleHandler()
    handler.setFormatter(logging.Formatter(f"[{name}] %(message)s"))
    logger.addHandler(handler)


def _clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-:--:--"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Tracker:
    """Counts of one piece of work, shown as a bar or as lines (or not at all)."""

    def __init__(
        self, total: int, description: str, *, counts: bool = True, initial: int = 0, status_width: int = 0
    ):
        self.total = total
        self.description = description
        self.counts = counts  # show cache hits and failures (model calls)
        self.done = initial
        self.cached = 0
        self.failed = 0
        self.status = ""  # free text after the numbers, e.g. "loss 0.69 margin 0.01"
        self.status_width = status_width  # room the bar keeps for it
        self.label = description  # the description as the bar shows it
        self._start_done = initial
        self._started = time.monotonic()
        self._progress: Progress | None = None
        self._task: int | None = None
        self._lines = False
        self._every = 1
        self._next_line = 0
        self._last_line_at = self._started

    # -- shown as ---------------------------------------------------------------------
    def _start(self) -> None:
        if not enabled() or self.total <= 0:
            return
        if console.is_terminal and self._fits(console.width):
            self._progress = self._bar()
            self._progress.start()
            self._task = self._progress.add_task(
                self.label,
                total=self.total,
                completed=self.done,
                rate=_rate(None),
                eta=_clock(None),
                counts=self._counts(),
                status="",
            )
            return
        self._lines = True
        every = os.environ.get("CULTURALIGN_PROGRESS_EVERY", "")
        self._every = int(every) if every.isdigit() and int(every) > 0 else max(1, math.ceil(self.total / 10))
        self._next_line = (self.done // self._every + 1) * self._every

    def _label_room(self, width: int) -> int:
        """Cells left for the description once every number and a MIN_BAR bar fit."""
        digits = len(str(self.total))
        numbers = (2 * digits + 1) + len("100%") + len("123.45/s") + len("ETA 0:00:00") + 7  # + gaps
        if self.counts:
            numbers += len("cached   failed ") + 2 * digits
        return width - numbers - self.status_width - MIN_BAR

    def _fits(self, width: int) -> bool:
        """Whether the bar fits with its numbers whole: the description may lose its middle
        (``generate [hf:/very/…/model]``), a number never does."""
        room = self._label_room(width)
        if room < min(len(self.description), MIN_LABEL):
            return False
        self.label = _shorten(self.description, room)
        return True

    def _bar(self) -> Progress:
        columns = [
            TextColumn("{task.description}", style="bold", markup=False),  # specs hold [brackets]
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
        ]
        if self.counts:
            columns.append(TextColumn("{task.fields[counts]}"))
        columns.append(TextColumn("{task.fields[status]}"))
        return Progress(*columns, console=console, transient=False, expand=True)

    def _counts(self) -> str:
        return f"cached {self.cached}  failed {self.failed}" if self.counts else ""

    def rate(self) -> float | None:
        elapsed = time.monotonic() - self._started
        moved = self.done - self._start_done
        # items per second over the whole task: model calls arrive in batches, so a
        # sliding-window speed swings wildly between them
        return moved / elapsed if moved > 0 and elapsed > 0 else None

    def line(self) -> str:
        """``desc: 40/100 (40%)  2.31/s  ETA 0:00:26  cached 3  failed 0``."""
        rate = self.rate()
        eta = (self.total - self.done) / rate if rate else None
        pct = 100 * self.done / self.total if self.total else 100.0
        parts = [
            f"{self.description}: {self.done}/{self.total} ({pct:.0f}%)",
            _rate(rate),
            f"ETA {_clock(eta)}",
        ]
        if self.counts:
            parts.append(self._counts())
        if self.status:
            parts.append(self.status)
        return "  ".join(parts)

    def _refresh(self) -> None:
        if self._progress is not None and self._task is not None:
            rate = self.rate()
            eta = (self.total - self.done) / rate if rate else None
            self._progress.update(
                self._task,
                completed=self.done,
                rate=_rate(rate),
                eta=_clock(eta),
                counts=self._counts(),
                status=self.status,
            )
        elif self._lines:
            now = time.monotonic()
            due = self.done >= self._next_line or (now - self._last_line_at >= LINE_INTERVAL_S)
            if due and self.done < self.total:
                self._say(now)

    def _say(self, now: float) -> None:
        # a log file keeps each line whole; a narrow terminal wraps it at word breaks
        console.print(Text(self.line()), soft_wrap=not console.is_terminal, highlight=False)
        self._last_line_at = now
        self._next_line = (self.done // self._every + 1) * self._every

    # -- the API ----------------------------------------------------------------------
    def advance(self, n: int = 1, *, cached: int = 0, failed: int = 0) -> None:
        self.done += n
        self.cached += cached
        self.failed += failed
        self._refresh()

    def update(self, *, done: int | None = None, status: str | None = None) -> None:
        """Set the count outright (training steps) and/or the status text."""
        if done is not None:
            self.done = done
        if status is not None:
            self.status = status
        self._refresh()

    def close(self) -> None:
        if self._progress is not None:
            self._refresh()
            self._progress.stop()
            self._progress = None
        elif self._lines:
            self._say(time.monotonic())  # the last line always says where the work ended
            self._lines = False


def _shorten(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    head = (room - 1) // 2
    return text[:head] + "…" + text[len(text) - (room - 1 - head) :]


def _rate(rate: float | None) -> str:
    """Items per second in at most 8 cells: ``2.31/s``, ``48.2/s``, ``1250/s``."""
    if rate is None:
        return "-/s"
    return f"{rate:.2f}/s" if rate < 10 else f"{rate:.1f}/s" if rate < 100 else f"{rate:.0f}/s"


def start(
    total: int, description: str, *, counts: bool = True, initial: int = 0, status_width: int = 0
) -> Tracker:
    """A shown ``Tracker``; call ``close()`` when the work ends (``track`` does)."""
    tracker = Tracker(total, description, counts=counts, initial=initial, status_width=status_width)
    tracker._start()
    return tracker


@contextmanager
def track(total: int, description: str, *, counts: bool = True) -> Iterator[Tracker]:
    """Progress over ``total`` items; yields a ``Tracker`` to advance."""
    tracker = start(total, description, counts=counts)
    try:
        yield tracker
    finally:
        tracker.close()
