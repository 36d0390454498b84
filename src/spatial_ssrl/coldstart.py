"""Cold-start SFT data: a short reasoning response for each sample, made from its construction.

Every sample's `meta` records how it was made (which piece went where, which piece was flipped,
what each crop candidate is, region depths, the viewer's facing and the offset). `response_for(row)`
turns that into a `<think>` block stating the evidence, followed by `\\boxed{answer}`; every response
scores reward 1.0 (format and accuracy) by construction, and `write_coldstart` checks it.

- `select_coldstart(dataset_dir, fraction=0.044, seed=0)`: ids of about `fraction` of the TRAIN split
  (splits are made by source, so none of these sources is in validation or test; any train row whose
  source also appears there is skipped anyway), stratified by task: each task contributes
  round(fraction x its count), at least one. Deterministic: rows are ranked by a keyed hash of their id.
- `write_coldstart(dataset_dir, out_dir, ...)`: LLaMA-Factory alpaca JSON + images + dataset_info.json
  (dataset `spatial_ssrl_coldstart`) and a TRL SFT parquet (`spatial_ssrl_coldstart.parquet`).
- `responder`: optional `(row) -> str` that replaces the template, e.g. responses from a model (the row
  is the dataset row: `problem`, `images`, `answer`, `task`, `meta`, ...). Responses that do not score
  1.0 are dropped unless `validate=False`.
- `TEMPLATES`: task -> `(row, meta) -> think text`; add an entry for a task of your own.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from spatial_ssrl.export.common import resolve_format_prompt
from spatial_ssrl.export.llamafactory import AlpacaWriter, update_dataset_info
from spatial_ssrl.export.trl import SftWriter
from spatial_ssrl.rewards.score import parse_options, score
from spatial_ssrl.schema import read_rows, shard_paths

DEFAULT_FRACTION = 0.044  # the paper's cold-start set relative to the RL set
NAME = "spatial_ssrl_coldstart"

Responder = Callable[[dict], str]


# ---------------------------------------------------------------------------- wording helpers


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _num(x: float) -> str:
    """A depth or offset to about three significant figures ("0" for a negligible value)."""
    return "0" if abs(x) < 5e-4 else f"{x:.3g}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _position_names(rows: int, cols: int) -> list[str]:
    if (rows, cols) == (2, 2):
        return ["top-left", "top-right", "bottom-left", "bottom-right"]
    if rows == 1:
        return [f"{_ordinal(i + 1)} from the left" for i in range(cols)]
    if cols == 1:
        return [f"{_ordinal(i + 1)} from the top" for i in range(rows)]
    return [f"row {r + 1}, column {c + 1}" for r in range(rows) for c in range(cols)]


def _check(row: dict, derived: str) -> None:
    if derived != row["answer"]:
        raise ValueError(f"{row['id']}: meta gives {derived!r} but the answer is {row['answer']!r}")


# ---------------------------------------------------------------------------- one template per task


def _shuffle(row: dict, meta: dict) -> str:
    rows, cols = meta["grid"]
    perm = meta["displayed_to_original"]  # displayed position j (label j) shows original piece perm[j]
    blank = meta.get("blank_label")
    n = rows * cols
    label_at = {orig: label for label, orig in enumerate(perm)}  # original position -> label
    names = _position_names(rows, cols)
    unit = "piece" if rows > 1 and cols > 1 else "strip"
    _check(row, "-".join(str(label_at[i]) for i in range(n)))

    seams = []
    for i in range(n):
        r, c = divmod(i, cols)
        for dr, dc, edge_a, edge_b in ((0, 1, "right", "left"), (1, 0, "bottom", "top")):
            if r + dr < rows and c + dc < cols:
                a, b = label_at[i], label_at[(r + dr) * cols + c + dc]
                if blank not in (a, b):
                    seams.append(f"the {edge_a} edge of {unit} {a} runs on into the {edge_b} edge of {unit} {b}")
    lines = [f"The {n} {unit}s are shuffled; I put them back by matching what continues across the cuts."]
    if seams:
        lines.append("Looking at the edges: " + "; ".join(seams) + ".")
    if blank is not None:
        lines.append(
            f"{unit.capitalize()} {blank} is painted white, so it carries no content; it takes the one place "
            f"left over, the {names[perm[blank]]}."
        )
    placed = [f"{names[i]}: {label_at[i]}" for i in range(n)]
    lines.append(f"So the original layout holds {_join(placed)}, which reads {row['answer']}.")
    return " ".join(lines)


def _flip(row: dict, meta: dict) -> str:
    label, direction = int(meta["flipped_label"]), int(meta["direction"])
    _check(row, f"{label}-{direction}")
    names = ["top-left", "top-right", "bottom-left", "bottom-right"]
    others = [str(k) for k in range(4) if k != label]
    text = (
        f"Pieces {_join(others)} line up with their neighbours: lines and shapes continue across the cuts. "
        f"Piece {label}, at the {names[label]}, breaks that continuity. "
    )
    if direction == 0:
        text += (
            "Its content is upside down: what should touch its top edge appears at its bottom, so the "
            "horizontal cuts do not match, while left and right are where they should be. Top and bottom are "
            "swapped, which is a vertical flip, direction 0."
        )
    else:
        text += (
            "Its content is mirrored: what should touch its left edge appears on its right, so the vertical "
            "cuts do not match, while top and bottom are where they should be. Left and right are swapped, "
            "which is a horizontal flip, direction 1."
        )
    return text + f" The answer is piece {label} with direction {direction}: {row['answer']}."


_CROP_KINDS = {
    "true": "matches: same scale and orientation, and its borders continue the picture around the hole",
    "inner": "is zoomed in: only the central half of the square, enlarged, so everything in it looks twice too big",
    "grow_quarter": (
        "is zoomed out: the square plus a margin of a quarter of its side, shrunk to fit, so its content is "
        "too small and repeats surroundings that are still visible"
    ),
    "grow_half": (
        "is zoomed out further: the square plus a margin of half its side, shrunk to fit, so its content is "
        "about half the size it should be"
    ),
    "rotate_cw": "has the right content but turned 90 degrees clockwise, so its edges do not meet the picture",
    "rotate_ccw": "has the right content but turned 90 degrees counter-clockwise, so its edges do not meet the picture",
}


def _crop(row: dict, meta: dict) -> str:
    x0, y0, x1, y1 = meta["hole_box"]
    kinds = meta["option_kinds"]
    truth = [letter for letter, kind in kinds.items() if kind == "true"]
    _check(row, truth[0] if len(truth) == 1 else "")
    checks = [f"{letter} {_CROP_KINDS.get(kind, 'does not fit the hole')}" for letter, kind in sorted(kinds.items())]
    return (
        f"The black square is {x1 - x0} x {y1 - y0} pixels, from x={x0} to {x1} and y={y0} to {y1}. "
        "Comparing each candidate with the picture around it: " + "; ".join(checks) + ". "
        f"Only {truth[0]} fills the hole exactly."
    )


def _depth_order(row: dict, meta: dict) -> str:
    markers = sorted(meta["markers"], key=lambda m: m["depth"])
    _check(row, "-".join(str(m["label"]) for m in markers))
    first = markers[0]
    parts = [f"region {first['label']} is the nearest, at a depth of about {_num(first['depth'])}"]
    for k, (prev, cur) in enumerate(zip(markers, markers[1:]), start=2):
        ratio = f"{cur['depth'] / prev['depth']:.2g} times" if prev["depth"] > 0 else "farther"
        rank = "the farthest" if k == len(markers) else "next"
        parts.append(
            f"region {cur['label']} is {rank}, at about {_num(cur['depth'])}, {ratio} as far as region {prev['label']}"
        )
    order = ", ".join(str(m["label"]) for m in markers)
    return (
        f"I estimate how far each of the {len(markers)} marked regions is from the camera: "
        + "; ".join(parts)
        + f". From nearest to farthest the regions are {order}, so the answer is {row['answer']}."
    )


_PLACES = {
    "Front": "in front of me",
    "Back": "behind me",
    "Left": "to my left",
    "Right": "to my right",
    "Left-Front": "ahead and to my left",
    "Right-Front": "ahead and to my right",
    "Left-Back": "behind me and to my left",
    "Right-Back": "behind me and to my right",
}

# direction in camera coordinates (x to the image's right, z away from the camera) -> words
_AXIS_WORDS = {
    (0.0, 1.0): "away from the camera",
    (0.0, -1.0): "toward the camera",
    (-1.0, 0.0): "toward the image's left",
    (1.0, 0.0): "toward the image's right",
}


def _position(row: dict, meta: dict) -> str:
    from spatial_ssrl.tasks.position import FACING_WORDS, FACINGS

    facing, wanted = meta["facing"], meta["answer_text"]
    options = parse_options(row["options"]) or {}
    letters = [k for k, v in options.items() if v == wanted]
    _check(row, letters[0] if len(letters) == 1 else "")
    fwd, right = FACINGS[facing]
    dx, dz = meta["offset_xz"]
    ahead = dx * fwd[0] + dz * fwd[1]
    side = dx * right[0] + dz * right[1]
    by_label = {str(m["label"]): m for m in meta["markers"]}
    v, t = by_label["1"], by_label["2"]
    where_ahead = "level with me" if _num(ahead) == "0" else "ahead" if ahead > 0 else "behind"
    where_side = "in line with me" if _num(side) == "0" else "right" if side > 0 else "left"
    text = (
        f"In camera terms (x to the image's right, depth away from the camera), region 1 is at x {_num(v['x'])}, "
        f"depth {_num(v['depth'])} and region 2 at x {_num(t['x'])}, depth {_num(t['depth'])}: region 2 is offset "
        f"by {_num(dx)} in x and {_num(dz)} in depth. Standing at region 1 and facing {FACING_WORDS[facing]}, "
        f"my front points {_AXIS_WORDS[tuple(fwd)]} and my right points {_AXIS_WORDS[tuple(right)]}. "
        f"Along my facing the offset is {_num(ahead)} ({where_ahead}), to my right it is {_num(side)} ({where_side}). "
    )
    if "-" in wanted:
        text += f"Both components are clear, so region 2 is {_PLACES.get(wanted, wanted)} ({wanted})."
    else:
        major, minor = ("front-back", "left-right") if abs(ahead) >= abs(side) else ("left-right", "front-back")
        text += (
            f"The {major} component dominates ({_num(max(abs(ahead), abs(side)))} against "
            f"{_num(min(abs(ahead), abs(side)))} {minor}), so region 2 is {_PLACES.get(wanted, wanted)} ({wanted})."
        )
    return text + f" That is option {row['answer']}."


TEMPLATES: dict[str, Callable[[dict, dict], str]] = {
    "shuffle": _shuffle,
    "flip": _flip,
    "crop": _crop,
    "depth_order": _depth_order,
    "position": _position,
}


def response_for(row: dict) -> str:
    """`<think>` stating the construction evidence, then `\\boxed{answer}`. Raises ValueError when the
    row's meta disagrees with its answer, KeyError for a task without a template (see TEMPLATES)."""
    task = row["task"]
    if task not in TEMPLATES:
        raise KeyError(f"no cold-start template for task {task!r}; add one to TEMPLATES or pass a responder")
    meta = json.loads(row["meta"]) if isinstance(row["meta"], str) else row["meta"]
    think = TEMPLATES[task](row, meta)
    return f"<think>\n{think}\n</think>\n\\boxed{{{row['answer']}}}"


# ---------------------------------------------------------------------------- selection and writing


def _rank(seed: int, sample_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{sample_id}".encode(), digest_size=8).digest()


def _held_out_sources(dataset_dir) -> set[str]:
    return {
        r["source_id"] for split in ("validation", "test") for r in read_rows(dataset_dir, split, columns=["source_id"])
    }


def select_coldstart(dataset_dir, fraction: float = DEFAULT_FRACTION, seed: int = 0) -> list[str]:
    """Ids of the cold-start rows (sorted): per task, the round(fraction x n) train rows (at least one)
    with the smallest keyed hash of their id. Two light passes over the id/task/source columns."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if not shard_paths(dataset_dir, "train"):
        raise FileNotFoundError(f"{dataset_dir}: no train shards under data/")
    held_out = _held_out_sources(dataset_dir)
    columns = ["id", "task", "source_id"]
    counts = Counter(r["task"] for r in read_rows(dataset_dir, "train", columns) if r["source_id"] not in held_out)
    quota = {t: min(n, max(1, math.floor(fraction * n + 0.5))) for t, n in counts.items()}
    heaps: dict[str, list[tuple[bytes, str]]] = {t: [] for t in counts}
    for r in read_rows(dataset_dir, "train", columns):
        if r["source_id"] in held_out:
            continue
        heap, item = heaps[r["task"]], (_rank(seed, r["id"]), r["id"])
        # max-heap of the k smallest ranks, via negated bytes
        neg = (bytes(255 - b for b in item[0]), item[1])
        if len(heap) < quota[r["task"]]:
            heapq.heappush(heap, neg)
        elif neg > heap[0]:
            heapq.heapreplace(heap, neg)
    return sorted(sid for heap in heaps.values() for _, sid in heap)


def write_coldstart(
    dataset_dir,
    out_dir,
    fraction: float = DEFAULT_FRACTION,
    responder: Responder | None = None,
    *,
    seed: int = 0,
    format_prompt: str | None = None,
    validate: bool = True,
) -> dict:
    """Write the cold-start set; returns a summary (files, counts per task, dropped rows by reason)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = set(select_coldstart(dataset_dir, fraction, seed))
    respond = responder or response_for
    per_task: Counter = Counter()
    dropped: Counter = Counter()
    instruction = resolve_format_prompt(format_prompt)
    with AlpacaWriter(out, NAME, instruction) as alpaca, SftWriter(out / f"{NAME}.parquet", instruction) as sft:
        for row in read_rows(dataset_dir, "train"):
            if row["id"] not in chosen:
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
    }


def main(argv: list[str] | None = None, prog: str = "python -m spatial_ssrl.coldstart") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--fraction", type=float, default=DEFAULT_FRACTION)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(write_coldstart(args.dataset_dir, args.out_dir, args.fraction, seed=args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
