"""Tiled (sliced) inference: a large frame with small objects is cut into overlapping tiles, each seen by
the model at its own input size instead of the whole frame shrunk to it, and the tiles' detections are
merged so that an object a seam cuts is found once, where it is.

Taken from SAHI (obss/sahi; slicing.get_slice_bboxes, postprocess.combine's GreedyNMM with the IOS metric
at 0.5, class-wise, and its "standard prediction" on the whole frame):
- the grid: tiles of one size stepping by (1 - overlap) of a side, the last row and column shifted inward
  to end at the frame's edge, never padded;
- the merge: greedy, best score first, class by class, two boxes being one object when their
  intersection covers half of the smaller one (IoS, not IoU: the part of an object a seam cuts lies
  inside the whole one, IoS ~1, IoU low);
- one more pass on the whole frame, so that an object larger than a tile is still found.
Where it differs: only boxes of different tiles merge (one tile's boxes went through the model's NMS:
two of them are two objects), at most one of each tile; and the object takes the box of a member no
inner tile edge cut (the best-scoring one) instead of the union of all, which a loose part would
stretch; only when every member is cut (an object wider than the overlap) is it their union.

Pure functions of arrays, and `Tiled`, a predictor around any predictor. No TensorFlow here.
"""
from __future__ import annotations

import numpy as np

from ..core.detections import Detections
from ..core.postprocess import TILE_EDGE_PX, TILE_MATCH_IOS, TILE_OVERLAP

Window = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    """Where tiles of side `tile` start along a side of `length`, the last ending at the edge."""
    if tile >= length:
        return [0]
    step = max(1, round(tile * (1 - overlap)))
    return list(range(0, length - tile, step)) + [length - tile]


def tile_grid(frame_hw: tuple[int, int], tile_hw: tuple[int, int], overlap: float = TILE_OVERLAP) -> list[Window]:
    """(x0, y0, x1, y1) of tiles of `tile_hw` (height, width) covering a `frame_hw` frame, neighbours sharing
    `overlap` of a side; row by row. A frame side shorter than the tile's is taken whole."""
    (height, width), (tile_h, tile_w) = frame_hw, tile_hw
    if not 0 <= overlap < 1:
        raise ValueError(f"a tile overlap of {overlap:g} is not a share of a tile: give --tile-overlap from 0 "
                         f"to under 1 (default {TILE_OVERLAP})")
    if tile_h < 1 or tile_w < 1:
        raise ValueError(f"a tile of {tile_w}x{tile_h} pixels is empty: give --tile WIDTHxHEIGHT, e.g. 320x320")
    th, tw = min(tile_h, height), min(tile_w, width)
    return [(x, y, x + tw, y + th) for y in _starts(height, tile_h, overlap) for x in _starts(width, tile_w, overlap)]


def _cut(boxes: np.ndarray, window: Window, frame_hw: tuple[int, int], edge: float) -> np.ndarray:
    """Which boxes (frame pixels) end at an edge of `window` inside the frame, where the tile cut them."""
    x0, y0, x1, y1 = window
    height, width = frame_hw
    return (((x0 > 0) & (boxes[:, 0] <= x0 + edge)) | ((y0 > 0) & (boxes[:, 1] <= y0 + edge))
            | ((x1 < width) & (boxes[:, 2] >= x1 - edge)) | ((y1 < height) & (boxes[:, 3] >= y1 - edge)))


def _ios(box: np.ndarray, boxes: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Intersection of `box` with each of `boxes` over the smaller one's area (IoS): ~1 for the part of an
    object a seam cut and the whole object, where their IoU is low."""
    w = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    h = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return np.maximum(w, 0) * np.maximum(h, 0) / (np.minimum(areas, area) + 1e-9)


def _object_box(members: np.ndarray, boxes: np.ndarray, is_cut: np.ndarray) -> np.ndarray:
    """The box of one object seen by several windows: the best member no inner tile edge cut, else the
    union of the parts."""
    whole = members[~is_cut[members]]
    return boxes[whole[0]] if len(whole) else np.concatenate([boxes[members, :2].min(0), boxes[members, 2:].max(0)])


def _one_object(i: int, boxes: np.ndarray, areas: np.ndarray, source: np.ndarray, is_cut: np.ndarray,
                free: np.ndarray, match: float) -> np.ndarray:
    """Box `i` (the best still free of one class's boxes, sorted best first) and what other windows saw of
    the same object, marked taken in `free`: the box of the object. The object grows window by window (one
    box of each, its best), each matched against the object so far: an object two seams cut in four is
    whole once its first parts are joined."""
    members, box = np.array([i]), boxes[i]
    free[i] = False
    used = np.zeros(source.max() + 1, bool)
    while True:
        used[source[members]] = True
        candidates = np.flatnonzero(free & ~used[source] & (_ios(box, boxes, areas) > match))
        if not len(candidates):
            return box
        _, first = np.unique(source[candidates], return_index=True)  # candidates are best first
        joined = candidates[np.sort(first)]
        free[joined] = False
        members = np.concatenate([members, joined])
        box = _object_box(members, boxes, is_cut)


def merge_tile_detections(found: list[Detections], windows: list[Window], frame_hw: tuple[int, int],
                          max_det: int | None = None, match: float = TILE_MATCH_IOS,
                          edge: float = TILE_EDGE_PX) -> Detections:
    """One frame's detections from those of its `windows` (tiles, and the whole frame if it was run too),
    each in its window's pixels: moved to frame pixels, then merged (module docstring), best first; the
    best `max_det` objects (all when None), as a model keeps its best MAX_DETECTIONS (also what COCO's
    mAP counts): the merge, best box first, stops there."""
    moved = [d.boxes.reshape(-1, 4).astype(np.float32) + np.array(w[:2] * 2, np.float32)
             for d, w in zip(found, windows)]
    cut = np.concatenate([_cut(m, w, frame_hw, edge) for m, w in zip(moved, windows)] + [np.zeros(0, bool)])
    source = np.concatenate([np.full(len(m), k) for k, m in enumerate(moved)] + [np.zeros(0, int)])
    scores = np.concatenate([d.scores for d in found] + [np.zeros(0, np.float32)]).astype(np.float32)
    classes = np.concatenate([d.classes for d in found] + [np.zeros(0, np.int32)]).astype(np.int32)
    order = np.argsort(-scores, kind="stable")
    boxes = np.concatenate(moved + [np.zeros((0, 4), np.float32)])[order]
    scores, classes, source, cut = scores[order], classes[order], source[order], cut[order]
    # each class's boxes, best first, and where each box is among them
    groups = {c: np.flatnonzero(classes == c) for c in np.unique(classes)}
    position = np.zeros(len(order), int)
    for g in groups.values():
        position[g] = np.arange(len(g))
    per_class = {c: (boxes[g], np.prod(boxes[g, 2:] - boxes[g, :2], axis=1), source[g], cut[g], np.ones(len(g), bool))
                 for c, g in groups.items()}
    heads, merged = [], []
    for i in range(len(order)):
        if max_det is not None and len(heads) >= max_det:
            break
        b, areas, src, is_cut, free = per_class[classes[i]]
        if free[position[i]]:
            merged.append(_one_object(position[i], b, areas, src, is_cut, free, match))
            heads.append(i)
    return Detections(np.asarray(merged, np.float32).reshape(-1, 4), scores[heads], classes[heads])


class Tiled:
    """Any kerasdet predictor (`TFLiteDetector`, `KerasPredictor`) run on overlapping tiles of each frame
    (`tile_hw`, (height, width) in frame pixels; the model's input size sees them unscaled), and with
    `full_frame` on the whole frame too; `detect` returns the best `max_det` merged boxes in the frame's
    pixels (None: the model's own cap, its card's max_detections), as a model returns its best ones."""

    def __init__(self, predictor, tile_hw: tuple[int, int], overlap: float = TILE_OVERLAP, full_frame: bool = True,
                 max_det: int | None = None):
        tile_grid(tile_hw, tile_hw, overlap)  # the same sentences as a frame's grid would give, now
        self.predictor, self.tile_hw, self.overlap, self.full_frame = predictor, tuple(tile_hw), overlap, full_frame
        self.max_det = max_det or predictor.card.nms["max_detections"]
        self.card = predictor.card
        self.class_names = predictor.class_names
        self.input_size = predictor.input_size

    def windows(self, frame_hw: tuple[int, int]) -> list[Window]:
        """The tiles of a frame, then the whole frame (when asked for, and not a tile already)."""
        grid = tile_grid(frame_hw, self.tile_hw, self.overlap)
        whole = (0, 0, frame_hw[1], frame_hw[0])
        return grid + ([whole] if self.full_frame and grid != [whole] else [])

    def detect(self, image: np.ndarray) -> Detections:
        """One RGB uint8 frame of any size -> its detections in its own pixels."""
        windows = self.windows(image.shape[:2])
        crops = [np.ascontiguousarray(image[y0:y1, x0:x1]) for x0, y0, x1, y1 in windows]
        return merge_tile_detections(self.predictor.predict(crops), windows, image.shape[:2], self.max_det)

    def predict(self, images: list[np.ndarray], batch_size: int = 1) -> list[Detections]:
        return [self.detect(image) for image in images]


def tiled(predictor, tile_hw: tuple[int, int] | None, overlap: float = TILE_OVERLAP, max_det: int | None = None):
    """`predictor` on tiles of `tile_hw` (`--tile`), or as it is when no tile size is given."""
    return Tiled(predictor, tile_hw, overlap, max_det=max_det) if tile_hw else predictor
