"""Setup shared by `run_sft` and `run_grpo`: argument parsing, the processor's pixel bounds, model loading
options, LoRA config and resuming."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from spatial_ssrl.engine.loader import TaskImportError, import_task_modules
from spatial_ssrl.train.checks import TrainingSetupError, check_hardware
from spatial_ssrl.train.configs import resolve_config_argument

T = TypeVar("T")


def parse_args(dataclass_types: Sequence[type], argv: Sequence[str] | None = None, prog: str | None = None):
    """TRL-style parsing: `--config file.yaml` sets defaults, `--key value` overrides them. A GPU-only option on a
    machine without a GPU raises TrainingSetupError naming it (transformers would fail with a generic message)."""
    from trl import TrlParser

    parser = TrlParser(list(dataclass_types), prog=prog)
    try:
        args = resolve_config_argument(sys.argv[1:] if argv is None else argv)
    except FileNotFoundError as exc:
        raise TrainingSetupError(str(exc)) from None
    try:
        return parser.parse_args_and_config(args)
    except ValueError as exc:
        # The config defaults are already set on the parser: read the raw values without building the
        # dataclasses (whose validation raised) and explain GPU-only options.
        rest = list(args)
        if "--config" in rest:
            i = rest.index("--config")
            del rest[i : i + 2]
        values = vars(parser.parse_known_args(rest)[0])
        if values.get("bf16") is None and not values.get("fp16") and "bf16" in values:
            values["bf16"] = True  # TRL's configs turn bf16 on when it is left unset
        check_hardware(values)
        raise TrainingSetupError(str(exc)) from exc


def on_main_first(config, fn: Callable[[], T]) -> T:
    """Run `fn` (data export + loading) so that concurrent processes never write the same files: the global main
    process runs it first (on shared storage everyone else then reuses its files), then each node's local main,
    then the other processes of that node (node-local disks get one export per node)."""
    from accelerate import PartialState

    state = PartialState()
    if state.num_processes > 1:
        if state.is_main_process:
            fn()
        state.wait_for_everyone()
    with config.main_process_first(local=True, desc="prepare data"):
        return fn()


def set_pixel_bounds(processor, min_pixels: int | None, max_pixels: int | None) -> None:
    """Set Qwen-style pixel bounds (`size.shortest_edge` / `size.longest_edge`) on the processor's image processor."""
    if min_pixels is None and max_pixels is None:
        return
    ip = getattr(processor, "image_processor", None)
    size = getattr(ip, "size", None)
    if ip is None or size is None or "longest_edge" not in dict(size):
        raise TrainingSetupError(
            f"min_pixels/max_pixels need a Qwen-style image processor with pixel bounds; {type(ip).__name__} has none"
        )
    bounds = dict(size)
    if min_pixels is not None:
        bounds["shortest_edge"] = int(min_pixels)
    if max_pixels is not None:
        bounds["longest_edge"] = int(max_pixels)
    if bounds["shortest_edge"] > bounds["longest_edge"]:
        raise TrainingSetupError(f"min_pixels {bounds['shortest_edge']} exceeds max_pixels {bounds['longest_edge']}")
    ip.size = type(size)(**bounds) if not isinstance(size, dict) else bounds


def load_processor(model_args, data_args, trust_remote_code: bool = False):
    """The model's AutoProcessor with the data arguments' pixel bounds applied."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(
        model_args.model_name_or_path, revision=model_args.model_revision, trust_remote_code=trust_remote_code
    )
    set_pixel_bounds(processor, data_args.min_pixels, data_args.max_pixels)
    return processor


def model_init_kwargs(model_args, config) -> dict:
    """from_pretrained options from ModelConfig, merged under the config's own `model_init_kwargs`."""
    kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": getattr(config, "trust_remote_code", False),
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
    }
    extra = config.model_init_kwargs
    if isinstance(extra, dict):
        kwargs.update(extra)
    return kwargs


def peft_config(model_args):
    """TRL's LoRA config from ModelConfig; `all-linear` may come as a string or a one-item list."""
    from trl import get_peft_config

    targets = model_args.lora_target_modules
    if isinstance(targets, (list, tuple)) and len(targets) == 1:
        model_args.lora_target_modules = targets[0]
    return get_peft_config(model_args)


def require_model(model_args) -> str:
    """The model name or path; TrainingSetupError when none was given."""
    if not model_args.model_name_or_path:
        raise TrainingSetupError(
            "no model: pass --model_name_or_path (a hub id or a local folder; `ssrl tiny-model OUT` builds a tiny "
            "offline one)"
        )
    return model_args.model_name_or_path


_NO = ("false", "no", "none", "0", "")


def resolve_resume(config, auto_resume: bool = True) -> str | None:
    """The checkpoint to resume from: `resume_from_checkpoint` if it is a path; the last checkpoint in output_dir
    if it is "true"/"last", or if it is unset, `auto_resume` is on and output_dir has one; None for "false"."""
    from transformers.trainer_utils import get_last_checkpoint

    value = config.resume_from_checkpoint
    out = Path(config.output_dir)
    if value is None and not auto_resume or isinstance(value, str) and value.strip().lower() in _NO:
        return None
    if value is None or str(value).strip().lower() in ("true", "last", "yes", "1"):
        last = get_last_checkpoint(str(out)) if out.is_dir() else None
        if last is None and value is not None:
            raise TrainingSetupError(f"resume_from_checkpoint={value!r}, but {out} holds no checkpoint-* folder")
        return last
    if not Path(value).is_dir():
        raise TrainingSetupError(f"resume_from_checkpoint {value} is not a checkpoint folder")
    return str(value)


def announce_resume(trainer, checkpoint: str | None) -> None:
    """Print which checkpoint (and global step) training resumes from, if any."""
    if checkpoint is None:
        return
    import json

    step = "?"
    state = Path(checkpoint) / "trainer_state.json"
    if state.exists():
        step = json.loads(state.read_text()).get("global_step", "?")
    trainer.accelerator.print(f"Resuming from {checkpoint} (global step {step}).")


def train_and_save(trainer, config, auto_resume: bool = True):
    """Train (from the checkpoint `resolve_resume` picks, if any) and save the final model to output_dir."""
    checkpoint = resolve_resume(config, auto_resume)
    announce_resume(trainer, checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(config.output_dir)
    trainer.accelerator.print(f"Model saved to {config.output_dir}.")
    return trainer


def load_datasets(data_args, config, kind: str):
    """Prepare (export if needed) and load the train and validation splits for `kind` ("sft" or "grpo"),
    on the main process first; returns (files, train, eval_or_None) with clear errors for empty data."""
    from spatial_ssrl.train.data import load_split, prepare_files

    evaluate = config.eval_strategy != "no"

    def load():
        files = prepare_files(data_args, config.output_dir, kind, seed=config.seed)
        train = load_split(files.train, data_args, kind, train=True, exported=files.train_exported, seed=config.seed)
        eval_ds = None
        if evaluate and files.eval is not None:
            eval_ds = load_split(files.eval, data_args, kind, train=False, exported=files.eval_exported)
        return files, train, eval_ds

    files, train, eval_ds = on_main_first(config, load)
    if evaluate and eval_ds is None:
        raise TrainingSetupError(
            f"eval_strategy={config.eval_strategy.value} but there is no validation data: pass --eval_file, use a "
            "dataset folder with a validation split as --train_file, or set --eval_strategy no"
        )
    if len(train) == 0:
        raise TrainingSetupError(f"{files.train}: no training rows left (check --tasks)")
    return files, train, eval_ds


def use_caller_progress(trainer, callbacks: Sequence | None) -> None:
    """A caller's `ProgressCallback` subclass (the demo's compact bar) replaces transformers' default bar or
    printer, which would otherwise also print every log dict."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    if any(isinstance(cb, ProgressCallback) for cb in callbacks or []):
        for cb in list(trainer.callback_handler.callbacks):
            if type(cb) in (ProgressCallback, PrinterCallback):
                trainer.remove_callback(cb)


def cli_main(parser_types, run, argv=None, prog=None) -> int:
    """Shared entry point of `ssrl train sft|grpo`: parse, import the task modules named by `task_modules`, run,
    and turn setup errors into exit code 2."""
    try:
        data_args, config, model_args = parse_args(parser_types, argv, prog)
        import_task_modules(data_args.task_modules)
        trainer = run(data_args, config, model_args)
    except (TrainingSetupError, TaskImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    trainer.accelerator.end_training()
    return 0
