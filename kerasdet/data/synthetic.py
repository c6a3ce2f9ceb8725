"""`kerasdet demo-data`: a small synthetic LabelImg dataset the project makes itself.

Hearts and stars (the labelled classes) among unlabelled distractor circles and squares,
on varied backgrounds, JPEG with the XML beside each, as LabelImg saves them.
File names carry a "scene" prefix so `kerasdet split --group '^(scene\\d+)_'` can be tried.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..core.files import check_new, claim_folder, write_file
from .voc_xml import write_voc_xml

DEMO_CLASSES = ["heart", "star"]


def _heart(cx: float, cy: float, r: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 60)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return np.stack([cx + x * r / 17, cy + y * r / 17], 1)


def _star(cx: float, cy: float, r: float, rotation: float) -> np.ndarray:
    angles = rotation + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
    return np.stack([cx + radii * np.sin(angles), cy - radii * np.cos(angles)], 1)


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, w if rng.random() < 0.5 else h)
    ramp = ramp[None, :, None] if len(ramp) == w else ramp[:, None, None]
    img = (c0 * (1 - ramp) + c1 * ramp) * np.ones((h, w, 1))
    img += rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _overlaps(box, boxes, margin=4) -> bool:
    return any(box[0] < b[2] + margin and b[0] < box[2] + margin and
               box[1] < b[3] + margin and b[1] < box[3] + margin for b in boxes)


def make_demo_image(rng: np.random.Generator, w: int = 320, h: int = 240):
    """One picture and its labelled objects [(class, (xmin, ymin, xmax, ymax))]."""
    img = _background(rng, w, h)
    objects, taken = [], []
    n_shapes = rng.integers(1, 4) if rng.random() > 0.1 else 0  # some negatives
    for _ in range(n_shapes + rng.integers(0, 3)):  # labelled shapes first, then distractors
        r = rng.uniform(18, 48)
        cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
        labelled = _ < n_shapes
        kind = ["heart", "star", "circle", "square"][rng.integers(0, 2) + (0 if labelled else 2)]
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        if kind == "heart":
            pts = _heart(cx, cy, r)
        elif kind == "star":
            pts = _star(cx, cy, r, rng.uniform(0, np.pi))
        else:
            pts = None
        if pts is not None:
            box = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
        else:
            box = (cx - r, cy - r, cx + r, cy + r)
        if _overlaps(box, taken):
            continue
        taken.append(box)
        if kind == "circle":
            cv2.circle(img, (int(cx), int(cy)), int(r), color, -1, cv2.LINE_AA)
        elif kind == "square":
            cv2.rectangle(img, (int(cx - r), int(cy - r)), (int(cx + r), int(cy + r)), color, -1)
        else:
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)], color, cv2.LINE_AA)
            box = tuple(float(np.clip(v, 0, lim)) for v, lim in zip(box, (w, h, w, h)))
            objects.append((kind, box))
    return img, objects


def make_demo_dataset(out: str | Path, n: int = 300, seed: int = 0, size: tuple[int, int] = (320, 240),
                      scenes: int = 10) -> Path:
    """Write `n` JPEG + XML pairs into `out`; returns the folder."""
    out = claim_folder(out, "kerasdet demo-data")  # never a folder of the user's
    rng = np.random.default_rng(seed)
    for i in range(n):
        img, objects = make_demo_image(rng, *size)
        name = f"scene{i % scenes:02d}_{i:05d}"
        write_file(out / f"{name}.jpg", lambda tmp: cv2.imwrite(str(tmp), cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                                                                [cv2.IMWRITE_JPEG_QUALITY, 90]))
        write_voc_xml(out / f"{name}.xml", f"{name}.jpg", size[0], size[1], objects)
    return out


def make_demo_video(path: str | Path, frames: int = 90, size: tuple[int, int] = (640, 480), fps: float = 30.0,
                    objects: int = 3, seed: int = 0, object_size: tuple[float, float] = (0.1, 0.18),
                    ) -> list[list[tuple[str, tuple[float, ...]]]]:
    """Hearts and stars drifting over one background, as an .mp4 (for detect_cam and its benchmark).

    Returns each frame's labelled objects [(class, (xmin, ymin, xmax, ymax))].
    """
    rng = np.random.default_rng(seed)
    w, h = size
    background = _background(rng, w, h)
    kinds = [DEMO_CLASSES[i % 2] for i in range(objects)]
    radii = rng.uniform(*object_size, objects) * h  # radius / height; 0.1-0.18 as in the demo pictures
    centers = np.stack([rng.uniform(radii, w - radii), rng.uniform(radii, h - radii)], 1)
    velocity = rng.uniform(-1, 1, (objects, 2)) * h / 60
    colors = [tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(objects)]
    path = check_new(path)
    recording = path.with_name(f"{path.stem}.recording{path.suffix}")  # its name until it is whole (as cam --save)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(recording), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"{path}: cannot write a video here")
    truth = []
    for index in range(frames):
        img, labelled = background.copy(), []
        for kind, r, (cx, cy), color in zip(kinds, radii, centers, colors):
            pts = _heart(cx, cy, r) if kind == "heart" else _star(cx, cy, r, index * 0.05)
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)], color, cv2.LINE_AA)
            box = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
            labelled.append((kind, tuple(float(np.clip(v, 0, lim)) for v, lim in zip(box, (w, h, w, h)))))
        writer.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        truth.append(labelled)
        centers += velocity  # bounce off the borders
        bounced = (centers < radii[:, None]) | (centers > np.array([w, h]) - radii[:, None])
        velocity[bounced] *= -1
    writer.release()
    write_file(path, lambda tmp: recording.replace(tmp))
    return truth
