"""An optional LLM judge on any OpenAI-compatible server, asked only where the official harness asks one.

VLMEvalKit scores multiple choice by exact matching first and asks a judge model only when that cannot
tell which option a response chose. `ssrl eval --judge-url URL --judge-model NAME` turns that fallback on
(it is off by default: exact matching only, which is what VLMEvalKit does without a judge key). The
benchmark modules build the judge prompt and parse the reply (`benchmarks/vlmevalkit.py`); this module
only carries the text, with a cache per benchmark folder so re-scoring a run asks nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from spatial_ssrl.evaluate.backends import OpenAIBackend

MAX_JUDGE_TOKENS = 64  # VLMEvalKit's judge answers with an option letter or Z; room for a short sentence
MAX_JUDGE_CACHE_LINE_BYTES = 1 << 20  # a cache line longer than this is not one of ours: skipped


class OpenAIJudge:
    """A judge model behind `/v1/chat/completions`: prompt in, reply text out, greedy decoding."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120.0) -> None:
        self.client = OpenAIBackend(
            base_url, model, api_key=api_key, timeout=timeout, max_workers=1, max_new_tokens=MAX_JUDGE_TOKENS
        )

    def describe(self) -> dict[str, Any]:
        """The judge's endpoint and model, as the results record them (never the API key)."""
        return {"url": self.client.url, "model": self.client.model}

    def __call__(self, prompt: str) -> str:
        return self.client.post(
            {
                "model": self.client.model,
                "messages": [{"role": "user", "content": prompt}],
                "max_tokens": MAX_JUDGE_TOKENS,
                "temperature": 0.0,
            }
        )


class CachedJudge:
    """A judge whose replies are remembered in a JSON Lines file (`judge.jsonl` of a benchmark folder),
    keyed by the SHA-256 of the prompt, so a finished run re-scores without asking again."""

    def __init__(self, judge, path: str | Path) -> None:
        self.judge, self.path = judge, Path(path)
        self.replies: dict[str, str] = {}
        if self.path.exists():
            with open(self.path, "rb") as fh:
                for line in iter(lambda: fh.readline(MAX_JUDGE_CACHE_LINE_BYTES + 1), b""):
                    try:
                        record = json.loads(line.decode("utf-8"))
                        if isinstance(record.get("key"), str) and isinstance(record.get("reply"), str):
                            self.replies[record["key"]] = record["reply"]
                    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
                        continue  # a cut-short or foreign line: that prompt is asked again
            with open(self.path, "rb+") as fh:
                if fh.seek(0, os.SEEK_END) and (fh.seek(-1, os.SEEK_END), fh.read(1))[1] != b"\n":
                    fh.write(b"\n")  # end a line cut short, so the next reply starts a line of its own

    def __call__(self, prompt: str) -> str:
        key = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
        if key not in self.replies:
            reply = self.judge(prompt)
            self.replies[key] = reply
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "reply": reply}, ensure_ascii=False) + "\n")
        return self.replies[key]


def make_judge(url: str | None, model: str | None, api_key: str | None = None) -> OpenAIJudge | None:
    """The judge the command line asks for, or None when no --judge-url is given.

    Raises:
        ValueError: a URL without a model, or a model without a URL.
    """
    if not url and not model:
        return None
    if not url or not model:
        raise ValueError("an LLM judge needs both --judge-url and --judge-model")
    return OpenAIJudge(url, model, api_key=api_key or os.environ.get("OPENAI_API_KEY"))
