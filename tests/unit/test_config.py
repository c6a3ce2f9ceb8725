import pytest
import yaml

from kerasdet.config import ConfigError, load_config
from kerasdet.demo import DEMO_CONFIG


def write(tmp_path, text, name="exp.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_and_relative_data_paths(tmp_path):
    (tmp_path / "data").mkdir()
    cfg = load_config(write(tmp_path, "data:\n  train: data\n"))
    assert cfg.data.train == str((tmp_path / "data").resolve())
    assert cfg.model.input_size == 320 and cfg.model.arch == "yolov8"
    assert cfg.augment.gray > 0  # rgb-to-gray is in the default recipe


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, "model:\n  archh: yolov8\n")
    with pytest.raises(ConfigError, match=r"exp\.yaml.*unknown key 'model\.archh'"):
        load_config(path)


def test_unknown_section(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'trian'"):
        load_config(write(tmp_path, "trian:\n  epochs: 3\n"))


def test_wrong_type_names_key(tmp_path):
    with pytest.raises(ConfigError, match=r"exp\.yaml: key 'train\.batch_size' must be int, got str"):
        load_config(write(tmp_path, "train:\n  batch_size: ten\n"))
    with pytest.raises(ConfigError, match=r"exp\.yaml: key 'train\.epochs' must be a whole number or auto, got 'ten'"):
        load_config(write(tmp_path, "train:\n  epochs: ten\n"))


def test_int_accepted_for_float(tmp_path):
    assert load_config(write(tmp_path, "train:\n  learning_rate: 1\n")).train.learning_rate == 1.0


def test_missing_data_folder_names_key(tmp_path):
    with pytest.raises(ConfigError, match=r"key 'data\.val': .*nowhere does not exist"):
        load_config(write(tmp_path, "data:\n  val: nowhere\n"))


def test_bad_choice_names_key(tmp_path):
    with pytest.raises(ConfigError, match="key 'model.backbone' is 'resnet'"):
        load_config(write(tmp_path, "model:\n  backbone: resnet\n"))


def test_set_overrides_any_key(tmp_path):
    cfg = load_config(write(tmp_path, "train:\n  epochs: 3\n"),
                      ["train.epochs=7", "augment.scale=[0.5, 1.5]", "data.classes=[a, b]"])
    assert cfg.train.epochs == 7 and cfg.augment.scale == [0.5, 1.5] and cfg.data.classes == ["a", "b"]
    with pytest.raises(ConfigError, match="unknown key 'train.epoch'"):
        load_config(write(tmp_path, ""), ["train.epoch=3"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(write(tmp_path, ""), ["train.epochs"])


def test_saved_config_loads_back_identically(tmp_path):
    cfg = load_config(write(tmp_path, "model:\n  alpha: 0.35\n"), ["train.batch_size=4"])
    cfg.save(tmp_path / "resolved.yaml")
    again = load_config(tmp_path / "resolved.yaml")
    assert again.to_dict() == cfg.to_dict()


def test_shipped_configs_parse():
    from pathlib import Path
    for path in sorted(Path(__file__).parents[2].glob("configs/*.yaml")):
        load_config(path, check_paths=False)
    load_config(DEMO_CONFIG, check_paths=False)


def test_weights_path_resolved_and_checked(tmp_path):
    (tmp_path / "w.weights.h5").write_bytes(b"x")
    cfg = load_config(write(tmp_path, "model:\n  weights: w.weights.h5\n"))
    assert cfg.model.weights == str(tmp_path / "w.weights.h5")
    assert load_config(write(tmp_path, "model:\n  weights: none\n")).model.weights == "none"
    with pytest.raises(ConfigError, match=r"key 'model\.weights': .*missing\.h5 does not exist"):
        load_config(write(tmp_path, "model:\n  weights: missing.h5\n"))


@pytest.mark.parametrize("text, message", [
    ("train:\n  eval_every: 0\n", "key 'train.eval_every' must be > 0, got 0"),
    ("train:\n  patience: 0\n", "key 'train.patience' must be > 0, got 0"),
    ("train:\n  learning_rate: -0.01\n", "key 'train.learning_rate' must be > 0, got -0.01"),
    ("augment:\n  scale: [1.5, 0.5]\n", r"key 'augment.scale' must be \[min, max\] with 0 < min <= max"),
    ("augment:\n  hflip: 2.0\n", "key 'augment.hflip' must be >= 0 and <= 1, got 2.0"),
    ("data:\n  max_left_out: 1.5\n", "key 'data.max_left_out' must be >= 0 and <= 1"),
    ("model:\n  input_size: 300\n", r"key 'model.input_size' must be a multiple of 32 .* got 300"),
    ("model:\n  input_size: [320, 240]\n", r"key 'model.input_size' must be .*\[width, height\], each a multiple"),
    ("model:\n  input_size: [320]\n", r"key 'model.input_size' must be"),
    ("model:\n  input_size: big\n", r"key 'model.input_size' must be a side, \[width, height\] or auto, got 'big'"),
    ("model:\n  input_size: 2.5\n", r"key 'model.input_size' must be int, got float 2.5, or .* must be a list"),
    ("train:\n  progressive_epochs: 3\n  progressive_scale: 1.5\n", r"key 'train.progressive_scale' must be > 0 and <= 1"),
    ("train:\n  progressive_scale: 0\n", r"key 'train.progressive_scale' must be > 0 and <= 1, got 0"),
    ("train:\n  epochs: 10\n  progressive_epochs: 10\n",
     r"key 'train.progressive_epochs' is 10: it must be under train.epochs \(10\)"),
])
def test_values_that_cannot_work_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=r"exp\.yaml: " + message):
        load_config(write(tmp_path, text))


def test_a_rectangular_input_size_is_width_then_height(tmp_path):
    from kerasdet.core.input_size import InputSize
    cfg = load_config(write(tmp_path, "model:\n  input_size: [320, 256]\n"))
    assert cfg.model.input_size == [320, 256] and InputSize.of(cfg.model.input_size).hw == (256, 320)
    assert InputSize.of(load_config(write(tmp_path, "model:\n  input_size: 96\n")).model.input_size).hw == (96, 96)
    # a smaller size (progressive resizing) is written back as the file writes it: a square as its side
    assert cfg.with_input_size(InputSize(256, 192)).model.input_size == [256, 192]
    assert cfg.with_input_size(InputSize(256, 256)).model.input_size == 256
    assert yaml.safe_load(yaml.safe_dump(cfg.to_dict()))["model"]["input_size"] == [320, 256]


def test_internal_keys_are_neither_accepted_nor_listed(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "name: mine\n"))
    assert "unknown key 'name'" in str(err.value) and "source" not in str(err.value).split("known:")[1]


def test_a_split_of_a_folder_is_resolved_beside_the_config(tmp_path):
    (tmp_path / "VOC2007").mkdir()
    cfg = load_config(write(tmp_path, "data:\n  train: VOC2007:trainval\n"))
    assert cfg.data.train == f"{(tmp_path / 'VOC2007').resolve()}:trainval"


def test_a_path_given_with_set_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    (tmp_path / "runs" / "t").mkdir(parents=True)
    (tmp_path / "runs" / "t" / "best.keras").write_bytes(b"x")
    (tmp_path / "VOC2007").mkdir()
    monkeypatch.chdir(tmp_path)  # typed from the project root, about a config one folder down
    cfg = load_config(write(tmp_path / "configs", "model:\n  weights: none\n"),
                      ["train.distill_from=runs/t/best.keras", "data.train=VOC2007:trainval", "model.weights=imagenet"])
    assert cfg.train.distill_from == str((tmp_path / "runs" / "t" / "best.keras").resolve())
    assert cfg.data.train == f"{(tmp_path / 'VOC2007').resolve()}:trainval"
    assert cfg.model.weights == "imagenet"
    with pytest.raises(ConfigError, match=r"key 'data\.val': .*/nowhere does not exist"):
        load_config(write(tmp_path / "configs", ""), ["data.val=nowhere"])


def test_a_preset_sets_the_model_keys_and_keys_written_beside_it_win(tmp_path):
    from kerasdet.core.registry import MODEL_PRESETS
    nano = load_config(write(tmp_path, "model:\n  preset: nano\n"))
    assert {k: getattr(nano.model, k) for k in MODEL_PRESETS["nano"]} == MODEL_PRESETS["nano"]
    both = load_config(write(tmp_path, "model:\n  preset: nano\n  input_size: 320\n"))
    assert both.model.input_size == 320 and both.model.alpha == MODEL_PRESETS["nano"]["alpha"]
    switched = load_config(write(tmp_path, "model:\n  preset: base\n"), ["model.preset=small"])
    assert switched.model.input_size == MODEL_PRESETS["small"]["input_size"]
    with pytest.raises(ConfigError, match=r"exp.yaml: key 'model.preset' is 'tiny'; choose one of nano, small"):
        load_config(write(tmp_path, "model:\n  preset: tiny\n"))


def test_presets_build_the_widths_they_name():
    from kerasdet.config import ModelConfig
    from kerasdet.core.registry import MODEL_PRESETS
    from kerasdet.models.detector import build_detector
    for name, keys in MODEL_PRESETS.items():
        model = build_detector(ModelConfig(**{**keys, "input_size": 64, "weights": "none"}), 2)
        assert model.get_layer("neck_lateral3_conv").filters == keys["neck_width"], name
