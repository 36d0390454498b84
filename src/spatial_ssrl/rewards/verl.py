"""verl reward entry point.

    custom_reward_function.path=$(python -c "import spatial_ssrl.rewards.verl as m; print(m.__file__)")
    custom_reward_function.name=compute_score

verl loads this file by path and calls `compute_score(data_source, solution_str, ground_truth,
extra_info)` per response; a returned dict must hold "score" (the reward) and may hold more keys,
which verl logs: here "acc" and "format". The answer type comes from `extra_info["answer_type"]`,
else the task named by `extra_info["task"]` or by `data_source` (`shuffle`, `spatial_ssrl/shuffle`),
else the shape of the ground truth. Options come from `extra_info["options"]` (dict or JSON).
Imports are absolute because verl executes the file outside its package. Does not import verl.
"""

from __future__ import annotations

from typing import Any

from spatial_ssrl.rewards.score import RewardConfig, answer_type_or_infer, score


def task_from_data_source(data_source: Any) -> str | None:
    """`spatial_ssrl/shuffle`, `spatial_ssrl:shuffle` or `shuffle` -> `shuffle`."""
    if not isinstance(data_source, str) or not data_source:
        return None
    for sep in ("/", ":"):
        data_source = data_source.rsplit(sep, 1)[-1]
    return data_source or None


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: str,
    extra_info: dict | None = None,
    format_weight: float = 0.1,
    partial_credit: bool = False,
    **kwargs: Any,
) -> dict[str, float]:
    """{"score": overall, "acc": accuracy, "format": format} for one response."""
    info = extra_info if isinstance(extra_info, dict) else {}
    task = info.get("task") or task_from_data_source(data_source)
    answer_type = answer_type_or_infer(ground_truth, info.get("answer_type"), task)
    config = RewardConfig(
        accuracy_weight=1.0 - format_weight, format_weight=format_weight, partial_credit=partial_credit
    )
    result = score(solution_str, ground_truth, answer_type, info.get("options"), config)
    return {"score": result["overall"], "acc": result["accuracy"], "format": result["format"]}
