"""What a benchmark module provides, and the registry that finds the module for a benchmark.

Each benchmark the paper reports has one module in this folder (`threedsr.py`, `qspatial.py`, ...)
that reads top to bottom: which official code it follows, how that code builds the prompt, parses a
response, scores it and breaks the score down, and how the Spatial-SSRL authors' own evaluation
("paper" protocol) differs. The module ends with `register_benchmark(BenchmarkRules(...))`, the way a
task file ends with `register_task(...)`.

Two protocols, chosen per run:
- "official": the benchmark's own harness (VLMEvalKit without a judge, ViewSpatial-Bench's
  evaluate.py, What'sUp's code, VSI-Bench's thinking-in-space / lmms-eval code).
- "paper": the settings the Spatial-SSRL authors evaluated with, where they differ from official.

A benchmark without a module of its own (any other VLMEvalKit TSV, our pretext datasets) uses
GENERIC_RULES: the project's own lenient rules (`evaluate.scoring`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spatial_ssrl.evaluate.items import Benchmark, EvalItem
from spatial_ssrl.evaluate.prompts import question_text
from spatial_ssrl.evaluate.scoring import score_item

PROTOCOLS = ("official", "paper")  # see the module docstring


class UnknownProtocol(ValueError):
    """A protocol name that is not one of PROTOCOLS."""


def check_protocol(protocol: str) -> str:
    """`protocol` if it is one of PROTOCOLS.

    Raises:
        UnknownProtocol: it is not.
    """
    if protocol not in PROTOCOLS:
        raise UnknownProtocol(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    return protocol


Judge = Callable[[str], str]  # a prompt to an LLM judge -> its reply (evaluate/judge.py)


@dataclass
class ScoringContext:
    """What a scorer may depend on besides the item and the response.

    `judge`, when given, is asked where the official harness would ask its judge model (VLMEvalKit's
    multiple-choice fallback); `judge_calls` counts how often it decided."""

    protocol: str = "official"
    judge: Judge | None = None
    judge_calls: int = 0
    mode: str = "cot"  # the run's prompt mode ("cot" or "direct"): some harnesses parse the two differently


# One item's score: {"score": 0..1 or None (unscored), "format": 0/1, "pred": extracted answer or None,
# ...any details the module's summarize reads (a parsed number, a flip flag, a circular group)}.
ItemScore = dict[str, Any]


def generic_question(item: EvalItem, protocol: str) -> str:
    """The project's own question text: hint, question and lettered options (`prompts.question_text`)."""
    return question_text(item)


def generic_score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """The project's own rules (`scoring.score_item`), the same under both protocols."""
    return score_item(item, response)


def generic_summarize(items: list[EvalItem], records: list[dict], protocol: str, aggregate: str = "micro") -> dict:
    """Overall score and per category/subcategory tables (`runner.summarize`)."""
    from spatial_ssrl.evaluate.summary import summarize

    return summarize(records, aggregate)


@dataclass(frozen=True)
class BenchmarkRules:
    """How one benchmark is prompted, scored and summarised, under each protocol.

    Attributes:
        name: the benchmark's name in reports (also the column in `ssrl compare`).
        follows: the official code (repository, file, version or commit) this module follows.
        paper_differences: how the authors' protocol differs from official ("" when it does not).
        dataset_names: case-insensitive names that select these rules: a TSV's file stem, the name
            given in a spec (`tsv:FILE:NAME`), or VLMEvalKit's dataset name (`3DSRBench`, `MMBench_TEST_EN_V11`).
            A name selects the rules when it equals one of these or starts with one followed by `_` or `-`.
        question: (item, protocol) -> the question as the harness words it (hint, options, its own
            answer instruction). Under "paper" it is the authors' chain-of-thought prompt up to where their
            script appends the reasoning sentence.
        paper_cot_prompt: what the authors' script appends to `question(item, "paper")`: usually
            `contract.RELEASED_REASONING_SENTENCE` with the separator their script uses ("" when the
            question already holds it; None = the released checkpoints' prompt as demo.py appends it).
        score: (item, response, ctx) -> ItemScore.
        summarize: (items, records, protocol) -> the summary: at least `score` (the headline, 0..1),
            `n`, `accuracy`, `format_rate`, `by_category`, `by_subcategory`, and optionally
            `breakdowns` {table title: {row: {"n", "score"}}} and `headline` (what `score` is).
        prepare: (benchmark, protocol) -> benchmark, run once after loading (expand circular
            variants, set the frame count of the protocol, ...); None leaves it as read.
        answer_style: the kind of answer the prompt templates ask for ("choice", "yesno", "number",
            "number_unit", "text"); None derives it from each item's kind.
        spec_kinds: the `kind:` prefixes of `--bench` specs this module reads (`viewspatial`, `qspatial`, ...).
        read: the loader of those layouts: read(path, *, name, data_root, num_frames, seed) -> Benchmark
            (name None = the module's default, made unique per file); it must raise BenchmarkFormatError
            naming file, row and column for malformed input.
        sniff: (path, first record's keys or None) -> True when a bare path (no `kind:`) is in this
            module's layout.
        write_files: (benchmark, records, responses, folder) -> paths of the files the official harness
            writes besides its scores (MMBench TEST's submission file), written into the benchmark's folder.
    """

    name: str
    follows: str
    paper_differences: str = ""
    dataset_names: tuple[str, ...] = ()
    question: Callable[[EvalItem, str], str] = generic_question
    paper_cot_prompt: str | None = None
    score: Callable[[EvalItem, str, ScoringContext], ItemScore] = generic_score
    summarize: Callable[[list[EvalItem], list[dict], str], dict] | None = None
    prepare: Callable[[Benchmark, str], Benchmark] | None = None
    answer_style: str | None = None
    spec_kinds: tuple[str, ...] = ()
    read: Callable[..., Benchmark] | None = None
    sniff: Callable[[Any, set[str] | None], bool] | None = None
    write_files: Callable[[Benchmark, list[dict], dict[str, str], Any], list[Any]] | None = None

    def summary(self, bench: Benchmark, records: list[dict], protocol: str) -> dict:
        """The benchmark's summary under `protocol` (`summarize`, or the generic tables)."""
        if self.summarize is None:
            return generic_summarize(bench.items, records, protocol, bench.aggregate)
        return self.summarize(bench.items, records, protocol)


GENERIC_RULES = BenchmarkRules(
    name="generic",
    follows="the project's own rules (docs/evaluation.md, 'Generic rules'); no official scorer",
)

_RULES: dict[str, BenchmarkRules] = {}


def register_benchmark(rules: BenchmarkRules) -> BenchmarkRules:
    """Make `rules` findable by `rules_for`; returns it. Registering a name twice replaces it."""
    _RULES[rules.name] = rules
    return rules


def registered_benchmarks() -> dict[str, BenchmarkRules]:
    """Every registered benchmark module, by name (the modules of this folder are imported first)."""
    from spatial_ssrl.evaluate.benchmarks import import_benchmark_modules

    import_benchmark_modules()
    return dict(_RULES)


def _selects(alias: str, name: str) -> bool:
    alias, name = alias.casefold(), name.casefold()
    return name == alias or (name.startswith(alias) and name[len(alias)] in "_-")


def rules_for(name: str) -> BenchmarkRules:
    """The rules a benchmark name selects (the longest matching dataset name wins), else GENERIC_RULES."""
    best, best_len = GENERIC_RULES, -1
    for rules in registered_benchmarks().values():
        for alias in (rules.name, *rules.dataset_names):
            if _selects(alias, name) and len(alias) > best_len:
                best, best_len = rules, len(alias)
    return best
