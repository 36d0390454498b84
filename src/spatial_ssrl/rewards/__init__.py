"""Verifiable rewards for the Spatial-SSRL tasks: extraction, per-type normalisation, the
0.9 x accuracy + 0.1 x format reward, and evaluation answer matching.

Trainer adapters live in their own modules and import no trainer:
`spatial_ssrl.rewards.trl` (GRPOTrainer reward_funcs), `spatial_ssrl.rewards.verl`
(compute_score) and `spatial_ssrl.rewards.easyr1` (batch compute_score). Rules: docs/rewards.md.
"""

from spatial_ssrl.contract import parse_options
from spatial_ssrl.rewards.extract import (
    MAX_BOX_CHARS,
    MAX_BOXES,
    Parsed,
    boxed_contents,
    find_think_tags,
    last_boxed,
    parse_response,
)
from spatial_ssrl.rewards.match import (
    answer_text,
    match_choice,
    match_number,
    match_yes_no,
    parse_number_with_unit,
)
from spatial_ssrl.rewards.normalize import normalize_answer
from spatial_ssrl.rewards.score import (
    DEFAULT_CONFIG,
    RewardConfig,
    infer_answer_type,
    resolve_answer_type,
    response_accuracy,
    response_format,
    score,
)

__all__ = [
    "DEFAULT_CONFIG",
    "MAX_BOXES",
    "MAX_BOX_CHARS",
    "Parsed",
    "RewardConfig",
    "answer_text",
    "boxed_contents",
    "find_think_tags",
    "infer_answer_type",
    "last_boxed",
    "match_choice",
    "match_number",
    "match_yes_no",
    "normalize_answer",
    "parse_number_with_unit",
    "parse_options",
    "parse_response",
    "resolve_answer_type",
    "response_accuracy",
    "response_format",
    "score",
]
