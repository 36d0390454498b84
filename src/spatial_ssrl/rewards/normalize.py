"""Strict per-type parsers that turn an answer string into its canonical form, or reject it.

The answer type is declared by the task (`registry.TaskSpec.answer_type`), never guessed from
the model's text. Every shape accepted or rejected here is a named case in
tests/rewards/test_reward_normalize.py and is listed in docs/rewards.md.

- permutation      `0-2-3-1`; also `0, 2, 3, 1`, `0 - 2 - 3 - 1`, `0 2 3 1`, `0 > 2 > 3 > 1`, `0→2→3→1`,
                   `[0, 2, 3, 1]`. Labels must be exactly the ground truth's label set, each once.
- label_direction  `3-0`; also `3 - 0`, `3, 0`, `(3, 0)`, `[3, 0]`. Direction is 0 or 1.
- choice           `C`, `c`, `(C)`, `[C]`, `C.`, `C)`, `C:`; `C. Back` / `(C) Back` / `C) Back` / `C: Back`
                   only if the text is option C's; the bare text `Back` if it matches exactly one
                   option. Anything naming two letters (`A or C`, `AB`, `A, C`) is rejected.
All types: surrounding whitespace, `$...$`, `**...**`, `\\text{}`, `\\textbf{}`, `\\mathrm{}`,
`\\mathbf{}`, `\\texttt{}` and a nested `\\boxed{}` are unwrapped, and trailing periods are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from spatial_ssrl.contract import ANSWER_TYPES

MAX_ANSWER_CHARS = 1000  # longer text is not an answer of ours; also keeps every parser cheap
DEFAULT_LETTERS = "ABCDEFGH"  # option letters when the options themselves are unknown
_WRAPPERS = ("\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "\\texttt{", "\\boxed{", "\\boxed {")
_PERM_SEP = re.compile(r"[\s,>→–-]+")  # one character class: splitting is linear
_PAIR_SEP = re.compile(r"\s*[,-]\s*|\s+")
_DIGITS = frozenset("0123456789")
# Letter shapes: `C`, `(C)`, `[C]`, `C.`, `C)`, `C:`; and a letter with a text: `C. Back`, `(C) Back`.
_LETTER = re.compile(r"\(([A-Za-z])\)|\[([A-Za-z])\]|([A-Za-z])[.):]?")
_LETTER_TEXT = re.compile(r"(?:\(([A-Za-z])\)|([A-Za-z])[.):])\s*(\S.*)", re.DOTALL)


def strip_wrappers(text: str) -> str:
    """Remove decoration around an answer: whitespace, `$`, `**`, LaTeX text macros, final periods.
    A text longer than MAX_ANSWER_CHARS is prose, not an answer: only its whitespace is stripped."""
    s = text.strip()
    if len(s) > MAX_ANSWER_CHARS:
        return s  # unwrapping checks braces one character at a time: keep that loop bounded
    for _ in range(4):  # a few layers, e.g. `$\text{**C**}$`; bounded so it is always cheap
        before = s
        if len(s) >= 2 and s[0] == "$" and s[-1] == "$":
            s = s.strip("$").strip()
        if len(s) >= 4 and s.startswith("**") and s.endswith("**"):
            s = s[2:-2].strip()
        for w in _WRAPPERS:
            if s.startswith(w) and s.endswith("}") and _closes_at_end(s, len(w) - 1):
                s = s[len(w) : -1].strip()
                break
        if s.endswith("."):
            s = s[:-1].rstrip()
        if s == before:
            break
    return s


def _closes_at_end(s: str, open_pos: int) -> bool:
    """Does the `{` at open_pos close at the very end (so the wrapper encloses everything)?"""
    depth = 0
    for i in range(open_pos, len(s)):
        c = s[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i == len(s) - 1
    return False


def _ints(tokens: list[str]) -> list[int] | None:
    # ASCII digits only: str.isdigit() also accepts superscripts and other scripts' digits.
    if not tokens or any(not t or not _DIGITS.issuperset(t) for t in tokens):
        return None
    return [int(t) for t in tokens]


def _unbracket(s: str) -> str:
    if len(s) >= 2 and (s[0], s[-1]) in (("(", ")"), ("[", "]")):
        return s[1:-1].strip()
    return s


def parse_permutation(text: str, labels: Collection[int] | None = None) -> list[int] | None:
    """Labels in order, or None. With `labels`, the answer must use exactly that set, each once."""
    s = _unbracket(strip_wrappers(text))
    s = s.replace("\\rightarrow", ">").replace("\\to", ">").replace("->", ">")
    nums = _ints(_PERM_SEP.split(s))
    if nums is None or len(nums) < 2 or len(set(nums)) != len(nums):
        return None
    if labels is not None and (len(nums) != len(labels) or set(nums) != set(labels)):
        return None
    return nums


def parse_label_direction(text: str) -> tuple[int, int] | None:
    """(label, direction) with direction 0 (vertical) or 1 (horizontal), or None."""
    s = _unbracket(strip_wrappers(text))
    nums = _ints(_PAIR_SEP.split(s))
    if nums is None or len(nums) != 2 or nums[1] not in (0, 1):
        return None
    return nums[0], nums[1]


def option_key(text: str) -> str:
    """Compare option texts loosely in case, spacing and dashes: `Left-Back` == `left back`."""
    s = strip_wrappers(text).casefold().replace("-", " ").replace("–", " ").replace("_", " ")
    return " ".join(s.split())


def parse_choice(text: str, options: Mapping[str, str] | None = None) -> str | None:
    """The option letter (upper case), or None (also for a text longer than MAX_ANSWER_CHARS)."""
    s = strip_wrappers(text)
    if not s or len(s) > MAX_ANSWER_CHARS:
        return None  # empty, or prose: an answer of ours is never this long
    letters = {k.upper() for k in options} if options else set(DEFAULT_LETTERS)
    m = _LETTER.fullmatch(s)
    if m:
        letter = (m.group(1) or m.group(2) or m.group(3)).upper()
        return letter if letter in letters else None
    if not options:
        return None  # a letter with a text, or a bare text, cannot be checked without the options
    keyed = {option_key(v): k.upper() for k, v in options.items()}
    m = _LETTER_TEXT.fullmatch(s)
    if m:
        letter = (m.group(1) or m.group(2)).upper()
        return letter if keyed.get(option_key(m.group(3))) == letter and _unique(options) else None
    letter = keyed.get(option_key(s))
    return letter if letter is not None and _unique(options) else None


def _unique(options: Mapping[str, str]) -> bool:
    # Two options with the same text would make a text answer ambiguous.
    return len({option_key(v) for v in options.values()}) == len(options)


def normalize_answer(
    text: str,
    answer_type: str,
    options: Mapping[str, str] | None = None,
    *,
    labels: Collection[int] | None = None,
) -> str | None:
    """Canonical form of an answer (`0-2-3-1`, `3-0`, `C`), or None if it is unparseable or rejected.

    `labels` (permutations only) is the ground truth's label set; give it when judging a prediction."""
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"answer_type must be one of {ANSWER_TYPES}, got {answer_type!r}")
    if not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
        return None
    if answer_type == "permutation":
        nums = parse_permutation(text, labels)
        return None if nums is None else "-".join(map(str, nums))
    if answer_type == "label_direction":
        pair = parse_label_direction(text)
        return None if pair is None else f"{pair[0]}-{pair[1]}"
    return parse_choice(text, options)
