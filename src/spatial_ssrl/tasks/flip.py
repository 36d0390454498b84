"""Flipped patch recognition.

Geometry: a 2x2 grid labelled 0-3 in reading order; one piece is flipped in place, vertically
(upside down, direction 0) or horizontally (mirrored, direction 1), with probability 1/2 each.
Answer: `label-direction`, e.g. `3-0`. The piece (and the example in the question) are the question
draw (`draw_flip`), fixed while a rejected sample is retried; a retry works on a window of the photo
(`_layout.retry_window`), so a piece that is plain sky in one placement can be realised in another.
Verifiability: the flip must visibly change the piece (a flipped patch of sky or a symmetric
object is pixel-identical to the original), and a vertical flip must look different from a
horizontal one (else a 180-degree-symmetric piece makes the direction ambiguous).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatial_ssrl.engine.registry import register_task
from spatial_ssrl.engine.sample import Rejection, Sample, Source
from spatial_ssrl.tasks._layout import grid_boxes, retry_window
from spatial_ssrl.tasks._pixels import model_scale_gray
from spatial_ssrl.tasks._render import label_pieces
from spatial_ssrl.tasks._wording import check_answer, join

TASK = "flip"  # the registered name
DIRECTIONS = {"vertical": 0, "horizontal": 1}  # variant -> the direction number of the answer `<piece>-<direction>`


@dataclass
class FlipParams:
    """Thresholds of the flip task (docs/tasks.md); the field defaults are the task's defaults."""

    min_piece_px: int = 32  # smallest piece side worth asking about
    min_flip_diff: float = 8.0  # grey difference (64-px scale) between piece and its flip
    min_direction_diff: float = 8.0  # grey difference between the vertical and horizontal flips
    min_window_frac: float = 0.5  # a retry works on a window of at least this fraction of each side


QUESTION = (
    "<image>\nThis picture is divided into a 2x2 grid of pieces labelled 0 to 3 in reading order "
    "(top-left, top-right, bottom-left, bottom-right). Exactly one piece has been flipped in place, "
    "either vertically (turned upside down; direction 0) or horizontally (mirrored left to right; "
    "direction 1). Which piece was flipped, and in which direction? Answer as the piece label and the "
    "direction joined by a dash, for example {example} would mean piece {ex_label} was {ex_words}."
)
"""The question; the placeholders hold an example answer that differs from the true one."""


def draw_flip(rng: np.random.Generator, params: FlipParams, variant: str) -> dict:
    """The question draw: which piece is flipped (the direction is the variant) and the example answer."""
    label = int(rng.integers(4))
    ex_label, ex_dir = int(rng.integers(4)), int(rng.integers(2))
    if (ex_label, ex_dir) == (label, DIRECTIONS[variant]):
        ex_label = (ex_label + 1) % 4
    return {"label": label, "example": [ex_label, ex_dir]}


def make_flip(
    source: Source, rng: np.random.Generator, params: FlipParams, variant: str, plan: dict | None = None
) -> Sample | Rejection:
    """Flipped patch recognition: find the one piece that is flipped and say how."""
    plan = plan if plan is not None else {**draw_flip(rng, params, variant), "attempt": 0}
    wx0, wy0, wx1, wy1 = retry_window(source.width, source.height, rng, plan["attempt"], params.min_window_frac)
    rgb = source.rgb[wy0:wy1, wx0:wx1]
    h, w = rgb.shape[:2]
    if w // 2 < params.min_piece_px or h // 2 < params.min_piece_px:
        return Rejection(TASK, "flip.too_small", f"{w}x{h} image gives pieces under {params.min_piece_px} px")

    # 1. Geometry: the drawn piece, flipped in the variant's direction, on the grid of this window.
    boxes = grid_boxes(w, h, 2, 2)
    label = plan["label"]
    direction = DIRECTIONS[variant]
    x0, y0, x1, y1 = boxes[label]
    piece = rgb[y0:y1, x0:x1]
    flipped = piece[::-1] if direction == 0 else piece[:, ::-1]

    # 2. Verifiability: the flip is visible, and its direction is unambiguous.
    # Pooling commutes with flips (whole blocks), so one pooled grey image serves every comparison.
    small = model_scale_gray(piece)
    small_flipped, small_other = (small[::-1], small[:, ::-1]) if direction == 0 else (small[:, ::-1], small[::-1])
    flip_diff = float(np.abs(small - small_flipped).mean())
    if flip_diff < params.min_flip_diff:
        return Rejection(TASK, "flip.identical", f"flipped piece differs by {flip_diff:.2f} < {params.min_flip_diff}")
    direction_diff = float(np.abs(small_flipped - small_other).mean())
    if direction_diff < params.min_direction_diff:
        return Rejection(
            TASK,
            "flip.direction_ambiguous",
            f"vertical and horizontal flips differ by {direction_diff:.2f} < {params.min_direction_diff}",
        )

    # 3. Render.
    out = rgb[: boxes[-1][3], : boxes[-1][2]].copy()
    out[y0:y1, x0:x1] = flipped
    out, label_boxes = label_pieces(out, boxes, [str(i) for i in range(4)])

    # 4. Question and answer.
    ex_label, ex_dir = plan["example"]
    question = QUESTION.format(
        example=f"{ex_label}-{ex_dir}",
        ex_label=ex_label,
        ex_words="turned upside down" if ex_dir == 0 else "mirrored left to right",
    )
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=[out],
        question=question,
        answer=f"{label}-{direction}",
        meta={
            "window": [wx0, wy0, wx1, wy1],
            "piece_boxes": [list(b) for b in boxes],
            "trimmed_to": [int(boxes[-1][2]), int(boxes[-1][3])],
            "flipped_label": label,
            "direction": direction,
            "label_boxes": label_boxes,
            "margins": {"flip_diff": round(flip_diff, 3), "direction_diff": round(direction_diff, 3)},
        },
    )


# ---------------------------------------------------------------------------- cold start


def explain_flip(row: dict, meta: dict) -> str:
    """Cold-start reasoning for a flip sample, from how it was made (see ColdstartTemplate)."""
    label, direction = int(meta["flipped_label"]), int(meta["direction"])
    check_answer(row, f"{label}-{direction}")
    names = ["top-left", "top-right", "bottom-left", "bottom-right"]
    others = [str(k) for k in range(4) if k != label]
    text = (
        f"Pieces {join(others)} line up with their neighbours: lines and shapes continue across the cuts. "
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


def flip_chance(row: dict) -> float:
    """1/8: one of 4 pieces times one of 2 directions."""
    return 1.0 / (4 * len(DIRECTIONS))


# Default mix weight: the task's count in the released Spatial-SSRL-81k.
register_task(
    TASK,
    make_flip,
    params=FlipParams,
    variants={"vertical": 1, "horizontal": 1},
    answer_type="label_direction",
    mix_weight=4005,
    coldstart=explain_flip,
    draw=draw_flip,
    chance=flip_chance,
)
