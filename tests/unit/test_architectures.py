"""The contract every architecture in the registry keeps: it builds, trains a step with named loss
terms, saves with its card and reloads with plain Keras, exports int8 with builtin ops only, and
decodes identically in Keras and TFLite. A new architecture gets all of this by its registry line
(the `untrained` fixture in conftest.py is parametrised over the registry)."""
import numpy as np
import pytest

from conftest import UNTRAINED_SIZE as SIZE
from kerasdet.core.detections import box_iou_matrix
from kerasdet.data import load_dataset
from kerasdet.data.images import read_rgb


def test_trains_a_step_with_its_named_loss_terms(untrained):
    assert set(untrained.losses) == {"loss", *untrained.trainer.loss_terms}
    assert all(np.isfinite(v) for v in untrained.losses.values()) and untrained.weights_changed


def test_saved_model_reloads_with_plain_keras_and_its_card(untrained):
    import keras
    from kerasdet.models.load import load_model
    plain = keras.saving.load_model(untrained.path)  # no custom objects, no kerasdet
    model, card = load_model(untrained.path)
    assert card == untrained.card
    x = np.random.default_rng(1).uniform(0, 255, (1, SIZE, SIZE, 3)).astype(np.float32)
    for a, b in zip(untrained.trainer.model(x), plain(x)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


@pytest.mark.parametrize("fmt", ["fp32", "int8"])
def test_exports_with_builtin_ops_only_and_its_card(untrained, untrained_tflite, fmt):
    from kerasdet.models.tflite_detector import TFLiteDetector
    from kerasdet.tflite.flatbuffer import op_names
    ops = set(op_names(untrained_tflite[fmt].read_bytes()))
    assert not any(name.startswith("Flex") or name == "CUSTOM" for name in ops), ops
    assert "NON_MAX_SUPPRESSION_V4" in ops
    # XNNPACK has no TILE (what UpSampling2D converts to): one would cut the delegated network in two
    assert "TILE" not in ops, ops
    detector = TFLiteDetector(untrained_tflite[fmt], num_threads=1)
    assert detector.card == untrained.card and detector._input["dtype"] == np.uint8


def test_keras_and_tflite_decode_identically(untrained, untrained_tflite, demo_data):
    from kerasdet.models.load import load_predictor
    keras_predictor = load_predictor(untrained.path)
    tflite = load_predictor(untrained_tflite["fp32"], num_threads=1)
    images = [read_rgb(r.image_path) for r in load_dataset(demo_data).records[:4]]
    nms_iou, exact = untrained.card.nms["iou"], 0
    for image, k in zip(images, keras_predictor.predict(images)):
        t = tflite.detect(image)
        top = np.argsort(-k.scores)[:10]  # an untrained model: compare its most confident boxes
        for box, score, cls in zip(k.boxes[top], k.scores[top], k.classes[top]):
            ious = box_iou_matrix(box[None], t.boxes)[0] * (t.classes == cls)
            i = int(ious.argmax()) if len(ious) else -1
            # XNNPACK's float rounding differs from TensorFlow's by up to ~1e-3 in a score
            if i >= 0 and ious[i] > 0.99 and abs(t.scores[i] - score) < 0.01 * score + 1e-3:
                exact += 1
                continue
            # otherwise only a near-tie may explain it: an overlapping box of its class scored about
            # as high won NMS in TFLite where this one won it in Keras
            assert i >= 0 and ious[i] > nms_iou and t.scores[i] > score - 2e-3, (box, score, cls)
    assert exact >= 0.5 * 10 * len(images), exact  # ties explain some, never most (measured: 32 to 40 of 40)
