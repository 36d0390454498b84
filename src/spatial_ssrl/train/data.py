"""Training data: our parquet exports, or a dataset folder from `ssrl generate` exported on the fly.

- GRPO reads the TRL export (`spatial_ssrl.export`, format "trl"): a conversational `prompt` with image parts,
  `images`, and `answer` / `answer_type` / `task` / `options` for the rewards.
- SFT reads the cold-start set (`spatial_ssrl.export.coldstart.write_coldstart`): `messages` + `images`. It trains on
  the response only: the messages are split into TRL's prompt/completion layout, as LLaMA-Factory does by default.
  A dataset folder's validation split gets the same construction-based responses, for the validation loss.

A folder is exported once into `<data_dir>/{grpo,sft}` with a `source.json` naming what it was made from; a later
run (a resumed one, or every rank of a distributed one) reuses it while the dataset and options are unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from spatial_ssrl.contract import DEFAULT_FORMAT_PROMPT, with_format_prompt
from spatial_ssrl.dataset.schema import shard_paths
from spatial_ssrl.train.checks import TrainingSetupError, check_columns


@dataclass
class DataFiles:
    """The parquet files a run trains and validates on (`prepare_files`); `eval` is None without validation."""

    train: Path
    eval: Path | None
    train_exported: bool = False  # written here with the format instruction already applied
    eval_exported: bool = False


def is_dataset_dir(path) -> bool:
    """True when `path` is a dataset folder made by `ssrl generate` (it has shards under data/)."""
    return Path(path).is_dir() and bool(shard_paths(path))


def _fingerprint(dataset_dir: Path, **options) -> dict:
    shards = [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in shard_paths(dataset_dir)]
    return json.loads(json.dumps({"dataset": str(dataset_dir.resolve()), "shards": shards, **options}))


def _reuse(out: Path, fingerprint: dict, files: list[Path]) -> bool:
    marker = out / "source.json"
    if not marker.exists() or not all(f.exists() for f in files):
        return False
    try:
        return json.loads(marker.read_text()) == fingerprint
    except ValueError:
        return False


def _data_dir(data_args, output_dir: str) -> Path:
    return Path(data_args.data_dir) if data_args.data_dir else Path(output_dir) / "data"


def _require(path: str | None, what: str) -> Path:
    if not path:
        raise TrainingSetupError(f"no {what}: pass --{what} (a parquet export or a dataset folder)")
    p = Path(path)
    if not p.exists():
        raise TrainingSetupError(f"{what} {p} does not exist")
    if p.is_dir() and not is_dataset_dir(p):
        raise TrainingSetupError(
            f"{what} {p} is a folder without data/<split>-*.parquet shards: pass a parquet file or a folder made by "
            "`ssrl generate`"
        )
    return p


def _sibling_validation(train: Path) -> Path | None:
    candidate = train.with_name("validation.parquet")
    return candidate if candidate.exists() and candidate != train else None


def export_grpo(dataset_dir: Path, out: Path, format_prompt: str | None) -> tuple[Path, Path | None]:
    """The TRL export of a dataset folder's train and validation splits (reused while unchanged)."""
    from spatial_ssrl.export import export

    fingerprint = _fingerprint(dataset_dir, kind="grpo", format_prompt=format_prompt)
    train, val = out / "train.parquet", out / "validation.parquet"
    if not _reuse(out, fingerprint, [train]):
        export(dataset_dir, "trl", out, splits=["train", "validation"], format_prompt=format_prompt)
        (out / "source.json").write_text(json.dumps(fingerprint, indent=1))
    return train, (val if val.exists() else None)


def _write_validation_coldstart(dataset_dir: Path, path: Path, format_prompt: str | None, reasoning: str) -> int:
    """Validation rows with their construction-based responses, in the cold-start SFT layout."""
    from spatial_ssrl.dataset.coldstart import NoTemplate, response_for
    from spatial_ssrl.dataset.schema import read_rows
    from spatial_ssrl.export.trl import SftWriter

    n = 0
    with SftWriter(path, format_prompt) as sink:
        for row in read_rows(dataset_dir, "validation"):
            try:
                sink.add_response(row, response_for(row, reasoning))
            except (NoTemplate, ValueError):  # a task without a template, or meta disagreeing with the answer
                continue
            n += 1
        sink.commit()
    return n


def export_sft(
    dataset_dir: Path, out: Path, format_prompt: str | None, fraction: float, seed: int = 0, reasoning: str = "full"
) -> tuple[Path, Path | None]:
    """The cold-start set of a dataset folder and its validation split with template responses (reused)."""
    from spatial_ssrl.dataset.coldstart import NAME
    from spatial_ssrl.export.coldstart import write_coldstart

    fingerprint = _fingerprint(
        dataset_dir, kind="sft", format_prompt=format_prompt, fraction=fraction, seed=seed, reasoning=reasoning
    )
    train, val = out / f"{NAME}.parquet", out / "validation.parquet"
    if not _reuse(out, fingerprint, [train]):
        write_coldstart(dataset_dir, out, fraction, seed=seed, format_prompt=format_prompt, reasoning=reasoning)
        if shard_paths(dataset_dir, "validation"):
            _write_validation_coldstart(dataset_dir, val, format_prompt, reasoning)
        (out / "source.json").write_text(json.dumps(fingerprint, indent=1))
    return train, (val if val.exists() else None)


def prepare_files(data_args, output_dir: str, kind: str, seed: int = 0) -> DataFiles:
    """Parquet files for `kind` ("grpo" or "sft"); dataset folders are exported into the data dir first.
    Call it under `training_args.main_process_first()` in distributed runs."""

    def from_folder(folder: Path, sub: str) -> tuple[Path, Path | None]:
        out = _data_dir(data_args, output_dir) / sub
        if kind == "grpo":
            return export_grpo(folder, out, data_args.format_prompt)
        return export_sft(
            folder, out, data_args.format_prompt, data_args.coldstart_fraction, seed, data_args.coldstart_reasoning
        )

    train = _require(data_args.train_file, "train_file")
    if train.is_dir():
        train_path, eval_path = from_folder(train, kind)
        files = DataFiles(train_path, eval_path, True, eval_path is not None)
    else:
        files = DataFiles(train, _sibling_validation(train))
    if data_args.eval_file:
        path = _require(data_args.eval_file, "eval_file")
        if path.is_dir():  # a dataset folder as eval_file: its validation split
            files.eval, files.eval_exported = from_folder(path, f"{kind}-eval")[1], True
            if files.eval is None:
                raise TrainingSetupError(f"eval_file {path} has no validation split")
        else:
            files.eval, files.eval_exported = path, False
    return files


# ---------------------------------------------------------------------------- loading


def _without_default(text: str) -> str:
    return text[: -len(DEFAULT_FORMAT_PROMPT)].rstrip() if text.endswith(DEFAULT_FORMAT_PROMPT) else text


def replace_format_prompt(messages: list[dict], format_prompt: str) -> list[dict]:
    """`messages` with the format instruction of the first user message's last text part replaced: our default
    instruction is removed if present, then `format_prompt` ("" = none) is appended."""
    out = [dict(m) for m in messages]
    for m in out:
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = with_format_prompt(_without_default(content), format_prompt)
            return out
        parts = [dict(p) for p in content]
        texts = [i for i, p in enumerate(parts) if p.get("type") == "text" and p.get("text") is not None]
        if texts:
            last = parts[texts[-1]]
            last["text"] = with_format_prompt(_without_default(last["text"]), format_prompt)
        elif format_prompt:
            parts.append({"type": "text", "text": format_prompt})
        m["content"] = parts
        return out
    return out


def load_parquet(path: Path):
    """One parquet file as a `datasets.Dataset`."""
    from datasets import load_dataset

    return load_dataset("parquet", data_files=str(path), split="train")


def load_split(path: Path, data_args, kind: str, *, train: bool, exported: bool = False, seed: int = 0):
    """Load one parquet for `kind` ("grpo"/"sft"): column check, task filter, sample cap, the format instruction
    (unless `exported` here with it already), and for SFT the prompt/completion split."""
    ds = load_parquet(path)
    check_columns(ds.column_names, kind, str(path))
    if data_args.tasks:
        wanted = set(data_args.tasks)
        if "task" not in ds.column_names:
            raise TrainingSetupError(f"--tasks given, but {path} has no 'task' column")
        present = set(ds.unique("task"))
        if not wanted & present:
            raise TrainingSetupError(f"{path} has none of the tasks {sorted(wanted)}; it has {sorted(present)}")
        ds = ds.filter(lambda t: t in wanted, input_columns="task")
    cap = data_args.max_train_samples if train else data_args.max_eval_samples
    if cap is not None and cap < len(ds):
        ds = ds.shuffle(seed=seed).select(range(cap))
    column = "prompt" if "prompt" in ds.column_names else "messages"
    if data_args.format_prompt is not None and not exported:
        fp = data_args.format_prompt
        ds = ds.map(lambda m: {column: replace_format_prompt(m, fp)}, input_columns=column)
    if kind == "sft" and "messages" in ds.column_names:
        ds = ds.map(_split_messages, input_columns="messages", remove_columns=["messages"])
    return ds


def _split_messages(messages: list[dict]) -> dict:
    """Conversation -> TRL prompt/completion: the last assistant message is the completion."""
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None:
        raise TrainingSetupError("an SFT conversation has no assistant message")
    return {"prompt": messages[:last], "completion": messages[last:]}
