"""Training pieces that need no training run: resume of a non-run, config errors, box slots."""
import pytest

from conftest import left_as_found


def test_resume_of_a_folder_that_is_not_a_run(tmp_path):
    from kerasdet.train import fit
    with pytest.raises(FileNotFoundError, match="no last_state.npz"):
        fit(None, resume=tmp_path)


def test_cli_train_bad_config_names_the_key(tmp_path, capsys):
    from kerasdet.cli import main
    (tmp_path / "c.yaml").write_text("model:\n  backbone: resnet50\n")
    assert main(["train", str(tmp_path / "c.yaml")]) == 2
    assert "key 'model.backbone' is 'resnet50'" in capsys.readouterr().err


def test_no_box_is_dropped_when_an_image_holds_more_than_max_boxes(tmp_path, capsys):
    from conftest import write_pair
    from kerasdet.data.dataset import load_dataset
    from kerasdet.data.samples import box_slots
    write_pair(tmp_path, "crowded", [("heart", (2 + 6 * i, 2, 6 + 6 * i, 8)) for i in range(5)])
    write_pair(tmp_path, "single", [("star", (10, 10, 30, 30))])
    dataset = load_dataset(str(tmp_path), ["heart", "star"])
    assert box_slots(dataset, 32) == 32
    assert box_slots(dataset, 3) == 5
    assert "crowded.xml has 5 boxes" in capsys.readouterr().out
    from kerasdet.config import AugmentConfig
    assert box_slots(dataset, 3, AugmentConfig(mosaic=0.5)) == 6  # a mosaic can hold both pictures' boxes


def test_a_folder_holding_a_run_is_not_overwritten(tmp_path, demo_data, capsys):
    from conftest import tree_digest
    from kerasdet.cli import main
    from kerasdet.train import RunFolder
    run = RunFolder(tmp_path / "reuse").create()
    for name in (run.CONFIG, run.STATE, run.BEST, "best_int8.tflite"):
        run.write_text(name, "from an earlier run")  # as kerasdet writes them: listed in the folder's manifest
    (run / "my_notes.txt").write_text("mine")
    before = tree_digest(run.path)
    (tmp_path / "c.yaml").write_text(f"data:\n  train: {demo_data}\n")
    assert main(["train", str(tmp_path / "c.yaml"), "--out", str(run.path)]) == 2
    err = capsys.readouterr().err
    assert "holds a run already (last_state.npz, best.keras)" in err and "--exist-ok" in err
    assert tree_digest(run.path) == before
    run.clear()  # what --exist-ok does before training: kerasdet's files go (an export too), the user's stay
    assert sorted(p.name for p in run.path.iterdir()) == [".kerasdet.json", "my_notes.txt"]


def test_resume_checks_the_state_fits_and_refuses_a_finished_run(tmp_path):
    import json

    import numpy as np
    from kerasdet.train import RunFolder, fit
    run = RunFolder(tmp_path / "r").create()
    saved = {"model": {"arch": "yolov8", "input_size": 320}, "class_names": ["heart", "star"]}
    np.savez(run / run.STATE, fingerprint=np.array(json.dumps(saved)))
    run.check_state_fits(saved)
    with pytest.raises(ValueError, match=r"class_names: \['heart', 'star'\] in the state, \['cat'\] now; "
                                         r"model.input_size: 320 in the state, 96 now"):
        run.check_state_fits({"model": {"arch": "yolov8", "input_size": 96}, "class_names": ["cat"]})
    # A key a later kerasdet added (the state has none) is not a difference
    run.check_state_fits({"model": {"arch": "yolov8", "input_size": 320, "neck_width": 0},
                          "class_names": ["heart", "star"]})
    (run / run.RESULTS).write_text("{}")
    with pytest.raises(ValueError, match="this run finished .* Nothing to resume"):
        fit(None, resume=run.path)


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_a_full_disk_is_one_sentence_and_the_last_checkpoint_stays(untrained, small_disk, monkeypatch):
    import shutil

    from kerasdet.models.load import load_model
    from kerasdet.train import RunFolder
    from kerasdet.core import files as files_module
    from kerasdet.train import run_folder as run_folder_module
    run = RunFolder(small_disk / "run").create()
    best = run.save_model(untrained.trainer.model, untrained.card, run.BEST)  # ~2.5 MB of 4
    before = best.read_bytes()
    with pytest.raises(run_folder_module.DiskFullError, match=r"no space left to write .*run/best\.keras: it needs "
                                                              r"about \d\.\d MB, \d\.\d MB are free on that disk"):
        run.save_model(untrained.trainer.model, untrained.card, run.BEST)
    # the writer itself meeting the full disk (the free-space check fooled): the same sentence, no crash
    plenty = shutil.disk_usage("/")
    monkeypatch.setattr(files_module.shutil, "disk_usage", lambda path: plenty)
    with pytest.raises(run_folder_module.DiskFullError, match="no space left to write"):
        run.save_model(untrained.trainer.model, untrained.card, run.BEST)
    assert best.read_bytes() == before and not list(run.path.glob("*.tmp.*"))
    load_model(best)


def test_validation_epochs_follow_eval_from_and_eval_every_and_the_last_always_counts():
    from kerasdet.config import load_config
    from kerasdet.train.recipe import validated

    def epochs(*overrides):
        cfg = load_config(None, ["train.epochs=10", *overrides], check_paths=False)
        return [e + 1 for e in range(10) if validated(cfg, e)]

    assert epochs() == list(range(1, 11))
    assert epochs("train.eval_from=6") == [6, 7, 8, 9, 10]
    assert epochs("train.eval_from=5", "train.eval_every=3") == [6, 9, 10]
    # progressive resizing: a checkpoint has model.input_size, so the small epochs are not validated
    assert epochs("train.progressive_epochs=7") == [8, 9, 10]


def test_progressive_resizing_trains_the_first_epochs_small_then_carries_on_at_the_input_size(untrained):
    from types import SimpleNamespace

    import numpy as np
    from kerasdet.config import load_config
    from kerasdet.core.input_size import InputSize
    from kerasdet.data.dataset import DetectionDataset
    from kerasdet.train.recipe import input_sizes

    def sizes(frames, *overrides):
        cfg = load_config(None, ["train.epochs=6", "train.progressive_epochs=4", "model.input_size=320", *overrides],
                          check_paths=False)
        records = [SimpleNamespace(width=w, height=h) for w, h in frames]
        return input_sizes(cfg, DetectionDataset("frames", ["a"], records))[0]

    # 0.8 of 320, shaped like most training images; the last epochs at model.input_size
    assert sizes([(400, 300)] * 3 + [(300, 400)]) == [InputSize(256, 192)] * 4 + [InputSize(320, 320)] * 2  # 4:3
    assert sizes([(300, 400)] * 2)[0] == InputSize(192, 256)  # portrait photos
    assert sizes([(1280, 720)])[0] == InputSize(256, 160)  # 16:9: 256x144, rounded to multiples of 32
    assert sizes([(400, 300), (300, 400)])[0] == InputSize(256, 256)  # no shape shared by more than half: the square
    assert sizes([(400, 300)], "train.progressive_scale=0.5")[0] == InputSize(160, 128)  # 160x120, rounded
    # the frames' rectangle
    assert sizes([(400, 300)], "train.progressive_scale=1")[:5] == [InputSize(320, 256)] * 4 + [InputSize(320, 320)]
    assert sizes([(640, 640)], "train.progressive_scale=1") == [InputSize(320, 320)] * 6  # nothing smaller: no switch

    trainer = untrained.trainer  # 64 x 64, one step taken
    larger = trainer.resized(InputSize(96, 96))
    assert larger.model.input_shape == (None, 96, 96, 3) and larger.input_size == InputSize(96, 96)
    assert all(np.array_equal(a, b) for a, b in zip(trainer.model.get_weights(), larger.model.get_weights()))
    state, carried = trainer.state(), larger.state()
    assert state.keys() == carried.keys() and all(np.array_equal(state[k], carried[k]) for k in state)
    images = np.zeros((2, 96, 96, 3), np.uint8)
    targets = {"boxes": np.array([[[6, 6, 60, 75], [-1] * 4], [[30, 15, 90, 90], [45, 45, 75, 75]]], np.float32),
               "classes": np.array([[1, -1], [0, 1]], np.float32)}
    losses = larger.train_step(images, targets, backbone_frozen=True)  # the loss's anchors are the new size's
    assert np.isfinite(losses["loss"])
    assert int(larger.optimizers["head"].iterations) == int(trainer.optimizers["head"].iterations) + 1


def test_the_weight_average_spans_about_one_epoch_whatever_the_run_length():
    import keras
    import numpy as np
    from kerasdet.train.ema import WeightEMA, ema_decay
    for steps in (62, 124, 1000):  # hands at batch 16 and 8, a large set
        settled = ema_decay(10 * steps, steps)
        assert abs(1 / (1 - settled) - steps) < 0.01 * steps  # a window of one epoch once ramped up
        assert ema_decay(steps // 5, steps) < 0.7 * settled  # still ramping up during the first epoch
    assert ema_decay(10**7, 10**6) == 0.9999  # Ultralytics' ceiling on very large sets
    assert ema_decay(5, 1) == 0.0  # one step an epoch: nothing to average

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    ema = WeightEMA(model, steps_per_epoch=4)
    expected = [w.copy() for w in model.get_weights()]
    for update in range(1, 9):
        model.set_weights([np.full_like(w, update) for w in model.get_weights()])
        ema.update()
        d = ema_decay(update, 4)
        expected = [d * e + (1 - d) * update for e in expected]
    with ema.averaged():
        assert all(np.allclose(a, e) for a, e in zip(model.get_weights(), expected))
        assert not np.allclose(model.get_weights()[1], 8.0)  # the average lags the live weights
    assert np.allclose(model.get_weights()[1], 8.0)  # and the live ones come back after


def test_each_step_sets_the_rate_from_the_schedule_and_the_resume_state_leaves_it_out(untrained):
    # Keras' AdamW, given the schedule itself, evaluates it once per decayed variable; the Trainer
    # sets each optimizer's rate once a step instead (trainer.py). (On 2026-12-02 the weights after
    # 8 steps, frozen and not, in warm-up and in the cosine, matched the earlier code bit for bit.)
    import numpy as np
    trainer, head = untrained.trainer, untrained.trainer.optimizers["head"]
    state = trainer.state()
    step = int(head.iterations)
    assert step >= 1 and float(trainer.rate("head", step)) != float(trainer.rate("head", 0))  # still warming up
    images = np.zeros((2, 64, 64, 3), np.uint8)  # the fixture's shapes, so its traced step is reused
    targets = {"boxes": np.array([[[4, 4, 40, 50], [-1] * 4], [[20, 10, 60, 60], [30, 30, 50, 50]]], np.float32),
               "classes": np.array([[1, -1], [0, 1]], np.float32)}
    with left_as_found(trainer):
        trainer.train_step(images, targets, backbone_frozen=True)
        assert float(head.learning_rate) == pytest.approx(float(trainer.rate("head", step)))  # the step's rate
        assert trainer.learning_rate == pytest.approx(float(trainer.rate("head", step + 1)))  # the next one's
    assert int(head.iterations) == step
    assert not [k for k in state if "learning_rate" in k] and any("iteration" in k for k in state)
