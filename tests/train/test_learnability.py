"""GRPO can learn a verifiable visual task: the check that rollouts, rewards, images and
advantages are wired correctly end to end (a broken image path or a sign error in the advantages
leaves the reward flat).

Task: a picture is mostly red or mostly blue; "A. red  B. blue". A short SFT warm-up teaches the
answer format with labels drawn at random (so the model starts at chance, ~0.5 accuracy, with no
idea which colour is which); GRPO with our accuracy reward must then raise the mean reward.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow  # trains models: `pytest -m "not slow"` skips it

pytest.importorskip("trl")
torch = pytest.importorskip("torch")

QUESTION = "Is this picture mostly red or mostly blue?\nA. red\nB. blue\nAnswer with the letter in \\boxed{}."
OPTIONS = json.dumps({"A": "red", "B": "blue"})


def _image(rng: np.random.Generator, red: bool) -> Image.Image:
    base = np.array([200, 30, 30] if red else [30, 30, 200], dtype=float)
    noise = rng.normal(0, 25, size=(56, 56, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def _prompt() -> list[dict]:
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]


def _datasets(n: int, seed: int):
    from datasets import Dataset

    rng = np.random.default_rng(seed)
    red = rng.random(n) < 0.5
    images = [[_image(rng, bool(r))] for r in red]
    answers = ["A" if r else "B" for r in red]
    random_labels = rng.choice(["A", "B"], size=n)  # warm-up targets that ignore the image
    sft = Dataset.from_dict(  # prompt/completion: the loss is on the answer only
        {
            "prompt": [_prompt() for _ in range(n)],
            "completion": [
                [{"role": "assistant", "content": [{"type": "text", "text": f"\\boxed{{{lab}}}"}]}]
                for lab in random_labels
            ],
            "images": images,
        }
    )
    grpo = Dataset.from_dict(
        {
            "prompt": [_prompt() for _ in range(n)],
            "images": images,
            "answer": answers,
            "answer_type": ["choice"] * n,
            "options": [OPTIONS] * n,
        }
    )
    return sft, grpo


def test_grpo_raises_reward_on_a_learnable_visual_task(tmp_path):
    from transformers import AutoProcessor, set_seed
    from trl import GRPOConfig, GRPOTrainer, SFTConfig, SFTTrainer

    from spatial_ssrl.rewards.trl import accuracy_reward
    from spatial_ssrl.train.tiny import build_tiny_model

    set_seed(0)
    model_dir = build_tiny_model(tmp_path / "tiny", "qwen2_5_vl", min_pixels=56 * 56, max_pixels=56 * 56)
    processor = AutoProcessor.from_pretrained(model_dir)
    sft_data, grpo_data = _datasets(256, seed=0)

    sft = SFTTrainer(
        model=str(model_dir),
        args=SFTConfig(
            output_dir=str(tmp_path / "sft"),
            num_train_epochs=12,
            per_device_train_batch_size=16,
            learning_rate=3e-3,
            logging_steps=16,
            report_to=[],
            save_strategy="no",
            use_cpu=True,
            seed=0,
            max_length=None,
        ),
        train_dataset=sft_data,
        processing_class=processor,
    )
    sft.train()
    sft.save_model(str(tmp_path / "sft"))

    steps = 200
    grpo = GRPOTrainer(
        model=str(tmp_path / "sft"),
        reward_funcs=[accuracy_reward],
        args=GRPOConfig(
            output_dir=str(tmp_path / "grpo"),
            per_device_train_batch_size=16,
            num_generations=8,
            max_completion_length=6,
            temperature=1.0,
            learning_rate=1e-3,
            beta=0.0,
            max_steps=steps,
            logging_steps=1,
            report_to=[],
            save_strategy="no",
            use_cpu=True,
            seed=0,
        ),
        train_dataset=grpo_data,
        processing_class=processor,
    )
    grpo.train()
    rewards = [h["reward"] for h in grpo.state.log_history if "reward" in h]
    assert len(rewards) == steps
    first, last = np.mean(rewards[:20]), np.mean(rewards[-20:])
    print(f"mean reward first 20 steps {first:.3f}, last 20 steps {last:.3f}")
    # Without the image the best possible accuracy is 0.5; above 0.85 the model must be using it.
    assert first < 0.6, "the warm-up should leave the model near chance"
    assert last > 0.85 and last > first + 0.3, (first, last)
