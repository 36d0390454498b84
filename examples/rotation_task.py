"""A sixth pretext task registered through the public API: `docs/add_a_task.md` walks through it.

Rotation recognition: the photo is shown rotated by 90, 180 or 270 degrees clockwise; which?
Verifiable only when the rotation is visible: a picture that looks the same upside down (a
uniform wall, a symmetric pattern) is rejected.

Use it on the command line with `--import examples/rotation_task.py` (generate, coldstart, export,
train sft / grpo, tasks, eval), or `import rotation_task` in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from spatial_ssrl import Rejection, Sample, Source, register_task

TASK = "rotation"
ANGLES = {"A": 90, "B": 180, "C": 270}  # option letter -> clockwise turn in degrees


@dataclass
class RotationParams:
    min_side_px: int = 32  # smaller images are too small to judge
    min_rotation_diff: float = 8.0  # grey difference between the 180-degree turn and the original


def grey_thumbnail(rgb: np.ndarray, side: int = 64) -> np.ndarray:
    """The image in grey at `side` x `side`: small enough that noise does not count as a visible change."""
    return np.asarray(Image.fromarray(rgb).convert("L").resize((side, side), Image.Resampling.BOX), np.float32)


def make_rotation(source: Source, rng: np.random.Generator, params: RotationParams, variant: str) -> Sample | Rejection:
    """Rotation recognition: by how much was the photo turned?"""
    # 1. Sample geometry: a square centre crop, so every rotation keeps the size.
    h, w = source.height, source.width
    side = min(h, w)
    if side < params.min_side_px:
        return Rejection(TASK, "rotation.too_small", f"{w}x{h} is under {params.min_side_px} px")
    y0, x0 = (h - side) // 2, (w - side) // 2
    square = source.rgb[y0 : y0 + side, x0 : x0 + side]
    letter = "ABC"[int(rng.integers(3))]

    # 2. Verifiability: the upside-down version must look different from the original.
    small = grey_thumbnail(square)
    diff = float(np.abs(small - small[::-1, ::-1]).mean())
    if diff < params.min_rotation_diff:
        return Rejection(TASK, "rotation.invisible", f"180-degree turn differs by {diff:.2f}")

    # 3. Render: np.rot90 turns counter-clockwise for positive k.
    image = np.ascontiguousarray(np.rot90(square, k=-ANGLES[letter] // 90))

    # 4. Question and answer (the engine fills in the registered answer type).
    options = {k: f"{v} degrees clockwise" for k, v in ANGLES.items()}
    lines = "\n".join(f"{k}. {v}" for k, v in options.items())
    question = f"<image>\nThis photo was rotated. By how much?\n{lines}\nAnswer with the letter of the correct option."
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=[image],
        question=question,
        answer=letter,
        options=options,
        meta={"angle": ANGLES[letter], "crop_box": [x0, y0, x0 + side, y0 + side], "margins": {"rotation_diff": diff}},
    )


def explain_rotation(row: dict, meta: dict) -> str:
    """Cold-start reasoning from the construction: the angle the photo was turned by."""
    letter = {v: k for k, v in ANGLES.items()}[meta["angle"]]
    if letter != row["answer"]:
        raise ValueError(f"{row['id']}: meta gives {letter!r} but the answer is {row['answer']!r}")
    return (
        f"Things that stand upright in the world (trees, walls, people) lean the way a {meta['angle']}-degree "
        f"clockwise turn would put them, so the photo was turned by {meta['angle']} degrees: option {letter}."
    )


register_task(
    TASK,
    make_rotation,
    params=RotationParams,
    variants={"quarter_turns": 1},
    answer_type="choice",
    coldstart=explain_rotation,
)
