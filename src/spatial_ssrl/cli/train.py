"""`ssrl train sft|grpo|merge`: training, thin layers over TRL; every option after the subcommand goes to
its own parser (TRL's `--config file.yaml` plus `--key value`; `ssrl train sft --help` lists them)."""

from __future__ import annotations

import argparse

from spatial_ssrl.cli._args import add_import_argument

SUBCOMMANDS = {
    "sft": ("spatial_ssrl.train.sft", "supervised cold start (TRL SFTTrainer); --config configs/sft/tiny-cpu.yaml"),
    "grpo": ("spatial_ssrl.train.grpo", "GRPO with the task rewards (TRL GRPOTrainer); --config configs/grpo/..."),
    "merge": ("spatial_ssrl.train.merge", "merge a LoRA into a full model folder (ADAPTER_DIR OUT_DIR)"),
}
EXAMPLES = """examples:
  ssrl train sft   --config sft/tiny-cpu  [--key value ...]   supervised cold start (TRL SFTTrainer)
  ssrl train grpo  --config grpo/tiny-cpu [--key value ...]   GRPO with the task rewards (TRL GRPOTrainer)
  ssrl train merge ADAPTER_DIR OUT_DIR                        merge a LoRA into a full model folder
docs/training.md has recipes."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `train` with its three subcommands; their options are parsed by the training modules."""
    parser = subparsers.add_parser(
        "train",
        help="train a model: sft (cold start), grpo, merge (LoRA -> full model); see docs/training.md",
        description="Training commands. `ssrl train sft --help` lists every option (ours, TRL's config and "
        "ModelConfig); `--config` also takes a shipped config by name, e.g. `--config grpo/tiny-cpu`.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train_commands = parser.add_subparsers(dest="train_command", required=True, metavar="{sft,grpo,merge}")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub = train_commands.add_parser(name, help=help_text, add_help=False)  # --help reaches the trainer's parser
        if name != "merge":
            add_import_argument(sub)
        sub.set_defaults(passthrough=True)
    return parser


def run(args: argparse.Namespace) -> int:
    """Hand the remaining arguments to the chosen training module's `main`."""
    import importlib

    module, _ = SUBCOMMANDS[args.train_command]
    return importlib.import_module(module).main(args.rest, prog=f"ssrl train {args.train_command}")
