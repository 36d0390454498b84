"""`DataArguments`: our side of a training config, parsed next to TRL's `SFTConfig`/`GRPOConfig` and `ModelConfig`.

    parser = TrlParser((DataArguments, GRPOConfig, ModelConfig))
    data_args, grpo_config, model_args = parser.parse_args_and_config()   # --config file.yaml + --key value

Every field is a YAML key and a `--flag` (docs/training.md lists the shipped configs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spatial_ssrl.dataset.coldstart import DEFAULT_FRACTION, REASONING_STYLES, check_reasoning


@dataclass
class DataArguments:
    """Data, prompt, image and output options of `ssrl train sft` / `ssrl train grpo`."""

    train_file: str | None = field(
        default=None,
        metadata={
            "help": "Training data: a parquet file (GRPO: `ssrl export D trl OUT` -> OUT/train.parquet; SFT: "
            "`ssrl coldstart D OUT` -> OUT/spatial_ssrl_coldstart.parquet) or a dataset folder from `ssrl generate`, "
            "which is exported on the fly into `data_dir`."
        },
    )
    eval_file: str | None = field(
        default=None,
        metadata={
            "help": "Held-out data for validation during training (same layouts as train_file). Default: the "
            "validation split when train_file is a dataset folder, or validation.parquet next to train_file."
        },
    )
    data_dir: str | None = field(
        default=None,
        metadata={"help": "Where on-the-fly exports of a dataset folder go (default: <output_dir>/data)."},
    )
    format_prompt: str | None = field(
        default=None,
        metadata={
            "help": "Format instruction appended to every question. None: the project's default (think, then "
            "\\boxed{}); '': none; any other text replaces the default instruction."
        },
    )
    min_pixels: int | None = field(
        default=None, metadata={"help": "Lower pixel bound of an image after resizing (image processor)."}
    )
    max_pixels: int | None = field(
        default=None,
        metadata={"help": "Upper pixel bound of an image after resizing; lower it when prompts get too long."},
    )
    max_prompt_length: int | None = field(
        default=None,
        metadata={
            "help": "Longest prompt in tokens, images included (the paper: 4096). Checked before training starts; "
            "None: the model's context minus the completion length."
        },
    )
    task_modules: list[str] | None = field(
        default=None,
        metadata={
            "help": "Modules or .py files registering extra tasks, imported before the data is prepared (in every "
            "process, so it works under `accelerate launch`); `ssrl train --import X` does the same in one process."
        },
    )
    tasks: list[str] | None = field(
        default=None, metadata={"help": "Train and validate on these tasks only (default: all in the data)."}
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Use at most this many training rows (a seeded random subset)."}
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use at most this many validation rows (a seeded random subset)."}
    )
    coldstart_fraction: float = field(
        default=DEFAULT_FRACTION,
        metadata={"help": "SFT from a dataset folder: share of its train split in the cold-start set (paper 0.044)."},
    )
    coldstart_reasoning: str = field(
        default="full",
        metadata={
            "help": "SFT from a dataset folder: what the <think> block of each response holds. 'full': the "
            "construction evidence (the paper's cold start); 'brief': one sentence naming the answer, so a small "
            "model trained from scratch spends its steps on the answer (docs/evidence.md).",
            "choices": list(REASONING_STYLES),
        },
    )
    partial_credit: bool = field(
        default=False,
        metadata={"help": "GRPO: ordering answers earn the fraction of positions they get right."},
    )
    per_task_metrics: bool = field(
        default=True, metadata={"help": "GRPO: log reward, accuracy and format per task as well as overall."}
    )
    eval_temperature: float | None = field(
        default=None,
        metadata={"help": "GRPO: sampling temperature during validation (paper 0.6; default: the training one)."},
    )
    eval_top_p: float | None = field(
        default=None, metadata={"help": "GRPO: top-p during validation (paper 0.95; default: the training one)."}
    )
    merge_lora: bool = field(
        default=False,
        metadata={"help": "SFT with use_peft: merge the LoRA into a full model folder after training."},
    )
    merged_dir: str | None = field(
        default=None, metadata={"help": "Where the merged model goes (default: <output_dir>/merged)."}
    )
    metrics_plots: bool = field(
        default=True, metadata={"help": "Draw PNG curves of the logged metrics into <output_dir>/plots at the end."}
    )
    auto_resume: bool = field(
        default=True,
        metadata={
            "help": "Resume from the last checkpoint in output_dir when resume_from_checkpoint is not given "
            "(an interrupted run continues where it stopped)."
        },
    )

    def __post_init__(self) -> None:
        # argparse checks `choices` for flags only; a YAML config's value arrives here unchecked
        try:
            check_reasoning(self.coldstart_reasoning)
        except ValueError as exc:
            raise ValueError(f"coldstart_{exc}") from None
