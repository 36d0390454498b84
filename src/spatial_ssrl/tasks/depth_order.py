"""Regional depth ordering.

Geometry: tile the depth map into small squares (side ~3% of the short image side) at a random
grid offset and keep tiles that are almost fully valid and nearly flat in depth. Pick three
tiles whose depths are clearly apart.
Render: circle each region on the photo (the ring clears the region itself) with labels 1-3
assigned at random.
Answer: the labels from nearest to farthest, e.g. `3-1-2`. "Depth" is the z-buffer depth (distance along
the optical axis), which is what depth maps store; the question says so, because with a wide field of
view it can order regions differently from the straight-line distance. The example order in the
question is drawn at random and never equals the answer.
Verifiability (per region): valid-depth fraction, spread of normalised depth <= 0.15 (paper);
(per pair): normalised gap >= 0.05 (paper; log-depth by default), true-depth intervals disjoint, and a minimum
relative gap in true depth, so noise on a flat wall (stretched to [0, 1] by normalisation)
never yields an ordering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatial_ssrl.engine.registry import register_task
from spatial_ssrl.engine.sample import Rejection, Sample, Source
from spatial_ssrl.tasks._regions import min_center_separation, usable_tiles
from spatial_ssrl.tasks._render import MarkerFailure, draw_region_markers
from spatial_ssrl.tasks._wording import check_answer, num

TASK = "depth_order"  # the registered name


@dataclass
class DepthOrderParams:
    """Thresholds of the depth_order task (docs/tasks.md); the field defaults are the task's defaults."""

    n_regions: int = 3
    region_frac: float = 0.03  # region side as a fraction of the short image side
    min_region_px: int = 9
    min_valid_frac: float = 0.9  # share of a region's pixels with valid depth
    max_region_spread: float = 0.15  # max - min of normalised depth inside a region (paper)
    max_region_depth_ratio: float = 1.25  # max / min of true depth inside a region: the region really is flat
    min_norm_gap: float = 0.05  # gap between region means in normalised depth (paper)
    min_rel_gap: float = 0.10  # farther mean / nearer mean - 1, in true depth
    clip_percentiles: tuple[float, float] = (0.5, 99.5)  # clip before min-max normalisation
    normalise_space: str = "log"  # "linear" = the paper's min-max of depth; see _regions.depth_normaliser
    max_branching: int = 12  # search effort: candidates tried per region (bounded, deterministic)


def make_depth_order(
    source: Source, rng: np.random.Generator, params: DepthOrderParams, variant: str
) -> Sample | Rejection:
    """Regional depth ordering: order marked regions from nearest to farthest."""
    # 1. Sample geometry: candidate regions, then a set whose depths are clearly apart.
    found = usable_tiles(TASK, source, rng, params)
    if isinstance(found, Rejection):
        return found
    t, side = found
    n = len(t["box"])
    if n < params.n_regions:
        return Rejection(TASK, "depth.too_few_regions", f"{n} flat valid regions < {params.n_regions}")
    centers = (t["box"][:, :2] + t["box"][:, 2:]) / 2.0
    min_sep = min_center_separation(side, source.width, source.height)

    def compatible(i: int, js: np.ndarray) -> np.ndarray:
        near_is_i = t["d_mean"][i] <= t["d_mean"][js]
        near_max = np.where(near_is_i, t["d_max"][i], t["d_max"][js])
        far_min = np.where(near_is_i, t["d_min"][js], t["d_min"][i])
        lo = np.minimum(t["d_mean"][i], t["d_mean"][js])
        hi = np.maximum(t["d_mean"][i], t["d_mean"][js])
        return (
            (np.abs(t["n_mean"][i] - t["n_mean"][js]) >= params.min_norm_gap)
            & (far_min > near_max)
            & (hi >= lo * (1.0 + params.min_rel_gap))
            & (np.hypot(*(centers[js] - centers[i]).T) >= min_sep)
        )

    def extend(picked: list[int], pool: np.ndarray) -> list[int] | None:
        """Depth-first search for a compatible set, bounded to `max_branching` tries per level."""
        if len(picked) == params.n_regions:
            return picked
        for nxt in rng.permutation(pool)[: params.max_branching]:
            found = extend([*picked, int(nxt)], pool[compatible(int(nxt), pool)])
            if found:
                return found
        return None

    chosen = extend([], np.arange(n))
    if chosen is None:
        return Rejection(
            TASK,
            "depth.no_separated_regions",
            f"no {params.n_regions} flat regions with gaps >= {params.min_norm_gap} normalised "
            f"and {params.min_rel_gap:.0%} relative",
        )

    # 2. Render: labels 1..n assigned in random order.
    labels = [int(v) for v in rng.permutation(np.arange(1, params.n_regions + 1))]
    regions = [{"box": t["box"][i].tolist(), "label": lab} for i, lab in zip(chosen, labels)]
    drawn = draw_region_markers(source.rgb, regions, side)
    if isinstance(drawn, MarkerFailure):  # no label placement is unambiguous: reject rather than mislead
        return Rejection(TASK, drawn.reason, drawn.detail)
    image, markers = drawn

    # 3. Answer: labels sorted by true depth (nearest first).
    by_depth = sorted(zip(chosen, labels), key=lambda p: t["d_mean"][p[0]])
    answer = "-".join(str(lab) for _, lab in by_depth)
    depths = sorted(float(t["d_mean"][i]) for i in chosen)
    norms = sorted(float(t["n_mean"][i]) for i in chosen)
    for m, i in zip(markers, chosen):
        m.update(
            depth=float(t["d_mean"][i]),
            depth_range=[float(t["d_min"][i]), float(t["d_max"][i])],
            norm_depth=float(t["n_mean"][i]),
            norm_spread=float(t["n_max"][i] - t["n_min"][i]),
            valid_frac=float(t["valid_frac"][i]),
        )
    # The example is a random order other than the answer, so it never leaks it (a fixed `2-3-1` was the
    # answer in one sample out of six).
    n_lab = params.n_regions
    example = answer
    while example == answer:
        example = "-".join(str(int(v)) for v in rng.permutation(np.arange(1, n_lab + 1)))
    ex = example.split("-")
    question = (
        f"<image>\n{n_lab} small regions of this photo are circled in red and labelled 1 to {n_lab}. "
        "Order the regions by depth, that is by how far in front of the camera each one lies, measured along "
        "the direction the camera faces (not the straight-line distance to the lens), from nearest to farthest. "
        f"Answer with the {n_lab} labels joined by dashes, nearest first (for example, {example} would mean "
        f"region {ex[0]} is nearest and region {ex[-1]} is farthest)."
    )
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=[image],
        question=question,
        answer=answer,
        meta={
            "markers": markers,
            "region_side": side,
            "margins": {
                "min_norm_gap": round(min(b - a for a, b in zip(norms, norms[1:])), 4),
                "min_rel_gap": round(min(b / a - 1 for a, b in zip(depths, depths[1:])), 4),
                "max_norm_spread": round(max(m["norm_spread"] for m in markers), 4),
                "min_valid_frac": round(min(m["valid_frac"] for m in markers), 4),
            },
        },
    )


# ---------------------------------------------------------------------------- cold start


def explain_depth_order(row: dict, meta: dict) -> str:
    """Cold-start reasoning for a depth_order sample, from how it was made (see ColdstartTemplate)."""
    markers = sorted(meta["markers"], key=lambda m: m["depth"])
    check_answer(row, "-".join(str(m["label"]) for m in markers))
    first = markers[0]
    parts = [f"region {first['label']} is the nearest, at a depth of about {num(first['depth'])}"]
    for k, (prev, cur) in enumerate(zip(markers, markers[1:]), start=2):
        ratio = f"{cur['depth'] / prev['depth']:.2g} times" if prev["depth"] > 0 else "farther"
        rank = "the farthest" if k == len(markers) else "next"
        parts.append(
            f"region {cur['label']} is {rank}, at about {num(cur['depth'])}, {ratio} as far as region {prev['label']}"
        )
    order = ", ".join(str(m["label"]) for m in markers)
    return (
        f"I estimate how far each of the {len(markers)} marked regions is from the camera: "
        + "; ".join(parts)
        + f". From nearest to farthest the regions are {order}, so the answer is {row['answer']}."
    )


# Default mix weight: the task's count in the released Spatial-SSRL-81k.
register_task(
    TASK,
    make_depth_order,
    params=DepthOrderParams,
    variants={"three_regions": 1},
    answer_type="permutation",
    needs_depth=True,
    mix_weight=20620,
    coldstart=explain_depth_order,
)
