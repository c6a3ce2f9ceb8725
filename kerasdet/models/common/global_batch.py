"""Sums over the whole global batch, for loss normalisers.

Under a `tf.distribute` strategy each replica sees a slice of the batch; a loss normalised by
its own slice's count (positive anchors, target scores) would weigh the slices unequally. A
normaliser summed over all replicas makes each replica's loss its share of the global batch's,
so the replicas' gradients add up to the one-device gradient (train/trainer.py). With one
replica (no strategy) this is a plain sum.
"""
from __future__ import annotations

import tensorflow as tf
from keras import ops


def global_batch_sum(x):
    total = ops.sum(x)
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return total
    return context.all_reduce(tf.distribute.ReduceOp.SUM, total)
