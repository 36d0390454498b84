"""Task registry: a pretext task is a pure function registered by name with everything about it.

    register_task("flip", make_flip, params=FlipParams, variants={"vertical": 1, "horizontal": 1},
                  answer_type="label_direction", mix_weight=4005, coldstart=explain_flip)

`register_task` also works as a decorator (`@register_task("flip", params=..., ...)`). The built-in
tasks (importing `spatial_ssrl.tasks` registers them) use exactly this call; a user's task registers the
same way, and `--import MODULE_OR_FILE` loads it on every command that reads tasks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatial_ssrl.contract import check_answer_type, record_task_answer_type
from spatial_ssrl.engine.rng import derive_rng
from spatial_ssrl.engine.sample import FrameSequence, Rejection, Sample, Source

TaskFn = Callable[..., "Sample | Rejection"]
"""`fn(source, rng, params, variant) -> Sample | Rejection`: one attempt at a verifiable sample. A task
registered with a `draw` is called as `fn(source, rng, params, variant, plan)`."""

QuestionDraw = Callable[[np.random.Generator, Any, str], dict]
"""`draw(rng, params, variant) -> plan`: everything that decides a sample's answer (which piece, which
direction, facing, option set, letter), drawn before any geometry. The engine keeps the plan fixed
while it retries only the geometry (`run_task(..., attempt=k)`), so sources that reject often do not
skew the answers towards the ones that are easy to realise."""

ChanceLevel = Callable[[dict], float]
"""`chance(row) -> probability` that a guess drawn uniformly from the task's answer space is right, for a
dataset row (`answer`, `options`, `variant`): what accuracy a model that knows the answer format but not
the picture reaches. Default by answer type (`default_chance`)."""

ColdstartTemplate = Callable[[dict, dict], str]
"""`template(row, meta) -> text`: the reasoning of a cold-start response, from how the sample was made.
`row` is the dataset row (`answer`, `options`, ...), `meta` its decoded `meta`; raises ValueError when
the meta does not lead to the row's answer."""


class TaskDefinitionError(ValueError):
    """A task whose registration or output breaks the engine's contract (a bug in the task, not in the data)."""


@dataclass(frozen=True)
class TaskSpec:
    """Everything the engine knows about a registered task.

    Attributes:
        name: the registered name (the `task` column of the dataset).
        fn: the generator, `fn(source, rng, params, variant) -> Sample | Rejection`.
        params_cls: dataclass of the task's documented thresholds; `params_cls()` holds the defaults.
        variants: variant name -> default weight of that variant in the mix.
        answer_type: one of `contract.ANSWER_TYPES`; every sample the task makes has this type.
        needs_depth: True when the task only works on RGB-D sources.
        needs_video: True when the task reads a `FrameSequence` (a video or image sequence), not a `Source`.
        description: one line for `ssrl tasks`.
        mix_weight: the task's weight in the default task mix of a build with a total count (the built-in
            tasks use their counts in the released Spatial-SSRL-81k); None = the mean of the others.
        coldstart: the template writing cold-start reasoning for a sample, or None (cold start skips it).
        draw: the question draw (`QuestionDraw`), or None: every attempt then draws everything afresh.
        chance: the chance level of a row (`ChanceLevel`), or None: `default_chance` of the answer type.
    """

    name: str
    fn: TaskFn
    params_cls: type
    variants: Mapping[str, float]
    answer_type: str
    needs_depth: bool
    description: str
    mix_weight: float | None = None
    needs_video: bool = False
    coldstart: ColdstartTemplate | None = None
    draw: QuestionDraw | None = None
    chance: ChanceLevel | None = None

    def chance_of(self, row: dict) -> float | None:
        """The chance level of `row` (the task's own rule, else `default_chance`)."""
        return self.chance(row) if self.chance else default_chance(row, self.answer_type)

    def pick_variant(self, rng: np.random.Generator, weights: Mapping[str, float] | None = None) -> str:
        """Draw a variant with probability proportional to `weights` (default: the registered weights)."""
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
    fn: TaskFn | None = None,
    *,
    params: type,
    variants: Mapping[str, float],
    answer_type: str,
    needs_depth: bool = False,
    needs_video: bool = False,
    description: str = "",
    mix_weight: float | None = None,
    coldstart: ColdstartTemplate | None = None,
    draw: QuestionDraw | None = None,
    chance: ChanceLevel | None = None,
) -> Any:
    """Register `fn` as task `name` and return it; without `fn`, return a decorator that does so.

    Args:
        name: the task's name.
        fn: the generator (see `TaskSpec.fn`).
        params: dataclass of thresholds (its defaults are the task's defaults).
        variants: variant -> weight in the default mix (at least one).
        answer_type: one of `contract.ANSWER_TYPES`.
        needs_depth: the task needs an RGB-D source (with `needs_video`: depth maps for its frames).
        needs_video: the task reads videos (`FrameSequence`), never single photos.
        description: one line (default: the first line of `fn`'s docstring).
        mix_weight: weight in the default task mix (see `TaskSpec.mix_weight`).
        coldstart: cold-start reasoning template (see `ColdstartTemplate`).
        draw: the question draw (see `QuestionDraw`); with it, `fn` receives the plan as a fifth argument.
        chance: the chance level of a row (see `ChanceLevel`); default by answer type.

    Raises:
        TaskDefinitionError: an unknown answer type, params not a dataclass, no variants, a negative
            weight, or a different function already registered under `name`.
    """
    try:
        check_answer_type(answer_type)
    except ValueError as err:
        raise TaskDefinitionError(str(err)) from None
    if not dataclasses.is_dataclass(params):
        raise TaskDefinitionError("params must be a dataclass type (its fields are the task's documented thresholds)")
    if not variants:
        raise TaskDefinitionError("a task needs at least one variant")
    if any(w < 0 for w in variants.values()) or (mix_weight is not None and mix_weight < 0):
        raise TaskDefinitionError(f"task {name!r}: weights must be non-negative")

    def decorate(fn: TaskFn) -> TaskFn:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise TaskDefinitionError(f"a task named {name!r} is already registered")
        _REGISTRY[name] = TaskSpec(
            name=name,
            fn=fn,
            params_cls=params,
            variants=dict(variants),
            answer_type=answer_type,
            needs_depth=needs_depth,
            needs_video=needs_video,
            description=description or (fn.__doc__ or "").strip().split("\n")[0],
            mix_weight=mix_weight,
            coldstart=coldstart,
            draw=draw,
            chance=chance,
        )
        record_task_answer_type(name, answer_type)
        return fn

    return decorate if fn is None else decorate(fn)


def default_chance(row: dict, answer_type: str | None = None) -> float | None:
    """Chance level by answer type: choice 1/len(options); permutation of n labels 1/n!; None for a type
    whose answer space the row does not tell (label_direction: the task must say, as flip does)."""
    import math

    from spatial_ssrl.contract import parse_options

    answer_type = answer_type or row.get("answer_type")
    if answer_type == "choice":
        options = row.get("options")
        options = parse_options(options) if isinstance(options, str) else options
        return 1.0 / len(options) if options else None
    if answer_type == "permutation":
        return 1.0 / math.factorial(len(str(row["answer"]).split("-")))
    return None


def unregister_task(name: str) -> None:
    """Remove task `name` (no error if it is not registered); for tests and interactive use."""
    _REGISTRY.pop(name, None)
    record_task_answer_type(name, None)


def get_task(name: str) -> TaskSpec:
    """The spec of task `name`; KeyError listing the registered tasks if there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; registered: {sorted(_REGISTRY)}") from None


def list_tasks() -> list[str]:
    """Names of the registered tasks, in registration order."""
    return list(_REGISTRY)


def default_mix(tasks: list[str]) -> dict[str, float]:
    """Task -> weight of the default mix over `tasks`: each task's `mix_weight`, and for tasks without
    one the mean weight of those that have one (1.0 when none has)."""
    weights = {t: get_task(t).mix_weight for t in tasks}
    known = [w for w in weights.values() if w is not None]
    fill = sum(known) / len(known) if known else 1.0
    return {t: (fill if w is None else float(w)) for t, w in weights.items()}


def run_task(
    name: str,
    source: Source | FrameSequence,
    *,
    seed: int = 0,
    index: int = 0,
    params: Any = None,
    variant: str | None = None,
    variant_weights: Mapping[str, float] | None = None,
    attempt: int = 0,
) -> Sample | Rejection:
    """Make sample `index` of task `name` from `source`, deterministically from (seed, source.id, name,
    index, attempt).

    The variant and, for a task with a `draw`, its question plan come from the stream of
    (seed, source, task, index) alone; the geometry from the stream of the attempt. Attempts of one index
    therefore ask the same question (same answer) with other geometry: the builder retries a rejected
    sample this way. A task without a `draw` gets one stream per attempt for everything.

    Returns the Sample, or a Rejection saying why no verifiable sample could be made. The sample's answer
    type is the registered one (a task may leave it unset); a sample declaring another type, or claiming
    another task, raises TaskDefinitionError.
    """
    spec = get_task(name)
    rng = derive_rng(seed, source.id, name, index)
    if variant is None:
        variant = spec.pick_variant(rng, variant_weights)
    elif variant not in spec.variants:
        raise ValueError(f"task {name!r} has no variant {variant!r}; known: {sorted(spec.variants)}")
    if spec.needs_video != isinstance(source, FrameSequence):
        wanted = "a video or image sequence" if spec.needs_video else "a single photo"
        return Rejection(name, "source.kind", f"{source.id}: task {name!r} needs {wanted}")
    if spec.needs_depth and not source.has_depth:
        return Rejection(name, "source.no_depth", f"{source.id} has no depth map")
    params = params if params is not None else spec.params_cls()
    if spec.draw is not None:
        plan = {**spec.draw(rng, params, variant), "attempt": attempt}
        result = spec.fn(source, derive_rng(seed, source.id, name, index, attempt), params, variant, plan)
    else:
        result = spec.fn(
            source, rng if attempt == 0 else derive_rng(seed, source.id, name, index, attempt), params, variant
        )
    if isinstance(result, Sample):
        if result.answer_type is None:
            result.answer_type = spec.answer_type
        elif result.answer_type != spec.answer_type:
            raise TaskDefinitionError(
                f"task {name!r} is registered with answer_type {spec.answer_type!r} but made a sample of "
                f"type {result.answer_type!r}"
            )
        if result.task != name:
            raise TaskDefinitionError(f"task {name!r} made a sample claiming task {result.task!r}")
        result.index = index
        result.attempt = attempt
    return result
