"""The contract every architecture in the registry keeps: it builds, trains a step with named loss
terms, saves with its card and reloads with plain Keras, exports int8 with builtin ops only, and
decodes identically in Keras and TFLite. A new architecture gets all of this by its registry line
(the `untrained` fixture in conftest.py is parametrised over the registry)."""
import numpy as np
import pytest

from conftest import UNTRAINED_SIZE as SIZE
from conftest import spread_class_scores
from kerasdet.core.detections import box_iou_matrix
from kerasdet.core.input_size import InputSize
from kerasdet.core.registry import ARCHITECTURES
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
    from kerasdet.runtime.tflite_detector import TFLiteDetector
    from kerasdet.tflite.flatbuffer import op_names
    ops = set(op_names(untrained_tflite[fmt].read_bytes()))
    assert not any(name.startswith("Flex") or name == "CUSTOM" for name in ops), ops
    assert "NON_MAX_SUPPRESSION_V4" in ops
    # XNNPACK has no TILE (what UpSampling2D converts to): one would cut the delegated network in two
    assert "TILE" not in ops, ops
    detector = TFLiteDetector(untrained_tflite[fmt], num_threads=1)
    assert detector.card == untrained.card and detector._input["dtype"] == np.uint8


def test_keras_and_tflite_decode_identically(untrained, untrained_tflite, demo_data):
    assert_same_detections(untrained.path, untrained_tflite["fp32"], demo_data)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_a_rectangular_input_has_anchors_on_the_rectangle(arch):
    from kerasdet.config import ModelConfig
    from kerasdet.models.architecture import get_architecture
    from kerasdet.models.detector import build_detector
    model = build_detector(ModelConfig(arch=arch, alpha=0.35, input_size=[96, 64], weights="none"), 2)
    boxes, scores = get_architecture(arch).decode(model(np.zeros((1, 64, 96, 3), np.float32)), InputSize(96, 64))
    per_location = {"yolov8": 1, "retinanet": 9}[arch]
    assert boxes.shape[:2] == scores.shape[:2] == (1, (12 * 8 + 6 * 4 + 3 * 2) * per_location)  # strides 8, 16, 32
    centres = (np.asarray(boxes[0, :, :2]) + np.asarray(boxes[0, :, 2:])) / 2  # an untrained model: near its anchors
    assert centres[:, 0].max() > 64 and centres[:, 1].max() < 70


# Each architecture's hyper-parameters, as they were when they were loose constants (before 2026-12-08):
# the defaults of YoloV8Config and RetinaNetConfig must keep every model file decoding as it was trained.
HYPER_PARAMETERS = {
    "yolov8": {"reg_max": 16, "prior_objects": 5.0, "assign_topk": 10, "assign_alpha": 0.5, "assign_beta": 6.0,
               "box_weight": 7.5, "class_weight": 0.5, "dfl_weight": 1.5, "distill_temperature": 10.0},
    "retinanet": {"anchor_scales": (1.0, 2 ** (1 / 3), 2 ** (2 / 3)), "aspect_ratios": (0.5, 1.0, 2.0),
                  "anchor_size": 4.0, "positive_iou": 0.5, "negative_iou": 0.4, "box_variance": (0.1, 0.1, 0.2, 0.2),
                  "prior_probability": 0.01, "focal_alpha": 0.25, "focal_gamma": 2.0, "smooth_l1_beta": 1.0},
}
# A seeded build at 96x64 (alpha 0.35, 3 classes), and the decoding and loss of random predictions, measured
# on the code before the hyper-parameters moved into the architectures' configs (identical after, bit for bit).
SEEDED = {
    "yolov8": {"weights": 44313.76997249946, "box_outputs": 0.9999999994012926, "class_outputs": -3.6574384812955505,
               "boxes": 39.23257060467251, "scores": 0.21567782444436542, "loss": 88.47247314453125,
               "box_loss": 0.7408087849617004, "class_loss": 106.3455810546875, "dfl_loss": 4.262340545654297,
               "distill_loss": 11.675053596496582},
    "retinanet": {"weights": 43143.18007266277, "box_outputs": 2.8525007498897563e-09,
                  "class_outputs": -4.595119953155518, "boxes": 39.8301226211288, "scores": 0.21941151862858527,
                  "loss": 16.084449768066406, "box_loss": 5.57293701171875, "class_loss": 10.511513710021973},
}


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_each_architecture_describes_itself_with_its_hyper_parameters(arch):
    from kerasdet.models.architecture import get_architecture
    architecture = get_architecture(arch)
    described = architecture.get_config()
    assert described == {"name": arch, "loss_terms": list(architecture.loss_terms),
                         "distills": architecture.distills, **HYPER_PARAMETERS[arch]}
    with pytest.raises(AttributeError):  # frozen: one architecture, one set of values
        architecture.config.__setattr__(next(iter(HYPER_PARAMETERS[arch])), 0)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_a_seeded_build_gives_the_weights_outputs_and_losses_it_always_gave(arch):
    import keras

    from kerasdet.config import ModelConfig
    from kerasdet.models.architecture import get_architecture
    from kerasdet.models.detector import build_detector
    keras.utils.set_random_seed(0)
    model = build_detector(ModelConfig(arch=arch, alpha=0.35, input_size=[96, 64], weights="none"), 3)
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 96, 3)).astype(np.float32)
    box_out, class_out = (np.asarray(p, np.float64) for p in model(images, training=False))
    rng = np.random.default_rng(1)  # an untrained model's outputs are nearly constant: random ones decode and score
    random = [rng.normal(0, 2, box_out.shape).astype(np.float32), rng.normal(-2, 2, class_out.shape).astype(np.float32)]
    architecture = get_architecture(arch)
    boxes, scores = (np.asarray(t, np.float64) for t in architecture.decode(random, InputSize(96, 64)))
    found = {"weights": sum(float(np.abs(w.astype(np.float64)).sum()) for w in model.get_weights()),
             "box_outputs": float(np.abs(box_out).mean()), "class_outputs": float(class_out.mean()),
             "boxes": float(boxes.mean()), "scores": float(scores.mean())}
    gt_boxes = np.array([[[10, 10, 50, 60], [-1] * 4], [[30, 12, 90, 62], [40, 30, 60, 50]]], np.float32)
    gt_classes = np.array([[2, -1], [0, 1]], np.float32)
    teacher = [[random[0] * 0.5, random[1] + 1.0]] if architecture.distills else []
    options = {"distill_weight": 2.0} if architecture.distills else {}
    losses = architecture.loss(InputSize(96, 64), 3, **options)(random, gt_boxes, gt_classes, *teacher)
    found.update({name: float(value) for name, value in losses.items()})
    assert found == pytest.approx(SEEDED[arch], rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("arch", ["yolov8"])  # the plumbing (data, card, export) is architecture-free
def test_a_rectangular_input_trains_exports_and_decodes_as_in_keras(arch, demo_data, tmp_path):
    """model.input_size [width, height]: the network itself runs on the rectangle, anchors and all,
    and the exported file (4:3 demo frames letterboxed into it, padded to it inside) finds what Keras does."""
    import keras

    from kerasdet.config import Config
    from kerasdet.models.detector import model_card
    from kerasdet.runtime.tflite_detector import TFLiteDetector
    from kerasdet.tflite.convert import export
    from kerasdet.train import RunFolder, Trainer
    keras.utils.set_random_seed(0)
    cfg = Config()
    cfg.model.arch, cfg.model.alpha, cfg.model.input_size, cfg.model.weights = arch, 0.35, [96, 64], "none"
    cfg.train.epochs = 50  # the default before auto: a Trainer takes a number (fit sizes auto from the data)
    trainer = Trainer(cfg, num_classes=2, steps_per_epoch=1)
    assert trainer.model.input_shape == (None, 64, 96, 3)
    images = np.random.default_rng(0).integers(0, 255, (2, 64, 96, 3), dtype=np.uint8)
    targets = {"boxes": np.array([[[4, 4, 40, 50], [-1] * 4], [[50, 10, 90, 60], [30, 30, 50, 50]]], np.float32),
               "classes": np.array([[1, -1], [0, 1]], np.float32)}
    assert all(np.isfinite(v) for v in trainer.train_step(images, targets, backbone_frozen=True).values())
    spread_class_scores(trainer.model, np.random.default_rng(1))
    path = RunFolder(tmp_path / "run").create().save_model(trainer.model, model_card(cfg.model, ["a", "b"]),
                                                          RunFolder.BEST)
    tflite = export(path, "fp32", calib=demo_data, out=tmp_path / "m.tflite")
    assert TFLiteDetector(tflite).input_shape == (64, 85)  # 320x240 frames letterboxed into 96x64
    assert_same_detections(path, tflite, demo_data)


def assert_same_detections(keras_path, tflite_path, data) -> None:
    from kerasdet.core.card import read_card
    from kerasdet.runtime.load import load_predictor
    keras_predictor = load_predictor(keras_path)
    tflite = load_predictor(tflite_path, num_threads=1)
    images = [read_rgb(r.image_path) for r in load_dataset(data).records[:4]]
    nms_iou, exact = read_card(keras_path).nms["iou"], 0
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
