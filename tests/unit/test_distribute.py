"""train.distribute through tf.distribute, on CPU: two logical devices under MirroredStrategy
train a step exactly as one device does, and two worker processes under
MultiWorkerMirroredStrategy train, get killed, and resume, with the chief alone writing the run.
Each case runs in fresh processes: TensorFlow's devices and strategies are fixed at start-up."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from kerasdet.data.synthetic import make_demo_dataset

MIRRORED_STEP = r"""
import json, sys
import numpy as np
import tensorflow as tf
tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from kerasdet.config import Config
from kerasdet.train import Trainer
from kerasdet.train.distribute import make_strategy

cfg = Config()
cfg.model.arch, cfg.model.alpha, cfg.model.input_size, cfg.model.weights = "yolov8", 0.35, 64, "none"
rng = np.random.default_rng(0)
images = rng.integers(0, 255, (4, 64, 64, 3), dtype=np.uint8)
boxes = np.full((4, 3, 4), -1, np.float32)
classes = np.full((4, 3), -1, np.float32)
for i, rows in enumerate([[[4, 4, 40, 50, 1]], [[20, 10, 60, 60, 0], [30, 30, 50, 50, 1]], [[5, 20, 30, 62, 0]],
                          [[2, 2, 20, 20, 1], [30, 5, 60, 40, 1], [10, 40, 40, 62, 0]]]):
    boxes[i, :len(rows)], classes[i, :len(rows)] = np.array(rows)[:, :4], np.array(rows)[:, 4]
data = tf.data.Dataset.from_tensor_slices((images, {"boxes": boxes, "classes": classes}))
out = {}
for name in ("none", "mirrored"):
    keras.utils.set_random_seed(0)
    trainer = Trainer(cfg, num_classes=2, steps_per_epoch=1, strategy=make_strategy(name))
    for optimizer in trainer.optimizers.values():
        # AdamW's first step moves each weight by +-lr whatever its gradient's size, so a gradient of
        # float-noise size may flip sign; with a large epsilon the step is proportional to the gradient
        optimizer.epsilon = 1.0
    before = [np.array(w) for w in trainer.model.get_weights()]
    images_, targets = next(iter(trainer.distribute(lambda batch, shard: data.shard(*shard).batch(batch), 4)))
    losses = trainer.train_step(images_, targets, backbone_frozen=False)
    change = np.concatenate([(np.array(w) - b).ravel() for w, b in zip(trainer.model.get_weights(), before)])
    np.save(sys.argv[1] + f"/{name}.npy", change)
    out[name] = {"replicas": trainer.strategy.num_replicas_in_sync, "losses": losses,
                 "grad_norm": trainer.last_grad_norm}
print(json.dumps(out))
"""


@pytest.mark.slow  # tracing a step under MirroredStrategy with synchronized BatchNorm: 2.5 minutes on 2 cores
def test_two_replicas_step_like_one_device_on_the_same_global_batch(tmp_path):
    done = subprocess.run([sys.executable, "-c", MIRRORED_STEP, str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    one, two = result["none"], result["mirrored"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    for name, value in one["losses"].items():  # each replica's share adds up to the whole batch's loss
        assert abs(two["losses"][name] - value) <= 1e-4 * abs(value), (name, value, two["losses"][name])
    # the global gradient (its norm before clipping): measured 1652.0 vs 1648.5, BatchNorm's
    # batch variance summed over replicas in float32; replicas normalising by their own slice: 3668
    assert abs(two["grad_norm"] - one["grad_norm"]) <= 0.01 * one["grad_norm"]
    a, b = np.load(tmp_path / "none.npy"), np.load(tmp_path / "mirrored.npy")  # every weight and BN statistic
    assert np.linalg.norm(a - b) <= 1e-4 * np.linalg.norm(a)  # measured: 3.5e-6


WORKER_CONFIG = """data:
  train: {data}
  val: {data}
model:
  alpha: 0.35
  input_size: 64
  weights: none
train:
  epochs: 3
  batch_size: 8
  warmup_epochs: 0
  freeze_backbone_epochs: 0
  distribute: multi_worker
"""


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start_workers(command, run_dir):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    return procs


@pytest.mark.slow  # four processes, each tracing its step: 3 minutes on 2 cores
def test_two_workers_train_the_chief_writes_and_resume_continues(tmp_path):
    make_demo_dataset(tmp_path / "data", n=16, seed=2, size=(128, 96), scenes=4)
    config = tmp_path / "mw.yaml"
    config.write_text(WORKER_CONFIG.format(data=tmp_path / "data"))
    run = tmp_path / "run"
    procs = _start_workers([sys.executable, "-m", "kerasdet", "train", str(config), "--out", str(run)], run)
    deadline = time.time() + 240
    state = run / "last_state.npz"
    while time.time() < deadline and not state.exists() and all(p.poll() is None for p in procs):
        time.sleep(0.2)
    for p in procs:  # both killed after the first epoch's state was saved: a cluster that went down
        p.send_signal(signal.SIGKILL)
    outputs = [p.communicate()[0] for p in procs]
    assert state.exists(), outputs
    first = int(np.load(state)["progress/epoch"])
    assert first < 3, "the training ended before it could be killed"
    procs = _start_workers([sys.executable, "-m", "kerasdet", "train", "--resume", str(run)], run)
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert "2 replicas" in outputs[0] and "worker 1: the chief writes the run" in outputs[1]
    history = pd.read_csv(run / "metrics.csv")
    assert list(history.epoch) == [1, 2, 3]  # each epoch once: resumed after epoch `first`
    assert {p.name for p in run.iterdir()} >= {"best.keras", "last.keras", "last_state.npz", "results.json"}
    assert not list(run.glob("*.tmp.*"))


def test_who_writes_the_run_and_what_a_cluster_needs(monkeypatch, tmp_path):
    from kerasdet.config import ConfigError, load_config
    from kerasdet.train.distribute import make_strategy, worker_name, writes_the_run
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert writes_the_run("multi_worker") and worker_name() == ""
    with pytest.raises(ConfigError, match="multi_worker needs TF_CONFIG"):
        make_strategy("multi_worker")
    workers = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    for cluster, task, chief in ((workers, ("worker", 0), True), (workers, ("worker", 1), False),
                                 ({"chief": ["127.0.0.1:3"], **workers}, ("worker", 0), False),
                                 ({"chief": ["127.0.0.1:3"], **workers}, ("chief", 0), True)):
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": task[0], "index": task[1]}}))
        assert writes_the_run("multi_worker") == chief, (cluster, task)
        assert writes_the_run("none")  # outside multi_worker every process writes its own run
    assert worker_name() == "chief 0"
    (tmp_path / "c.yaml").write_text("train:\n  distribute: several\n")
    with pytest.raises(ConfigError,
                       match="train.distribute.*'several'; choose one of auto, none, mirrored, multi_worker"):
        load_config(tmp_path / "c.yaml")
