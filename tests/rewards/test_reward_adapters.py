"""TRL, verl and EasyR1 adapters: their calling conventions, loaded the way each trainer loads them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import spatial_ssrl.rewards.easyr1 as easyr1
import spatial_ssrl.rewards.trl as trl_rewards
import spatial_ssrl.rewards.verl as verl
from spatial_ssrl.rewards import RewardConfig

POSITION = {"A": "Front", "B": "Left", "C": "Back", "D": "Right"}
GOOD = "<think>Region 2 is behind the viewer.</think>\nThe answer is \\boxed{C. Back}."
WRONG = "<think>Region 2 is in front.</think>\\boxed{A}"
NO_FORMAT = "The answer is \\boxed{C}."


def _load_by_path(module) -> object:
    """Load an adapter file the way verl and EasyR1 do: by file path, outside its package."""
    spec = importlib.util.spec_from_file_location("custom_reward_fn", Path(module.__file__))
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def test_adapters_import_without_any_trainer():
    code = (
        "import sys, spatial_ssrl.rewards.trl, spatial_ssrl.rewards.verl, spatial_ssrl.rewards.easyr1\n"
        "bad = [m for m in ('torch', 'trl', 'verl', 'transformers') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------- TRL


@pytest.mark.parametrize(
    "completion",
    [
        pytest.param(GOOD, id="plain_text"),
        pytest.param([{"role": "assistant", "content": GOOD}], id="chat_message"),
        pytest.param([{"role": "assistant", "content": [{"type": "text", "text": GOOD}]}], id="content_parts"),
        pytest.param(
            [
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": GOOD[:20]}, {"type": "text", "text": GOOD[20:]}],
                }
            ],
            id="split_content_parts",
        ),
        pytest.param(
            [{"role": "tool", "content": "ignored"}, {"role": "assistant", "content": GOOD}],
            id="assistant_message_wins",
        ),
    ],
)
def test_trl_completion_shapes(completion):
    kwargs = {"answer": ["C"], "answer_type": ["choice"], "task": ["position"], "options": [json.dumps(POSITION)]}
    assert trl_rewards.accuracy_reward([completion], **kwargs) == [1.0]
    assert trl_rewards.format_reward([completion], **kwargs) == [1.0]


def test_trl_batch_with_columns_as_trl_passes_them():
    completions = [GOOD, WRONG, NO_FORMAT, None]
    columns = {
        "prompts": [[{"role": "user", "content": "q"}]] * 4,  # TRL also passes these; they are ignored
        "completion_ids": [[1, 2]] * 4,
        "trainer_state": object(),
        "answer": ["C"] * 4,
        "answer_type": ["choice"] * 4,
        "task": ["position"] * 4,
        "options": [json.dumps(POSITION)] * 4,
        "images": [[]] * 4,
    }
    assert trl_rewards.accuracy_reward(completions, **columns) == [1.0, 0.0, 1.0, 0.0]
    assert trl_rewards.format_reward(completions, **columns) == [1.0, 1.0, 0.0, 0.0]


def test_trl_answer_type_falls_back_to_task():
    import spatial_ssrl.tasks  # noqa: F401 - registers the built-in tasks (a trainer script imports them too)

    got = trl_rewards.accuracy_reward(["<think>r</think>\\boxed{0, 2, 3, 1}"], answer=["0-2-3-1"], task=["shuffle"])
    assert got == [1.0]


def test_trl_partial_credit_and_config():
    completion = "<think>r</think>\\boxed{0-2-1-3}"
    assert trl_rewards.partial_accuracy_reward([completion], answer=["0-2-3-1"], answer_type=["permutation"]) == [0.5]
    funcs, weights = trl_rewards.reward_funcs()
    assert [f.__name__ for f in funcs] == ["accuracy_reward", "format_reward"]
    assert weights == [0.9, 0.1]
    funcs, weights = trl_rewards.reward_funcs(RewardConfig(0.8, 0.2, partial_credit=True))
    assert [f.__name__ for f in funcs] == ["partial_accuracy_reward", "format_reward"]
    assert weights == [0.8, 0.2]


def test_trl_names_are_distinct_log_columns():
    names = {trl_rewards.accuracy_reward.__name__, trl_rewards.format_reward.__name__}
    assert names == {"accuracy_reward", "format_reward"}


def test_trl_column_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 values for 1 completions"):
        trl_rewards.accuracy_reward([GOOD], answer=["C", "C"], answer_type=["choice"])


# ---------------------------------------------------------------------------- verl


@pytest.mark.parametrize(
    "data_source, extra_info",
    [
        pytest.param("spatial_ssrl/position", {"options": POSITION}, id="task_from_data_source"),
        pytest.param("position", {"options": json.dumps(POSITION)}, id="bare_task_options_json"),
        pytest.param("anything", {"answer_type": "choice", "options": POSITION}, id="answer_type_in_extra_info"),
        pytest.param("anything", {"task": "position", "options": POSITION, "index": 3}, id="task_in_extra_info"),
    ],
)
def test_verl_compute_score(data_source, extra_info):
    got = verl.compute_score(data_source, GOOD, "C", extra_info)
    assert got == {"score": 1.0, "acc": 1.0, "format": 1.0}
    assert verl.compute_score(data_source, NO_FORMAT, "C", extra_info) == {"score": 0.9, "acc": 1.0, "format": 0.0}


def test_verl_without_any_declaration_reads_the_ground_truth_shape():
    assert verl.compute_score("unknown", "<think>r</think>\\boxed{3, 0}", "3-0")["score"] == 1.0
    assert verl.compute_score("unknown", "<think>r</think>\\boxed{C}", "C", None)["score"] == 1.0


def test_verl_loads_by_path_and_takes_reward_kwargs():
    module = _load_by_path(verl)
    got = module.compute_score(
        "shuffle", "<think>r</think>\\boxed{0-2-1-3}", "0-2-3-1", None, format_weight=0.5, partial_credit=True
    )
    assert got == {"score": 0.75, "acc": 0.5, "format": 1.0}


# ---------------------------------------------------------------------------- EasyR1


def test_easyr1_batch_interface():
    inputs = [
        {"response": GOOD, "response_length": 20, "ground_truth": "C", "options": POSITION},
        {"response": WRONG, "response_length": 9, "ground_truth": "C"},
        {"response": NO_FORMAT, "response_length": 7, "ground_truth": "C"},
        {"response": "<think>r</think>\\boxed{2 - 3 - 1}", "response_length": 9, "ground_truth": "2-3-1"},
        {"response": "<think>r</think>\\boxed{(3, 1)}", "response_length": 9, "ground_truth": "3-1"},
    ]
    loaded = _load_by_path(easyr1)
    # Current EasyR1 reads the calling convention from the module (getattr(module, "REWARD_TYPE", "batch"));
    # its config has no reward_type key any more.
    assert loaded.REWARD_TYPE == "batch" and loaded.REWARD_NAME == "spatial_ssrl"
    got = loaded.compute_score(inputs)
    assert got == [
        {"overall": 1.0, "format": 1.0, "accuracy": 1.0},
        {"overall": pytest.approx(0.1), "format": 1.0, "accuracy": 0.0},
        {"overall": 0.9, "format": 0.0, "accuracy": 1.0},
        {"overall": 1.0, "format": 1.0, "accuracy": 1.0},
        {"overall": 1.0, "format": 1.0, "accuracy": 1.0},
    ]


def test_easyr1_without_options_rejects_letter_with_text():
    """EasyR1 passes no options: `C. Back` cannot be checked, so only the letter shapes count."""
    got = easyr1.compute_score([{"response": GOOD, "response_length": 20, "ground_truth": "C"}])
    assert got[0]["accuracy"] == 0.0


def test_easyr1_format_weight_and_sequential_mode():
    item = {"response": NO_FORMAT, "response_length": 7, "ground_truth": "C", "answer_type": "choice"}
    assert easyr1.compute_score([item], format_weight=0.5)[0]["overall"] == 0.5
    assert easyr1.compute_score(item) == {"overall": 0.9, "format": 0.0, "accuracy": 1.0}


def test_easyr1_unknown_ground_truth_shape_is_an_error():
    with pytest.raises(ValueError, match="cannot tell the answer type"):
        easyr1.compute_score([{"response": GOOD, "response_length": 1, "ground_truth": "two metres"}])
