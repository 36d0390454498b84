"""Text helpers several benchmark modules share (linear-time stand-ins for the official regexes)."""

from __future__ import annotations


def last_brace_group(text: str, opener: str) -> str | None:
    """The content of the last `opener...}` group as `re.findall(re.escape(opener) + "([^}]*)}", text)[-1]`
    finds it (matches do not overlap; a group ends at the first "}" after its opener, and the next search
    starts after that "}"), or None when there is none. Linear: every `find` starts where the previous
    group ended, so a reply of any length is scanned once."""
    last, pos = None, 0
    while True:
        start = text.find(opener, pos)
        if start < 0:
            return last
        start += len(opener)
        end = text.find("}", start)
        if end < 0:
            return last  # no "}" after this opener, so none after any later opener either
        last, pos = text[start:end], end + 1
