"""Wording helpers the cold-start templates of the built-in tasks share."""

from __future__ import annotations


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def num(x: float) -> str:
    """A depth or offset to about three significant figures ("0" for a negligible value)."""
    return "0" if abs(x) < 5e-4 else f"{x:.3g}"


def join(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def position_names(rows: int, cols: int) -> list[str]:
    """Names of the grid positions in reading order ("top-left", "2nd from the left", ...)."""
    if (rows, cols) == (2, 2):
        return ["top-left", "top-right", "bottom-left", "bottom-right"]
    if rows == 1:
        return [f"{ordinal(i + 1)} from the left" for i in range(cols)]
    if cols == 1:
        return [f"{ordinal(i + 1)} from the top" for i in range(rows)]
    return [f"row {r + 1}, column {c + 1}" for r in range(rows) for c in range(cols)]


def check_answer(row: dict, derived: str) -> None:
    """Raise ValueError unless the answer derived from the sample's meta is the row's answer (a template
    must never explain an answer the construction does not support)."""
    if derived != row["answer"]:
        raise ValueError(f"{row['id']}: meta gives {derived!r} but the answer is {row['answer']!r}")
