"""`train.epochs: auto`: how long training is, sized from the number of training images; an explicit
number wins; the start of a run says which and why."""
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kerasdet.config import ConfigError, load_config
from kerasdet.data.dataset import DetectionDataset
from kerasdet.train.recipe import AUTO_EPOCHS, AUTO_IMAGES_SEEN, auto_epochs, sized_schedule


def frames(n: int) -> DetectionDataset:
    return DetectionDataset("frames", ["a"], [SimpleNamespace(width=400, height=300)] * n)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 200_000), st.integers(1, 64))
def test_auto_epochs_see_about_the_target_within_the_bounds(images, batch):
    epochs = auto_epochs(images, batch)
    low, high = AUTO_EPOCHS
    assert low <= epochs <= high
    seen = epochs * max(images // batch, 1) * batch
    if low < epochs < high:  # not clamped: the fewest epochs that reach the target
        assert seen >= AUTO_IMAGES_SEEN > seen - max(images // batch, 1) * batch
    assert auto_epochs(images + batch, batch) <= epochs  # more data: never more epochs


def test_small_sets_train_longer_and_large_ones_at_least_the_fewest_epochs():
    assert auto_epochs(12, 16) == 300  # under one batch: one step an epoch, the most epochs
    assert auto_epochs(100, 16) == 134  # 6 steps an epoch
    assert auto_epochs(234, 16) == 58  # 14 steps: 812 steps, where 16 epochs (224 steps) ended still learning
    assert auto_epochs(600, 16) == 22  # 37 steps
    assert auto_epochs(996, 16) == 20  # 62 steps: 13 would reach the target, but 20 is the fewest
    assert auto_epochs(50_000, 16) == 20  # the fewest


def test_the_plan_is_said_and_an_explicit_number_wins():
    cfg, plan = sized_schedule(load_config(None, check_paths=False), frames(234))
    assert cfg.train.epochs == 58
    assert plan.startswith("234 training images: 58 epochs of 14 steps of 16 (12,992 images seen; train.epochs auto")
    assert "set train.epochs to choose" in plan and "from epoch 29 on, early stopping after 15 evaluations" in plan

    cfg, plan = sized_schedule(load_config(None, ["train.epochs=7"], check_paths=False), frames(234))
    assert cfg.train.epochs == 7 and "7 epochs of 14 steps" in plan and "auto" not in plan


def test_progressive_epochs_must_leave_epochs_once_auto_is_a_number():
    cfg = load_config(None, ["train.progressive_epochs=30"], check_paths=False)  # auto: not known yet
    assert sized_schedule(cfg, frames(234))[0].train.epochs == 58
    with pytest.raises(ConfigError, match=r"'train.progressive_epochs' is 30: it must be under train.epochs \(20\)"):
        sized_schedule(cfg, frames(996))


@pytest.mark.parametrize("value, message", [("abc", "must be a whole number or auto, got 'abc'"),
                                            ("0", "must be > 0, got 0"), ("2.5", "must be int")])
def test_train_epochs_is_a_number_or_auto(value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [f"train.epochs={value}"], check_paths=False)


def test_no_early_stop_in_the_first_half_of_the_epochs():
    from kerasdet.train.recipe import stops_early
    cfg = load_config(None, ["train.epochs=300", "train.patience=15"], check_paths=False)
    assert not stops_early(cfg, epoch=15, stale=15)  # one-step epochs of 12 photos: still warming up
    assert not stops_early(cfg, epoch=148, stale=100)
    assert stops_early(cfg, epoch=149, stale=15) and not stops_early(cfg, epoch=149, stale=14)


def test_training_says_its_length_at_the_start(tmp_path, monkeypatch, capsys):
    """Said before the model is built (setup is stopped here: no training needed to see it)."""
    import importlib

    from conftest import write_pair
    from kerasdet.config import Config
    fit_module = importlib.import_module("kerasdet.train.fit")  # the module: kerasdet.train.fit is the function

    class Stop(Exception):
        pass

    def stop(cfg, *args, **kwargs):
        assert cfg.train.epochs == 300  # setup gets the number, never auto
        raise Stop

    for k in range(3):
        write_pair(tmp_path / "data", f"f{k}", [("car", (10, 10, 40, 30))])
    monkeypatch.setattr(fit_module, "setup", stop)
    cfg = Config()
    cfg.data.train, cfg.model.weights = str(tmp_path / "data"), "none"
    with pytest.raises(Stop):
        fit_module.fit(cfg, out=tmp_path / "run")
    assert "3 training images: 300 epochs of 1 step of 16 (4,800 images seen; train.epochs auto" in \
        capsys.readouterr().out
    assert load_config(tmp_path / "run" / "config.yaml").train.epochs == "auto"  # what the user asked for


def test_the_time_left_is_said_from_an_epoch_that_trains_the_backbone():
    from kerasdet.train.fit import _pace
    assert _pace({"seconds": 50.0, "val_seconds": 10.0}, epoch=5, epochs=26) == \
        "epoch 6 took 60 s with its validation: the 20 epochs left take about 20 min here"
    assert _pace({"seconds": 50.0}, epoch=25, epochs=26) == "epoch 26 took 50 s"


def test_eval_from_auto_validates_from_half_way():
    from kerasdet.train.recipe import validated
    cfg, plan = sized_schedule(load_config(None, ["train.eval_from=auto"], check_paths=False), frames(234))
    assert cfg.train.eval_from == 29 and "validated from epoch 29 (train.eval_from auto)" in plan
    assert [e + 1 for e in range(58) if validated(cfg, e)] == list(range(29, 59))
    assert sized_schedule(load_config(None, ["train.eval_from=3"], check_paths=False), frames(234))[0].train.eval_from == 3
