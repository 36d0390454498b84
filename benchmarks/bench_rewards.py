"""Reward throughput on a realistic mix of responses, on one core.

The mix: 200-2000 token responses (about 800-8000 characters of reasoning, at ~4 characters per
token), then a boxed answer, for every answer type (shuffle 2x2 and strips, depth ordering, flip,
crop and position multiple choice with their options). About 70% are well formed (right or wrong
answers, some in accepted non-canonical shapes such as `(C)` or `0, 2, 3, 1`) and 30% are
malformed (no `</think>`, no box, hedges, unclosed boxes, boxes only while reasoning).

Run: `python benchmarks/bench_rewards.py [--n 4000] [--repeats 5] [--section all|throughput|hostile]`.
Prints responses per second, best of the repeats, for `score()` and for the TRL reward functions
(target: >= 50,000 per second), then the worst-case time of every evaluation matcher on a set of 1 MB
hostile responses (target: under 10 ms each, like the training reward).

Hostile responses: long runs of spaces, tabs or newlines after cue words (`answer`, `option`, `The
answer is`), thousands of `\\boxed{`, unbalanced braces, deep `\\text{` nesting, long digit runs and
number soup, thousands of `answer is A` hedges, QSpatial `\\scalar{` spam, tag soup. Each is timed as
the whole response, after a closed think block, and cut to MAX_ANSWER_TEXT_CHARS (the longest answer
part the matchers scan).
"""

from __future__ import annotations

import argparse
import json
import random
import time

from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.evaluate.scoring import predicted_number, score_item
from spatial_ssrl.rewards import answer_text, match_choice, match_number, match_yes_no, parse_number_with_unit, score
from spatial_ssrl.rewards.match import MAX_ANSWER_TEXT_CHARS
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


MB = 1 << 20
HOSTILE_TARGET_MS = 10.0  # the training reward's bound on a 1 MB adversarial response


def _fill(unit: str, size: int = MB) -> str:
    return unit * (size // len(unit) + 1)


def hostile_texts() -> dict[str, str]:
    """Name -> a 1 MB response built to make a matcher backtrack, loop or allocate."""
    return {
        "answer_spaces_bang": "answer" + " " * MB + "!",
        "answer_is_newlines": "The answer is" + "\n" * MB,
        "option_tabs": "option" + "\t" * MB,
        "answer_is_colon_spaces": "answer is" + " " * (MB // 2) + ":" + " " * (MB // 2),
        "cue_words": _fill("answer option is "),
        "answer_is_hedges": _fill("the answer is A. the answer is C. "),
        "option_letters": _fill("option A option B "),
        "open_boxes": _fill("\\boxed{"),
        "closed_boxes": _fill("\\boxed{C}"),
        "box_then_open_braces": "\\boxed{" + "{" * MB,
        "open_braces": "{" * MB,
        "close_braces": "}" * MB,
        "text_nesting": "\\text{" * (MB // 12) + "C" + "}" * (MB // 12),
        "text_unclosed": _fill("\\text{"),
        "text_spaces": "\\text" + " " * MB + "{",
        "latex_spaces": _fill("\\,~$"),
        "dollars": "$" * MB,
        "stars": "*" * MB,
        "parens": "(" * MB,
        "digit_run": "1" * MB,
        "digit_commas": _fill("1,"),
        "digit_dots": _fill("1."),
        "digit_exponents": _fill("1e"),
        "minus_run": "-" * MB,
        "numbers": _fill("1 "),
        "lengths": _fill("1 m "),
        "overflowing_lengths": _fill("1e999 m "),
        "number_then_spaces": "1" + " " * MB + "!",
        "thousands_groups": "1" + _fill(",234"),
        "scalar_open": _fill("\\scalar{"),
        "scalars": _fill("\\scalar{1} "),
        "scalar_hedges": _fill("\\scalar{1} \\scalar{3} "),
        "distance_units": _fill("distance_unit{"),
        "yes_words": _fill("yes "),
        "open_tags": _fill("<think>"),
        "close_tags": _fill("</think>"),
        "angle_spaces": "<" + " " * MB,
    }


def _items() -> dict[str, EvalItem]:
    options = {"A": "left of the chair", "B": "right of the chair", "C": "behind the chair"}

    def item(kind: str, answer: str, **kw) -> EvalItem:
        return EvalItem(benchmark="bench", id="0", question="q", answer=answer, kind=kind, **kw)

    return {
        "choice": item("choice", "C", options=options),
        "yesno": item("yesno", "yes"),
        "qspatial": item("number", "1.5 meters", extra={"metric": "within_factor", "factor": 2.0}),
        "mra": item("number", "2.0", extra={"metric": "mra", "unit": "m"}),
        "exact": item("number", "3", extra={"metric": "exact"}),
        "text": item("text", "dark red"),
        "pretext_permutation": item("pretext:permutation", "0-2-3-1"),
        "pretext_choice": item("pretext:choice", "C", options=options),
    }


def matchers() -> dict[str, object]:
    """Name -> a function of one response: every matcher applied to model output."""
    options = {"A": "left of the chair", "B": "right of the chair", "C": "behind the chair"}
    funcs = {
        "answer_text": answer_text,
        "match_choice": lambda t: match_choice(t, "C", options),
        "match_choice (no options)": lambda t: match_choice(t, "C"),
        "match_yes_no": lambda t: match_yes_no(t, "yes"),
        "match_number (factor 2)": lambda t: match_number(t, "2 m", within_factor=2),
        "parse_number_with_unit": parse_number_with_unit,
        "predicted_number": lambda t: predicted_number(t, "m"),
        "score (training reward)": lambda t: score(t, "C", "choice", options),
    }
    for kind, it in _items().items():
        funcs[f"score_item[{kind}]"] = lambda t, it=it: score_item(it, t)
    return funcs


def bench_hostile(repeats: int = 3) -> None:
    """Print, per matcher, its worst time (best of `repeats` per input) over every hostile input."""
    texts = {}
    for name, text in hostile_texts().items():
        texts[name] = text
        texts[f"{name} (after think)"] = "<think>r</think>" + text
        texts[f"{name} (at the limit)"] = text[:MAX_ANSWER_TEXT_CHARS]  # the longest answer part that is read
    cut = f"{MAX_ANSWER_TEXT_CHARS:,}"
    print(f"\n{len(texts)} hostile responses (1 MB, and cut to {cut} characters), best of {repeats}")
    print(f"{'matcher':32s} {'worst':>9s}  worst input")
    for name, func in matchers().items():
        worst, worst_input = 0.0, ""
        for text_name, text in texts.items():
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                func(text)
                best = min(best, time.perf_counter() - t0)
            if best > worst:
                worst, worst_input = best, text_name
        flag = "" if worst * 1e3 < HOSTILE_TARGET_MS else f"  OVER {HOSTILE_TARGET_MS:.0f} ms"
        print(f"{name:32s} {worst * 1e3:7.2f} ms  {worst_input}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--section", choices=["all", "throughput", "hostile"], default="all")
    args = parser.parse_args()
    if args.section in ("all", "throughput"):
        bench(args.n, args.repeats)
    if args.section in ("all", "hostile"):
        bench_hostile(min(args.repeats, 3))


if __name__ == "__main__":
    main()
