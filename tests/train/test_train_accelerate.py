"""The distributed path: GRPO under `accelerate launch --num_processes 2` on CPU (DDP over gloo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spatial_ssrl.cli import main as ssrl

pytestmark = pytest.mark.slow  # trains models: `pytest -m "not slow"` skips it

REPO = Path(__file__).resolve().parents[2]


def test_grpo_runs_on_two_cpu_processes(tmp_path):
    assert ssrl(["tiny-model", str(tmp_path / "tiny")]) == 0
    args = ["generate", str(tmp_path / "data"), "--synthetic", "4", "--per-task", "1", "--max-side", "160"]
    assert ssrl([*args, "--splits", "train=0.7,validation=0.3"]) == 0
    out = tmp_path / "run"
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [str(accelerate), "launch", "--config_file", str(REPO / "configs/accelerate/cpu_2proc.yaml")]
    cmd += ["--num_processes", "2", "--main_process_port", "29531", "-m", "spatial_ssrl.train.grpo"]
    cmd += ["--config", str(REPO / "configs/grpo/tiny-cpu.yaml"), "--model_name_or_path", str(tmp_path / "tiny")]
    cmd += ["--train_file", str(tmp_path / "data"), "--output_dir", str(out), "--max_steps", "2"]
    cmd += ["--max_completion_length", "16", "--per_device_train_batch_size", "4", "--num_generations", "4"]
    cmd += ["--eval_strategy", "steps", "--eval_steps", "2", "--max_eval_samples", "2", "--save_strategy", "no"]
    cmd += ["--report_to", "none"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]

    info = json.loads((out / "run_info.json").read_text())
    assert info["starts"][0]["world_size"] == 2
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "reward" in r] == [1, 2]
    assert any("eval_reward" in r for r in rows)
    assert (out / "model.safetensors").exists()
