"""The dependency-free core and the light runtime: no TensorFlow, Keras or albumentations."""
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from kerasdet.core.card import CARD_FILE, ModelCard, ModelCardError, read_card, write_card
from kerasdet.core.letterbox import PAD_VALUE, letterbox


def test_light_runtime_imports_no_tensorflow_keras_or_albumentations():
    code = ("import sys; import kerasdet; from kerasdet import TFLiteDetector; import kerasdet.core.input_size; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'albumentations', 'pycocotools', 'yaml') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_names_resolve():
    import kerasdet
    assert callable(kerasdet.export) and callable(kerasdet.fit) and callable(kerasdet.detect)
    assert kerasdet.__version__ and "export" in dir(kerasdet)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        kerasdet.nothing


def test_card_round_trips_through_a_zip_and_names_a_file_without_one(tmp_path):
    card = ModelCard(arch="yolov8", backbone="mobilenet_v2", alpha=0.35, input_size=96, class_names=["a", "b c"],
                     training_data={"images": 3})
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("other.txt", "x")
    write_card(path, card)
    assert read_card(path) == card
    assert json.loads(zipfile.ZipFile(path).read(CARD_FILE))["input"]["pad_value"] == PAD_VALUE
    with zipfile.ZipFile(tmp_path / "no_card.zip", "w") as z:
        z.writestr("config.json", "{}")
    with pytest.raises(ModelCardError, match="no_card.zip: no kerasdet model card inside"):
        read_card(tmp_path / "no_card.zip")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelCardError, match="junk.keras: not a kerasdet model file"):
        read_card(tmp_path / "junk.keras")


def test_an_input_size_reads_both_forms_the_files_write_and_writes_them_back_unchanged():
    from kerasdet.core.input_size import InputSize
    rectangle = InputSize.of([320, 256])  # model.input_size [width, height], from YAML or a card's JSON
    assert (rectangle.width, rectangle.height, rectangle.hw, rectangle.wh) == (320, 256, (256, 320), (320, 256))
    assert InputSize.of((320, 256)) == rectangle and InputSize.of(rectangle) is rectangle
    assert str(rectangle) == "320x256" and rectangle.to_config() == [320, 256]
    square = InputSize.of(96)
    assert square == InputSize(96, 96) and square.to_config() == 96 and square.hw == (96, 96) and str(square) == "96x96"
    card = ModelCard(arch="yolov8", backbone="mobilenet_v2", alpha=0.35, input_size=rectangle.to_config(),
                     class_names=["a"])
    assert json.loads(card.to_json())["input_size"] == [320, 256]  # the card's JSON as it always was
    with pytest.raises(ValueError, match=r"a side or \[width, height\], got \[320, 256, 3\]"):
        InputSize.of([320, 256, 3])
    with pytest.raises(Exception):  # frozen: a value, passed around, never changed
        square.width = 128


def test_an_input_size_scaled_for_progressive_resizing_is_shaped_like_the_frames():
    from kerasdet.core.input_size import InputSize
    full = InputSize.of(320)
    assert full.scaled(0.8, (400, 300)) == InputSize(256, 192)  # 4:3 frames
    assert full.scaled(0.8, (300, 400)) == InputSize(192, 256)  # portrait photos
    assert full.scaled(0.8, (1280, 720)) == InputSize(256, 160)  # 16:9: 256x144, rounded to multiples of 32
    assert full.scaled(0.8) == InputSize(256, 256) and full.scaled(1.0, (640, 640)) == full
    assert InputSize.of([320, 256]).scaled(0.5) == InputSize(160, 128)
    assert full.scaled(0.5, (400, 300), multiple=16) == InputSize(160, 128)  # 160x120 to multiples of 16


def test_letterbox_scales_the_long_side_and_pads_bottom_right():
    image = np.full((30, 60, 3), 7, np.uint8)
    out, scale = letterbox(image, 96)
    assert out.shape == (96, 96, 3) and scale == pytest.approx(1.6)
    assert (out[:48] == 7).all() and (out[48:] == PAD_VALUE).all()
