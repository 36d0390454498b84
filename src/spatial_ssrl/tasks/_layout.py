"""Layout helpers several tasks share: equal grid pieces and lettered options."""

from __future__ import annotations

LETTERS = "ABCDEFGH"  # option letters, in order


def letters(n: int) -> list[str]:
    """The first `n` option letters."""
    return list(LETTERS[:n])


def grid_boxes(width: int, height: int, rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    """Equal pieces (x0, y0, x1, y1) in reading order; the last `width % cols` columns and
    `height % rows` rows are trimmed so every piece has the same size and can swap places."""
    pw, ph = width // cols, height // rows
    return [(c * pw, r * ph, (c + 1) * pw, (r + 1) * ph) for r in range(rows) for c in range(cols)]


def format_options(options: dict[str, str]) -> str:
    """Options as question lines: "A. text" per option."""
    return "\n".join(f"{k}. {v}" for k, v in options.items())
