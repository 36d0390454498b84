"""Fixtures generated in code: textured, asymmetric test images of any size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def textured_image(seed: int, width: int = 320, height: int = 240) -> np.ndarray:
    """Smooth random colour noise at several scales: every region is textured and asymmetric.

    Values stay within 16..239 so an all-black (0) square can only come from the crop task's hole."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width, 3), np.float32)
    for cells, weight in ((4, 0.5), (12, 0.3), (40, 0.2)):
        grid = rng.uniform(0, 255, size=(cells, max(2, cells * width // height), 3)).astype(np.uint8)
        up = np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC), np.float32)
        out += weight * up
    return np.clip(16 + out * (223 / 255), 16, 239).astype(np.uint8)


@pytest.fixture
def textured():
    return textured_image
