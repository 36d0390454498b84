"""The OpenAI-compatible backend against a local HTTP server with canned responses."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from spatial_ssrl.evaluate.backends import OpenAIBackend
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import evaluate
from tests.fixtures.benchmarks import image_bytes, write_tsv_fixture, write_vsibench_fixture


class Server:
    """A chat-completions endpoint on 127.0.0.1 (ephemeral port) in a thread. Answers `\\boxed{A}`;
    the first `fail_first` requests get HTTP 503 (a server warming up)."""

    def __init__(self, fail_first: int = 0):
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    failing = len(server.requests) <= server.fail_first
                if self.path != "/v1/chat/completions" or failing:
                    self.send_response(404 if not failing else 503)
                    self.end_headers()
                    self.wfile.write(b"unavailable")
                    return
                reply = {
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": "<think>x</think> \\boxed{A}"}}
                    ]
                }
                data = json.dumps(reply).encode()
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

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _images(body: dict) -> list[bytes]:
    parts = body["messages"][0]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert all(u.startswith("data:image/png;base64,") or u.startswith("data:image/jpeg;base64,") for u in urls)
    return [base64.b64decode(u.split(",", 1)[1]) for u in urls]


def _text(body: dict) -> str:
    return "\n".join(p["text"] for p in body["messages"][0]["content"] if p["type"] == "text")


def test_requests_carry_images_and_question(tmp_path):
    bench = load_benchmark(f"tsv:{write_tsv_fixture(tmp_path)}")
    with Server() as server:
        backend = OpenAIBackend(server.url, "served-model", api_key="k123", max_workers=4, max_new_tokens=64)
        results = evaluate([bench], backend, tmp_path / "run", progress=False)
    assert len(server.requests) == 8
    by_question = {_text(b).split("\n")[0]: b for b in server.requests}
    one = by_question["Which object is closer to the camera?"]
    assert one["model"] == "served-model" and one["max_tokens"] == 64 and one["temperature"] == 0.0
    assert _images(one) == [image_bytes(0)]  # the row's image, byte for byte
    assert "A. the chair" in _text(one) and "\\boxed{}" in _text(one)
    two = by_question["Which image was taken further to the left?"]
    assert _images(two) == [image_bytes(2), image_bytes(3)]  # both images, in order
    assert all(h.get("Authorization") == "Bearer k123" for h in server.headers)
    summary = results["benchmarks"]["tiny_bench"]
    assert summary["n"] == 8 and summary["by_category"]["depth"]["score"] == 0.5  # "A" is right for 1 of 2


def test_retries_transient_errors_and_sends_video_frames(tmp_path):
    bench = load_benchmark(f"vsibench:{write_vsibench_fixture(tmp_path)}", num_frames=4, limit=1)
    with Server(fail_first=2) as server:
        backend = OpenAIBackend(server.url, "m", max_workers=1, retries=3, retry_wait=0.01)
        assert backend.generate(bench.items) == ["<think>x</think> \\boxed{A}"]
    assert len(server.requests) == 3  # two 503s, then success
    assert len(_images(server.requests[-1])) == 4  # the sampled frames, as images
    assert "frames in time order" in _text(server.requests[-1])


def test_http_errors_are_reported(tmp_path):
    bench = load_benchmark(f"tsv:{write_tsv_fixture(tmp_path)}", limit=1)
    with Server() as server:
        backend = OpenAIBackend(server.url.replace("/v1", "/nope"), "m", retries=0)
        with pytest.raises(RuntimeError, match="HTTP 404"):
            backend.generate(bench.items)
