"""Merge a LoRA adapter into its base model and save a full model folder (weights + processor).

    merge_lora("runs/sft", "runs/sft/merged")       # ssrl train merge runs/sft runs/sft/merged

The paper's cold start trains LoRA rank 128 on all modules and merges it before GRPO; the merged folder loads
with `AutoModelForImageTextToText.from_pretrained` and is the `model_name_or_path` of the GRPO config.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spatial_ssrl.train.checks import TrainingSetupError


def merge_lora(adapter_dir, out_dir, base_model: str | None = None, dtype: str | None = None) -> Path:
    """Load the base model named in the adapter's config (or `base_model`), apply the adapter, fold it into the
    weights with peft's `merge_and_unload()`, and save model + processor to `out_dir`.

    Returns:
        `out_dir`, which also gets `spatial_ssrl_merge.json` naming the base model and the adapter.

    Raises:
        TrainingSetupError: `adapter_dir` has no adapter_config.json.
    """
    import torch
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForImageTextToText, AutoProcessor

    adapter = Path(adapter_dir)
    if not (adapter / "adapter_config.json").exists():
        raise TrainingSetupError(f"{adapter} has no adapter_config.json: not a LoRA output (was use_peft on?)")
    base = base_model or PeftConfig.from_pretrained(adapter).base_model_name_or_path
    kwargs = {"dtype": getattr(torch, dtype)} if dtype and dtype != "auto" else {"dtype": "auto"}
    model = AutoModelForImageTextToText.from_pretrained(base, **kwargs)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out)
    try:  # the trainer saves the processor (with its pixel bounds) next to the adapter
        processor = AutoProcessor.from_pretrained(adapter)
    except (OSError, ValueError, TypeError):
        processor = AutoProcessor.from_pretrained(base)
    processor.save_pretrained(out)
    (out / "spatial_ssrl_merge.json").write_text(json.dumps({"base_model": str(base), "adapter": str(adapter)}))
    return out


def main(argv: list[str] | None = None, prog: str = "python -m spatial_ssrl.train.merge") -> int:
    """Command line of `merge_lora`; prints the merged folder. Returns 0, or 2 on a setup error."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("adapter_dir", help="folder with adapter_config.json (an SFT output_dir with use_peft)")
    parser.add_argument("out_dir", help="where the full model folder goes")
    parser.add_argument("--base-model", default=None, help="base model (default: the one named in the adapter)")
    parser.add_argument("--dtype", default=None, choices=["auto", "float32", "bfloat16", "float16"])
    args = parser.parse_args(argv)
    try:
        print(merge_lora(args.adapter_dir, args.out_dir, args.base_model, args.dtype))
    except TrainingSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
