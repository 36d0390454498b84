"""`ssrl train sft`: the supervised cold start, a thin layer over TRL's `SFTTrainer`.

    ssrl train sft --config configs/sft/tiny-cpu.yaml --model_name_or_path tiny --train_file out/ds
    python -m spatial_ssrl.train.sft --config configs/sft/qwen2_5_vl_7b.yaml        # same thing
    accelerate launch --config_file configs/accelerate/ddp.yaml -m spatial_ssrl.train.sft --config ...

Trains on the cold-start set (`messages` + `images`, see spatial_ssrl.dataset.coldstart) with the loss on the responses
only, validates on the held-out split, writes checkpoints, resumes from the last one, logs to `report_to` plus
`metrics.jsonl` and PNG curves, and with `use_peft` + `merge_lora` merges the LoRA into `<output_dir>/merged`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spatial_ssrl.train.args import DataArguments
from spatial_ssrl.train.checks import check_hardware, check_prompt_length, prompt_rows
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


def build_sft_trainer(data_args: DataArguments, config, model_args, callbacks: Sequence | None = None):
    """An `SFTTrainer` with our data, processor, checks and metrics callback (not yet trained)."""
    from trl import SFTTrainer

    model = require_model(model_args)
    check_hardware(config, model_args)

    _, train, eval_ds = load_datasets(data_args, config, "sft")
    processor = load_processor(model_args, data_args, config.trust_remote_code)
    limit = config.max_length
    check_prompt_length(prompt_rows(train), processor, limit, "max_length")
    config.model_init_kwargs = model_init_kwargs(model_args, config)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train,
        eval_dataset=eval_ds,
        processing_class=processor,
        peft_config=peft_config(model_args),
        callbacks=[MetricsCallback(config.output_dir, data_args.metrics_plots), *(callbacks or [])],
    )
    use_caller_progress(trainer, callbacks)
    return trainer


def run_sft(data_args: DataArguments, config, model_args, callbacks: Sequence | None = None):
    """Train (resuming if there is a checkpoint), save to output_dir, merge the LoRA if asked; returns the trainer."""
    trainer = build_sft_trainer(data_args, config, model_args, callbacks)
    train_and_save(trainer, config, data_args.auto_resume)
    if data_args.merge_lora:
        if not model_args.use_peft:
            trainer.accelerator.print("merge_lora ignored: use_peft is off, the output is already a full model.")
        else:
            from spatial_ssrl.train.merge import merge_lora

            target = Path(data_args.merged_dir or Path(config.output_dir) / "merged")
            trainer.accelerator.wait_for_everyone()
            if trainer.accelerator.is_main_process:
                merge_lora(config.output_dir, target)
                trainer.accelerator.print(f"Merged model saved to {target}.")
            trainer.accelerator.wait_for_everyone()
    return trainer


def make_parser_types():
    """The dataclasses the command line is parsed into: (DataArguments, SFTConfig, ModelConfig)."""
    from trl import ModelConfig, SFTConfig

    return (DataArguments, SFTConfig, ModelConfig)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """`ssrl train sft`: parse `argv` (a config file and/or flags), train; returns 0, or 2 on a setup error."""
    return cli_main(make_parser_types(), run_sft, argv, prog)


if __name__ == "__main__":
    raise SystemExit(main())
