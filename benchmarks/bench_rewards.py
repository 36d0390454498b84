"""Reward throughput on a realistic mix of responses, on one core.

The mix: 200-2000 token responses (about 800-8000 characters of reasoning, at ~4 characters per
token), then a boxed answer, for every answer type (shuffle 2x2 and strips, depth ordering, flip,
crop and position multiple choice with their options). About 70% are well formed (right or wrong
answers, some in accepted non-canonical shapes such as `(C)` or `0, 2, 3, 1`) and 30% are
malformed (no `</think>`, no box, hedges, unclosed boxes, boxes only while reasoning).

Run: `python benchmarks/bench_rewards.py [--n 4000] [--repeats 5]`. Prints responses per second,
best of the repeats, for `score()` and for the TRL reward functions. Target: >= 50,000 per second.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from spatial_ssrl.rewards import score
from spatial_ssrl.rewards.trl import accuracy_reward, format_reward

SENTENCES = (
    "the piece with label two shows sky so it belongs at the top and region one is nearer than region three "
    "because the table occludes it while the patch on the left continues the edge of the roof I think the "
    "viewer faces the camera so the target lies to their right and slightly behind option"
)
WORDS = SENTENCES.split()
POSITION = {"A": "Left-Front", "B": "Right-Back", "C": "Left-Back", "D": "Right-Front"}
CROP = {k: f"candidate patch {k}" for k in "ABCD"}


def _rows(rng: random.Random) -> tuple[str, str, dict | None, str, str]:
    """(task, answer_type, options, answer, a wrong answer), drawn like the released data mix."""
    kind = rng.choices(["shuffle4", "shuffle3", "depth", "flip", "crop", "position"], [8, 8, 20, 4, 20, 20])[0]
    if kind in ("shuffle4", "shuffle3", "depth"):
        labels = list(range(4)) if kind == "shuffle4" else list(range(3)) if kind == "shuffle3" else [1, 2, 3]
        a, b = labels[:], labels[:]
        rng.shuffle(a)
        rng.shuffle(b)
        task = "depth_order" if kind == "depth" else "shuffle"
        return task, "permutation", None, "-".join(map(str, a)), "-".join(map(str, b))
    if kind == "flip":
        return "flip", "label_direction", None, f"{rng.randrange(4)}-{rng.randrange(2)}", "1-1"
    options = CROP if kind == "crop" else POSITION
    return kind, "choice", options, rng.choice("ABCD"), rng.choice("ABCD")


def _variant(answer: str, answer_type: str, options: dict | None, rng: random.Random) -> str:
    """An accepted non-canonical shape of the same answer."""
    if answer_type == "choice":
        return rng.choice([f"({answer})", f"{answer}.", f"{answer}. {options[answer]}", f"\\text{{{answer}}}"])
    return rng.choice([answer.replace("-", ", "), answer.replace("-", " - "), f"({answer.replace('-', ', ')})"])


def make_response(rng: random.Random) -> dict:
    task, answer_type, options, answer, wrong = _rows(rng)
    n_chars = rng.randint(800, 8000)
    reasoning = []
    size = 0
    while size < n_chars:
        w = rng.choice(WORDS)
        reasoning.append(w)
        size += len(w) + 1
    think = " ".join(reasoning)
    roll = rng.random()
    boxed = answer if roll < 0.45 else wrong if roll < 0.60 else _variant(answer, answer_type, options, rng)
    tail = f"</think>\n\nPutting this together, the answer is \\boxed{{{boxed}}}."
    if roll >= 0.70:  # malformed
        tail = rng.choice(
            [
                "",  # truncated: think never closed
                f"</think>\nThe answer is {answer}.",  # no box
                f"</think>\n\\boxed{{{answer}}} or maybe \\boxed{{{wrong}}}",  # hedge
                f"</think>\n\\boxed{{{answer}",  # unclosed
                f" \\boxed{{{answer}}} </think> I am not sure.",  # box only while reasoning
            ]
        )
    return {
        "response": f"<think>\n{think}\n{tail}",
        "answer": answer,
        "answer_type": answer_type,
        "task": task,
        "options": json.dumps(options) if options else "",
    }


def bench(n: int, repeats: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    rows = [make_response(rng) for _ in range(n)]
    chars = sum(len(r["response"]) for r in rows) / n
    print(f"{n} responses, mean {chars:.0f} characters (~{chars / 4:.0f} tokens), best of {repeats} runs, 1 process")

    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for r in rows:
            score(r["response"], r["answer"], r["answer_type"], r["options"])
        best = min(best, time.perf_counter() - t0)
    print(f"score():                 {n / best:>10,.0f} responses/s  ({best / n * 1e6:.1f} us each)")

    cols = {k: [r[k] for r in rows] for k in ("answer", "answer_type", "task", "options")}
    completions = [r["response"] for r in rows]
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        accuracy_reward(completions, **cols)
        format_reward(completions, **cols)
        best = min(best, time.perf_counter() - t0)
    print(f"TRL accuracy + format:   {n / best:>10,.0f} responses/s  ({best / n * 1e6:.1f} us each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bench(args.n, args.repeats)


if __name__ == "__main__":
    main()
