"""Progress that reads the same in a log file, a narrow terminal and a wide one, and
log lines that ``-q`` hides and ``-v`` adds to, printed through the same console."""

from __future__ import annotations

import io
import logging
import re

import pytest
from rich.console import Console

from culturalign import progress


@pytest.fixture()
def shown(monkeypatch):
    """Progress switched on (the suite turns it off) and printed to a console of our own."""
    monkeypatch.setenv("CULTURALIGN_PROGRESS", "1")
    monkeypatch.delenv("CULTURALIGN_PROGRESS_EVERY", raising=False)

    def make(*, terminal: bool, width: int) -> io.StringIO:
        buf = io.StringIO()
        monkeypatch.setattr(progress, "console", Console(file=buf, force_terminal=terminal, width=width))
        return buf

    yield make
    progress.set_verbosity(progress.NORMAL)


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def _work(total: int, description: str = "generate [hf:tiny]") -> None:
    with progress.track(total, description) as bar:
        for i in range(total):
            bar.advance(1, cached=i % 2, failed=int(i == 3))


def test_not_a_terminal_gets_a_line_every_tenth(shown):
    buf = shown(terminal=False, width=80)
    _work(100)
    lines = buf.getvalue().splitlines()
    assert [line.split(": ", 1)[1].split("  ")[0] for line in lines] == [
        f"{k}/100 ({k}%)" for k in range(10, 101, 10)
    ]
    for line in lines:  # count, rate, ETA and the call counts, whole
        assert re.search(r"\d+(\.\d+)?/s  ETA \d:\d\d:\d\d  cached \d+  failed [01]$", line), line
    assert lines[-1].endswith("cached 50  failed 1")
    assert "━" not in buf.getvalue() and "…" not in buf.getvalue()


def test_a_line_every_n_items_when_asked(shown, monkeypatch):
    monkeypatch.setenv("CULTURALIGN_PROGRESS_EVERY", "25")
    buf = shown(terminal=False, width=80)
    _work(60)
    counts = [line.split(": ", 1)[1].split(" ")[0] for line in buf.getvalue().splitlines()]
    assert counts == ["25/60", "50/60", "60/60"]  # the end is always said


def test_narrow_terminal_gets_whole_wrapped_lines_not_a_cut_bar(shown):
    buf = shown(terminal=True, width=40)
    _work(40)
    text = _plain(buf.getvalue())
    assert "━" not in text and "…" not in text
    assert all(len(line) <= 40 for line in text.splitlines())
    flat = " ".join(text.split())  # rich wrapped the lines at word breaks
    assert "generate [hf:tiny]: 40/40 (100%)" in flat and "cached 20 failed 1" in flat
    assert flat.count("ETA") == 10


def test_wide_terminal_draws_one_bar_with_every_number(shown):
    buf = shown(terminal=True, width=100)
    _work(30)
    final = _plain(buf.getvalue()).replace("\r", "\n").strip().splitlines()[-1]
    assert "━" in final and "…" not in final
    assert re.search(
        r"generate \[hf:tiny\] ━+ 30/30 100% \d+(\.\d+)?/s ETA 0:00:00 cached 15  failed 1", final
    )


def test_a_long_description_loses_its_middle_never_a_number(shown):
    buf = shown(terminal=True, width=100)
    _work(1000, "generate [hf:/a/very/long/path/to/some/checkpoint-folder]")
    final = _plain(buf.getvalue()).replace("\r", "\n").strip().splitlines()[-1]
    assert len(final) <= 100
    assert "1000/1000 100%" in final and "ETA 0:00:00 cached 500  failed 1" in final
    assert final.startswith("generat") and "…" in final.split(" ━")[0]


def test_quiet_hides_bars_and_info_lines_verbose_adds_debug(shown):
    buf = shown(terminal=False, width=200)
    log = logging.getLogger("culturalign.some.module")
    for level in (progress.QUIET, progress.NORMAL, progress.VERBOSE):
        progress.set_verbosity(level)
        buf.write(f"-- {level}\n")
        log.debug("the cache holds 3 of 5")
        log.info("stage 2 of 4: unchanged, skipped")
        log.warning("the judge is the embedded model")
        _work(10)
    quiet, normal, verbose = (part.splitlines()[1:] for part in buf.getvalue().split("-- ")[1:])
    assert quiet == ["warning: the judge is the embedded model"]
    assert normal[:2] == ["stage 2 of 4: unchanged, skipped", "warning: the judge is the embedded model"]
    assert len(normal) == 2 + 10 and normal[-1].startswith("generate [hf:tiny]: 10/10 (100%)")
    assert verbose[:3] == [
        "the cache holds 3 of 5",
        "stage 2 of 4: unchanged, skipped",
        "warning: the judge is the embedded model",
    ]
    assert len(logging.getLogger("culturalign").handlers) == 1  # set once, not once per call
