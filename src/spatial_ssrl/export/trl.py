"""TRL export.

GRPO (`{split}.parquet`): a conversational `prompt`, one user message whose content is structured
parts: every `<image>` placeholder of the problem becomes a `{"type": "image"}` part at its place and
the text around it `{"type": "text", "text": ...}` parts, the format instruction appended to the last
text part. TRL fills the image parts, in order, from the `images` column (it checks that the counts
match). Every other column (`answer`, `answer_type`, `task`, `variant`, `options`, `id`) reaches the
reward functions as a keyword argument: use `spatial_ssrl.rewards.trl.reward_funcs()`.

SFT (cold start, `SftWriter`): `messages` = that user message plus an assistant message holding the
response, with `images`; the layout TRL's SFTTrainer takes for vision-language models.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from spatial_ssrl.contract import resolve_format_prompt, user_message
from spatial_ssrl.export.common import CONTENT_PART, IMAGES_TYPE, ParquetSink, hf_schema, rows_of, splits_present

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.list_(CONTENT_PART))])
"""Arrow type of one chat message whose content is a list of image / text parts."""
SCHEMA = hf_schema(
    [
        ("prompt", pa.list_(MESSAGE)),
        ("images", IMAGES_TYPE),
        ("answer", pa.string()),
        ("answer_type", pa.string()),
        ("task", pa.string()),
        ("variant", pa.string()),
        ("options", pa.string()),
        ("id", pa.string()),
    ]
)
"""Columns of a GRPO parquet file (conversational `prompt`, the reward's columns)."""
SFT_SCHEMA = hf_schema(
    [
        ("messages", pa.list_(MESSAGE)),
        ("images", IMAGES_TYPE),
        ("id", pa.string()),
        ("task", pa.string()),
        ("answer", pa.string()),
    ]
)
"""Columns of a cold-start SFT parquet file (`messages` with the response, `images`)."""


def row_message(row: dict, format_prompt: str) -> dict:
    """The user message of a dataset row (its problem and images), the instruction appended."""
    return user_message(row["problem"], len(row["images"]), format_prompt)


def convert(row: dict, format_prompt: str) -> dict:
    """One GRPO record from a dataset row, `format_prompt` appended to the user message."""
    return {
        "prompt": [row_message(row, format_prompt)],
        "images": row["images"],
        "answer": row["answer"],
        "answer_type": row["answer_type"],
        "task": row["task"],
        "variant": row["variant"],
        "options": row["options"],
        "id": row["id"],
    }


def write(dataset_dir: Path, out_dir: Path, splits: tuple[str, ...], format_prompt: str | None = None) -> list[Path]:
    """Write `{split}.parquet` for each of `splits` the dataset has; None = the default format instruction.

    Returns:
        The files written.

    Raises:
        FileNotFoundError: the dataset has no shards.
    """
    instruction = resolve_format_prompt(format_prompt)
    written: list[Path] = []
    for split in splits_present(dataset_dir, splits):
        with ParquetSink(out_dir / f"{split}.parquet", SCHEMA) as sink:
            for row in rows_of(dataset_dir, split):
                sink.add(convert(row, instruction))
            written.append(sink.commit())
    return written


class SftWriter(ParquetSink):
    """Conversational SFT parquet: `messages` (user prompt with image parts, assistant response), `images`."""

    def __init__(self, path: Path, format_prompt: str | None = None) -> None:
        super().__init__(path, SFT_SCHEMA)
        self.format_prompt = resolve_format_prompt(format_prompt)

    def add_response(self, row: dict, response: str) -> None:
        """Add a dataset row with `response` as the assistant message."""
        assistant = {"role": "assistant", "content": [{"type": "text", "text": response}]}
        self.add(
            {
                "messages": [row_message(row, self.format_prompt), assistant],
                "images": row["images"],
                "id": row["id"],
                "task": row["task"],
                "answer": row["answer"],
            }
        )
