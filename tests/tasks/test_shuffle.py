"""Shuffle answers are proven by reassembling the output in the answer's order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl import Rejection, Source, run_task
from tests.fixtures.images import textured_image


def _layout_from_question(sample) -> tuple[int, int]:
    rows, cols = sample.meta["grid"]
    q = sample.question
    if sample.variant.startswith("2x2"):
        assert "2x2 grid" in q and (rows, cols) == (2, 2)
    elif sample.variant == "strips_row":
        assert f"{cols} vertical strips" in q and rows == 1
    else:
        assert f"{rows} horizontal strips" in q and cols == 1
    return rows, cols


def _reassemble(sample, source: np.ndarray):
    rows, cols = _layout_from_question(sample)
    out = sample.images[0]
    h, w = source.shape[:2]
    pw, ph = w // cols, h // rows
    assert out.shape == (ph * rows, pw * cols, 3)
    labels = [int(x) for x in sample.answer.split("-")]
    assert sorted(labels) == list(range(rows * cols))
    assert labels != list(range(rows * cols)), "identity permutation emitted"
    label_mask = np.zeros(out.shape[:2], bool)
    for x0, y0, x1, y1 in sample.meta["label_boxes"]:
        label_mask[max(0, y0) : y1, max(0, x0) : x1] = True

    def piece(a, k):
        r, c = divmod(k, cols)
        return a[r * ph : (r + 1) * ph, c * pw : (c + 1) * pw]

    restored = np.zeros_like(out)
    restored_mask = np.zeros(out.shape[:2], bool)
    for pos, lab in enumerate(labels):
        r, c = divmod(pos, cols)
        restored[r * ph : (r + 1) * ph, c * pw : (c + 1) * pw] = piece(out, lab)
        restored_mask[r * ph : (r + 1) * ph, c * pw : (c + 1) * pw] = piece(label_mask, lab)
    return restored, restored_mask, labels, (rows, cols, pw, ph)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    img_seed=st.integers(0, 50),
    size=st.sampled_from([(320, 240), (301, 199), (128, 400), (640, 480)]),
)
def test_reassembling_in_answer_order_restores_source(seed, img_seed, size):
    rgb = textured_image(img_seed, *size)
    sample = run_task("shuffle", Source("img", rgb), seed=seed)
    assert not isinstance(sample, Rejection), sample
    restored, mask, labels, (rows, cols, pw, ph) = _reassemble(sample, rgb)
    trimmed = rgb[: ph * rows, : pw * cols]
    keep = ~mask
    blank = sample.meta["blank_label"]
    if blank is not None:  # the whitened piece: restore everything else, and the blank is white
        pos = labels.index(blank)
        r, c = divmod(pos, cols)
        blank_region = np.zeros_like(keep)
        blank_region[r * ph : (r + 1) * ph, c * pw : (c + 1) * pw] = True
        assert (restored[blank_region & keep] == 255).all()
        keep &= ~blank_region
    np.testing.assert_array_equal(restored[keep], trimmed[keep])
    # Labels cover only a small corner of each piece.
    assert mask.mean() < 0.15


def test_wrong_order_does_not_restore():
    rgb = textured_image(3)
    sample = run_task("shuffle", Source("img", rgb), seed=1, variant="2x2")
    labels = [int(x) for x in sample.answer.split("-")]
    wrong = labels[1:] + labels[:1]
    out = sample.images[0]
    ph, pw = out.shape[0] // 2, out.shape[1] // 2
    tiles = [out[r * ph : (r + 1) * ph, c * pw : (c + 1) * pw] for r in range(2) for c in range(2)]
    top = np.concatenate([tiles[wrong[0]], tiles[wrong[1]]], axis=1)
    assert not np.array_equal(top, rgb[:ph, : 2 * pw])


def test_all_variants_and_strip_counts_occur():
    rgb = textured_image(7)
    seen = set()
    for i in range(80):
        s = run_task("shuffle", Source("img", rgb), seed=0, index=i)
        seen.add((s.variant, tuple(s.meta["grid"])))
    assert {v for v, _ in seen} == {"2x2", "2x2_blank", "strips_row", "strips_column"}
    assert {g for _, g in seen} >= {(2, 2), (1, 3), (1, 4), (3, 1), (4, 1)}


def test_uniform_piece_is_rejected():
    rgb = textured_image(5, 320, 240).copy()
    rgb[:120, :160] = 90  # the top-left quarter is flat: which piece is it?
    result = run_task("shuffle", Source("img", rgb), seed=0, variant="2x2")
    assert isinstance(result, Rejection) and result.reason == "shuffle.uniform_piece"


def test_interchangeable_pieces_are_rejected():
    tile = textured_image(9, 160, 120)
    rgb = np.tile(tile, (2, 2, 1))  # four identical pieces: any order restores the picture
    result = run_task("shuffle", Source("img", rgb), seed=0, variant="2x2")
    assert isinstance(result, Rejection) and result.reason == "shuffle.interchangeable_pieces"


@pytest.mark.parametrize("size", [(1, 1), (40, 40), (63, 500)])
def test_too_small_is_a_typed_rejection(size):
    rgb = np.full((size[1], size[0], 3), 128, np.uint8)
    result = run_task("shuffle", Source("tiny", rgb), seed=0, variant="2x2")
    assert isinstance(result, Rejection) and result.reason == "shuffle.too_small"
