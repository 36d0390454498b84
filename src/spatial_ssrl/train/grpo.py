"""`ssrl train grpo`: reinforcement learning with verifiable rewards, a thin layer over TRL's `GRPOTrainer`.

    ssrl train grpo --config configs/grpo/tiny-cpu.yaml --model_name_or_path runs/sft --train_file out/ds
    python -m spatial_ssrl.train.grpo --config configs/grpo/qwen2_5_vl_7b.yaml          # same thing
    accelerate launch --config_file configs/accelerate/ddp.yaml -m spatial_ssrl.train.grpo --config ...

Rewards: `accuracy_reward` (or `partial_accuracy_reward`) and `format_reward` from spatial_ssrl.rewards.trl,
weighted 0.9 / 0.1 unless `reward_weights` says otherwise, each also logged per task
(spatial_ssrl.train.task_rewards). Validation on the held-out split (optionally at its own temperature/top-p),
checkpoints and resume, `report_to` plus `metrics.jsonl` and PNG curves (spatial_ssrl.train.metrics).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from spatial_ssrl.rewards import DEFAULT_CONFIG, RewardConfig
from spatial_ssrl.rewards.trl import reward_funcs
from spatial_ssrl.train.args import DataArguments
from spatial_ssrl.train.checks import (
    check_hardware,
    check_prompt_length,
    context_limit,
    prompt_rows,
)
from spatial_ssrl.train.common import (
    cli_main,
    load_datasets,
    load_processor,
    model_init_kwargs,
    peft_config,
    require_model,
    train_and_save,
    use_caller_progress,
)
from spatial_ssrl.train.metrics import MetricsCallback
from spatial_ssrl.train.task_rewards import per_task_rewards

DEFAULT_REWARD_WEIGHTS = [DEFAULT_CONFIG.accuracy_weight, DEFAULT_CONFIG.format_weight]
"""`reward_weights` when the config leaves it unset: the paper's 0.9 x accuracy + 0.1 x format
(Spatial-SSRL, arXiv 2510.27606), taken from `spatial_ssrl.rewards.score.DEFAULT_CONFIG`."""


def reward_functions(data_args: DataArguments, weights: Sequence[float] | None = None) -> list:
    """The reward functions for GRPOTrainer: accuracy (partial if `data_args.partial_credit`), then format.

    Args:
        data_args: reads `partial_credit` and `per_task_metrics`.
        weights: the trainer's `reward_weights`, used only for the logged per-task total; None = the defaults.

    Returns:
        The functions in `reward_weights` order, wrapped to log per task when `per_task_metrics` is set.
    """
    funcs, default_weights = reward_funcs(RewardConfig(partial_credit=data_args.partial_credit))
    if not data_args.per_task_metrics:
        return funcs
    return per_task_rewards(funcs, default_weights if weights is None else weights)


def _trainer_class():
    from trl import GRPOTrainer

    class SpatialGRPOTrainer(GRPOTrainer):
        """GRPOTrainer whose validation can sample at its own temperature / top-p (TRL uses the training ones)."""

        eval_temperature: float | None = None
        eval_top_p: float | None = None

        @contextlib.contextmanager
        def _eval_sampling(self):
            changes = {"temperature": self.eval_temperature, "top_p": self.eval_top_p}
            changes = {k: v for k, v in changes.items() if v is not None}
            undo = []  # (setter, target, key, old value)
            for target in (self, getattr(self, "generation_config", None), getattr(self, "vllm_generation", None)):
                for key, value in changes.items():
                    if target is not None and hasattr(target, key):
                        undo.append((setattr, target, key, getattr(target, key)))
                        setattr(target, key, value)
            kwargs = getattr(self, "generation_kwargs", None)
            for key, value in changes.items():
                if isinstance(kwargs, dict) and key in kwargs:
                    undo.append((dict.__setitem__, kwargs, key, kwargs[key]))
                    kwargs[key] = value
            try:
                yield
            finally:
                for setter, target, key, value in reversed(undo):
                    setter(target, key, value)

        def evaluate(self, *args, **kwargs):
            with self._eval_sampling():
                return super().evaluate(*args, **kwargs)

    return SpatialGRPOTrainer


def build_grpo_trainer(data_args: DataArguments, config, model_args, callbacks: Sequence | None = None):
    """A `GRPOTrainer` with our data, rewards, processor, checks and metrics callback (not yet trained)."""
    model = require_model(model_args)
    check_hardware(config, model_args)

    _, train, eval_ds = load_datasets(data_args, config, "grpo")
    processor = load_processor(model_args, data_args, config.trust_remote_code)
    if data_args.max_prompt_length:
        limit, name = data_args.max_prompt_length, "max_prompt_length"
    else:
        limit, name = context_limit(model, reserve=config.max_completion_length or 0), "the model context"
    check_prompt_length(prompt_rows(train), processor, limit, name)
    if config.reward_weights is None:
        config.reward_weights = list(DEFAULT_REWARD_WEIGHTS)
    config.model_init_kwargs = model_init_kwargs(model_args, config)
    trainer = _trainer_class()(
        model=model,
        reward_funcs=reward_functions(data_args, config.reward_weights),
        args=config,
        train_dataset=train,
        eval_dataset=eval_ds,
        processing_class=processor,
        peft_config=peft_config(model_args),
        callbacks=[MetricsCallback(config.output_dir, data_args.metrics_plots), *(callbacks or [])],
    )
    use_caller_progress(trainer, callbacks)
    trainer.eval_temperature, trainer.eval_top_p = data_args.eval_temperature, data_args.eval_top_p
    return trainer


def run_grpo(data_args: DataArguments, config, model_args, callbacks: Sequence | None = None):
    """Train (resuming if there is a checkpoint) and save to output_dir; returns the trainer."""
    trainer = build_grpo_trainer(data_args, config, model_args, callbacks)
    return train_and_save(trainer, config, data_args.auto_resume)


def make_parser_types():
    """The dataclasses the command line is parsed into: (DataArguments, GRPOConfig, ModelConfig)."""
    from trl import GRPOConfig, ModelConfig

    return (DataArguments, GRPOConfig, ModelConfig)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """`ssrl train grpo`: parse `argv` (a config file and/or flags), train; returns 0, or 2 on a setup error."""
    return cli_main(make_parser_types(), run_grpo, argv, prog)


if __name__ == "__main__":
    raise SystemExit(main())
