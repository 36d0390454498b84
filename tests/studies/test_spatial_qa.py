"""Tests of the synthetic spatial-QA benchmark (studies/spatial_qa.py).

Every answer is recomputed here from the regenerated scene's pixels (`points`, `object_id`), never from the
generator's own numbers: the marked objects are found from the marker squares, world "up" from a plane fitted
to the ground's points, and each rule's margin is checked on the visible points. Only the scene seed, the
image size and the marker boxes are taken from the item.
"""

from __future__ import annotations

import base64
import io
import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.sources.synthetic import SyntheticScene, make_scene
from studies import spatial_qa as sqa

SIZE = (320, 240)
EPS = 1e-6


def marked_objects(scene: SyntheticScene, markers: list[dict]) -> dict[int, int]:
    """{label: object_id} from the pixels inside each marker square (all of one box or sphere)."""
    out = {}
    for m in markers:
        x0, y0, x1, y1 = m["box"]
        ids = np.unique(scene.object_id[y0:y1, x0:x1])
        assert ids.size == 1, f"marker {m['label']} covers objects {ids.tolist()}"
        assert scene.objects[int(ids[0])].kind in ("box", "sphere")
        out[int(m["label"])] = int(ids[0])
    assert sorted(out) == [1, 2] and out[1] != out[2]
    return out


def ground_heights(scene: SyntheticScene, pts: np.ndarray) -> np.ndarray:
    """Height above the ground of camera-frame points, from a plane fitted to the ground's own points."""
    ground = [k for k, o in enumerate(scene.objects) if o.kind == "ground"][0]
    g = scene.points[scene.object_id == ground].astype(np.float64)
    c = g.mean(axis=0)
    normal = np.linalg.svd(g - c, full_matrices=False)[2][-1]
    if normal @ (-c) < 0:  # point it towards the camera, which is above the ground
        normal = -normal
    return (pts - c) @ normal


def check_image(scene: SyntheticScene, image: np.ndarray, markers: list[dict], exact: bool) -> None:
    """The image is the scene's photo except inside the rings and the label boxes; marker squares untouched."""
    assert image.shape == scene.rgb.shape
    h, w = image.shape[:2]
    gy, gx = np.mgrid[0:h, 0:w]
    untouched = np.ones((h, w), bool)
    for m in markers:
        cx, cy = m["center"]
        untouched &= (gx - cx) ** 2 + (gy - cy) ** 2 > (m["ring_outer_radius"] + 1) ** 2
        x0, y0, x1, y1 = m["label_box"]
        untouched[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1] = False
    diff = np.abs(image.astype(int) - scene.rgb.astype(int))
    if exact:
        assert diff[untouched].max() == 0
        for m in markers:
            x0, y0, x1, y1 = m["box"]
            assert diff[y0:y1, x0:x1].max() == 0
    else:  # JPEG
        assert diff[untouched].mean() < 3.0


def check_answer(scene: SyntheticScene, category: str, answer: str, markers: list[dict]) -> dict:
    """Recompute the answer of one item from the scene's pixels; returns the margins found."""
    ids = marked_objects(scene, markers)
    target = ids[1] if answer == "A" else ids[2]
    other = ids[2] if answer == "A" else ids[1]
    p_t = scene.points[scene.object_id == target].astype(np.float64)
    p_o = scene.points[scene.object_id == other].astype(np.float64)
    if category == "closer":
        d_t, d_o = np.linalg.norm(p_t, axis=1), np.linalg.norm(p_o, axis=1)
        ratio = d_o.min() / d_t.max()
        z_ratio = p_o[:, 2].min() / p_t[:, 2].max()
        assert ratio >= 1 + sqa.CLOSER_MIN_REL_GAP - EPS, ratio
        assert z_ratio >= 1 + sqa.CLOSER_MIN_REL_GAP - EPS, z_ratio
        return {"distance_ratio": ratio, "depth_ratio": z_ratio}
    if category == "left_of":
        b_t, b_o = p_t[:, 0] / p_t[:, 2], p_o[:, 0] / p_o[:, 2]
        gap = b_o.min() - b_t.max()
        x_gap = p_o[:, 0].mean() - p_t[:, 0].mean()
        assert gap >= sqa.LEFT_MIN_BEARING_GAP - EPS, gap
        assert x_gap >= sqa.LEFT_MIN_X_GAP_M - EPS, x_gap
        # in pixels too: every column of the answer object is left of every column of the other
        cols_t = np.nonzero(scene.object_id == target)[1]
        cols_o = np.nonzero(scene.object_id == other)[1]
        assert cols_t.max() < cols_o.min()
        return {"bearing_gap": gap, "x_mean_gap_m": x_gap}
    assert category == "higher"
    top_t, top_o = ground_heights(scene, p_t).max(), ground_heights(scene, p_o).max()
    assert top_t - top_o >= sqa.HIGHER_MIN_VISIBLE_GAP_M - 1e-3, (top_t, top_o)

    def true_top(k: int) -> float:  # the scene's own description: boxes rest on the ground, spheres touch it
        o = scene.objects[k]
        return 2 * o.size[0] if o.kind == "sphere" else o.size[1]

    assert true_top(target) - true_top(other) >= sqa.HIGHER_MIN_GAP_M - EPS
    for k, top in ((target, top_t), (other, top_o)):  # the tops are seen, not hidden (to within 0.2 m)
        assert true_top(k) - top < 0.2, (k, true_top(k), top)
    return {"visible_top_gap_m": top_t - top_o}


def decode(b64: str | bytes) -> np.ndarray:
    data = b64 if isinstance(b64, bytes) else base64.b64decode(b64)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("sqa") / "spatial_qa.tsv"
    stats = sqa.write_benchmark(out, range(1_000_000, 1_000_024), SIZE, per_scene=3, seed=0, image_format="png")
    metas = [json.loads(line) for line in sqa.meta_path(out).read_text().splitlines()]
    return out, stats, metas


# ------------------------------------------------------------------------------------------------


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene_seed=st.integers(0, 2**31 - 1), rng_seed=st.integers(0, 2**32 - 1))
def test_answers_recomputed_from_pixels(scene_seed: int, rng_seed: int) -> None:
    items = sqa.make_items(scene_seed, SIZE, np.random.default_rng(rng_seed))
    scene = make_scene(scene_seed, *SIZE)
    assert len(items) <= 3
    assert len({it["category"] for it in items}) == len(items)  # one per category with per_scene=3
    for it in items:
        meta = it["meta"]
        assert meta["scene_seed"] == scene_seed and meta["size"] == list(SIZE)
        assert it["question"] == sqa.QUESTIONS[it["category"]]
        assert (it["A"], it["B"]) == ("object 1", "object 2") and it["answer"] in ("A", "B")
        check_image(scene, it["image"], meta["markers"], exact=True)
        check_answer(scene, it["category"], it["answer"], meta["markers"])


def test_written_benchmark_answers_and_images(bench) -> None:
    out, stats, metas = bench
    bm = load_benchmark(f"tsv:{out}")
    assert len(bm.items) == len(metas) == stats["items"] > 40
    scenes: dict[int, SyntheticScene] = {}
    for item, meta in zip(bm.items, metas):
        assert item.id == str(meta["index"])
        scene = scenes.setdefault(meta["scene_seed"], make_scene(meta["scene_seed"], *SIZE))
        check_image(scene, decode(item.images[0]), meta["markers"], exact=True)
        check_answer(scene, item.category, item.answer, meta["markers"])


def test_loads_as_choice_items(bench) -> None:
    out, stats, metas = bench
    bm = load_benchmark(f"tsv:{out}")
    assert {it.kind for it in bm.items} == {"choice"}
    for it in bm.items:
        assert it.options == {"A": "object 1", "B": "object 2"}
        assert it.answer in ("A", "B")
        assert it.category in sqa.CATEGORIES
        assert it.question == sqa.QUESTIONS[it.category]
        assert len(it.images) == 1 and decode(it.images[0]).shape == (SIZE[1], SIZE[0], 3)
    assert Counter(it.category for it in bm.items) == Counter(
        {c: v["n"] for c, v in stats["per_category"].items() if v["n"]}
    )


def test_letters_balanced_per_category(bench) -> None:
    out, stats, metas = bench
    bm = load_benchmark(f"tsv:{out}")
    by_cat: dict[str, Counter] = {c: Counter() for c in sqa.CATEGORIES}
    for it in bm.items:
        by_cat[it.category][it.answer] += 1
    for c, n in by_cat.items():
        assert n["A"] + n["B"] >= 10, (c, n)  # every category is represented
        assert abs(n["A"] - n["B"]) <= 1, (c, n)  # shuffled (A, B) blocks
        assert (n["A"], n["B"]) == (stats["per_category"][c]["A"], stats["per_category"][c]["B"])
    # the answer is object 1 as often as object 2, so the label carries no information
    total = Counter(it.answer for it in bm.items)
    assert abs(total["A"] - total["B"]) <= len(sqa.CATEGORIES)


def test_margins_recorded_and_respected(bench) -> None:
    _, stats, metas = bench
    for m in metas:
        assert set(m["margins"]) and all(np.isfinite(v) for v in m["margins"].values())
    w = {c: v["worst_margins"] for c, v in stats["per_category"].items()}
    assert w["closer"]["distance_ratio"] >= 1 + sqa.CLOSER_MIN_REL_GAP - 1e-3
    assert w["left_of"]["bearing_gap"] >= sqa.LEFT_MIN_BEARING_GAP - 1e-3
    assert w["higher"]["top_gap_m"] >= sqa.HIGHER_MIN_GAP_M - 1e-3


def test_deterministic_bytes(tmp_path) -> None:
    seeds = range(1_000_100, 1_000_104)
    a = sqa.write_benchmark(tmp_path / "a.tsv", seeds, SIZE, per_scene=3, seed=5)
    b = sqa.write_benchmark(tmp_path / "b.tsv", seeds, SIZE, per_scene=3, seed=5)
    assert a["items"] == b["items"] > 0
    assert (tmp_path / "a.tsv").read_bytes() == (tmp_path / "b.tsv").read_bytes()
    assert sqa.meta_path(tmp_path / "a.tsv").read_bytes() == sqa.meta_path(tmp_path / "b.tsv").read_bytes()
    bm = load_benchmark(f"tsv:{tmp_path / 'a.tsv'}")  # JPEG (the default) reads too, close to the scene
    metas = [json.loads(line) for line in sqa.meta_path(tmp_path / "a.tsv").read_text().splitlines()]
    for item, meta in zip(bm.items, metas):
        check_image(make_scene(meta["scene_seed"], *SIZE), decode(item.images[0]), meta["markers"], exact=False)


def test_marker_failure_rejects_the_item(monkeypatch) -> None:
    from spatial_ssrl.tasks._render import MarkerFailure

    monkeypatch.setattr(sqa, "draw_region_markers", lambda *a, **k: MarkerFailure("markers.label_ambiguous"))
    counts: Counter = Counter()
    assert sqa.make_items(1_000_000, SIZE, np.random.default_rng(0), counts=counts) == []
    assert any("markers.label_ambiguous" in k for k in counts)


def test_balancer_keeps_blocks_whole() -> None:
    bal = sqa.LetterBalancer(np.random.default_rng(3))
    seen = []
    for i in range(40):
        letter = bal.peek("closer")
        assert bal.peek("closer") == letter  # peeking consumes nothing
        if i % 3:  # some attempts fail and never commit
            bal.commit("closer")
            seen.append(letter)
    for k in range(0, len(seen) - 1, 2):
        assert sorted(seen[k : k + 2]) == ["A", "B"]
