"""tf.data input pipeline: SampleLoader (decode -> augment -> letterbox -> pad) -> batch -> prefetch.

Decoding and augmentation run in NumPy/OpenCV (albumentations) inside `tf.numpy_function`,
in parallel map calls; OpenCV releases the GIL, so the two cores are both used.
"""
from __future__ import annotations

import tensorflow as tf

from .samples import SampleLoader


def make_tf_dataset(loader: SampleLoader, batch_size: int, shuffle: bool = False,
                    seed: int | None = None, drop_remainder: bool = False,
                    shard: tuple[int, int] = (1, 0)) -> tf.data.Dataset:
    """Batches of (images uint8 [B,H,W,3], {"boxes": [B,M,4] xyxy pixels, "classes": [B,M]}).
    `shard` (count, index): only every count-th sample from index on, decoded here (one input
    pipeline of several, each on its own machine)."""
    (height, width), max_boxes = loader.input_hw, loader.max_boxes

    def load(index):
        image, boxes, classes = tf.numpy_function(
            loader, [index], [tf.uint8, tf.float32, tf.float32], stateful=True)
        image.set_shape((height, width, 3))
        boxes.set_shape((max_boxes, 4))
        classes.set_shape((max_boxes,))
        return image, {"boxes": boxes, "classes": classes}

    ds = tf.data.Dataset.range(len(loader)).shard(*shard)
    if shuffle:
        ds = ds.shuffle(len(loader) // shard[0] + 1, seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
