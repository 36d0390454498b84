"""The optional LLM judge: its requests (text only, greedy), its per-benchmark cache, its options."""

from __future__ import annotations

import pytest

from spatial_ssrl.evaluate.judge import CachedJudge, OpenAIJudge, make_judge
from tests.evaluate.test_eval_http import Server


def test_judge_sends_text_only_greedy_requests():
    with Server() as server:
        judge = OpenAIJudge(server.url, "judge-model")
        assert judge("Which option? A or B") == "<think>x</think> \\boxed{A}"
    body = server.requests[0]
    assert body["messages"] == [{"role": "user", "content": "Which option? A or B"}]
    assert body["temperature"] == 0.0 and body["model"] == "judge-model"
    assert judge.describe() == {"url": f"{server.url}/chat/completions", "model": "judge-model"}


def test_cached_judge_asks_each_prompt_once_across_runs(tmp_path):
    asked = []

    def judge(prompt):
        asked.append(prompt)
        return f"reply to {prompt}"

    path = tmp_path / "bench" / "judge.jsonl"
    first = CachedJudge(judge, path)
    assert first("p1") == "reply to p1" and first("p1") == "reply to p1" and first("p2") == "reply to p2"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "cut sho')  # an interrupted write: skipped, never a crash
    second = CachedJudge(judge, path)
    assert second("p1") == "reply to p1" and second("p2") == "reply to p2"
    assert second("p3") == "reply to p3"
    assert CachedJudge(judge, path)("p3") == "reply to p3"  # written on a line of its own
    assert asked == ["p1", "p2", "p3"]


def test_make_judge_needs_url_and_model():
    assert make_judge(None, None) is None
    with pytest.raises(ValueError, match="both --judge-url and --judge-model"):
        make_judge("http://127.0.0.1:1/v1", None)
    with pytest.raises(ValueError, match="both --judge-url and --judge-model"):
        make_judge(None, "m")
