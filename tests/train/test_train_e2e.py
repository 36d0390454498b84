"""End to end on CPU: tiny model -> SFT cold start on generated data -> GRPO, through `ssrl` and the shipped
tiny-cpu configs.

The cold start uses the flip and depth-ordering tasks (the shortest construction-based responses, about 150-200
tokens): a 1.4M-parameter model learns their answer format within 10 epochs (~150 steps), which keeps this near a
minute. GRPO then runs on three tasks including the five-image crop task.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial_ssrl.cli import main as ssrl

pytestmark = pytest.mark.slow  # trains models: `pytest -m "not slow"` skips it

REPO = Path(__file__).resolve().parents[2]
SFT_CONFIG = REPO / "configs" / "sft" / "tiny-cpu.yaml"
GRPO_CONFIG = REPO / "configs" / "grpo" / "tiny-cpu.yaml"
COLD_START_TASKS = ["flip", "depth_order"]
GRPO_TASKS = ["flip", "depth_order", "crop"]


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    assert ssrl(["tiny-model", str(root / "tiny"), "--hidden", "256"]) == 0
    args = ["generate", str(root / "data"), "--synthetic", "16", "--per-task", "4", "--max-side", "160"]
    assert ssrl([*args, "--splits", "train=0.75,validation=0.25"]) == 0
    return root


@pytest.fixture(scope="module")
def sft_run(work):
    out = work / "sft"
    argv = ["train", "sft", "--config", str(SFT_CONFIG), "--model_name_or_path", str(work / "tiny")]
    argv += ["--train_file", str(work / "data"), "--output_dir", str(out), "--tasks", *COLD_START_TASKS]
    argv += ["--num_train_epochs", "10", "--eval_strategy", "epoch", "--save_strategy", "no", "--report_to", "none"]
    assert ssrl(argv) == 0
    return out


def test_sft_cold_start_learns_the_answer_format(work, sft_run):
    from spatial_ssrl.evaluate import TransformersBackend, evaluate
    from spatial_ssrl.evaluate.readers.pretext import read_pretext

    rows = records(sft_run)
    losses = [r["loss"] for r in rows if "loss" in r]
    evals = [r["eval_loss"] for r in rows if "eval_loss" in r]
    assert losses[-1] < 0.1 * losses[0], losses
    assert evals[-1] < 0.2 * evals[0], evals
    assert (sft_run / "plots" / "loss.png").exists()

    # Greedy responses on held-out validation prompts (other source photos than the cold-start rows), scored by
    # the evaluator `ssrl eval` uses: the training prompt and the training rewards.
    bench = read_pretext(work / "data", "validation")
    bench.items = [item for item in bench.items if item.category in COLD_START_TASKS]
    backend = TransformersBackend(str(sft_run), device_map=None, dtype="float32", batch_size=10, max_new_tokens=320)
    summary = evaluate([bench], backend, work / "eval-sft", progress=False)["benchmarks"][bench.name]
    assert summary["n"] >= 20
    assert summary["format_rate"] > 0.9, summary


def test_grpo_after_cold_start_changes_weights_and_logs_per_task(work, sft_run):
    from safetensors.torch import load_file

    out = work / "grpo"
    argv = ["train", "grpo", "--config", str(GRPO_CONFIG), "--model_name_or_path", str(sft_run)]
    argv += ["--train_file", str(work / "data"), "--output_dir", str(out), "--tasks", *GRPO_TASKS]
    argv += ["--max_steps", "4", "--eval_steps", "2", "--save_steps", "2", "--max_completion_length", "256"]
    argv += ["--max_eval_samples", "4", "--report_to", "tensorboard"]
    assert ssrl(argv) == 0

    before, after = load_file(sft_run / "model.safetensors"), load_file(out / "model.safetensors")
    changed = [k for k in before if not (before[k] == after[k]).all()]
    assert changed, "GRPO left every weight unchanged"

    rows = records(out)
    train = [r for r in rows if "reward" in r]
    assert [r["step"] for r in train] == [1, 2, 3, 4]
    for key in ("reward", "rewards/accuracy_reward/mean", "rewards/format_reward/mean", "kl"):
        assert all(key in r for r in train), key
    keys = {k for r in rows for k in r}
    tasks_seen = {k.rsplit("/", 1)[1] for k in keys if k.startswith("reward/")}
    assert tasks_seen and tasks_seen <= set(GRPO_TASKS)
    for task in tasks_seen:
        assert f"rewards/accuracy_reward/{task}" in keys and f"rewards/format_reward/{task}" in keys
    assert any(k.startswith("eval_rewards/format_reward/") for k in keys)  # validation on the held-out split
    for name in ("reward", "accuracy", "format", "kl", "completion_length", "loss"):
        assert (out / "plots" / f"{name}.png").stat().st_size > 0, name
    assert list((out / "runs").rglob("events.out.tfevents.*")), "no TensorBoard events"
