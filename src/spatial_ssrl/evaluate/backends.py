"""Where responses come from: a local transformers model, or any OpenAI-compatible server.

Both expose `generate(items, mode) -> list[str]` (responses in the order of `items`) and a
`batch_size`, the number of items the runner hands over at once (and caches after).

TransformersBackend batches on the model: left padding (so every prompt ends where generation starts),
items sorted into buckets of equal (video?, number of images, image sizes) so a batch's prompts have
nearly the same length and little padding, greedy decoding unless sampling is asked for.

OpenAIBackend posts `/chat/completions` to a server (vLLM, SGLang, LMDeploy, ...) with images as base64
data URLs, a video as its sampled frames (as images, in time order); requests run on a thread pool and
transient failures (connection errors, 429, 5xx) are retried with backoff. No `openai` package needed.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from spatial_ssrl.evaluate.items import EvalItem, encoded_image
from spatial_ssrl.evaluate.prompts import build_message


class Backend(Protocol):
    """What the runner needs from a model: `generate` and a `batch_size` (items handed over, and cached, at once)."""

    batch_size: int

    def generate(self, items: list[EvalItem], mode: str = "cot") -> list[str]:
        """One response per item, in the order of `items`; `mode` is "cot" or "direct" (see prompts.MODES)."""

    def describe(self) -> dict[str, Any]:
        """Every setting that changes what is generated (backend, model, dtype, decoding, image size
        limits), recorded in `run.json`: a rerun into the same folder must give the same values.
        Settings that only change speed (device, batch size, workers) are left out."""


def model_identity(model: str) -> str:
    """A model as a run records it: a local folder as its resolved absolute path (so `ckpt`, `ckpt/`
    and `./ckpt` are one model), anything else (a hub id) as given."""
    path = Path(model).expanduser()
    return str(path.resolve()) if path.is_dir() else model


def bucket_key(item: EvalItem) -> tuple:
    """Items with equal keys make prompts of equal length: same media type, count and sizes."""
    sizes = item.visual_sizes()
    return (item.is_video, len(sizes), sum(w * h for w, h in sizes), sizes)


def plan_batches(items: list[EvalItem], batch_size: int) -> list[list[EvalItem]]:
    """Items sorted by bucket (stable, so ties keep file order) and cut into batches."""
    ordered = sorted(items, key=bucket_key)
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


class TransformersBackend:
    """A vision-language model loaded with AutoModelForImageTextToText + AutoProcessor."""

    def __init__(
        self,
        model_path: str,
        device_map: str | None = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        max_new_tokens: int = 2048,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_pixels: int | None = None,
        min_pixels: int | None = None,
        generation_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.model_path = str(model_path)
        self.device_map, self.dtype = device_map, dtype
        self.requested_dtype = dtype  # `dtype` becomes the loaded one; a run is identified by what was asked
        self.batch_size, self.max_new_tokens = batch_size, max_new_tokens
        self.do_sample, self.temperature, self.top_p = do_sample, temperature, top_p
        self.generation_kwargs = dict(generation_kwargs or {})
        self.processor_kwargs = {k: v for k, v in (("max_pixels", max_pixels), ("min_pixels", min_pixels)) if v}
        self.model = self.processor = None  # loaded on first use: a rerun over cached predictions never loads it

    def load(self) -> None:
        """Load the processor (left padding) and the model, once; `generate` calls it on first use."""
        if self.model is not None:
            return
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.processor = AutoProcessor.from_pretrained(self.model_path, **self.processor_kwargs)
        # Left padding: with right padding, the shorter prompts of a batch would continue after pad tokens.
        self.processor.tokenizer.padding_side = "left"
        kwargs: dict[str, Any] = {"dtype": self.dtype if self.dtype == "auto" else getattr(torch, self.dtype)}
        if self.device_map not in (None, "cpu"):
            kwargs["device_map"] = self.device_map  # "auto" spreads a large model over the visible GPUs
        self.model = AutoModelForImageTextToText.from_pretrained(self.model_path, **kwargs)
        self.model.eval()
        self.dtype = str(self.model.dtype).removeprefix("torch.")

    def describe(self) -> dict[str, Any]:
        """Backend, model (`model_identity`), requested dtype, decoding settings (temperature and top_p
        only when sampling: greedy decoding ignores them), image size limits and extra generate() kwargs."""
        return {
            "backend": "transformers",
            "model": model_identity(self.model_path),
            "dtype": self.requested_dtype,
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "temperature": self.temperature if self.do_sample else None,
            "top_p": self.top_p if self.do_sample else None,
            "max_pixels": self.processor_kwargs.get("max_pixels"),
            "min_pixels": self.processor_kwargs.get("min_pixels"),
            "generation_kwargs": self.generation_kwargs,
        }

    def _inputs(self, items: list[EvalItem], mode: str):
        texts, images, videos, metadata = [], [], [], []
        for item in items:
            message = build_message(item, mode)
            texts.append(self.processor.apply_chat_template([message], tokenize=False, add_generation_prompt=True))
            if item.is_video:
                from spatial_ssrl.evaluate.video import sampling_metadata

                videos.append(item.visuals())
                # Qwen-VL times the frames (Qwen3-VL writes timestamps into the prompt): tell it which were taken.
                metadata.append(sampling_metadata(item.video, item.num_frames, item.extra.get("frame_rule", "round")))
            else:
                images.extend(item.visuals())
        kwargs: dict[str, Any] = {"text": texts, "padding": True, "return_tensors": "pt"}
        if images:
            kwargs["images"] = images
        if videos:
            kwargs.update(videos=videos, do_sample_frames=False, video_metadata=metadata)
        return self.processor(**kwargs)

    def _generate_batch(self, items: list[EvalItem], mode: str) -> list[str]:
        import torch

        self.load()
        inputs = self._inputs(items, mode).to(self.model.device)
        sampling = (
            {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
            # None overrides a checkpoint's sampling defaults (Qwen ships temperature/top_k) for greedy runs.
            if self.do_sample
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        with torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, **sampling, **self.generation_kwargs
            )
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        return self.processor.batch_decode(new_tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def generate(self, items: list[EvalItem], mode: str = "cot") -> list[str]:
        """One response per item, in the order of `items`, generated in bucketed batches (`plan_batches`)."""
        by_id: dict[int, str] = {}
        for batch in plan_batches(items, self.batch_size):
            for item, text in zip(batch, self._generate_batch(batch, mode)):
                by_id[id(item)] = text
        return [by_id[id(item)] for item in items]


def openai_content(item: EvalItem, mode: str) -> list[dict[str, Any]]:
    """The message content in OpenAI's format: text parts and image_url parts with data URLs."""
    visuals = item.visuals() if item.is_video else item.images
    urls = []
    for image in visuals:
        data, mime = encoded_image(image)
        urls.append(f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")
    content, k = [], 0
    for part in build_message(item, mode)["content"]:
        if part["type"] == "video":
            content.extend({"type": "image_url", "image_url": {"url": u}} for u in urls)
        elif part["type"] == "image":
            content.append({"type": "image_url", "image_url": {"url": urls[k]}})
            k += 1
        else:
            content.append({"type": "text", "text": part["text"]})
    return content


class OpenAIBackend:
    """A model behind an OpenAI-compatible `/v1/chat/completions` endpoint."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 300.0,
        max_workers: int = 8,
        max_new_tokens: int = 2048,
        temperature: float = 0.0,
        batch_size: int | None = None,
        retries: int = 3,
        retry_wait: float = 2.0,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.max_workers, self.max_new_tokens, self.temperature = max_workers, max_new_tokens, temperature
        self.batch_size = batch_size or 4 * max_workers
        self.retries, self.retry_wait, self.extra_body = retries, retry_wait, dict(extra_body or {})

    def describe(self) -> dict[str, Any]:
        """Backend, served model, endpoint URL, decoding settings and `extra_body` (never the API key)."""
        return {
            "backend": "openai",
            "model": self.model,
            "url": self.url,
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "extra_body": self.extra_body,
        }

    def request_body(self, item: EvalItem, mode: str) -> dict[str, Any]:
        """The JSON body of the chat completion request for one item (`extra_body` merged in last)."""
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": openai_content(item, mode)}],
            "max_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            **self.extra_body,
        }

    def post(self, body: dict[str, Any]) -> str:
        """Send one chat completion request; returns the reply text (retrying transient failures)."""
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    reply = json.loads(response.read().decode("utf-8"))
                return reply["choices"][0]["message"]["content"] or ""
            except urllib.error.HTTPError as err:
                transient = err.code == 429 or err.code >= 500
                if not transient or attempt == self.retries:
                    detail = err.read().decode("utf-8", "replace")[:500]
                    raise RuntimeError(f"{self.url}: HTTP {err.code}: {detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if attempt == self.retries:
                    raise RuntimeError(f"{self.url}: {err}") from None
            time.sleep(min(60.0, self.retry_wait * 2**attempt))
        raise AssertionError("unreachable")

    def generate(self, items: list[EvalItem], mode: str = "cot") -> list[str]:
        """One response per item, in order; requests run concurrently on up to `max_workers` threads.

        Raises:
            RuntimeError: a request failed for good (a non-transient HTTP error, or retries exhausted).
        """
        bodies = [self.request_body(item, mode) for item in items]
        if len(bodies) <= 1 or self.max_workers <= 1:
            return [self.post(b) for b in bodies]
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            return list(pool.map(self.post, bodies))


BACKENDS = ("transformers", "openai")  # the `kind`s make_backend accepts
DEFAULT_MAX_NEW_TOKENS = {"cot": 2048, "direct": 128}  # reasoning needs room; a bare answer does not


class BackendSetupError(ValueError):
    """Backend options that do not fit together (the message says what is missing)."""


def make_backend(
    kind: str,
    *,
    model: str | None = None,
    mode: str = "cot",
    max_new_tokens: int | None = None,
    device: str = "auto",
    dtype: str = "auto",
    batch_size: int = 8,
    max_pixels: int | None = None,
    base_url: str | None = None,
    served_model: str | None = None,
    api_key: str | None = None,
    workers: int = 8,
    temperature: float = 0.0,
) -> TransformersBackend | OpenAIBackend:
    """The backend `kind` ("transformers" or "openai"), its options checked.

    Args:
        kind: "transformers" (a local or hub model) or "openai" (an OpenAI-compatible server).
        model: hub id or folder (transformers); the served name if `served_model` is not given (openai).
        mode: "cot" or "direct"; sets the default `max_new_tokens` (DEFAULT_MAX_NEW_TOKENS).
        device: "cpu", "auto" (all visible GPUs, else the CPU) or a device such as "cuda:0" (transformers).
        api_key: default `$OPENAI_API_KEY` (openai).

    Raises:
        BackendSetupError: an unknown kind, or a required option missing.
    """
    tokens = max_new_tokens or DEFAULT_MAX_NEW_TOKENS[mode]
    if kind == "openai":
        if not base_url or not (served_model or model):
            raise BackendSetupError("--backend openai needs --base-url and --served-model (or --model)")
        return OpenAIBackend(
            base_url,
            served_model or model,
            api_key=api_key or os.environ.get("OPENAI_API_KEY"),
            max_workers=workers,
            max_new_tokens=tokens,
            temperature=temperature,
        )
    if kind != "transformers":
        raise BackendSetupError(f"backend must be one of {BACKENDS}, got {kind!r}")
    if not model:
        raise BackendSetupError("--model is required with the transformers backend")
    return TransformersBackend(
        model,
        device_map=None if device == "cpu" else device,  # None: plain load on the CPU, no accelerate placement
        dtype=dtype,
        batch_size=batch_size,
        max_new_tokens=tokens,
        max_pixels=max_pixels,
    )
