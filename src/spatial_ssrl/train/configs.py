"""The training configs shipped with the package (`spatial_ssrl/configs/{sft,grpo,accelerate}/*.yaml`).

`--config` takes a file path or the name of a shipped config, e.g. `--config grpo/tiny-cpu` or
`--config grpo/qwen2_5_vl_7b.yaml`, so a pip install has the paper's recipes without a clone (in a clone,
`configs/` at the top links to the same files). `load_config` reads one as the dataclasses a trainer takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any


def shipped_configs() -> list[str]:
    """Names of the shipped configs, e.g. "grpo/tiny-cpu"."""
    root = resources.files("spatial_ssrl") / "configs"
    return sorted(f"{d.name}/{f.name[:-5]}" for d in root.iterdir() if d.is_dir() for f in d.iterdir()
                  if f.name.endswith(".yaml"))  # fmt: skip


def config_path(name: str) -> Path:
    """The file of config `name`: an existing path as given, else a shipped config ("grpo/tiny-cpu[.yaml]").

    Raises:
        FileNotFoundError: neither a file nor a shipped config; the message lists the shipped ones.
    """
    if Path(name).is_file():
        return Path(name)
    stem = name.removeprefix("configs/").removesuffix(".yaml")
    candidate = Path(str(resources.files("spatial_ssrl") / "configs" / f"{stem}.yaml"))
    if candidate.is_file():
        return candidate
    raise FileNotFoundError(f"config {name!r} is neither a file nor a shipped config ({', '.join(shipped_configs())})")


def resolve_config_argument(argv: Sequence[str]) -> list[str]:
    """`argv` with the value of `--config NAME` / `--config=NAME` replaced by the config's file path."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--config" and i + 1 < len(out):
            out[i + 1] = str(config_path(out[i + 1]))
        elif arg.startswith("--config="):
            out[i] = f"--config={config_path(arg.split('=', 1)[1])}"
    return out


def load_config(name: str, dataclass_types: Sequence[type], **overrides: Any) -> tuple:
    """Config `name` (a path or a shipped name) with `overrides` applied, as instances of `dataclass_types`
    (e.g. DataArguments, GRPOConfig, ModelConfig): what `--config NAME --key value ...` gives on the command line.
    Every key must belong to one of the dataclasses."""
    import yaml
    from transformers import HfArgumentParser

    values = yaml.safe_load(config_path(name).read_text()) or {}
    values.update(overrides)
    return HfArgumentParser(list(dataclass_types)).parse_dict(values, allow_extra_keys=False)
