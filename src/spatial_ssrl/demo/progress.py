"""What the demo shows while it runs: which stage, how long it took, and about how long the whole run has left.

The time left is the sum of the remaining stages' estimates, scaled by how this machine has done so far against
the estimates (measured on a 2-core CPU). Inside a training stage one compact progress bar (steps, ETA, the
latest loss / reward / format) replaces transformers' default bar, which prints every log record.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

PRIOR_SECONDS = 60.0


def clock(seconds: float) -> str:
    """Seconds as M:SS."""
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class StageProgress:
    """Prints one line when a stage starts, is skipped, or ends."""

    def __init__(self, titles: list[str], estimates: list[float], stream: TextIO | None = None) -> None:
        self.titles = titles
        self.estimates = list(estimates)
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.measured: list[tuple[float, float]] = []  # (estimate, actual) of stages run now

    def _speed(self) -> float:
        """Actual / estimated time so far, pulled towards 1 by a 60 s prior so one short stage cannot swing it."""
        estimated = sum(e for e, _ in self.measured)
        return (sum(a for _, a in self.measured) + PRIOR_SECONDS) / (estimated + PRIOR_SECONDS)

    def left(self, from_stage: int) -> float:
        """Estimated seconds left: the remaining stages' estimates scaled by how this machine did so far."""
        return self._speed() * sum(self.estimates[from_stage:])

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self, k: int, detail: str = "") -> float:
        """Announce a stage and note its start time."""
        elapsed = time.perf_counter() - self.started
        head = f"[{k + 1}/{len(self.titles)}] {self.titles[k]}"
        self._say(
            f"\n==> {head}{': ' + detail if detail else ''}  "
            f"(elapsed {clock(elapsed)}, about {clock(self.left(k))} left)"
        )
        return time.perf_counter()

    def skip(self, k: int, seconds: float) -> None:
        """Note a stage finished by an earlier run."""
        self._say(f"==> [{k + 1}/{len(self.titles)}] {self.titles[k]}: done in an earlier run ({clock(seconds)})")

    def finish(self, k: int, t0: float, summary: str = "") -> float:
        """Record a finished stage's time and print its line."""
        seconds = time.perf_counter() - t0
        self.measured.append((self.estimates[k], seconds))
        self._say(f"    {self.titles[k]} done in {clock(seconds)}{'  ' + summary if summary else ''}")
        return seconds

    def set_estimate(self, k: int, seconds: float) -> None:
        """Refine a later stage's estimate once its size is known (training steps after the data exist)."""
        self.estimates[k] = seconds


# Metrics shown next to the training bar, in this order, when the log record has them.
SHOWN = {
    "loss": "loss",
    "eval_loss": "val loss",
    "reward": "reward",
    "rewards/format_reward/mean": "format",
    "rewards/accuracy_reward/mean": "accuracy",
}


def compact_training_bar(description: str):
    """A transformers `ProgressCallback` that shows the latest metrics on the bar instead of printing dicts."""
    from transformers.trainer_callback import ProgressCallback

    class CompactProgress(ProgressCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            super().on_train_begin(args, state, control, **kwargs)
            if self.training_bar is not None:
                self.training_bar.set_description(description)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or self.training_bar is None or not logs:
                return
            shown = {label: logs[key] for key, label in SHOWN.items() if isinstance(logs.get(key), (int, float))}
            if shown:
                self.training_bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()}, refresh=True)

    return CompactProgress()
