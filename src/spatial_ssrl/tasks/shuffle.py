"""Shuffled patch reordering.

Geometry: cut the image into equal pieces (2x2, a row of 3-4 vertical strips, or a column of 3-4
horizontal strips) and shuffle them with a uniformly drawn non-identity permutation.
Render: displayed position j shows original piece perm[j] and carries label j.
Question: for each ORIGINAL position in reading order, which label belongs there?
Answer: the inverse permutation, dash-joined, e.g. `0-2-3-1`.
Verifiability: every (non-blanked) piece has texture and no two pieces are interchangeable, so
exactly one arrangement restores the picture.
The layout, permutation, blanked piece and example are the question draw (`draw_shuffle`), fixed while
a rejected sample is retried on a window of the photo (`_layout.retry_window`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatial_ssrl.engine.registry import register_task
from spatial_ssrl.engine.sample import Rejection, Sample, Source
from spatial_ssrl.tasks._layout import grid_boxes, non_identity_chance, non_identity_permutation, retry_window
from spatial_ssrl.tasks._pixels import model_scale_gray
from spatial_ssrl.tasks._render import label_pieces
from spatial_ssrl.tasks._wording import check_answer, join, position_names

TASK = "shuffle"  # the registered name


@dataclass
class ShuffleParams:
    """Thresholds of the shuffle task (docs/tasks.md); the field defaults are the task's defaults."""

    min_piece_px: int = 32  # pieces smaller than this are too small to reason about
    min_piece_std: float = 3.0  # grey-level std at 64-px scale below which a piece counts as blank
    min_pair_diff: float = 6.0  # mean grey difference below which two pieces are interchangeable
    strip_counts: tuple[int, ...] = (3, 4)  # number of strips in the row/column variants
    min_window_frac: float = 0.5  # a retry works on a window of at least this fraction of each side


VARIANTS = {"2x2": 4000, "2x2_blank": 4028, "strips_row": 4991, "strips_column": 3009}
"""Variant -> default mix weight: its count in the paper's data (Spatial-SSRL, arXiv 2510.27606; docs/tasks.md)."""

_ORDER_WORDS = {
    "2x2": "in reading order (top-left, top-right, bottom-left, bottom-right)",
    "strips_row": "from left to right",
    "strips_column": "from top to bottom",
}


def _layout(variant: str, rng: np.random.Generator, params: ShuffleParams) -> tuple[int, int]:
    if variant in ("2x2", "2x2_blank"):
        return 2, 2
    n = int(rng.choice(params.strip_counts))
    return (1, n) if variant == "strips_row" else (n, 1)


def _question(variant: str, rows: int, cols: int, example: str) -> str:
    n = rows * cols
    if variant.startswith("2x2"):
        cut = "a 2x2 grid of four equal pieces"
        unit, order = "piece", _ORDER_WORDS["2x2"]
    elif variant == "strips_row":
        cut, unit, order = f"{n} vertical strips placed side by side", "strip", _ORDER_WORDS["strips_row"]
    else:
        cut, unit, order = f"{n} horizontal strips stacked on top of each other", "strip", _ORDER_WORDS["strips_column"]
    text = (
        f"<image>\nThis picture was cut into {cut}, and the {unit}s were then shuffled. "
        f"Each {unit} now shows a label from 0 to {n - 1} near its top-left corner. "
    )
    if variant == "2x2_blank":
        text += "One piece has been painted white; it keeps its label, and its place follows from the others. "
    text += (
        f"Restore the original picture: for each position of the original layout, {order}, give the label "
        f"of the {unit} that belongs there. Answer with the {n} labels joined by dashes, for example {example}."
    )
    return text


def draw_shuffle(rng: np.random.Generator, params: ShuffleParams, variant: str) -> dict:
    """The question draw: the layout, the permutation (displayed position j shows original piece perm[j]),
    the blanked position of 2x2_blank, and an example answer that is not the answer."""
    rows, cols = _layout(variant, rng, params)
    n = rows * cols
    perm = non_identity_permutation(n, rng)
    blank = int(rng.integers(n)) if variant == "2x2_blank" else None  # displayed position painted white
    answer = "-".join(str(int(j)) for j in np.argsort(perm))
    example = answer
    while example == answer:
        example = "-".join(str(int(j)) for j in rng.permutation(n))
    return {"grid": [rows, cols], "perm": [int(p) for p in perm], "blank": blank, "example": example}


def make_shuffle(
    source: Source, rng: np.random.Generator, params: ShuffleParams, variant: str, plan: dict | None = None
) -> Sample | Rejection:
    """Shuffled patch reordering: restore the original order of shuffled pieces."""
    plan = plan if plan is not None else {**draw_shuffle(rng, params, variant), "attempt": 0}
    rows, cols = plan["grid"]
    n = rows * cols
    wx0, wy0, wx1, wy1 = retry_window(source.width, source.height, rng, plan["attempt"], params.min_window_frac)
    rgb = source.rgb[wy0:wy1, wx0:wx1]
    h, w = rgb.shape[:2]
    if w // cols < params.min_piece_px or h // rows < params.min_piece_px:
        return Rejection(TASK, "shuffle.too_small", f"{w}x{h} image gives pieces under {params.min_piece_px} px")

    # 1. Geometry: the drawn layout on this window.
    boxes = grid_boxes(w, h, rows, cols)
    pieces = [rgb[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes]
    perm = np.array(plan["perm"])
    blank = plan["blank"]

    # 2. Verifiability: pieces that carry information must be textured and mutually distinct.
    informative = [i for i in range(n) if blank is None or i != perm[blank]]
    small = {i: model_scale_gray(pieces[i]) for i in informative}  # once per piece, reused below
    stds = [float(small[i].std()) for i in informative]
    if min(stds) < params.min_piece_std:
        return Rejection(TASK, "shuffle.uniform_piece", f"piece std {min(stds):.2f} < {params.min_piece_std}")
    pair_diff = min(
        float(np.abs(small[a] - small[b]).mean()) for k, a in enumerate(informative) for b in informative[k + 1 :]
    )
    if pair_diff < params.min_pair_diff:
        return Rejection(
            TASK, "shuffle.interchangeable_pieces", f"two pieces differ by {pair_diff:.2f} < {params.min_pair_diff}"
        )

    # 3. Render the shuffled picture and its labels.
    x1, y1 = boxes[-1][2], boxes[-1][3]
    out = np.empty((y1, x1, 3), np.uint8)
    for j, (bx0, by0, bx1, by1) in enumerate(boxes):
        out[by0:by1, bx0:bx1] = 255 if j == blank else pieces[perm[j]]
    out, label_boxes = label_pieces(out, boxes, [str(j) for j in range(n)])

    # 4. Question and answer: the label shown on the piece that belongs at original position i.
    inverse = np.argsort(perm)
    answer = "-".join(str(int(j)) for j in inverse)
    example = plan["example"]
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=[out],
        question=_question(variant, rows, cols, example),
        answer=answer,
        meta={
            "grid": [rows, cols],
            "window": [wx0, wy0, wx1, wy1],
            "piece_boxes": [list(b) for b in boxes],
            "trimmed_to": [int(x1), int(y1)],
            "displayed_to_original": [int(p) for p in perm],
            "blank_label": None if blank is None else int(blank),
            "label_boxes": label_boxes,
            "margins": {"min_piece_std": round(min(stds), 3), "min_pair_diff": round(pair_diff, 3)},
        },
    )


# ---------------------------------------------------------------------------- cold start


def explain_shuffle(row: dict, meta: dict) -> str:
    """Cold-start reasoning for a shuffle sample, from how it was made (see ColdstartTemplate)."""
    rows, cols = meta["grid"]
    perm = meta["displayed_to_original"]  # displayed position j (label j) shows original piece perm[j]
    blank = meta.get("blank_label")
    n = rows * cols
    label_at = {orig: label for label, orig in enumerate(perm)}  # original position -> label
    names = position_names(rows, cols)
    unit = "piece" if rows > 1 and cols > 1 else "strip"
    check_answer(row, "-".join(str(label_at[i]) for i in range(n)))

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
    lines.append(f"So the original layout holds {join(placed)}, which reads {row['answer']}.")
    return " ".join(lines)


# Default mix weight: the task's count in the released Spatial-SSRL-81k.
register_task(
    TASK,
    make_shuffle,
    params=ShuffleParams,
    variants=VARIANTS,
    answer_type="permutation",
    mix_weight=16028,
    coldstart=explain_shuffle,
    draw=draw_shuffle,
    chance=non_identity_chance,
)
