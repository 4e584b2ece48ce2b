"""Training progress as one culturalign bar, and every logged value in ``train.log``.

TRL's trainers print a raw dictionary per logging step and draw their own tqdm bar,
which in a log file or a narrow terminal is an unreadable stream. ``TrainingProgress``
takes their place: a bar over the optimizer steps (``culturalign.progress``, so it turns
into plain lines when the output is not a terminal) whose status shows the latest loss
and reward margin, and a JSON line per log entry in ``OUT/train.log`` so nothing TRL
reported is lost. Under ``-v`` TRL's own output comes back beside it (``trainers.py``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

# what the status shows, in order, when TRL logs it: (log key, label)
STATUS_KEYS = (
    ("loss", "loss"),
    ("rewards/margins", "margin"),
    ("rewards/accuracies", "acc"),
    ("mean_token_accuracy", "token acc"),
)
STATUS_WIDTH = 40  # room the bar keeps for the status text


def status_text(logs: dict[str, Any]) -> str:
    """``loss 0.6931  margin +0.0123`` from one log entry (only the keys it has)."""
    parts = []
    keys = STATUS_KEYS if "rewards/margins" not in logs else STATUS_KEYS[:3]  # SFT's token accuracy
    for key, label in keys:
        value = logs.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            parts.append(f"{label} {value:+.4f}" if key == "rewards/margins" else f"{label} {value:.4f}")
    return "  ".join(parts)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or inf
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


class TrainingProgress(TrainerCallback):
    """A progress bar over optimizer steps, and ``log_path`` as JSON lines.

    Only the main process shows and writes anything; the others train silently."""

    def __init__(self, log_path: Path | None, description: str = "training"):
        self.log_path = log_path
        self.description = description
        self._bar: Any = None
        self._file: Any = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        from culturalign import progress

        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.log_path.open("a", encoding="utf-8")  # a resumed run adds to it
        if not progress.verbose():  # under -v TRL draws its own bar
            self._bar = progress.start(
                int(state.max_steps or 0),
                self.description,
                counts=False,
                initial=int(state.global_step or 0),
                status_width=STATUS_WIDTH,
            )

    def on_step_end(self, args, state, control, **kwargs):
        # a step that logs is shown by on_log, right after, with its own loss
        if self._bar is not None and not control.should_log:
            self._bar.update(done=int(state.global_step))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if self._file is not None:
            entry = {"step": int(state.global_step), **{k: _plain(v) for k, v in logs.items()}}
            self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._file.flush()
        if self._bar is not None:
            status = status_text(logs)
            if status:
                self._bar.update(done=int(state.global_step), status=status)

    def on_train_end(self, args, state, control, **kwargs):
        self.close()

    def close(self) -> None:
        """Ends the bar and the log file (also after an interrupted run)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._file is not None:
            self._file.close()
            self._file = None
