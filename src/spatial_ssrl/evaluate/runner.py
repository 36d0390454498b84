"""Run benchmarks through a backend with a per-item predictions cache, score, and write results.

Layout of an output folder (one per model and generation settings):

    OUT/run.json                      backend.describe() + mode + protocol + prompt template: every
                                      setting that changes what is generated (a rerun must match)
    OUT/results.json, OUT/results.md  every benchmark evaluated into OUT so far
    OUT/<benchmark>/predictions.jsonl {"id", "response"} per line, appended and flushed per batch
    OUT/<benchmark>/scored.jsonl      per item: answer, extracted prediction, score, format
    OUT/<benchmark>/results.json, results.md

`<benchmark>` is the benchmark's name made safe as one folder name (`dataset.paths.safe_component`:
`..`, `/abs` or `a/b` cannot leave OUT), and every path is checked to resolve under OUT before it is
written.

Each benchmark is prompted, scored and summarised by its module (`evaluate.benchmarks`) under the run's
protocol ("official" or "paper"). Two benchmarks of one run must have different names (a name is a
cache folder), and every cached prediction carries the key of the question it answers (`items.item_key`):
a cache that holds answers to other questions under the same ids (another file, another subset) is
refused (RunMismatch) instead of being scored against the wrong items.

Items whose id is already in predictions.jsonl are not generated again, so an interrupted run resumes
where it stopped and a finished run only re-scores (a TransformersBackend then never loads the model).
The cache is read line by line and tolerantly: a line cut short by an interruption is truncated away,
a line that is not UTF-8 JSON with a string `id` and `response` (or is longer than
MAX_PREDICTION_LINE_BYTES) is skipped and counted (`cache_bad_lines` in the results; its item is
generated again), and two lines giving one id different responses refuse the run (RunMismatch naming
the id): they come from two runs, and which one to score cannot be told.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spatial_ssrl.contract import RELEASED_CHECKPOINT_FORMAT_PROMPT
from spatial_ssrl.dataset.paths import confined, safe_component
from spatial_ssrl.evaluate.backends import Backend, plan_batches
from spatial_ssrl.evaluate.benchmarks import (
    GENERIC_RULES,
    BenchmarkRules,
    ScoringContext,
    check_protocol,
    rules_for,
)
from spatial_ssrl.evaluate.benchmarks.base import Judge
from spatial_ssrl.evaluate.items import Benchmark, EvalItem, item_key
from spatial_ssrl.evaluate.judge import CachedJudge
from spatial_ssrl.evaluate.prompts import MODES, TEMPLATES, load_template, render_prompt

# A predictions line longer than this is not read (skipped and counted): far above any response a
# generation budget allows (64 MiB is millions of tokens), it bounds the memory one corrupt line can take.
MAX_PREDICTION_LINE_BYTES = 64 << 20
# run.json and results.json are read whole: larger ones are not ours (a results.json of hundreds of
# benchmarks with every category is well under a megabyte).
MAX_RECORD_BYTES = 64 << 20
_READ_CHUNK = 1 << 20  # bytes read at a time while skipping an overlong line or looking for the last newline


class RunMismatch(ValueError):
    """The output folder holds predictions that do not belong to this run: another model, prompt
    mode or generation setting, or two different responses for one item."""


def bench_dir(out_dir: Path, name: str) -> Path:
    """The folder of benchmark `name` under `out_dir`: the name made safe as one folder name.

    Raises:
        UnsafePath: the folder would resolve outside `out_dir` (a symbolic link pointing out of it).
    """
    return confined(out_dir, Path(out_dir) / safe_component(name))


@dataclass
class CacheRead:
    """A predictions file, read: id -> response, and the number of lines that could not be used."""

    predictions: dict[str, str] = field(default_factory=dict)
    bad_lines: int = 0


def _drop_partial_last_line(path: Path) -> None:
    """Truncate a last line that has no newline (cut short by an interruption), reading from the end
    in chunks so that a file of any size costs one chunk of memory."""
    with open(path, "r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        end = size
        while end > 0:
            start = max(0, end - _READ_CHUNK)
            fh.seek(start)
            chunk = fh.read(end - start)
            k = chunk.rfind(b"\n")
            if k >= 0:
                fh.truncate(start + k + 1)
                return
            end = start
        fh.truncate(0)


def _record(line: bytes) -> tuple[str, str, str | None] | None:
    """(id, response, question key or None) of one predictions line, or None if it is not one."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict):
        return None
    rid, response = record.get("id"), record.get("response")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or not isinstance(response, str):
        return None
    key = record.get("key")
    return str(rid), response, key if isinstance(key, str) else None


def read_cache(path: Path, ids: set[str] | dict[str, str] | None = None) -> CacheRead:
    """The predictions of a cache file (only those of `ids` when given), read line by line.

    `ids` may map each id to its question key (`items.item_key`): a line whose recorded key differs
    answers another question under the same id (another file or subset under the same name).

    A line cut short by an interruption is dropped (and truncated away, so the next append starts on a
    fresh line). Lines that are not UTF-8 JSON objects with a string `id` and `response`, and lines
    over MAX_PREDICTION_LINE_BYTES, are skipped and counted in `bad_lines`. The same response twice
    for one id is fine.

    Raises:
        RunMismatch: two lines give one id different responses, or a line answers another question.
    """
    out = CacheRead()
    if not path.exists():
        return out
    _drop_partial_last_line(path)
    first_line: dict[str, int] = {}
    with open(path, "rb") as fh:
        for number, line in enumerate(iter(lambda: fh.readline(MAX_PREDICTION_LINE_BYTES + 1), b""), 1):
            if len(line) > MAX_PREDICTION_LINE_BYTES:
                out.bad_lines += 1
                while line and not line.endswith(b"\n"):  # skip the rest of the overlong line
                    line = fh.readline(_READ_CHUNK)
                continue
            if not line.strip():
                continue
            record = _record(line)
            if record is None:
                out.bad_lines += 1
                continue
            rid, response, key = record
            if ids is not None and rid not in ids:
                continue
            if isinstance(ids, dict) and key is not None and key != ids[rid]:
                raise RunMismatch(
                    f"{path}, line {number}: the cached answer to item {rid!r} was made for another question "
                    "(another file or subset under the same benchmark name): give this benchmark another name "
                    "(--bench KIND:FILE:NAME) or use another --out"
                )
            known = out.predictions.get(rid)
            if known is not None and known != response:
                raise RunMismatch(
                    f"{path}: lines {first_line[rid]} and {number} give item {rid!r} different responses "
                    "(predictions of two runs mixed): delete one of them, or use another --out"
                )
            out.predictions.setdefault(rid, response)
            first_line.setdefault(rid, number)
    return out


def load_cache(path: Path) -> dict[str, str]:
    """id -> response from a predictions file (`read_cache` without the count of bad lines)."""
    return read_cache(path).predictions


_MISSING = object()  # a setting one side does not have (run.json of an older version, or another backend)


def _describe_value(value: Any) -> str:
    return "(none)" if value is _MISSING else repr(value)


def _check_run(out_dir: Path, info: dict[str, Any]) -> dict[str, Any]:
    """Record the run's settings in run.json, or check that they equal the ones recorded there;
    returns them as recorded (JSON values).

    Raises:
        RunMismatch: a setting differs (or was not recorded), or run.json is not a run record.
    """
    path = confined(out_dir, out_dir / "run.json")
    # As JSON will give it back (tuples become lists, objects their repr), so equal settings compare equal.
    info = json.loads(json.dumps(info, default=repr))
    if path.exists():
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RunMismatch(f"{path} is not a run record (over {MAX_RECORD_BYTES} bytes): use another --out")
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RunMismatch(f"{path} is not a run record ({err}): use another --out") from None
        if not isinstance(old, dict):
            raise RunMismatch(f"{path} is not a run record (not a JSON object): use another --out")
        differ = [
            f"{key}={_describe_value(old.get(key, _MISSING))}, not {_describe_value(info.get(key, _MISSING))}"
            for key in [*info, *(k for k in old if k not in info)]
            if old.get(key, _MISSING) != info.get(key, _MISSING)
        ]
        if differ:
            raise RunMismatch(
                f"{out_dir} holds predictions made with {'; '.join(differ)}: use another --out "
                "(cached predictions of different settings must not mix), or delete its run.json to reuse them"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))
    return info


def _line(item_id: str, response: str, key: str) -> str | None:
    line = json.dumps({"id": item_id, "key": key, "response": response}, ensure_ascii=False) + "\n"
    if len(line.encode("utf-8")) > MAX_PREDICTION_LINE_BYTES:
        warnings.warn(
            f"item {item_id!r}: response of {len(response)} characters is over the cache's "
            f"MAX_PREDICTION_LINE_BYTES; scored now but not cached",
            stacklevel=3,
        )
        return None
    return line


def generate_missing(bench: Benchmark, backend: Backend, out_dir: Path, mode: str, progress: bool = True) -> CacheRead:
    """Generate the items not yet cached, appending each batch to the cache as soon as it is done.

    Returns:
        Every item's response (cached or new) and the number of unusable cache lines that were skipped.
    """
    path = confined(out_dir, bench_dir(out_dir, bench.name) / "predictions.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = {it.id: item_key(it) for it in bench.items}
    cache = read_cache(path, keys)
    if cache.bad_lines:
        warnings.warn(
            f"{path}: skipped {cache.bad_lines} unusable line(s); their items are generated again", stacklevel=2
        )
    pending = [it for it in bench.items if it.id not in cache.predictions]
    if not pending:
        return cache
    from tqdm import tqdm

    bar = tqdm(total=len(pending), desc=bench.name, unit="item", disable=not progress)
    with open(path, "a", encoding="utf-8") as fh:
        for batch in plan_batches(pending, backend.batch_size):
            responses = backend.generate(batch, mode)
            for item, response in zip(batch, responses):
                cache.predictions[item.id] = response
                line = _line(item.id, response, keys[item.id])
                if line is not None:
                    fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())  # a batch that was paid for survives a crash of the machine too
            bar.update(len(batch))
    bar.close()
    return cache


def score_benchmark(
    bench: Benchmark,
    predictions: dict[str, str],
    rules: BenchmarkRules | None = None,
    ctx: ScoringContext | None = None,
) -> tuple[list[dict], dict[str, Any]]:
    """Score every item of `bench` against `predictions` (id -> response; a missing id scores 0) by the
    benchmark's module (`rules`, default: the one its name selects) under `ctx.protocol`.

    Returns:
        The per-item records (scored.jsonl) and the summary (the module's, plus `missing`, `source`,
        `protocol`, `rules`, `follows` and `judge`).
    """
    rules = rules or rules_for(bench.rules or bench.name)
    ctx = ctx or ScoringContext()
    records = []
    for item in bench.items:
        response = predictions.get(item.id)
        result = dict(rules.score(item, response if isinstance(response, str) else "", ctx))
        record = {
            "id": item.id,
            "category": item.category,
            "subcategory": item.subcategory,
            "kind": item.kind,
            "answer": item.answer,
            "pred": result.pop("pred", None),
            "score": result.pop("score", None),
            "format": result.pop("format", 0),
            "missing": response is None,
        }
        record.update({k: v for k, v in result.items() if k not in record})
        if item.extra.get("chance") is not None:
            record["chance"] = item.extra["chance"]
        records.append(record)
    summary = rules.summary(bench, records, ctx.protocol)
    summary["missing"] = sum(r["missing"] for r in records)
    summary["source"] = bench.source
    summary["protocol"] = ctx.protocol if rules is not GENERIC_RULES else "generic"
    summary["rules"] = rules.name
    summary["follows"] = rules.follows
    summary["judge"] = {"used": ctx.judge is not None, "calls": ctx.judge_calls}
    return records, summary


def percent_text(value: float | None) -> str:
    """A fraction as a percentage with two decimals for tables ("—" for None)."""
    return "—" if value is None else f"{100 * value:.2f}"


def benchmark_markdown(name: str, summary: dict[str, Any]) -> str:
    """One benchmark's summary as Markdown: the overall line, then tables per category and subcategory."""
    lines = [
        f"### {name}",
        "",
        f"score **{percent_text(summary['score'])}** ({summary['aggregate']}), "
        f"accuracy {percent_text(summary['accuracy'])}, "
        f"format {percent_text(summary['format_rate'])}, n = {summary['n']}",
        "",
    ]
    if summary.get("rules"):
        protocol, follows = summary.get("protocol", "?"), summary.get("follows", "")
        lines += [f"protocol: {protocol} · rules: {summary['rules']} · follows: {follows}"]
        if summary.get("headline"):
            lines += [f"score = {summary['headline']}"]
        lines.append("")
    for title, table in (summary.get("breakdowns") or {}).items():
        lines += [f"| {title} | n | score |", "|---|---:|---:|"]
        lines += [f"| {k or '(none)'} | {v['n']} | {percent_text(v['score'])} |" for k, v in table.items()]
        lines.append("")
    for title, table in (("category", summary["by_category"]), ("subcategory", summary["by_subcategory"])):
        if not table or (title == "subcategory" and set(table) <= set(summary["by_category"])):
            continue
        lines += [f"| {title} | n | score | format |", "|---|---:|---:|---:|"]
        lines += [
            f"| {k or '(none)'} | {v['n']} | {percent_text(v['score'])} | {percent_text(v['format_rate'])} |"
            for k, v in table.items()
        ]
        lines.append("")
    return "\n".join(lines)


def results_markdown(results: dict[str, Any]) -> str:
    """results.md: a table of every benchmark of the run, then each benchmark's section."""
    run = results.get("run", {})
    lines = [
        f"# Results: {run.get('model', '?')} ({run.get('mode', '?')} prompts, "
        f"{run.get('protocol', 'official')} protocol, template {run.get('prompt_template', 'project')})",
        "",
    ]
    lines += ["| benchmark | n | score | format |", "|---|---:|---:|---:|"]
    for name, s in results["benchmarks"].items():
        lines.append(f"| {name} | {s['n']} | {percent_text(s['score'])} | {percent_text(s['format_rate'])} |")
    lines.append("")
    lines += [benchmark_markdown(name, s) for name, s in results["benchmarks"].items()]
    return "\n".join(lines)


def _read_results(path: Path) -> dict[str, Any]:
    """results.json as left by earlier runs into the folder; rebuilt from scratch (with a warning) if it
    is not a results record: it only summarises files that are still there."""
    if not path.exists():
        return {"benchmarks": {}}
    results = None
    if path.stat().st_size <= MAX_RECORD_BYTES:
        with contextlib.suppress(UnicodeDecodeError, json.JSONDecodeError):
            results = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(results, dict) or not isinstance(results.get("benchmarks"), dict):
        warnings.warn(f"{path} is not a results record: starting it again", stacklevel=3)
        return {"benchmarks": {}}
    return results


def _write_json(out_dir: Path, path: Path, data: Any) -> None:
    """Write `path` (under `out_dir`) atomically: a `.tmp` file renamed into place."""
    confined(out_dir, path)
    tmp = confined(out_dir, path.with_name(path.name + ".tmp"))
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    os.replace(tmp, path)


# Without --prompt-template, a benchmark module's items are asked exactly as its harness asks them (plus,
# under "paper", the authors' reasoning sentence where their script puts it: `paper_cot_prompt`); the
# generic rules (pretext datasets, other TSVs) get the project's template, or under "paper" the released
# checkpoints' prompt.
GENERIC_TEMPLATES = {"official": "project", "paper": "spatial-ssrl"}
DEFAULT_TEMPLATE_LABEL = "default"  # run.json's record of "no --prompt-template"


def template_label(template: str) -> str:
    """How run.json records a template: its name, or `file:<sha256 prefix>` of a template file's text."""
    if template in TEMPLATES or template == DEFAULT_TEMPLATE_LABEL:
        return template
    import hashlib

    return "file:" + hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def check_unique_names(benchmarks: list[Benchmark]) -> None:
    """Refuse two benchmarks with one name: they would share one cache folder and one results entry.

    Raises:
        RunMismatch: naming both sources and how to rename one.
    """
    seen: dict[str, str] = {}
    for bench in benchmarks:
        folder = safe_component(bench.name)
        if folder in seen:
            raise RunMismatch(
                f"two benchmarks are named {bench.name!r} ({seen[folder]} and {bench.source}): "
                "name one of them with --bench KIND:FILE:NAME"
            )
        seen[folder] = bench.source or bench.name


def item_prompt(item: EvalItem, rules: BenchmarkRules, mode: str, protocol: str, template: str | None) -> str:
    """The text after the images: the module's question, then what the template (or, without one, the
    protocol: `paper_cot_prompt` / GENERIC_TEMPLATES) adds."""
    question = rules.question(item, protocol)
    if template is not None:
        return render_prompt(item, question, mode, template, rules.answer_style)
    if rules is GENERIC_RULES:
        return render_prompt(item, question, mode, GENERIC_TEMPLATES[protocol] if mode == "cot" else "project")
    if protocol == "paper":
        return question + (
            RELEASED_CHECKPOINT_FORMAT_PROMPT if rules.paper_cot_prompt is None else rules.paper_cot_prompt
        )
    return question


def prepare_benchmark(
    bench: Benchmark, mode: str, protocol: str, template: str | None
) -> tuple[Benchmark, BenchmarkRules]:
    """Apply the benchmark module's `prepare` and render every item's prompt (`item_prompt`)."""
    rules = rules_for(bench.rules or bench.name)
    if rules.prepare is not None:
        bench = rules.prepare(bench, protocol)
    for item in bench.items:
        item.prompt = item_prompt(item, rules, mode, protocol, template)
    return bench, rules


def evaluate(
    benchmarks: list[Benchmark],
    backend: Backend,
    out_dir: str | Path,
    mode: str = "cot",
    progress: bool = True,
    protocol: str = "official",
    prompt_template: str | None = None,
    judge: Judge | None = None,
    judge_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Generate what is missing, score everything, write the results; returns results.json's content.

    Args:
        protocol: "official" (each benchmark's own harness) or "paper" (the Spatial-SSRL authors' settings).
        prompt_template: a template name or file (`prompts.load_template`) for every benchmark; default:
            each benchmark as its harness asks (`item_prompt`).
        judge: an LLM judge for the official harness's fallbacks (`evaluate.judge`); None = exact matching only.
        judge_info: how the judge is recorded in the results (server, model).

    Raises:
        RunMismatch: the folder holds another run's predictions, or two benchmarks share a name.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    check_protocol(protocol)
    if protocol == "paper" and mode != "cot":
        raise ValueError(
            "the paper protocol reproduces the authors' chain-of-thought evaluation (Table 1): use --mode cot"
        )
    template = load_template(prompt_template) if prompt_template is not None else None
    check_unique_names(benchmarks)
    out_dir = Path(out_dir)
    info = _check_run(
        out_dir,
        {
            **backend.describe(),
            "mode": mode,
            "protocol": protocol,
            "prompt_template": template_label(template if template is not None else DEFAULT_TEMPLATE_LABEL),
        },
    )
    results_path = confined(out_dir, out_dir / "results.json")
    results = _read_results(results_path)
    for bench in benchmarks:
        started = time.perf_counter()
        bench, rules = prepare_benchmark(bench, mode, protocol, template)
        cache = generate_missing(bench, backend, out_dir, mode, progress)
        folder = bench_dir(out_dir, bench.name)
        cached_judge = None if judge is None else CachedJudge(judge, confined(out_dir, folder / "judge.jsonl"))
        ctx = ScoringContext(protocol=protocol, judge=cached_judge, mode=mode)
        records, summary = score_benchmark(bench, cache.predictions, rules, ctx)
        if judge is not None and judge_info:
            summary["judge"].update(judge_info)
        summary["cache_bad_lines"] = cache.bad_lines
        summary["seconds"] = round(time.perf_counter() - started, 3)
        with open(confined(out_dir, folder / "scored.jsonl"), "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        _write_json(out_dir, folder / "results.json", {"run": info, "benchmark": bench.name, **summary})
        if rules.write_files is not None:
            written = rules.write_files(bench, records, cache.predictions, confined(out_dir, folder))
            summary["files"] = [str(p) for p in written]
        confined(out_dir, folder / "results.md").write_text(benchmark_markdown(bench.name, summary) + "\n")
        results["benchmarks"][bench.name] = summary
    results["run"] = json.loads((out_dir / "run.json").read_text())
    _write_json(out_dir, results_path, results)
    confined(out_dir, out_dir / "results.md").write_text(results_markdown(results))
    return results
