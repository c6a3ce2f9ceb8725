"""`kerasdet evaluate --plots DIR`: what people would rather look at than read.

pr_curves.png (precision-recall per class at IoU 0.5), confusion_matrix.png (with a background
row and column for false detections and missed boxes), val_grid.png (ground truth | prediction).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .core.detections import Detections
from .core.records import ImageRecord
from .data.images import read_rgb
from .core.letterbox import letterbox
from .core.draw import draw_boxes, save_rgb, tile
from .metrics import confusion_matrix


def plot_pr_curves(metrics: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recall = np.linspace(0, 1, 101)
    fig, ax = plt.subplots(figsize=(6, 5))
    for name, precision in metrics["_pr_curves_50"].items():
        ax.plot(recall, precision, label=f"{name} AP50 {metrics['per_class'][name]['ap50']:.3f}")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title=f"precision-recall at IoU 0.5 (mAP@0.5 {metrics['map50']:.3f})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
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
           title=f"confusion matrix (score >= {score_threshold}, IoU >= 0.5; colour: share of the true class)")
    ax.title.set_fontsize(9)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _labelled(image: np.ndarray, text: str) -> np.ndarray:
    cv2.putText(image, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def save_val_grid(records: list[ImageRecord], detections: list[Detections], class_names: list[str], path: Path,
                  n: int = 8, score_threshold: float = 0.25, cell: int = 320) -> None:
    """Pairs of cells, ground truth then prediction, for the first `n` images."""
    cells = []
    for r, d in list(zip(records, detections))[:n]:
        image = read_rgb(r.image_path, r.apply_exif)
        keep = d.scores >= score_threshold
        truth = draw_boxes(image, r.boxes, r.labels, class_names)
        predicted = draw_boxes(image, d.boxes[keep], d.classes[keep], class_names, d.scores[keep])
        cells += [_labelled(letterbox(truth, cell)[0], f"truth: {Path(r.image_path).name}"),
                  _labelled(letterbox(predicted, cell)[0], "prediction")]
    save_rgb(path, tile(cells, 4))


def save_evaluation_plots(metrics: dict, records: list[ImageRecord], detections: list[Detections],
                          class_names: list[str], out: str | Path, score_threshold: float = 0.25) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "pr_curves.png", out / "confusion_matrix.png", out / "val_grid.png"]
    plot_pr_curves(metrics, paths[0])
    matrix = confusion_matrix(records, detections, len(class_names), score_threshold)
    plot_confusion_matrix(matrix, class_names, paths[1], score_threshold)
    save_val_grid(records, detections, class_names, paths[2], score_threshold=score_threshold)
    return paths
