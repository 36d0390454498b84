"""Pixel measures shared by the verifiability filters.

Differences are measured on a block-averaged grey image (at most `max_side` px on its long side):
that is roughly the scale at which a VLM's vision tower sees a piece, and averaging removes sensor
and JPEG noise so "near-identical" means "indistinguishable to the model", not "bit-identical".
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Float32 grey (ITU-R BT.601 luma) of an (..., 3) RGB array."""
    return rgb.astype(np.float32) @ _LUMA


def model_scale_gray(rgb: np.ndarray, max_side: int = 64) -> np.ndarray:
    """Grey image box-averaged by an integer factor so its long side is at most `max_side`.

    Averaging happens on the uint8 RGB in Pillow's C box filter (grey is linear in RGB, so the
    order does not matter): a 1600 x 1064 image costs well under a millisecond."""
    h, w = rgb.shape[:2]
    # Whole blocks only: the last (h % k) rows and (w % k) columns are left out, so for sizes that
    # are multiples of k flips commute with pooling (flip(pool(a)) == pool(flip(a))). Otherwise the
    # block grid shifts by a few pixels under a flip: measured on photo crops, the flip task's
    # pooled-then-flipped difference is within 2.2 grey levels of structure_diff(piece, flip(piece))
    # (docs/tasks.md). A sliver thinner than k is pooled less.
    k = max(1, min(-(-max(h, w) // max_side), h, w))
    if k == 1:
        return to_gray(rgb)
    hh, ww = h // k * k, w // k * k
    return to_gray(np.asarray(Image.fromarray(np.ascontiguousarray(rgb[:hh, :ww])).reduce(k)))


def structure_diff(a: np.ndarray, b: np.ndarray, max_side: int = 64) -> float:
    """Mean absolute grey-level difference (0-255) of two same-shape RGB images at model scale."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.abs(model_scale_gray(a, max_side) - model_scale_gray(b, max_side)).mean())


def texture_std(a: np.ndarray, max_side: int = 64) -> float:
    """Standard deviation of grey levels at model scale: ~0 for a blank or uniform piece."""
    return float(model_scale_gray(a, max_side).std())


def resize_rgb(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an RGB array with an antialiasing filter (Pillow's, not a hand-written one)."""
    if a.shape[1] == width and a.shape[0] == height:
        return a.copy()
    return np.asarray(Image.fromarray(a).resize((width, height), Image.Resampling.BICUBIC, reducing_gap=None))
