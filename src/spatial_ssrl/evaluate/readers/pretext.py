"""Held-out splits of a dataset made by `ssrl generate`: the pretext tasks as a benchmark.

Rows come from `schema.read_rows` (validation by default; `test` also held out, as splits are made by
source). Each row keeps its `problem` with `<image>` placeholders, its images, and its answer type;
scoring is the training reward's (`rewards.score`): accuracy of the boxed answer and format (think
block + one box), reported per task (category) and per task/variant (subcategory), each with its chance
level (the task's `chance_of(row)`: a uniform guess over the answer space) and a 95% interval.
"""

from __future__ import annotations

from pathlib import Path

from spatial_ssrl.contract import parse_options
from spatial_ssrl.dataset.schema import SPLITS, read_rows, shard_paths
from spatial_ssrl.engine.registry import default_chance, get_task
from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem


def read_pretext(dataset_dir: str | Path, split: str = "validation", name: str | None = None) -> Benchmark:
    """One split of a generated dataset as a Benchmark (default name `pretext-<split>`).

    Raises:
        ValueError: `split` is not one of the dataset's SPLITS.
        BenchmarkFormatError: the dataset has no shards of that split.
    """
    dataset_dir = Path(dataset_dir)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not shard_paths(dataset_dir, split):
        present = [s for s in SPLITS if shard_paths(dataset_dir, s)]
        raise BenchmarkFormatError(f"{dataset_dir}: no {split!r} shards under data/ (splits present: {present})")
    import spatial_ssrl.tasks  # noqa: F401 - the built-in tasks' chance levels

    name = name or f"pretext-{split}"
    items = []
    for row in read_rows(dataset_dir, split):
        try:
            chance = get_task(row["task"]).chance_of(row)
        except KeyError:  # a task of a module not imported here: the answer type's rule
            chance = default_chance(row)
        items.append(
            EvalItem(
                benchmark=name,
                id=row["id"],
                question=row["problem"],
                answer=row["answer"],
                kind=f"pretext:{row['answer_type']}",
                images=[im["bytes"] for im in row["images"]],
                options=parse_options(row["options"]) or {},
                category=row["task"],
                subcategory=f"{row['task']}/{row['variant']}",
                extra={} if chance is None else {"chance": chance},
            )
        )
    return Benchmark(name=name, items=items, source=str(dataset_dir))
