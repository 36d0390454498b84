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
    return rgb.astype(np.float32) @ _LUMA


def block_mean(gray: np.ndarray, max_side: int = 64) -> np.ndarray:
    """Average-pool by an integer factor so the long side is at most `max_side`."""
    h, w = gray.shape
    k = max(1, -(-max(h, w) // max_side))
    hh, ww = (h // k) * k, (w // k) * k
    if hh == 0 or ww == 0:
        return gray.astype(np.float32)
    return gray[:hh, :ww].reshape(hh // k, k, ww // k, k).mean(axis=(1, 3), dtype=np.float32)


def structure_diff(a: np.ndarray, b: np.ndarray, max_side: int = 64) -> float:
    """Mean absolute grey-level difference (0-255) of two same-shape RGB images at model scale."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.abs(block_mean(to_gray(a), max_side) - block_mean(to_gray(b), max_side)).mean())


def texture_std(a: np.ndarray, max_side: int = 64) -> float:
    """Standard deviation of grey levels at model scale: ~0 for a blank or uniform piece."""
    return float(block_mean(to_gray(a), max_side).std())


def resize_rgb(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an RGB array with an antialiasing filter (Pillow's, not a hand-written one)."""
    if a.shape[1] == width and a.shape[0] == height:
        return a.copy()
    return np.asarray(Image.fromarray(a).resize((width, height), Image.Resampling.BICUBIC, reducing_gap=None))
