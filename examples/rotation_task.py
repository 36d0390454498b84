"""A sixth pretext task registered through the public API: `docs/add_a_task.md` walks through it.

Rotation recognition: the photo is shown rotated by 90, 180 or 270 degrees clockwise; which?
Verifiable only when the rotation is visible: a picture that looks the same upside down (a
uniform wall, a symmetric pattern) is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatial_ssrl import Rejection, Sample, Source, register_task
from spatial_ssrl.tasks._pixels import model_scale_gray

ANGLES = {"A": 90, "B": 180, "C": 270}


@dataclass
class RotationParams:
    min_side_px: int = 32  # smaller images are too small to judge
    min_rotation_diff: float = 8.0  # grey difference between the 180-degree turn and the original


@register_task("rotation", params=RotationParams, variants={"quarter_turns": 1}, answer_type="choice")
def make_rotation(source: Source, rng: np.random.Generator, params: RotationParams, variant: str) -> Sample | Rejection:
    """Rotation recognition: by how much was the photo turned?"""
    # 1. Sample geometry: a square centre crop, so every rotation keeps the size.
    h, w = source.height, source.width
    side = min(h, w)
    if side < params.min_side_px:
        return Rejection("rotation", "rotation.too_small", f"{w}x{h} is under {params.min_side_px} px")
    y0, x0 = (h - side) // 2, (w - side) // 2
    square = source.rgb[y0 : y0 + side, x0 : x0 + side]
    letter = "ABC"[int(rng.integers(3))]

    # 2. Verifiability: the upside-down version must look different from the original.
    small = model_scale_gray(square)
    diff = float(np.abs(small - small[::-1, ::-1]).mean())
    if diff < params.min_rotation_diff:
        return Rejection("rotation", "rotation.invisible", f"180-degree turn differs by {diff:.2f}")

    # 3. Render: np.rot90 turns counter-clockwise for positive k.
    image = np.ascontiguousarray(np.rot90(square, k=-ANGLES[letter] // 90))

    # 4. Question and answer.
    options = {k: f"{v} degrees clockwise" for k, v in ANGLES.items()}
    lines = "\n".join(f"{k}. {v}" for k, v in options.items())
    question = f"<image>\nThis photo was rotated. By how much?\n{lines}\nAnswer with the letter of the correct option."
    return Sample(
        task="rotation",
        variant=variant,
        source_id=source.id,
        images=[image],
        question=question,
        answer=letter,
        answer_type="choice",
        options=options,
        meta={"crop_box": [x0, y0, x0 + side, y0 + side], "margins": {"rotation_diff": round(diff, 3)}},
    )
