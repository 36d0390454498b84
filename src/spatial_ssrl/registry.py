"""Task registry: a pretext task is a pure function registered by name.

    @register_task("flip", params=FlipParams, variants={"vertical": 1, "horizontal": 1},
                   answer_type="label_direction")
    def make_flip(source, rng, params, variant) -> Sample | Rejection: ...

The built-in tasks use exactly this decorator; a user's task registers the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatial_ssrl.rng import derive_rng
from spatial_ssrl.sample import Rejection, Sample, Source

TaskFn = Callable[[Source, np.random.Generator, Any, str], "Sample | Rejection"]

ANSWER_TYPES = ("permutation", "label_direction", "choice")


@dataclass(frozen=True)
class TaskSpec:
    name: str
    fn: TaskFn
    params_cls: type
    variants: Mapping[str, float]
    answer_type: str
    needs_depth: bool
    description: str

    def default_params(self, **overrides: Any) -> Any:
        return self.params_cls(**overrides)

    def pick_variant(self, rng: np.random.Generator, weights: Mapping[str, float] | None = None) -> str:
        weights = dict(weights or self.variants)
        unknown = set(weights) - set(self.variants)
        if unknown:
            raise ValueError(f"task {self.name!r} has no variant(s) {sorted(unknown)}; known: {sorted(self.variants)}")
        names = [v for v in self.variants if weights.get(v, 0) > 0]
        if not names:
            raise ValueError(f"task {self.name!r}: every variant weight is zero")
        p = np.array([weights[v] for v in names], dtype=float)
        return names[int(rng.choice(len(names), p=p / p.sum()))]


_REGISTRY: dict[str, TaskSpec] = {}


def register_task(
    name: str,
    *,
    params: type,
    variants: Mapping[str, float],
    answer_type: str,
    needs_depth: bool = False,
    description: str = "",
) -> Callable[[TaskFn], TaskFn]:
    """Decorator registering `fn(source, rng, params, variant) -> Sample | Rejection` under `name`."""
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"answer_type must be one of {ANSWER_TYPES}, got {answer_type!r}")
    if not dataclasses.is_dataclass(params):
        raise TypeError("params must be a dataclass type (its fields are the task's documented thresholds)")
    if not variants:
        raise ValueError("a task needs at least one variant")

    def decorate(fn: TaskFn) -> TaskFn:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"a task named {name!r} is already registered")
        _REGISTRY[name] = TaskSpec(
            name=name,
            fn=fn,
            params_cls=params,
            variants=dict(variants),
            answer_type=answer_type,
            needs_depth=needs_depth,
            description=description or (fn.__doc__ or "").strip().split("\n")[0],
        )
        return fn

    return decorate


def unregister_task(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_task(name: str) -> TaskSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; registered: {sorted(_REGISTRY)}") from None


def list_tasks() -> list[str]:
    return list(_REGISTRY)


def run_task(
    name: str,
    source: Source,
    *,
    seed: int = 0,
    index: int = 0,
    params: Any = None,
    variant: str | None = None,
    variant_weights: Mapping[str, float] | None = None,
) -> Sample | Rejection:
    """Make sample `index` of task `name` from `source`, deterministically from (seed, source.id, name, index)."""
    spec = get_task(name)
    rng = derive_rng(seed, source.id, name, index)
    if variant is None:
        variant = spec.pick_variant(rng, variant_weights)
    elif variant not in spec.variants:
        raise ValueError(f"task {name!r} has no variant {variant!r}; known: {sorted(spec.variants)}")
    if spec.needs_depth and not source.has_depth:
        return Rejection(name, "source.no_depth", f"{source.id} has no depth map")
    result = spec.fn(source, rng, params if params is not None else spec.params_cls(), variant)
    if isinstance(result, Sample):
        result.index = index
    return result
