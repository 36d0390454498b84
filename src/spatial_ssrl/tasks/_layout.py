"""Layout helpers several tasks share: equal grid pieces, retry windows and lettered options."""

from __future__ import annotations

import math

import numpy as np

LETTERS = "ABCDEFGH"  # option letters, in order


def letters(n: int) -> list[str]:
    """The first `n` option letters."""
    return list(LETTERS[:n])


def grid_boxes(width: int, height: int, rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    """Equal pieces (x0, y0, x1, y1) in reading order; the last `width % cols` columns and
    `height % rows` rows are trimmed so every piece has the same size and can swap places."""
    pw, ph = width // cols, height // rows
    return [(c * pw, r * ph, (c + 1) * pw, (r + 1) * ph) for r in range(rows) for c in range(cols)]


def non_identity_permutation(n: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation of range(n) drawn uniformly from the n! - 1 that move something."""
    while True:
        perm = rng.permutation(n)
        if np.any(perm != np.arange(n)):
            return perm


def non_identity_chance(row: dict) -> float:
    """1 / (n! - 1): the chance level of an order of n dash-joined labels that is never the identity."""
    return 1.0 / (math.factorial(len(row["answer"].split("-"))) - 1)


def format_options(options: dict[str, str]) -> str:
    """Options as question lines: "A. text" per option."""
    return "\n".join(f"{k}. {v}" for k, v in options.items())


def retry_window(
    width: int, height: int, rng: np.random.Generator, attempt: int, min_frac: float
) -> tuple[int, int, int, int]:
    """The part of the image (x0, y0, x1, y1) a geometry attempt works on: the whole image on attempt 0;
    on a retry a window of the same aspect ratio, scaled by a factor drawn in [min_frac, 1), at a random
    place. Retrying on another window is what lets a piece-based task keep its drawn answer (which piece,
    which direction) when the first placement cannot realise it (a piece of plain sky)."""
    if attempt == 0:
        return 0, 0, width, height
    scale = float(rng.uniform(min_frac, 1.0))
    ww, wh = max(1, round(width * scale)), max(1, round(height * scale))
    x0, y0 = int(rng.integers(0, width - ww + 1)), int(rng.integers(0, height - wh + 1))
    return x0, y0, x0 + ww, y0 + wh
