"""`kerasdet stats`: what is in a dataset, and what is wrong with it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.files import write_file
from ..core.letterbox import letterbox_shape
from .dataset import DetectionDataset, load_dataset


def box_table(dataset: DetectionDataset) -> pd.DataFrame:
    """One row per box: image, class, size in pixels and relative to the image."""
    rows = [(r.image_path, dataset.class_names[c], r.width, r.height, *box)
            for r in dataset.records for box, c in zip(r.boxes, r.labels)]
    df = pd.DataFrame(rows, columns=["image", "class", "image_w", "image_h", "xmin", "ymin", "xmax", "ymax"])
    df["w"], df["h"] = df.xmax - df.xmin, df.ymax - df.ymin
    df["rel_w"], df["rel_h"] = df.w / df.image_w, df.h / df.image_h
    df["aspect"] = df.w / df.h
    return df


def seen_sides(dataset: DetectionDataset, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(The shorter side of each box in pixels of the model's input, its class): each image letterboxed
    into `input_hw` (height, width), as training, evaluation and every runtime do. What the detector
    has to localise, not what the photo holds: a 40-pixel object of a 1280x720 frame is 10 at 320."""
    sides = [np.minimum(r.boxes[:, 2] - r.boxes[:, 0], r.boxes[:, 3] - r.boxes[:, 1])
             * letterbox_shape((r.height, r.width), input_hw)[1] for r in dataset.records]
    labels = [r.labels for r in dataset.records]
    return np.concatenate(sides + [np.zeros(0)]).astype(np.float64), np.concatenate(labels + [np.zeros(0, int)])


def _spread(sides: np.ndarray) -> dict:
    return {"min": round(float(sides.min()), 1), "p5": round(float(np.percentile(sides, 5)), 1),
            "median": round(float(np.median(sides)), 1), "boxes": int(len(sides))}


def seen_size_stats(dataset: DetectionDataset, input_hw: tuple[int, int]) -> dict:
    """Min / 5th percentile / median of `seen_sides`, overall and per class (a class without boxes left out)."""
    sides, labels = seen_sides(dataset, input_hw)
    if not len(sides):
        return {}
    per_class = {name: _spread(sides[labels == c]) for c, name in enumerate(dataset.class_names) if (labels == c).any()}
    return {"input_size": f"{input_hw[1]}x{input_hw[0]}", **_spread(sides), "per_class": per_class}


def dataset_stats(source: str | Path, classes: list[str] | None = None,
                  input_hw: tuple[int, int] | None = None) -> dict:
    """Counts and distributions; problems are reported, not raised (bad files are left out). With
    `input_hw` (model.input_size as (height, width)), the boxes' sizes as the model will see them."""
    ds = load_dataset(source, classes, on_error="skip")
    boxes = box_table(ds)
    sizes = pd.Series([f"{r.width}x{r.height}" for r in ds.records]).value_counts()
    describe = lambda s: {k: round(float(v), 3) for k, v in s.describe().items() if k != "count"}  # noqa: E731
    return {
        "source": str(source),
        "layout": ds.layout,
        "pairing": ds.pairing,
        "images": len(ds.records),
        "boxes": int(len(boxes)),
        "classes": {name: int((boxes["class"] == name).sum()) for name in ds.class_names},
        "images_without_boxes": sum(1 for r in ds.records if len(r.boxes) == 0),
        "difficult_boxes": int(sum(r.difficult.sum() for r in ds.records)),
        "image_sizes": {k: int(v) for k, v in sizes.items()},
        "box_width_px": describe(boxes.w) if len(boxes) else {},
        "box_height_px": describe(boxes.h) if len(boxes) else {},
        "box_aspect_w_over_h": describe(boxes.aspect) if len(boxes) else {},
        "box_side_at_input_px": seen_size_stats(ds, input_hw) if input_hw else {},
        "images_dropped": ds.images_dropped,
        "boxes_dropped": ds.boxes_dropped,
        "problems": [str(p) for p in ds.problems],
        "warnings": [str(w) for w in ds.warnings],
        "_dataset": ds,
    }


def format_stats(stats: dict) -> str:
    lines = [f"{stats['source']}: {stats['layout']}",
             "  paired XML with images " + "; ".join(stats["pairing"]),
             f"  {stats['images']} images, {stats['boxes']} boxes, "
             f"{stats['images_without_boxes']} images without boxes, {stats['difficult_boxes']} difficult"]
    lines += [f"  {name:<20} {count:>7} boxes" for name, count in stats["classes"].items()]
    top_sizes = list(stats["image_sizes"].items())[:5]
    lines.append("  image sizes: " + ", ".join(f"{s} ({n})" for s, n in top_sizes)
                 + (" ..." if len(stats["image_sizes"]) > 5 else ""))
    for key in ("box_width_px", "box_height_px", "box_aspect_w_over_h"):
        if stats[key]:
            d = stats[key]
            lines.append(f"  {key}: min {d['min']:g}, median {d['50%']:g}, max {d['max']:g}")
    seen = stats.get("box_side_at_input_px")
    if seen:
        smallest = min(seen["per_class"].items(), key=lambda item: item[1]["median"])
        lines.append(f"  box shorter side at the {seen['input_size']} input (model.input_size): min {seen['min']:g}, "
                     f"5th percentile {seen['p5']:g}, median {seen['median']:g} px; smallest class {smallest[0]} "
                     f"(median {smallest[1]['median']:g} px)")
    lines.append(f"  problems: {len(stats['problems'])} (left out: {stats['images_dropped']} images, "
                 f"{stats['boxes_dropped']} boxes; `train` leaves out boxes with no area in the image and stops "
                 "on the others unless data.on_error: skip)")
    lines += [f"    {p}" for p in stats["problems"][:50]]
    lines += [f"    ... {len(stats['problems']) - 50} more (--json lists all)"] if len(stats["problems"]) > 50 else []
    lines.append(f"  warnings: {len(stats['warnings'])}")
    lines += [f"    {w}" for w in stats["warnings"][:20]]
    lines += [f"    ... {len(stats['warnings']) - 20} more (--json lists all)"] if len(stats["warnings"]) > 20 else []
    return "\n".join(lines)


def plot_stats(stats: dict, path: str | Path) -> None:
    """Boxes per class, image sizes, box sizes relative to the image, and box aspect ratios."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds: DetectionDataset = stats["_dataset"]
    boxes = box_table(ds)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    ax = axes[0, 0]
    ax.bar(list(stats["classes"]), list(stats["classes"].values()), color="tab:blue")
    ax.set_title("boxes per class")
    ax.tick_params(axis="x", rotation=45)
    ax = axes[0, 1]
    sizes = np.array([(r.width, r.height) for r in ds.records]).reshape(-1, 2)
    ax.scatter(sizes[:, 0], sizes[:, 1], s=8, alpha=0.5)
    ax.set(title="image sizes (px)", xlabel="width", ylabel="height")
    ax = axes[1, 0]
    for name in ds.class_names:
        sel = boxes[boxes["class"] == name]
        ax.scatter(sel.rel_w, sel.rel_h, s=6, alpha=0.5, label=name)
    ax.set(title="box size / image size", xlabel="width", ylabel="height", xlim=(0, 1), ylim=(0, 1))
    if ds.class_names:
        ax.legend(fontsize=7, markerscale=2)
    ax = axes[1, 1]
    if len(boxes):
        ax.hist(np.log2(boxes.aspect), bins=40, color="tab:orange")
    ax.set(title="box aspect ratio, log2(w/h)", xlabel="log2(w/h)", ylabel="boxes")
    fig.suptitle(f"{stats['source']}: {stats['images']} images, {stats['boxes']} boxes")
    fig.tight_layout()
    write_file(path, lambda tmp: fig.savefig(tmp, dpi=100))
    plt.close(fig)
