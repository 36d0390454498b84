"""Write the cold-start SFT set: LLaMA-Factory alpaca JSON + images + dataset_info.json (dataset
`spatial_ssrl_coldstart`) and a TRL SFT parquet (`spatial_ssrl_coldstart.parquet`).

Rows are chosen by `dataset.coldstart.select_coldstart`, responses come from each task's cold-start
template (`dataset.coldstart.response_for`) or from a `responder`, and every response is scored with
the reward before it is written: one that does not score 1.0 is dropped (unless `validate=False`).
Rows of a task without a template are skipped and counted, never a crash.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from spatial_ssrl.contract import resolve_format_prompt
from spatial_ssrl.dataset.coldstart import (
    DEFAULT_FRACTION,
    NAME,
    Responder,
    check_reasoning,
    has_template,
    response_for,
    select_coldstart,
)
from spatial_ssrl.dataset.schema import read_rows
from spatial_ssrl.export.llamafactory import AlpacaWriter, update_dataset_info
from spatial_ssrl.export.trl import SftWriter
from spatial_ssrl.rewards.score import score


def write_coldstart(
    dataset_dir,
    out_dir,
    fraction: float = DEFAULT_FRACTION,
    responder: Responder | None = None,
    *,
    seed: int = 0,
    format_prompt: str | None = None,
    validate: bool = True,
    reasoning: str = "full",
) -> dict:
    """Write the cold-start set of `dataset_dir` into `out_dir`.

    Args:
        dataset_dir: a folder written by `ssrl generate`.
        out_dir: where the files go (created if needed).
        fraction: share of the train split to use (the paper: 0.044).
        responder: `(row) -> response` replacing the templates (its errors propagate).
        seed: seed of the row selection.
        format_prompt: instruction appended to each question (None: the default; "": none).
        validate: drop responses whose reward is below 1.0.
        reasoning: template responses' `<think>` style: "full" (the construction evidence) or "brief" (one
            sentence naming the answer); ignored with a responder.

    Returns:
        A summary: files written, rows selected and written, counts per task, rows dropped by reason
        (`meta_mismatch`, `reward_below_1`) and rows skipped because their task has no template.
    """
    check_reasoning(reasoning)  # before anything is written
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = set(select_coldstart(dataset_dir, fraction, seed))
    respond = responder or (lambda row: response_for(row, reasoning))
    per_task: Counter = Counter()
    dropped: Counter = Counter()
    no_template: Counter = Counter()
    instruction = resolve_format_prompt(format_prompt)
    with AlpacaWriter(out, NAME, instruction) as alpaca, SftWriter(out / f"{NAME}.parquet", instruction) as sft:
        for row in read_rows(dataset_dir, "train"):
            if row["id"] not in chosen:
                continue
            if responder is None and not has_template(row["task"]):
                no_template[row["task"]] += 1
                continue
            try:
                response = respond(row)
            except ValueError:  # the template found meta and answer disagreeing: never train on it
                if responder is not None:
                    raise
                dropped["meta_mismatch"] += 1
                continue
            if validate and score(response, row["answer"], row["answer_type"], row["options"])["overall"] < 1.0:
                dropped["reward_below_1"] += 1
                continue
            alpaca.add(row, response)
            sft.add_response(row, response)
            per_task[row["task"]] += 1
        files = [alpaca.commit(), sft.commit()]
    files.append(update_dataset_info(out, [NAME]))
    return {
        "files": [str(p) for p in files],
        "selected": len(chosen),
        "written": sum(per_task.values()),
        "per_task": dict(sorted(per_task.items())),
        "dropped": dict(dropped),
        "skipped_no_template": dict(sorted(no_template.items())),
    }
