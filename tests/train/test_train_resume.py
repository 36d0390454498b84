"""An interrupted run resumes from its last checkpoint: same step, same optimizer state, one metrics history."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from transformers import TrainerCallback

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.train.common import parse_args

pytestmark = pytest.mark.slow  # trains models: `pytest -m "not slow"` skips it

REPO = Path(__file__).resolve().parents[2]


class Interrupted(Exception):
    pass


class InterruptAfterSave(TrainerCallback):
    """Simulates a crash right after the checkpoint of `step` is on disk."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Interrupted


class CaptureStart(TrainerCallback):
    """Records the step training starts at and the optimizer state just before the first update."""

    start_step: int | None = None
    optimizer_state: dict | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        if self.optimizer_state is None:
            self.optimizer_state = copy.deepcopy(optimizer.state_dict())


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    assert ssrl(["tiny-model", str(root / "tiny")]) == 0
    args = ["generate", str(root / "data"), "--synthetic", "4", "--per-task", "1", "--max-side", "160"]
    assert ssrl([*args, "--splits", "train=0.7,validation=0.3"]) == 0
    return root


def run(kind: str, work: Path, out: Path, callbacks: list):
    from spatial_ssrl.train import grpo, sft

    module = sft if kind == "sft" else grpo
    argv = ["--config", str(REPO / "configs" / kind / "tiny-cpu.yaml"), "--model_name_or_path", str(work / "tiny")]
    argv += ["--train_file", str(work / "data"), "--output_dir", str(out), "--report_to", "none"]
    argv += ["--max_steps", "4", "--save_strategy", "steps", "--save_steps", "2", "--logging_steps", "1"]
    argv += ["--eval_strategy", "no", "--per_device_train_batch_size", "4", "--save_total_limit", "5"]
    if kind == "grpo":
        argv += ["--max_completion_length", "8", "--num_generations", "2"]
    data_args, config, model_args = parse_args(module.make_parser_types(), argv)
    runner = module.run_sft if kind == "sft" else module.run_grpo
    return runner(data_args, config, model_args, callbacks=callbacks)


@pytest.mark.parametrize("kind", ["sft", "grpo"])
def test_interrupted_run_resumes_at_the_same_step_with_the_same_optimizer_state(work, kind, capsys):
    out = work / f"{kind}-run"
    with pytest.raises(Interrupted):
        run(kind, work, out, [InterruptAfterSave(2)])
    checkpoint = out / "checkpoint-2"
    assert (checkpoint / "optimizer.pt").exists() and not (out / "checkpoint-4").exists()

    capture = CaptureStart()
    trainer = run(kind, work, out, [capture])
    assert "Resuming from" in capsys.readouterr().out
    assert capture.start_step == 2
    assert trainer.state.global_step == 4

    saved = torch.load(checkpoint / "optimizer.pt", weights_only=False)
    resumed = capture.optimizer_state
    assert saved["state"].keys() == resumed["state"].keys() and saved["state"]
    for index, tensors in saved["state"].items():
        for name, value in tensors.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(resumed["state"][index][name])), (index, name)
    if kind == "sft":  # real gradients: the moments are not all zero
        assert any(t["exp_avg"].abs().sum() > 0 for t in saved["state"].values())

    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    logged = [s for s in steps if s]
    assert sorted(set(logged)) == [1, 2, 3, 4]
    info = json.loads((out / "run_info.json").read_text())
    assert [s["start_step"] for s in info["starts"]] == [0, 2]
