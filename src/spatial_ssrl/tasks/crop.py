"""Cropped patch inpainting.

Geometry: a square of side s = min(H, W) / 2 at a uniformly random position is blacked out.
Distractors: three different kinds out of five, each equally likely: the inner half of the patch
enlarged to s; the region grown by s/4 (or s/2) on every side and shrunk to s; the true patch
rotated 90 degrees clockwise or counter-clockwise. A grown region that would cross the border is
shifted inside the image (it still contains the hole).
Render: image 1 is the damaged picture, images 2-5 are candidates A-D.
Answer: one letter, uniformly distributed over A-D.
Verifiability: every distractor must differ visibly from the true patch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatial_ssrl.engine.registry import register_task
from spatial_ssrl.engine.sample import Rejection, Sample, Source
from spatial_ssrl.tasks._layout import format_options, letters
from spatial_ssrl.tasks._pixels import resize_rgb, structure_diff
from spatial_ssrl.tasks._wording import check_answer

TASK = "crop"  # the registered name
DISTRACTOR_KINDS = ("inner", "grow_quarter", "grow_half", "rotate_cw", "rotate_ccw")
"""The five distractor kinds (module docstring); each sample draws `n_options - 1` different ones."""


@dataclass
class CropParams:
    """Thresholds of the crop task (docs/tasks.md); the field defaults are the task's defaults."""

    min_patch_px: int = 32  # smallest blacked-out square worth asking about
    min_distractor_diff: float = 6.0  # grey difference (64-px scale) between any distractor and the truth
    n_options: int = 4


def _grown(rgb: np.ndarray, x0: int, y0: int, s: int, g: int) -> np.ndarray:
    """The hole grown by g on every side, shifted to lie inside the image, shrunk back to s.

    Shifting keeps the full grown size (it still contains the hole): near a border the context is
    simply taken from the inner side, which keeps the kind available wherever the hole lies."""
    h, w = rgb.shape[:2]
    side = s + 2 * g
    gx = min(max(x0 - g, 0), w - side)
    gy = min(max(y0 - g, 0), h - side)
    return resize_rgb(rgb[gy : gy + side, gx : gx + side], s, s)


def _distractor(kind: str, rgb: np.ndarray, patch: np.ndarray, x0: int, y0: int, s: int) -> np.ndarray:
    if kind == "rotate_cw":
        return np.ascontiguousarray(np.rot90(patch, k=-1))
    if kind == "rotate_ccw":
        return np.ascontiguousarray(np.rot90(patch, k=1))
    if kind == "inner":
        q = s // 4
        return resize_rgb(rgb[y0 + q : y0 + s - q, x0 + q : x0 + s - q], s, s)
    return _grown(rgb, x0, y0, s, s // 4 if kind == "grow_quarter" else s // 2)


QUESTION = (
    "<image>\nA square region of this picture has been blacked out. Four candidate patches follow.\n"
    "{lines}\nWhich candidate fills the black square exactly, with the same content, scale and orientation? "
    "Answer with its letter."
)
"""The question; `{lines}` becomes one `A. <image>` line per candidate (images 2-5)."""


def draw_crop(rng: np.random.Generator, params: CropParams, variant: str) -> dict:
    """The question draw: the distractor kinds (the option set) and the letter of the true patch."""
    kinds = [DISTRACTOR_KINDS[i] for i in rng.choice(len(DISTRACTOR_KINDS), params.n_options - 1, replace=False)]
    return {"kinds": kinds, "answer_pos": int(rng.integers(params.n_options))}


def make_crop(
    source: Source, rng: np.random.Generator, params: CropParams, variant: str, plan: dict | None = None
) -> Sample | Rejection:
    """Cropped patch inpainting: pick the patch that fills the blacked-out square."""
    plan = plan if plan is not None else {**draw_crop(rng, params, variant), "attempt": 0}
    h, w = source.height, source.width
    s = min(h, w) // 2
    if s < params.min_patch_px:
        return Rejection(TASK, "crop.too_small", f"{w}x{h} image gives a patch under {params.min_patch_px} px")

    # 1. Geometry: the hole (the distractor kinds and the answer's letter are the question draw).
    x0, y0 = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
    patch = source.rgb[y0 : y0 + s, x0 : x0 + s].copy()
    kinds = list(plan["kinds"])
    candidates = {k: _distractor(k, source.rgb, patch, x0, y0, s) for k in kinds}
    answer_pos = plan["answer_pos"]

    # 2. Verifiability: no distractor may be mistaken for the true patch.
    diffs = {k: structure_diff(candidates[k], patch) for k in kinds}
    worst = min(diffs, key=diffs.get)
    if diffs[worst] < params.min_distractor_diff:
        return Rejection(
            TASK,
            "crop.distractor_identical",
            f"{worst} distractor differs by {diffs[worst]:.2f} < {params.min_distractor_diff}",
        )

    # 3. Render: damaged picture plus candidates in letter order.
    damaged = source.rgb.copy()
    damaged[y0 : y0 + s, x0 : x0 + s] = 0
    order = kinds[:answer_pos] + ["true"] + kinds[answer_pos:]
    option_images = [patch if k == "true" else candidates[k] for k in order]
    letter_list = letters(params.n_options)
    options = {L: f"candidate patch {L}" for L in letter_list}

    # 4. Question and answer.
    lines = "\n".join(f"{L}. <image>" for L in letter_list)
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=[damaged, *option_images],
        question=QUESTION.format(lines=lines),
        answer=letter_list[answer_pos],
        options=options,
        meta={
            "hole_box": [x0, y0, x0 + s, y0 + s],
            "option_kinds": dict(zip(letter_list, order)),
            "options_text": format_options(options),
            "margins": {"min_distractor_diff": round(diffs[worst], 3)},
        },
    )


# ---------------------------------------------------------------------------- cold start


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


def explain_crop(row: dict, meta: dict) -> str:
    """Cold-start reasoning for a crop sample, from how it was made (see ColdstartTemplate)."""
    x0, y0, x1, y1 = meta["hole_box"]
    kinds = meta["option_kinds"]
    truth = [letter for letter, kind in kinds.items() if kind == "true"]
    check_answer(row, truth[0] if len(truth) == 1 else "")
    checks = [f"{letter} {_CROP_KINDS.get(kind, 'does not fit the hole')}" for letter, kind in sorted(kinds.items())]
    return (
        f"The black square is {x1 - x0} x {y1 - y0} pixels, from x={x0} to {x1} and y={y0} to {y1}. "
        "Comparing each candidate with the picture around it: " + "; ".join(checks) + ". "
        f"Only {truth[0]} fills the hole exactly."
    )


# Default mix weight: the task's count in the released Spatial-SSRL-81k.
register_task(
    TASK,
    make_crop,
    params=CropParams,
    variants={"square": 1},
    answer_type="choice",
    mix_weight=20200,
    coldstart=explain_crop,
    draw=draw_crop,
)
