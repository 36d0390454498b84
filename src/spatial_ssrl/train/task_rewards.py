"""Reward functions for GRPOTrainer that also log their mean per task.

TRL logs each reward function's batch mean as `rewards/<name>/mean` and the weighted total as `reward`. To see
them per task, `per_task_rewards(funcs, weights)` wraps each function: it returns the same scores (so the
objective is unchanged) and reports every completion's score through the `log_metric` callback TRL passes to
reward functions; TRL averages those values over the logging window and across processes, like its own metrics.
Logged keys (with an `eval_` prefix during validation):

    rewards/<name>/<task>   e.g. rewards/accuracy_reward/crop, rewards/format_reward/crop
    reward/<task>           the weighted total, sum_i weight_i x score_i

(An alternative is one extra zero-weight reward function per task returning None for other tasks' rows, which
TRL drops with nanmean; that multiplies reward calls and columns, so this module uses `log_metric` instead.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

RewardFunc = Callable[..., list]
"""`func(completions, **columns) -> one score (or None) per completion`: a TRL reward function."""


class PerTaskRewards:
    """Wraps reward functions; `functions` are passed to GRPOTrainer in the same order as `weights`."""

    def __init__(self, funcs: Sequence[RewardFunc], weights: Sequence[float] | None = None) -> None:
        self.funcs = list(funcs)
        self.weights = list(weights) if weights is not None else [1.0] * len(self.funcs)
        if len(self.weights) != len(self.funcs):
            raise ValueError(f"{len(self.weights)} weights for {len(self.funcs)} reward functions")
        self._scores: dict[int, list] = {}
        self.functions = [self._wrap(i, f) for i, f in enumerate(self.funcs)]

    def _wrap(self, index: int, func: RewardFunc) -> RewardFunc:
        name = getattr(func, "__name__", f"reward_{index}")

        @functools.wraps(func)
        def wrapped(completions, task=None, log_metric=None, **kwargs: Any):
            scores = func(completions, task=task, **kwargs)
            if log_metric is not None and task is not None:
                self._log(index, name, task, scores, log_metric)
            return scores

        wrapped.__name__ = name
        return wrapped

    def _log(self, index: int, name: str, tasks, scores, log_metric) -> None:
        if index == 0:
            self._scores = {}  # TRL calls the functions in order: the first one starts a new batch
        for task, score in zip(tasks, scores):
            if score is not None:
                log_metric(f"rewards/{name}/{task}", float(score))
        self._scores[index] = list(scores)
        if len(self._scores) < len(self.funcs):
            return
        for k, task in enumerate(tasks):
            parts = [(self.weights[i], s[k]) for i, s in self._scores.items() if s[k] is not None]
            if parts:
                log_metric(f"reward/{task}", sum(w * s for w, s in parts))
        self._scores = {}


def per_task_rewards(funcs: Sequence[RewardFunc], weights: Sequence[float] | None = None) -> list[RewardFunc]:
    """`funcs` wrapped to log per task (see the module docstring)."""
    return PerTaskRewards(funcs, weights).functions
