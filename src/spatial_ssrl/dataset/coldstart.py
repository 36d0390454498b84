"""Cold-start SFT responses: a short reasoning response for each sample, made from its construction.

Every sample's `meta` records how it was made (which piece went where, which piece was flipped, what
each crop candidate is, region depths, the viewer's facing and the offset). The task's own cold-start
template (`register_task(..., coldstart=...)`, next to the task in its file) turns that into a `<think>`
block stating the evidence; `response_for(row)` adds `\\boxed{answer}`. Every response scores reward 1.0
(format and accuracy) by construction, and the writer (`spatial_ssrl.export.coldstart`) checks it.
`response_for(row, reasoning="brief")` replaces the evidence with one sentence naming the answer: a small
model trained from scratch on a CPU then spends its steps on the answer instead of on ~200 tokens of evidence
text (docs/evidence.md measures both).

- `select_coldstart(dataset_dir, fraction=0.044, seed=0)`: ids of about `fraction` of the TRAIN split
  (splits are made by source, so none of these sources is in validation or test; any train row whose
  source also appears there is skipped anyway), stratified by task: each task contributes
  round(fraction x its count), at least one. Deterministic: rows are ranked by a keyed hash of their id.
- `has_template(task)`: whether a registered task has a cold-start template (cold start skips and counts
  rows of tasks without one).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
from collections import Counter
from collections.abc import Callable

import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks and their templates)
from spatial_ssrl.contract import COLDSTART_REASONING
from spatial_ssrl.dataset.schema import read_rows, shard_paths
from spatial_ssrl.engine.registry import get_task, list_tasks

DEFAULT_FRACTION = 0.044  # the paper's cold-start set relative to the RL set
NAME = "spatial_ssrl_coldstart"
REASONING_STYLES = COLDSTART_REASONING  # the task's evidence template, or one sentence naming the answer

Responder = Callable[[dict], str]
"""`(row) -> response`: replaces the templates, e.g. responses from a model."""


class NoTemplate(KeyError):
    """A task that has no cold-start template (register one with `coldstart=`, or pass a responder)."""


def has_template(task: str) -> bool:
    """True when `task` is registered with a cold-start template."""
    return task in list_tasks() and get_task(task).coldstart is not None


def check_reasoning(style: str) -> None:
    """Refuse an unknown cold-start reasoning style (ValueError naming the known ones)."""
    if style not in REASONING_STYLES:
        raise ValueError(f"reasoning must be one of {', '.join(REASONING_STYLES)}, got {style!r}")


def response_for(row: dict, reasoning: str = "full") -> str:
    """`<think>` stating the construction evidence, then `\\boxed{answer}`.

    `reasoning="brief"` puts one sentence naming the answer in the `<think>` block instead of the evidence (the
    task still needs a template, so both styles cover the same rows).

    Raises:
        ValueError: the row's meta disagrees with its answer (never train on such a row), or an unknown
            `reasoning` style.
        NoTemplate: the task is unknown in this process or has no cold-start template.
    """
    check_reasoning(reasoning)
    task = row["task"]
    if not has_template(task):
        raise NoTemplate(
            f"no cold-start template for task {task!r}: register it with coldstart=..., import its module "
            "(--import), or pass a responder"
        )
    meta = json.loads(row["meta"]) if isinstance(row["meta"], str) else row["meta"]
    think = get_task(task).coldstart(row, meta)  # run in both styles: it refuses rows whose meta and answer disagree
    if reasoning == "brief":
        think = f"The answer is {row['answer']}."
    return f"<think>\n{think}\n</think>\n\\boxed{{{row['answer']}}}"


# ---------------------------------------------------------------------------- selection and writing


def _rank(seed: int, sample_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{sample_id}".encode(), digest_size=8).digest()


def _held_out_sources(dataset_dir) -> set[str]:
    return {
        r["source_id"] for split in ("validation", "test") for r in read_rows(dataset_dir, split, columns=["source_id"])
    }


def select_coldstart(dataset_dir, fraction: float = DEFAULT_FRACTION, seed: int = 0) -> list[str]:
    """Ids of the cold-start rows (sorted): per task, the round(fraction x n) train rows (at least one)
    with the smallest keyed hash of their id. Light passes over the id/task/source columns only, holding
    at most one task's quota of ids at a time."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if not shard_paths(dataset_dir, "train"):
        raise FileNotFoundError(f"{dataset_dir}: no train shards under data/")
    held_out = _held_out_sources(dataset_dir)
    columns = ["id", "task", "source_id"]

    def train_rows():
        return (r for r in read_rows(dataset_dir, "train", columns) if r["source_id"] not in held_out)

    counts = Counter(r["task"] for r in train_rows())
    chosen: list[str] = []
    for task, n in sorted(counts.items()):
        quota = min(n, max(1, math.floor(fraction * n + 0.5)))
        ranked = ((_rank(seed, r["id"]), r["id"]) for r in train_rows() if r["task"] == task)
        chosen += [sample_id for _, sample_id in heapq.nsmallest(quota, ranked)]
    return sorted(chosen)
