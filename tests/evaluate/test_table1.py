"""Table 1 end to end: the command of docs/evaluation.md ("Reproduce Table 1 from local files") run through
`ssrl eval` on the seven benchmarks in their official layouts (tests/fixtures/benchmark_files.py), for two
"models" behind the OpenAI-compatible backend (a local server with canned replies), under both protocols,
then `ssrl compare`.

The two models answer every question with one canned reply:
- "Qwen2.5-VL-7B" (served as Qwen/Qwen2.5-VL-7B-Instruct): `<think>...</think>` then `\\boxed{A}`;
- "Spatial-SSRL-7B" (internlm/Spatial-SSRL-7B, the documented command's model): a bare `A`.
The same replies score differently under the two protocols: the official VSI-Bench rule reads the reply's
first word, the authors' the last box; the authors' What'sUp script asks the captions in the release's
order (the right one is always A) and reads only a box; ViewSpatial's paper rule reads only a box.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from spatial_ssrl.cli import main
from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.report import TABLE1_COLUMNS
from tests.fixtures.benchmark_files import TABLE1_FILES, table1_vsibench_records, write_table1_files

DOCS = Path(__file__).resolve().parents[2] / "docs" / "evaluation.md"
SECTION = "## Reproduce Table 1 from local files"
QWEN_MODEL, SSRL_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct", "internlm/Spatial-SSRL-7B"
REPLIES = {QWEN_MODEL: "<think>I compare the objects in the image.</think>\n\\boxed{A}", SSRL_MODEL: "A"}
PROTOCOLS = ("paper", "official")

# benchmark name (results.json) -> the module that must score it (`rules`)
RULES = {
    "Spatial457": "Spatial457",
    "3DSRBench": "3DSRBench",
    "SpatialEval": "SpatialEval",
    "QSpatial_plus": "QSpatial",
    "WhatsUp-controlled_images": "WhatsUp",
    "ViewSpatial": "ViewSpatial",
    "VSI-Bench": "VSI-Bench",
}

# Table 1 rows (%) the canned replies must give, worked out from the rules (None: checked separately).
# 3DSRBench: answers B A B A A; both protocols read the letter A from both replies: 3/5.
# ViewSpatial: answers A D B. Official: the letter on the reply's last line (A for both); paper: the last
# box only (the bare "A" has none). VSI-Bench: 4 items (answers B, 4 chairs, 26.4 m², A), 4 question types.
# Official: a choice is the reply's first word ("<think>I" is no letter), the score the mean over types;
# paper: the boxed letter, the mean over items. What'sUp paper: the right caption is always A, read from
# the box. Spatial457 (Yes / 2 / airliner), SpatialEval (B D C) and QSpatial (no \scalar{}): nothing right.
EXPECTED = {
    ("paper", "Qwen2.5-VL-7B"): (0.0, 60.0, 0.0, 0.0, 100.0, 33.33, 25.0),
    ("paper", "Spatial-SSRL-7B"): (0.0, 60.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    ("official", "Qwen2.5-VL-7B"): (0.0, 60.0, 0.0, 0.0, None, 33.33, 0.0),
    ("official", "Spatial-SSRL-7B"): (0.0, 60.0, 0.0, 0.0, None, 33.33, 25.0),
}


class CannedServer:
    """A chat-completions endpoint on 127.0.0.1 (ephemeral port) answering each request with the canned
    reply of its `model`, and recording (model, prompt text, number of images). Bounded: past
    `max_requests` it answers HTTP 400 (not retried by the backend), and it shuts itself down after
    `lifetime` seconds even when the test never stops it."""

    def __init__(self, replies: dict[str, str], max_requests: int = 400, lifetime: float = 120.0):
        self.requests: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.stopped = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                parts = body["messages"][0]["content"]
                text = "\n".join(p["text"] for p in parts if p["type"] == "text")
                images = sum(p["type"] == "image_url" for p in parts)
                with server.lock:
                    server.requests.append((body["model"], text, images))
                    over = len(server.requests) > max_requests
                reply = replies.get(body["model"])
                if over or reply is None or self.path != "/v1/chat/completions":
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(b"over the request budget" if over else b"unknown model or path")
                    return
                data = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]})
                data = data.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.timer = threading.Timer(lifetime, self.stop)
        self.timer.daemon = True

    def stop(self) -> None:
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        self.thread.start()
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        self.stop()


def documented_commands() -> tuple[list[str], list[str]]:
    """The `ssrl eval` and `ssrl compare` arguments of the docs' Table 1 section (without `ssrl`)."""
    text = DOCS.read_text(encoding="utf-8")
    assert SECTION in text, f"{DOCS.name} has no section {SECTION!r}"
    block = text.split(SECTION, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    commands = {args[1]: args[2:] for args in lines if args[0] == "ssrl"}
    assert set(commands) == {"eval", "compare"}, block
    return commands["eval"], commands["compare"]


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _replace(args: list[str], name: str, value: str) -> list[str]:
    k = args.index(name)
    return [*args[: k + 1], value, *args[k + 2 :]]


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    assert code == 0, out.getvalue()
    return out.getvalue()


def _table1_rows(printed: str) -> dict[str, list[str]]:
    """The run rows (not the paper's reference rows) of the printed Table 1: name -> cells after the name."""
    rows = {}
    for line in printed.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and not cells[0].startswith(("*", "model")):
            rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture(scope="module")
def table1(tmp_path_factory) -> dict:
    """Every run of the documented commands: {"root", "docs", "requests": {protocol: [...]}, "printed":
    {protocol: compare's output}, "runs": {protocol: {name: run dir}}, "compare": {protocol: out dir}}."""
    root = tmp_path_factory.mktemp("table1")
    eval_args, compare_args = documented_commands()
    data = root / _option(eval_args, "--data-root")
    specs = write_table1_files(data)

    def local(spec: str) -> str:  # a documented `kind:data/...` spec, under the test's folder
        kind, path = spec.split(":", 1)
        return f"{kind}:{root / path}"

    documented = [_option(eval_args[k:], "--bench") for k, a in enumerate(eval_args) if a == "--bench"]
    base_runs = [a for a in compare_args if not a.startswith("--")][:2]
    names = _option(compare_args, "--names").split(",")
    out = {"root": root, "specs": specs, "documented": documented, "requests": {}, "printed": {}, "runs": {}}
    out["compare"] = {}
    for protocol in PROTOCOLS:
        with CannedServer(REPLIES) as server:
            runs = {}
            for name, model, run in zip(names, (QWEN_MODEL, SSRL_MODEL), base_runs):
                runs[name] = root / protocol / run
                args = _replace(eval_args, "--model", model)
                args = _replace(args, "--out", str(runs[name]))
                args = _replace(args, "--protocol", protocol)
                args = _replace(args, "--data-root", str(data))
                args = [local(a) if a in documented else a for a in args]
                _run(["eval", *args, "--backend", "openai", "--base-url", server.url, "--frames", "4", "--quiet"])
            out["requests"][protocol] = list(server.requests)
        out["runs"][protocol] = runs
        out["compare"][protocol] = root / protocol / "table1"
        args = [*map(str, runs.values()), *compare_args[len(base_runs) :]]
        out["printed"][protocol] = _run(["compare", *_replace(args, "--out", str(out["compare"][protocol]))])
    return out


def test_the_documented_specs_are_the_official_files(table1):
    eval_args, _ = documented_commands()
    assert _option(eval_args, "--model") == SSRL_MODEL and _option(eval_args, "--data-root") == "data"
    assert table1["documented"] == [f"{kind}:data/{rel}" for kind, rel in TABLE1_FILES]
    root = table1["root"]
    assert [s.replace(f"{root}/", "") for s in table1["specs"]] == table1["documented"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_results_hold_the_seven_benchmarks_with_their_rules_and_protocol(table1, protocol):
    for run in table1["runs"][protocol].values():
        results = json.loads((run / "results.json").read_text())
        assert results["run"]["protocol"] == protocol and results["run"]["backend"] == "openai"
        assert {b: s["rules"] for b, s in results["benchmarks"].items()} == RULES
        assert {s["protocol"] for s in results["benchmarks"].values()} == {protocol}
        assert all(s["n"] > 0 and s["missing"] == 0 for s in results["benchmarks"].values())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_compare_prints_table1_with_every_column_and_the_average(table1, protocol):
    printed = table1["printed"][protocol]
    header = next(line for line in printed.splitlines() if line.startswith("| model |"))
    assert header == "| model | protocol | " + " | ".join(TABLE1_COLUMNS) + " | avg |"
    rows = _table1_rows(printed)
    assert list(rows) == ["Qwen2.5-VL-7B", "Spatial-SSRL-7B"]
    for name, cells in rows.items():
        assert cells[0] == protocol and len(cells) == 1 + len(TABLE1_COLUMNS) + 1
        scores = [float(c) for c in cells[1:]]  # every column and the avg filled: no "—"
        assert scores[-1] == pytest.approx(sum(scores[:-1]) / len(TABLE1_COLUMNS), abs=0.01)
        for got, want in zip(scores, EXPECTED[protocol, name]):
            assert want is None or got == want, (protocol, name, scores)
    assert "*Spatial-SSRL-7B (paper)*" in printed  # the paper's rows as reference lines


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_compare_writes_its_files(table1, protocol):
    out = table1["compare"][protocol]
    assert all((out / f).is_file() for f in ("compare.md", "compare.json", "compare.png", "breakdowns.md"))
    saved = json.loads((out / "compare.json").read_text())["table1"]
    assert [m["name"] for m in saved["models"]] == ["Qwen2.5-VL-7B", "Spatial-SSRL-7B"]
    for m in saved["models"]:
        assert m["protocol"] == protocol and m["avg"] is not None
        assert m["sources"] == dict(zip(TABLE1_COLUMNS, RULES))  # each column from the right benchmark
    assert "## Table 1" in (out / "compare.md").read_text()
    breakdowns = (out / "breakdowns.md").read_text()
    assert all(f"## {bench}" in breakdowns for bench in RULES)


def test_paper_prompts_carry_the_authors_reasoning_sentence_and_official_ones_do_not(table1):
    for protocol in PROTOCOLS:
        requests = table1["requests"][protocol]
        assert len(requests) == 2 * 29  # both models, every item once: 3 + 5 + 3 + 3 + 8 + 3 + 4
        qspatial = ["What is the height of object" in text for _, text, _ in requests]
        assert sum(qspatial) == 2 * 3
        for (_, text, _), is_qspatial in zip(requests, qspatial):
            # The authors' VLMEvalKit copy leaves QSpatial with its own prompt (no reasoning sentence).
            wanted = protocol == "paper" and not is_qspatial
            assert (RELEASED_REASONING_SENTENCE in text) == wanted, (protocol, text)
        vsi = [r["question"] for r in table1_vsibench_records()]
        frames = [n for _, text, n in requests if any(q in text for q in vsi)]
        assert frames == [4] * 2 * len(vsi)  # --frames 4: each video as four frames (images)


def test_the_same_replies_score_differently_under_the_two_protocols(table1):
    tables = {p: _table1_rows(table1["printed"][p]) for p in PROTOCOLS}
    for name in ("Qwen2.5-VL-7B", "Spatial-SSRL-7B"):
        paper, official = (dict(zip(TABLE1_COLUMNS, tables[p][name][1:])) for p in PROTOCOLS)
        assert paper["VSI-Bench"] != official["VSI-Bench"] and paper["What'sUp"] != official["What'sUp"]
        assert paper["3DSRBench"] == official["3DSRBench"]  # exact matching reads both replies alike
    # What'sUp official: the captions in a seeded order, the chosen letter read from either reply: both
    # models score alike, below the paper protocol's 100 (where the right caption is always A).
    whatsup = [float(tables["official"][n][1 + TABLE1_COLUMNS.index("What'sUp")]) for n in tables["official"]]
    assert whatsup[0] == whatsup[1] < 100.0
