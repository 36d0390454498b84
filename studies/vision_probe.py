"""Can this model learn to read the picture at all? A fast teacher-forced probe for choosing sizes and rates.

The learning study spends minutes per setting; this probe answers the prior question in seconds per hundred
steps. It trains a model (a `ssrl tiny-model` folder) on one task of a dataset folder with the answer alone as
the target (no reasoning text: every target token depends on the image), and prints, every `--every` steps,
the exact-answer accuracy under teacher forcing on a fixed train subset and on the validation split. A setting
whose train accuracy stays at chance cannot learn the task from the image; the study's SFT learning rate and
image size were chosen this way, on validation only (docs/evidence.md).

    python -m studies.vision_probe MODEL DATA --task flip --steps 1200 --batch 16 --lr 3e-4
    python -m studies.vision_probe MODEL --task quadrant     # sanity check: where is the red rectangle?

`quadrant` needs no dataset: images of noise with one red rectangle in one of four quadrants, made in code,
answer 0-3 (chance 1/4). It separates "cannot learn positions" from "cannot learn this task".
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

QUESTION = "Answer with the labels only."  # the prompt: the image(s), then this line


def quadrant_items(n: int, seed: int) -> list[tuple[list, str]]:
    """`n` (images, answer) pairs: 224x168 noise with a red rectangle inside quadrant q (answer str(q))."""
    import numpy as np
    from PIL import Image

    items = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        image = (rng.random((168, 224, 3)) * 60 + 80).astype(np.uint8)
        q = int(rng.integers(4))
        y0, x0 = (q // 2) * 84 + int(rng.integers(0, 40)), (q % 2) * 112 + int(rng.integers(0, 60))
        image[y0 : y0 + 40, x0 : x0 + 48] = (250, 30, 30)
        items.append(([Image.fromarray(image)], str(q)))
    return items


def dataset_items(data: Path, split: str, task: str) -> list[tuple[list, str]]:
    """(images, answer) of every row of `task` in one split of a dataset folder."""
    from PIL import Image

    from spatial_ssrl.dataset.schema import read_rows

    return [
        ([Image.open(io.BytesIO(im["bytes"])).convert("RGB") for im in row["images"]], row["answer"])
        for row in read_rows(data, split)
        if row["task"] == task
    ]


def encode(processor, items: list[tuple[list, str]]):
    """A padded batch whose labels are the answer tokens of the assistant turn (everything else -100)."""
    texts, images = [], []
    for ims, answer in items:
        user = [*({"type": "image"} for _ in ims), {"type": "text", "text": QUESTION}]
        messages = [
            {"role": "user", "content": user},
            {"role": "assistant", "content": [{"type": "text", "text": answer}]},
        ]
        texts.append(processor.apply_chat_template(messages, tokenize=False))
        images.append(ims)
    batch = processor(text=texts, images=images, return_tensors="pt", padding=True)
    labels = batch["input_ids"].clone().fill_(-100)
    start = processor.tokenizer.convert_tokens_to_ids("<|im_start|>")
    end = processor.tokenizer.convert_tokens_to_ids("<|im_end|>")
    header = 1 + len(processor.tokenizer("assistant\n", add_special_tokens=False)["input_ids"])  # the role line
    for i, row in enumerate(batch["input_ids"]):
        first = int((row == start).nonzero()[-1]) + header
        last = int((row == end).nonzero()[-1])
        labels[i, first:last] = row[first:last]
    batch["labels"] = labels
    return batch


def exact_accuracy(model, processor, items: list[tuple[list, str]], batch_size: int = 32) -> float:
    """Share of items whose every answer token is the model's top prediction (teacher forcing)."""
    import torch

    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(items), batch_size):
            batch = encode(processor, items[i : i + batch_size])
            labels = batch.pop("labels")[:, 1:]
            predicted = model(**batch).logits[:, :-1].argmax(-1)
            right += int(((predicted == labels) | (labels == -100)).all(-1).sum())
    model.train()
    return right / len(items)


def probe(model_dir: str, train, validation, steps: int, batch_size: int, lr: float, every: int, seed: int = 0):
    """Train with AdamW at a constant `lr`; yields (step, loss, train accuracy, validation accuracy, seconds)."""
    import numpy as np
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    torch.manual_seed(seed)
    processor = AutoProcessor.from_pretrained(model_dir)
    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for step in range(1, steps + 1):
        picked = rng.choice(len(train), min(batch_size, len(train)), replace=False)
        loss = model(**encode(processor, [train[i] for i in picked])).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % every == 0 or step == steps:
            acc_train = exact_accuracy(model, processor, train[:200])
            acc_val = exact_accuracy(model, processor, validation)
            yield step, float(loss), acc_train, acc_val, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """`python -m studies.vision_probe MODEL [DATA] --task T`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a model folder (ssrl tiny-model)")
    parser.add_argument("data", nargs="?", help="a dataset folder (ssrl generate); not needed for --task quadrant")
    parser.add_argument("--task", default="flip", help="a task of the dataset, or quadrant")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--every", type=int, default=100, help="measure every N steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.task == "quadrant":
        train, validation = quadrant_items(1000, args.seed), quadrant_items(200, args.seed + 1)
    elif args.data is None:
        parser.error(f"--task {args.task} needs a dataset folder")
    else:
        train = dataset_items(Path(args.data), "train", args.task)
        validation = dataset_items(Path(args.data), "validation", args.task)
    if not train or not validation:
        parser.error(f"no {args.task} rows in the train or validation split")
    print(f"{len(train)} train, {len(validation)} validation items")
    print("step  loss    train   validation  seconds")
    for step, loss, acc_train, acc_val, seconds in probe(
        args.model, train, validation, args.steps, args.batch, args.lr, args.every, args.seed
    ):
        print(f"{step:5d}  {loss:.3f}  {acc_train:6.3f}  {acc_val:6.3f}  {seconds:8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
