"""GRPO step time and peak RSS through `ssrl train grpo` versus plain TRL, same model, data and
settings, measured in one run (alternating, several repeats).

    python benchmarks/bench_grpo_overhead.py [--steps 20] [--repeats 3]

Both sides run in fresh subprocesses on the same tiny model and the same TRL export of a small
generated dataset; step time is TRL's own `step_time` log (mean over steps after the first two,
which include warm-up), peak RSS the largest resident size of the process tree (sampled from /proc).
Our side runs with `--metrics_plots false`: drawing the PNG curves happens after the last step and
imports matplotlib, which raised the measured peak by about 7% in one run; it does not touch steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import tree_rss  # noqa: E402

COMMON = dict(
    per_device_train_batch_size=4,
    num_generations=4,
    max_completion_length=32,
    temperature=1.0,
    learning_rate=1e-5,
    beta=0.01,
    logging_steps=1,
    report_to=[],
    save_strategy="no",
    use_cpu=True,
    seed=0,
)

PLAIN = """
import json, sys
from datasets import load_dataset
from transformers import AutoProcessor
from trl import GRPOConfig, GRPOTrainer
from spatial_ssrl.rewards.trl import accuracy_reward, format_reward
model, data, out, steps, common = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
ds = load_dataset("parquet", data_files=data, split="train")
args = GRPOConfig(output_dir=out, max_steps=steps, reward_weights=[0.9, 0.1], **common)
trainer = GRPOTrainer(model=model, reward_funcs=[accuracy_reward, format_reward], args=args, train_dataset=ds,
                      processing_class=AutoProcessor.from_pretrained(model))
trainer.train()
print(json.dumps([h["step_time"] for h in trainer.state.log_history if "step_time" in h]))
"""


def measure(cmd: list[str], metrics_file: Path | None = None) -> tuple[list[float], float]:
    """Run `cmd`; step times come from its stdout (plain TRL) or its metrics.jsonl (our layer)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed with code {proc.returncode}")
    if metrics_file is not None:
        records = [json.loads(line) for line in metrics_file.read_text().splitlines() if line.strip()]
        steps = [r["step_time"] for r in records if "step_time" in r]
    else:
        steps = json.loads([line for line in out.splitlines() if line.startswith("[")][-1])
    return steps, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from spatial_ssrl.dataset.builder import BuildConfig, build
    from spatial_ssrl.export import export
    from spatial_ssrl.sources.discover import bundled_photos, synthetic
    from spatial_ssrl.train.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = build_tiny_model(tmp / "tiny", "qwen2_5_vl")
        build(BuildConfig(tmp / "data", samples_per_task=4, preview=False), bundled_photos() + synthetic(4))
        data = export(tmp / "data", "trl", tmp / "trl", splits=("train",))[0]
        plain = [
            sys.executable,
            "-c",
            PLAIN,
            str(model),
            str(data),
            str(tmp / "plain"),
            str(args.steps),
            json.dumps(COMMON),
        ]
        ours = [
            sys.executable,
            "-m",
            "spatial_ssrl.train.grpo",
            "--model_name_or_path",
            str(model),
            "--train_file",
            str(data),
            "--output_dir",
            str(tmp / "ours"),
            "--max_steps",
            str(args.steps),
        ]
        for key, value in COMMON.items():
            if key != "report_to":
                ours += [f"--{key}", str(value)]
        ours += ["--report_to", "none", "--metrics_plots", "false"]  # PNGs are drawn after training; see docstring
        results = {"plain TRL": [], "ssrl train grpo": []}
        for _ in range(args.repeats):
            for name, cmd in (("plain TRL", plain), ("ssrl train grpo", ours)):
                metrics = tmp / "ours" / "metrics.jsonl" if name == "ssrl train grpo" else None
                if metrics is not None and metrics.exists():
                    import shutil

                    shutil.rmtree(tmp / "ours")  # a fresh run each time, not a resume
                steps, rss = measure(cmd, metrics)
                results[name].append((statistics.mean(steps[2:]), rss))
        print(f"tiny Qwen2.5-VL, {args.steps} GRPO steps, batch 4 x 4 generations, {args.repeats} alternating runs\n")
        print("| runner | step time ms (median of runs) | peak RSS MB (median) |")
        print("|---|---|---|")
        med = {}
        for name, runs in results.items():
            med[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
            print(f"| {name} | {med[name][0] * 1e3:.1f} | {med[name][1]:.0f} |")
        t = med["ssrl train grpo"][0] / med["plain TRL"][0] - 1
        m = med["ssrl train grpo"][1] / med["plain TRL"][1] - 1
        print(f"\noverhead: step time {t:+.1%}, peak RSS {m:+.1%} (target < 5%)")


if __name__ == "__main__":
    main()
