"""Crowded photos: `model.max_detections: auto` sizes the model's own cap from the most boxes of one
training image; detect, cam, tiles and the web page keep what the model kept unless told otherwise."""
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kerasdet.config import ConfigError, load_config
from kerasdet.core.detections import Detections
from kerasdet.core.postprocess import CROWD_FACTOR, MAX_DETECTIONS, max_detections_for
from kerasdet.models.detector import model_card
from kerasdet.runtime.select import select_detections


@given(st.integers(0, 5000))
def test_auto_cap_holds_every_object_a_few_times_over(most):
    cap = max_detections_for(most)
    assert cap >= MAX_DETECTIONS and cap >= CROWD_FACTOR * most and cap % 50 == 0
    assert cap == MAX_DETECTIONS or cap - 50 < CROWD_FACTOR * most  # the smallest such multiple of 50


def test_the_card_carries_the_cap_auto_or_as_written():
    def cap(*overrides, most=0):
        return model_card(load_config(None, list(overrides), check_paths=False).model, ["a"], {}, most).nms
    assert cap(most=2)["max_detections"] == MAX_DETECTIONS  # a few objects an image: COCO's 100
    assert cap(most=120)["max_detections"] == 400  # a shelf of 120 products: 360, rounded up
    assert cap("model.max_detections=20", most=120)["max_detections"] == 20  # a number wins
    assert cap(most=120)["iou"] == 0.6  # the rest as before


@pytest.mark.parametrize("value, message", [("many", "must be a whole number or auto, got 'many'"),
                                            ("0", "must be > 0, got 0")])
def test_max_detections_is_a_number_or_auto(value, message):
    with pytest.raises(ConfigError, match=f"'model.max_detections' {message}"):
        load_config(None, [f"model.max_detections={value}"], check_paths=False)


def test_detect_keeps_what_the_model_kept_unless_told():
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 1000, (250, 2))
    d = Detections(np.concatenate([corners, corners + 10], 1), np.linspace(0.99, 0.3, 250), np.zeros(250, np.int32))
    assert len(select_detections(d).scores) == 250  # no 100 cap on a model trained to keep 300
    assert len(select_detections(d, max_det=40).scores) == 40


def test_tiles_take_the_model_cap():
    from kerasdet.runtime.tiles import Tiled
    card = model_card(load_config(None, check_paths=False).model, ["a"], {}, most_boxes=100)
    predictor = SimpleNamespace(card=card, class_names=["a"], input_size=64)
    assert Tiled(predictor, (64, 64)).max_det == 300
    assert Tiled(predictor, (64, 64), max_det=7).max_det == 7
