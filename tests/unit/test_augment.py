import cv2
import numpy as np
import pytest

from kerasdet.config import AugmentConfig
from kerasdet.core.input_size import InputSize
from kerasdet.data import load_dataset
from kerasdet.data.samples import SampleLoader
from kerasdet.data.voc_xml import write_voc_xml

STRONG = AugmentConfig(gray=0.5, hflip=0.5, color_jitter=0.5, affine=1.0, scale=[0.6, 1.4],
                       translate=0.25, crop=0.5, min_visibility=0.3)


def shapes_dataset(tmp_path, n=6):
    """White discs and squares on black: the drawn shape is findable after any augmentation."""
    rng = np.random.default_rng(0)
    for i in range(n):
        img = np.zeros((120, 160, 3), np.uint8)
        cx, cy, r = rng.integers(30, 130), rng.integers(30, 90), rng.integers(12, 25)
        if i % 2:
            cv2.circle(img, (int(cx), int(cy)), int(r), (255, 255, 255), -1)
        else:
            cv2.rectangle(img, (int(cx - r), int(cy - r)), (int(cx + r), int(cy + r)), (255, 255, 255), -1)
        cv2.imwrite(str(tmp_path / f"s{i}.png"), img)
        write_voc_xml(tmp_path / f"s{i}.xml", f"s{i}.png", 160, 120,
                      [("disc" if i % 2 else "square", (cx - r, cy - r, cx + r + 1, cy + r + 1))])
    return load_dataset(tmp_path)


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def inside(inner, outer, tolerance=2.0):
    return (inner[0] >= outer[0] - tolerance and inner[1] >= outer[1] - tolerance and
            inner[2] <= outer[2] + tolerance and inner[3] <= outer[3] + tolerance)


@pytest.mark.parametrize("size", [128, [128, 96]])  # a square, and [width, height]
def test_augmented_boxes_still_cover_the_shapes(tmp_path, size):
    ds = shapes_dataset(tmp_path)
    loader = SampleLoader(ds, input_size=size, max_boxes=4, augment=STRONG, seed=3)
    kept = 0
    for trial in range(60):
        image, boxes, classes = loader(trial % len(ds))
        assert image.shape == (*InputSize.of(size).hw, 3)
        n = int((classes >= 0).sum())
        assert (boxes[n:] == -1).all() and (classes[n:] == -1).all()  # labels dropped with boxes
        ys, xs = np.nonzero(image.min(axis=2) > 170)  # the shape; black, grey padding stay below
        if n == 0:
            assert len(xs) < 30  # box dropped only when (nearly all of) the shape left the picture
            continue
        kept += 1
        shape_box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert classes[0] == ds.records[trial % len(ds)].labels[0]
        assert iou(boxes[0], shape_box) > 0.75, (trial, boxes[0], shape_box)
    assert kept > 40


def test_no_augmentation_is_exact(tmp_path):
    ds = shapes_dataset(tmp_path, n=2)
    image, boxes, _ = SampleLoader(ds, input_size=160, max_boxes=2)(0)
    np.testing.assert_allclose(boxes[0], ds.records[0].boxes[0])


@pytest.mark.parametrize("size", [128, [128, 96]])
def test_mosaic_boxes_cover_every_shape_of_the_four_pictures(tmp_path, size):
    ds = shapes_dataset(tmp_path)
    mosaic = AugmentConfig(gray=0.0, hflip=0.5, color_jitter=0.0, affine=0.0, crop=0.0, mosaic=1.0)
    loader = SampleLoader(ds, input_size=size, max_boxes=4, augment=mosaic, seed=1)
    height, width = InputSize.of(size).hw
    several = 0
    for trial in range(30):
        image, boxes, classes = loader(trial % len(ds))
        assert image.shape == (height, width, 3)
        n = int((classes >= 0).sum())
        assert (boxes[n:] == -1).all() and (classes[n:] == -1).all()
        count, _, stats, _ = cv2.connectedComponentsWithStats((image.min(axis=2) > 170).astype(np.uint8))
        shapes = [(x, y, x + w, y + h) for x, y, w, h, area in stats[1:] if area >= 40]  # 0: background
        for shape in shapes:  # every shape left in the picture lies in a box (a cut disc is narrower than its box)
            assert any(inside(shape, box) for box in boxes[:n]), (trial, shape, boxes[:n])
        whole = [s for s in shapes if 0 < s[0] and s[2] < width and 0 < s[1] and s[3] < height]
        for shape in whole:  # and one not cut by the picture's edge has its own box
            assert max(iou(box, shape) for box in boxes[:n]) > 0.75, (trial, shape, boxes[:n])
        assert n <= len(shapes) + 1  # and no box without its shape (one may be cut to a sliver)
        several += len(shapes) > 1
    assert several > 15  # the pictures are tiled: most samples show shapes from several of them
    loader.mosaic_enabled = False  # augment.close_mosaic: one picture again
    assert all(int((loader(i)[2] >= 0).sum()) <= 1 for i in range(len(ds)))


def test_augment_resize_shrinks_pictures_the_ways_runtimes_do_and_only_in_training(tmp_path):
    import random

    from kerasdet.data.augment import RUNTIME_RESIZES, resize_interpolation
    rng = random.Random(0)
    assert {resize_interpolation(rng, 1.0) for _ in range(200)} == set(RUNTIME_RESIZES)
    assert {resize_interpolation(rng, 0.0) for _ in range(50)} == {cv2.INTER_LINEAR}
    half = [resize_interpolation(rng, 0.5) == cv2.INTER_LINEAR for _ in range(2000)]
    assert 0.45 < np.mean(half) < 0.55
    # a 2x shrink with nearest is what MediaPipe feeds a model: every other pixel, no averaging
    ds = shapes_dataset(tmp_path, n=2)
    none = AugmentConfig(gray=0, hflip=0, color_jitter=0, affine=0, crop=0, resize=0.0)
    always = AugmentConfig(gray=0, hflip=0, color_jitter=0, affine=0, crop=0, resize=1.0)
    linear, _, _ = SampleLoader(ds, [80, 60], 2, none, seed=0)(0)
    shrunk = [SampleLoader(ds, [80, 60], 2, always, seed=s)(0)[0] for s in range(8)]
    # (a 2x area shrink averages 2x2 pixels, as bilinear does: the same picture)
    picture = cv2.cvtColor(cv2.imread(str(ds.records[0].image_path)), cv2.COLOR_BGR2RGB)
    assert any(np.array_equal(s, picture[::2, ::2]) for s in shrunk)
    # evaluation (no augment) always letterboxes bilinearly
    assert np.array_equal(SampleLoader(ds, [80, 60], 2)(0)[0], linear)
