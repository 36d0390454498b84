"""Find the think block and the boxed answers of a response, in linear time.

Rules (docs/rewards.md has the full table):
- The think block is `<think> ... </think>`; whitespace inside the tags (`< think >`, `</ think>`) is
  tolerated, as EasyR1's reward tolerates it.
- The answer part is everything after the first `</think>`. With no think tags at all it is the
  whole response; with a `<think>` that is never closed there is no answer part (a truncated
  response has not answered, whatever it boxed while reasoning).
- A box is `\\boxed` + optional whitespace + `{...}` with balanced braces. Boxes inside the think
  block are reasoning, not answers. In the answer part every `\\boxed` must be complete: one that
  is unclosed, has no `{`, or runs longer than MAX_BOX_CHARS makes the whole answer malformed, and
  so does more than MAX_BOXES boxes (answer spam).

Only str.find / str.count / str.rfind and one regex with bounded quantifiers scan the text, and
every Python-level loop is bounded by a constant, so a 1 MB adversarial response costs about a
millisecond.
"""

from __future__ import annotations

import re
from typing import NamedTuple

BOX = "\\boxed"  # the LaTeX command that marks an answer
MAX_BOXES = 8  # more boxes than this in the answer part is spam, not an answer
MAX_BOX_CHARS = 1000  # an answer longer than this is not one of ours; it also bounds brace matching
MAX_BOX_GAP = 16  # whitespace allowed between `\boxed` and `{`
_WS = " \t\r\n\f\v"

# Tag with whitespace tolerated inside. Quantifiers are bounded and never adjacent, so a `<` followed
# by a megabyte of spaces costs a few steps, not a backtracking blow-up.
_TAG = re.compile(r"<\s{0,8}(/\s{0,8})?think\s{0,8}>")
_EXACT_OPEN, _EXACT_CLOSE = "<think>", "</think>"
# Above this size a `<`-dense text would make the regex try every position (about 10 ns each), so
# long texts with many `<` fall back to the exact tags, found with str.find.
_REGEX_MAX_CHARS = 1 << 14
_REGEX_MAX_ANGLES = 4096


class Tags(NamedTuple):
    """Where the think tags are: counts saturate at 2 (enough to know "exactly one"), positions of
    the first open tag (start, end) and the first close tag (start, end), -1 when absent."""

    n_open: int
    n_close: int
    open_start: int
    open_end: int
    close_start: int
    close_end: int


class Parsed(NamedTuple):
    """A response taken apart. A NamedTuple rather than a dataclass: it is built once per
    response on the reward's hot path, and tuples are the cheapest record Python has."""

    think_ok: bool  # one think block, at the start (leading whitespace ok), closed, not blank
    answer_start: int  # index where the answer part starts; -1 if there is none (think never closed)
    boxes: tuple[str, ...] | None  # contents of the boxes in the answer part; None if malformed or spam


def find_think_tags(text: str) -> Tags:
    """Locate the think tags; whitespace inside a tag is tolerated."""
    if len(text) <= _REGEX_MAX_CHARS or text.count("<") <= _REGEX_MAX_ANGLES:
        return _tags_regex(text)
    return _tags_exact(text)


def _tags_regex(text: str) -> Tags:
    n_open = n_close = 0
    o_start = o_end = c_start = c_end = -1
    for m in _TAG.finditer(text):
        if m.group(1) is None:
            if n_open == 0:
                o_start, o_end = m.span()
            n_open += 1
        else:
            if n_close == 0:
                c_start, c_end = m.span()
            n_close += 1
        if n_open >= 2 and n_close >= 2:
            break  # nothing later can change the outcome
    return Tags(min(n_open, 2), min(n_close, 2), o_start, o_end, c_start, c_end)


def _tags_exact(text: str) -> Tags:
    o = text.find(_EXACT_OPEN)
    c = text.find(_EXACT_CLOSE)
    n_open = 0 if o < 0 else 1 + (text.find(_EXACT_OPEN, o + 1) >= 0)
    n_close = 0 if c < 0 else 1 + (text.find(_EXACT_CLOSE, c + 1) >= 0)
    return Tags(
        n_open,
        n_close,
        o,
        o + len(_EXACT_OPEN) if o >= 0 else -1,
        c,
        c + len(_EXACT_CLOSE) if c >= 0 else -1,
    )


def match_brace(text: str, open_pos: int, limit: int) -> int:
    """Index of the `}` closing the `{` at `open_pos`, searching before `limit`; -1 if none.

    Jumps from one `}` to the next and counts the `{` in between, so the work is one C-level
    find/count per closing brace rather than one Python step per character."""
    depth = 1
    k = open_pos + 1
    while True:
        close = text.find("}", k, limit)
        if close < 0:
            return -1
        depth += text.count("{", k, close) - 1
        if depth == 0:
            return close
        k = close + 1


def boxed_contents(text: str, start: int = 0) -> tuple[str, ...] | None:
    """Contents of every `\\boxed{...}` in `text[start:]`, left to right (a box nested in another
    is part of the outer content). None if any `\\boxed` there is malformed, or there are more
    than MAX_BOXES."""
    end = len(text)
    out: list[str] = []
    # One pass: each find starts where the previous box closed, and the loop stops at MAX_BOXES + 1.
    i = text.find(BOX, start)
    while i >= 0:
        if len(out) == MAX_BOXES:
            return None
        j = i + len(BOX)
        gap_end = min(end, j + MAX_BOX_GAP)
        while j < gap_end and text[j] in _WS:
            j += 1
        if j >= end or text[j] != "{":
            return None
        close = match_brace(text, j, min(end, j + 2 + MAX_BOX_CHARS))
        if close < 0:
            return None
        out.append(text[j + 1 : close])
        i = text.find(BOX, close + 1)
    return tuple(out)


def last_boxed(text: str) -> str | None:
    """Content of the last complete box anywhere in `text` (no think-block rules); None if the
    text has no box or a malformed one. Useful on its own; the rewards use `parse_response`."""
    boxes = boxed_contents(text)
    return boxes[-1] if boxes else None


def answer_start(text: str, tags: Tags | None = None) -> int:
    """Index where the answer part begins: after the first `</think>`; 0 if there are no think tags;
    -1 if a `<think>` is never closed."""
    tags = tags or find_think_tags(text)
    if tags.n_close:
        return tags.close_end
    return -1 if tags.n_open else 0


def parse_response(text: str) -> Parsed:
    """Split a response into its think-block verdict and the boxes of its answer part."""
    tags = find_think_tags(text)
    start = answer_start(text, tags)
    boxes = boxed_contents(text, start) if start >= 0 else ()
    think_ok = (
        tags.n_open == 1
        and tags.n_close == 1
        and tags.open_end <= tags.close_start
        and (tags.open_start == 0 or text[: tags.open_start].isspace())
        and not _blank(text, tags.open_end, tags.close_start)
    )
    return Parsed(think_ok, start, boxes)


def _blank(text: str, start: int, stop: int) -> bool:
    return start >= stop or text[start:stop].isspace()
