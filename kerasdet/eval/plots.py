"""`kerasdet evaluate --plots DIR`: what people would rather look at than read.

pr_curves.png (precision-recall per class at IoU 0.5), confusion_matrix.png (with a background
row and column for false detections and missed boxes), val_grid.png (ground truth | prediction, the
images with the most mistakes first) and mistakes.csv (every box behind the confusion matrix's
off-diagonal counts, by image: which photos to look at, or to relabel).
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np

from ..core.detections import Detections, shown_detections
from ..core.records import ImageRecord
from ..data.images import read_rgb
from ..core.letterbox import letterbox
from ..core.class_names import class_name
from ..core.draw import draw_boxes, draw_caption, save_rgb, tile
from ..core.files import claim_folder, write_file
from ..core.postprocess import CONF
from .metrics import MATCH_IOU, MISTAKE_KINDS, Mistake, confusion_matrix, image_mistakes


def plot_pr_curves(metrics: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recall = np.linspace(0, 1, 101)
    fig, ax = plt.subplots(figsize=(6, 5))
    for name, precision in metrics["_pr_curves_50"].items():
        ap50 = metrics["per_class"][name]["ap50"]
        ax.plot(recall, precision, label=f"{name} AP50 " + (f"{ap50:.3f}" if ap50 is not None else "- (no boxes)"))
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title=f"precision-recall at IoU 0.5 (mAP@0.5 {metrics['map50']:.3f})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    write_file(path, lambda tmp: fig.savefig(tmp, dpi=120))
    plt.close(fig)


def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str], path: Path, score_threshold: float) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = class_names + ["background"]
    share = matrix / np.maximum(matrix.sum(axis=0, keepdims=True), 1)  # each true class sums to 1
    size = 2 + 0.6 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(col, row, str(count), ha="center", va="center", fontsize=8,
                    color="white" if share[row, col] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="true", ylabel="predicted",
           title=f"confusion matrix (score >= {score_threshold}, IoU >= {MATCH_IOU}; colour: share of the true class)")
    ax.title.set_fontsize(9)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    write_file(path, lambda tmp: fig.savefig(tmp, dpi=120))
    plt.close(fig)


def _class_names(mistake: Mistake, class_names: list[str]) -> tuple[str, str]:
    """The true and the predicted class's names, "" where the mistake has none."""
    true, predicted = (class_name(class_names, c) if c is not None else "" for c in
                       (mistake.true_class, mistake.predicted_class))
    return true, predicted


def describe(mistake: Mistake, class_names: list[str]) -> str:
    """"1-hand as 2-hand", "missed 3-hand", "extra 4-hand": a mistake in a few words."""
    true, predicted = _class_names(mistake, class_names)
    return {"wrong class": f"{true} as {predicted}", "missed": f"missed {true}",
            "false detection": f"extra {predicted}"}[mistake.kind]


def mistakes_summary(mistakes: list[list[Mistake]], score_threshold: float) -> str:
    counts = Counter(m.kind for found in mistakes for m in found)
    said = {"wrong class": "boxes given the wrong class", "missed": "boxes missed",
            "false detection": "false detections"}
    kinds = ", ".join(f"{counts[k]} {said[k]}" for k in MISTAKE_KINDS)
    return (f"mistakes at score >= {score_threshold}, IoU >= {MATCH_IOU}: {kinds}, "
            f"in {sum(map(bool, mistakes))} of {len(mistakes)} images")


def save_mistakes_csv(records: list[ImageRecord], mistakes: list[list[Mistake]], class_names: list[str],
                      path: Path) -> None:
    def save(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image", "mistake", "true_class", "predicted_class", "score", "iou",
                             "xmin", "ymin", "xmax", "ymax"])
            for r, found in zip(records, mistakes):
                for m in found:
                    numbers = ["" if v is None else f"{v:.3f}" for v in (m.score, m.iou)]
                    writer.writerow([r.image_path, m.kind, *_class_names(m, class_names), *numbers,
                                     *(f"{v:.1f}" for v in m.box)])
    write_file(path, save)


def save_val_grid(records: list[ImageRecord], detections: list[Detections], mistakes: list[list[Mistake]],
                  class_names: list[str], path: Path, n: int = 8, score_threshold: float = CONF,
                  cell: int = 320) -> None:
    """Pairs of cells, ground truth then prediction, for `n` images: those with the most mistakes
    first (then in the order of the data), each prediction captioned with what it got wrong."""
    order = sorted(range(len(records)), key=lambda i: -len(mistakes[i]))[:n]
    cells = []
    for i in order:
        r, d = records[i], detections[i]
        image = read_rgb(r.image_path, r.apply_exif)
        shown = shown_detections(d, score_threshold)
        truth = draw_boxes(image, r.boxes, r.labels, class_names)
        predicted = draw_boxes(image, shown.boxes, shown.classes, class_names, shown.scores)
        verdict = "; ".join(describe(m, class_names) for m in mistakes[i]) or "no mistake"
        cells += [draw_caption(letterbox(truth, cell)[0], f"truth: {Path(r.image_path).name}"),
                  draw_caption(letterbox(predicted, cell)[0], f"prediction: {verdict}")]
    save_rgb(path, tile(cells, 4))


def save_evaluation_plots(metrics: dict, records: list[ImageRecord], detections: list[Detections],
                          class_names: list[str], out: str | Path, score_threshold: float = CONF) -> tuple[list[Path], str]:
    """The four files in `out`, and the mistakes counted in a line."""
    out = Path(out)
    claim_folder(out, "kerasdet evaluate --plots")  # new, empty, or made by kerasdet: never a folder of the user's
    paths = [out / "pr_curves.png", out / "confusion_matrix.png", out / "val_grid.png", out / "mistakes.csv"]
    plot_pr_curves(metrics, paths[0])
    matrix = confusion_matrix(records, detections, len(class_names), score_threshold)
    plot_confusion_matrix(matrix, class_names, paths[1], score_threshold)
    mistakes = [image_mistakes(r, d, score_threshold) for r, d in zip(records, detections)]
    save_val_grid(records, detections, mistakes, class_names, paths[2], score_threshold=score_threshold)
    save_mistakes_csv(records, mistakes, class_names, paths[3])
    return paths, mistakes_summary(mistakes, score_threshold)
