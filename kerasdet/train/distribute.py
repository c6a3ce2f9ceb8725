"""`train.distribute`: which `tf.distribute` strategy trains, and which process writes the run.

kerasdet does not distribute anything itself: TensorFlow's strategies do (the Keras 3
`keras.distribution` API is JAX-only; its TensorFlow side is a prototype).
  none          the default strategy: one device (the first GPU, or the CPU)
  mirrored      MirroredStrategy: every GPU of this machine, one replica each (with no GPU but
                several logical CPU devices, those: how the tests run it)
  multi_worker  MultiWorkerMirroredStrategy: one process per machine, the cluster in TF_CONFIG
  auto          mirrored when more than one GPU is visible, else none
The trainer (trainer.py) runs its step through `strategy.run`; `train.batch_size` is the global
batch, split evenly over the replicas.
"""
from __future__ import annotations

import json
import os

import tensorflow as tf

from ..config import ConfigError

COLLECTIVE_TIMEOUT_S = 600  # a worker that stops answering fails the others' next all-reduce after this


def make_strategy(name: str) -> tf.distribute.Strategy:
    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "none"
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        cpus = tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(None if gpus or len(cpus) < 2 else [d.name for d in cpus])
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("train.distribute: multi_worker needs TF_CONFIG, the cluster and this worker's place "
                              "in it (README: More than one GPU / more than one machine)")
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=COLLECTIVE_TIMEOUT_S)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    raise ConfigError(f"train.distribute {name!r}: not a strategy kerasdet knows")  # config.py checks first


def _tf_config() -> dict:
    return json.loads(os.environ.get("TF_CONFIG") or "{}")


def worker_name() -> str:
    """'worker 1' for the second worker of TF_CONFIG's cluster ('' outside a cluster)."""
    task = _tf_config().get("task")
    return f"{task['type']} {task['index']}" if task else ""


def writes_the_run(distribute: str) -> bool:
    """Whether this process writes the run folder: always, except in a multi_worker cluster, where
    only the chief does (TF_CONFIG's `chief`, or worker 0 when it names none)."""
    config = _tf_config()
    task = config.get("task")
    if distribute != "multi_worker" or not task:
        return True
    return task["type"] == "chief" or (task["type"] == "worker" and task["index"] == 0
                                       and "chief" not in config.get("cluster", {}))
