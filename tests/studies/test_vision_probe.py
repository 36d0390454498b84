"""The vision probe: its toy answers are where the rectangle is, its targets are the answer tokens only, and a
short run reports accuracies in [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from studies.vision_probe import encode, exact_accuracy, probe, quadrant_items

pytest.importorskip("transformers")


def test_quadrant_answers_are_where_the_red_rectangle_is():
    for images, answer in quadrant_items(40, seed=3):
        pixels = np.asarray(images[0])
        ys, xs = np.nonzero((pixels[..., 0] == 250) & (pixels[..., 1] == 30))
        assert int(answer) == 2 * int(ys.mean() >= 84) + int(xs.mean() >= 112)
    assert {a for _, a in quadrant_items(40, seed=3)} == {"0", "1", "2", "3"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from spatial_ssrl.train.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny"), "qwen2_5_vl")


def test_the_targets_are_the_answer_tokens_only(tiny):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny)
    items = [(quadrant_items(1, 0)[0][0], "3-1-2"), (quadrant_items(1, 1)[0][0], "0")]
    batch = encode(processor, items)
    for labels, (_, answer) in zip(batch["labels"], items):
        assert processor.tokenizer.decode(labels[labels != -100]) == answer


def test_a_short_probe_reports_accuracies(tiny):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    train, validation = quadrant_items(16, 0), quadrant_items(8, 1)
    rows = list(probe(str(tiny), train, validation, steps=2, batch_size=4, lr=1e-3, every=1))
    assert [r[0] for r in rows] == [1, 2]
    assert all(0.0 <= r[2] <= 1.0 and 0.0 <= r[3] <= 1.0 and np.isfinite(r[1]) for r in rows)
    model, processor = AutoModelForImageTextToText.from_pretrained(tiny), AutoProcessor.from_pretrained(tiny)
    assert exact_accuracy(model, processor, validation) in {k / 8 for k in range(9)}
