"""EasyR1 batch reward function.

    worker:
      reward:
        reward_function: /path/to/spatial_ssrl/rewards/easyr1.py:compute_score

EasyR1 reads the reward type from the module itself (module-level `REWARD_TYPE`, default "batch";
there is no `worker.reward.reward_type` key any more: passing it fails with ConfigKeyError).

EasyR1 loads this file by path (hence the absolute imports) and calls `compute_score` with one
dict per response: `response`, `response_length`, `ground_truth` (the `answer` column). It logs
every key returned: `overall` (the reward), `format`, `accuracy`. EasyR1 passes no task or answer
type, so unless an input carries `answer_type` / `task` / `options`, the answer type is read from
the ground truth's shape (one letter -> choice; `3-0` -> label_direction; three or more labels ->
permutation) and letter answers are checked without option texts. Does not import EasyR1.
"""

from __future__ import annotations

from typing import Any

from spatial_ssrl.rewards.score import RewardConfig, answer_type_or_infer, score

REWARD_NAME = "spatial_ssrl"  # EasyR1 prints it when it loads the module
REWARD_TYPE = "batch"  # EasyR1 calls compute_score with the whole batch (a list of inputs)


def _score_one(item: dict[str, Any], config: RewardConfig) -> dict[str, float]:
    truth = item["ground_truth"]
    answer_type = answer_type_or_infer(truth, item.get("answer_type"), item.get("task"))
    return score(item.get("response"), truth, answer_type, item.get("options"), config)


def compute_score(
    reward_inputs: list[dict[str, Any]] | dict[str, Any],
    format_weight: float = 0.1,
    partial_credit: bool = False,
) -> list[dict[str, float]] | dict[str, float]:
    """`{"overall", "format", "accuracy"}` per response (a list: REWARD_TYPE is "batch"; a
    single dict also works, as EasyR1's "sequential" type passes it). Extra options go in `reward_function_kwargs`."""
    config = RewardConfig(
        accuracy_weight=1.0 - format_weight, format_weight=format_weight, partial_credit=partial_credit
    )
    if isinstance(reward_inputs, dict):
        return _score_one(reward_inputs, config)
    return [_score_one(item, config) for item in reward_inputs]
