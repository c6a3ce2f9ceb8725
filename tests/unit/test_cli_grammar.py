"""One CLI grammar: `detect` and `cam` share their arguments (declared once, defaults from
core/postprocess.py), MODEL SOURCE positional with --model / --source kept; the `frames` and `kfold`
verbs and their tools/ scripts."""
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import load_tool, tree_digest
from kerasdet import cli
from kerasdet.core import postprocess
from kerasdet.core.files import MANIFEST, owned_files
from kerasdet.data.split import group_key
from kerasdet.data.synthetic import make_demo_dataset, make_demo_video


def subparser(verb):
    parser = cli.build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices[verb]


def shared(parser) -> dict:
    """The arguments of the group add_predict_arguments declares: dest -> (option strings, default, type)."""
    group = next(g for g in parser._action_groups if g.title.startswith("model, source"))
    return {a.dest: (tuple(a.option_strings), a.default, a.type, a.nargs) for a in group._group_actions}


def test_detect_and_cam_share_their_arguments_and_take_defaults_from_one_home():
    detect, cam = shared(subparser("detect")), shared(subparser("cam"))
    assert detect == cam and set(detect) == {"model", "source", "model_option", "source_option", "conf", "iou",
                                             "max_det", "threads", "all_labels", "tile", "tile_overlap"}
    assert detect["tile_overlap"][1] == postprocess.TILE_OVERLAP
    evaluate = {a.dest: (tuple(a.option_strings), a.default, a.type, a.nargs) for a in subparser("evaluate")._actions}
    assert {k: evaluate[k] for k in ("tile", "tile_overlap")} == {k: detect[k] for k in ("tile", "tile_overlap")}
    assert detect["conf"][1] == postprocess.CONF == 0.25
    assert detect["iou"][1] == postprocess.NMS_IOU and detect["max_det"][1] is None  # None: the model's own cap
    assert detect["threads"][1] == postprocess.THREADS
    assert postprocess.SCORE_THRESHOLD < postprocess.CONF  # the model keeps more than a user is shown
    script = load_tool("detect_cam")
    parser = cli.Parser()
    cli.add_cam_arguments(parser)
    assert shared(parser) == cam and script.add_cam_arguments is cli.add_cam_arguments
    # the Python API's defaults are the same names
    import inspect

    from kerasdet.eval.plots import save_evaluation_plots
    from kerasdet.infer import detect as detect_api, select_detections
    from kerasdet.infer.realtime import run_realtime
    from kerasdet.eval.metrics import confusion_matrix, image_mistakes
    for function in (detect_api, select_detections, run_realtime, confusion_matrix, image_mistakes,
                     save_evaluation_plots):
        params = inspect.signature(function).parameters
        conf = params.get("conf") or params["score_threshold"]
        assert conf.default == postprocess.CONF, function
    assert inspect.signature(detect_api).parameters["num_threads"].default == postprocess.THREADS


@pytest.mark.parametrize("argv, model, source", [
    (["cam"], cli.DEMO_MODEL, "0"),
    (["cam", "m.tflite"], "m.tflite", "0"),
    (["cam", "m.tflite", "clip.mp4", "--headless"], "m.tflite", "clip.mp4"),
    (["cam", "m.tflite", "--headless", "clip.mp4"], "m.tflite", "clip.mp4"),  # positionals among the options
    (["cam", "--model", "m.tflite", "--source", "clip.mp4"], "m.tflite", "clip.mp4"),  # the older spelling
    (["cam", "--model", "m.tflite", "clip.mp4"], "m.tflite", "clip.mp4"),
    (["cam", "--source", "clip.mp4", "m.tflite"], "m.tflite", "clip.mp4"),
    (["detect", "m.tflite", "photos"], "m.tflite", "photos"),
    (["detect", "m.tflite", "--csv", "out.csv", "photos"], "m.tflite", "photos"),
    (["detect", "--model", "m.tflite", "--source", "photos"], "m.tflite", "photos"),
])
def test_model_and_source_positional_or_as_options(argv, model, source):
    args = cli.build_parser().parse_args(argv)
    cli._model_and_source(args, "kerasdet " + argv[0])
    assert (args.model, args.source) == (model, source)


@pytest.mark.parametrize("argv, message", [
    (["detect", "m.tflite"], "give SOURCE: kerasdet detect MODEL SOURCE"),
    (["detect"], "give MODEL and SOURCE"),
    (["cam", "a.tflite", "b.mp4", "--model", "c.tflite"], "'b.mp4': one MODEL and one SOURCE at most"),
])
def test_a_missing_or_extra_model_or_source_is_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"kerasdet {argv[0]}: error:") and message in err[0], err


def test_cam_without_the_demo_model_says_how_to_give_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["cam", "--headless"]) == 2
    assert "kerasdet cam YOUR_MODEL.tflite [SOURCE]" in capsys.readouterr().err


def test_help_shows_the_documented_grammar(capsys):
    for verb, usage in (("detect", "usage: kerasdet detect [-h] MODEL SOURCE"), ("cam", "usage: kerasdet cam [-h] "
                        "[MODEL] [SOURCE]"), ("frames", "VIDEO [VIDEO ...] OUT"), ("kfold", "config data")):
        with pytest.raises(SystemExit):
            cli.main([verb, "--help"])
        assert usage in capsys.readouterr().out


# --- kerasdet frames ----------------------------------------------------------------------------------

def test_frames_verb_and_its_script(tmp_path, capsys):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    make_demo_video(a, frames=6, size=(64, 48), objects=1, seed=0)
    make_demo_video(b, frames=4, size=(64, 48), objects=1, seed=1)
    out = tmp_path / "frames"
    assert cli.main(["frames", str(a), str(b), str(out), "--every", "3"]) == 0
    assert f"kerasdet split {out} --group" in capsys.readouterr().out
    names = sorted(p.name for p in out.glob("*.jpg"))
    assert names == ["a_f000000.jpg", "a_f000003.jpg", "b_f000000.jpg", "b_f000003.jpg"]
    from kerasdet.data.frames import GROUP_PATTERN
    assert {group_key(n, re.compile(GROUP_PATTERN)) for n in names} == {"a", "b"}
    assert sorted(owned_files(out)) == names  # kerasdet's own folder: a rerun may replace them
    assert cli.main(["frames", str(a), str(out), "--every", "3"]) == 0
    script = load_tool("extract_frames")
    assert script.GROUP_PATTERN == GROUP_PATTERN
    assert script.main([str(a), str(tmp_path / "all")]) == 0 and len(list((tmp_path / "all").glob("*.jpg"))) == 6
    capsys.readouterr()


@pytest.mark.parametrize("argv, message", [
    (["{a}", "{out}", "--every", "0"], "--every 0"),
    (["{a}", "{out}", "--fps", "-1"], "--fps -1"),
    (["{a}", "{missing}", "{out}"], "missing.mp4: no such file"),
    (["{a}", "{same}", "{out}"], "would both write a_f*.jpg"),
])
def test_frames_refuses_before_writing_anything(tmp_path, capsys, argv, message):
    a = tmp_path / "a.mp4"
    make_demo_video(a, frames=3, size=(64, 48), objects=1, seed=0)
    (tmp_path / "other").mkdir()
    make_demo_video(tmp_path / "other" / "a.mp4", frames=3, size=(64, 48), objects=1, seed=0)
    paths = {"a": a, "out": tmp_path / "out", "missing": tmp_path / "missing.mp4", "same": tmp_path / "other" / "a.mp4"}
    assert cli.main(["frames", *(arg.format(**paths) for arg in argv)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()


# --- kerasdet kfold -------------------------------------------------------------------------------------

TINY_KFOLD = """model:
  alpha: 0.35
  input_size: 64
  weights: none
train:
  epochs: 1
  batch_size: 4
  warmup_epochs: 0
  freeze_backbone_epochs: 0
"""


@pytest.fixture
def study(tmp_path):
    data = make_demo_dataset(tmp_path / "data", n=8, seed=1, size=(128, 96))  # both classes in each fold
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_KFOLD)
    return data, config, tmp_path / "kf"


class FakeFit:
    """fit() without training: what it was asked to train, and a made-up result."""

    def __init__(self):
        self.calls = []

    def __call__(self, cfg, out, exist_ok, quiet):
        from kerasdet.train import FitResult, RunFolder
        self.calls.append(cfg)
        RunFolder(out).create()
        score = 0.1 * len(self.calls)
        return FitResult(Path(out), {"map50": score, "map": score / 2}, [{"map50": score, "map": score / 4}], 1)


def test_kfold_trains_each_fold_on_its_lists_and_reads_finished_folds_back(study, monkeypatch, capsys):
    from kerasdet.data import load_dataset
    from kerasdet.train import kfold as kfold_module
    data, config, out = study
    fake = FakeFit()
    monkeypatch.setattr(kfold_module, "fit", fake)
    before = tree_digest(data)
    assert cli.main(["kfold", str(config), str(data), "--folds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed] == ["data tiny fold 1/2", "data tiny fold 2/2",
                                                        "data tiny best (2 of 2 folds)", "data tiny last (2 of 2 folds)",
                                                        "summary"]
    lists = out / "data" / "folds2-seed0"
    everything = sorted(r.image_path for r in load_dataset(data).records)
    vals = []
    for i, cfg in enumerate(fake.calls, 1):  # each fold trained on its own lists, with the classes of all the data
        assert (cfg.data.train, cfg.data.val) == (str((lists / f"fold{i}" / "train.txt").resolve()),
                                                  str((lists / f"fold{i}" / "val.txt").resolve()))
        assert cfg.data.classes == load_dataset(data).class_names and cfg.train.epochs == 1
        train, val = (sorted(r.image_path for r in load_dataset(lists / f"fold{i}" / f"{n}.txt").records)
                      for n in ("train", "val"))
        assert sorted(train + val) == everything and not set(train) & set(val)
        vals += val
    assert sorted(vals) == everything  # each image validated once
    # the same folds as `kerasdet split --folds 2`, written with kerasdet's own files
    assert kfold_module.fold_overrides(lists / "fold1", ["a b", "c: d"])[2] == 'data.classes=["a b", "c: d"]'
    study_dir = out / "data" / "tiny"
    summary = json.loads((study_dir / "summary.json").read_text())
    assert summary["folds_finished"] == 2 and summary["best"]["map50"]["mean"] == pytest.approx(0.15)
    assert summary["last"]["map"]["std"] == pytest.approx(0.0125)
    assert set(owned_files(study_dir)) == {"fold1/", "fold2/", "summary.json"}
    assert all("fold_result.json" in owned_files(study_dir / f"fold{i}") for i in (1, 2))
    assert tree_digest(data) == before  # the photos and XML are only read
    # again: finished folds are read back, nothing trains
    assert cli.main(["kfold", str(config), str(data), "--folds", "2", "--out", str(out)]) == 0
    assert len(fake.calls) == 2
    # another study under the same name (3 folds) is refused rather than mixed with this one
    assert cli.main(["kfold", str(config), str(data), "--folds", "3", "--fold", "3", "--out", str(out)]) == 2
    assert "holds a fold of another study" in capsys.readouterr().err
    # --fold trains one fold; a folder of the user's is refused
    assert cli.main(["kfold", str(config), str(data), "--folds", "2", "--fold", "2", "--name", "one",
                     "--out", str(out)]) == 0
    assert len(fake.calls) == 3 and not (out / "data" / "one" / "fold1").exists()
    (out / "data" / "mine").mkdir()
    (out / "data" / "mine" / "notes.txt").write_text("mine")
    assert cli.main(["kfold", str(config), str(data), "--folds", "2", "--name", "mine", "--out", str(out)]) == 2
    assert "kerasdet never writes into a folder of yours" in capsys.readouterr().err
    assert (out / "data" / "mine" / "notes.txt").read_text() == "mine"


def test_kfold_script_is_the_verb(study, monkeypatch, capsys):
    from kerasdet.train import kfold as kfold_module
    data, config, out = study
    monkeypatch.setattr(kfold_module, "fit", FakeFit())
    assert load_tool("kfold").main([str(config), str(data), "--folds", "2", "--name", "r", "--out", str(out)]) == 0
    assert (out / "data" / "r" / "summary.json").exists() and (out / "data" / "r" / MANIFEST).exists()
    assert load_tool("kfold").main([str(config), str(data), "--folds", "9", "--out", str(out)]) == 2
    assert "too few for 9 folds" in capsys.readouterr().err


@pytest.mark.slow  # two folds trained for real: TensorFlow's start and two traces, about a minute on 2 cores
def test_kfold_trains_two_tiny_folds(study, capsys):
    data, config, out = study
    assert cli.main(["kfold", str(config), str(data), "--folds", "2", "--out", str(out)]) == 0
    summary = json.loads((out / "data" / "tiny" / "summary.json").read_text())
    assert summary["folds_finished"] == 2 and 0 <= summary["best"]["map50"]["mean"] <= 1
    for i in (1, 2):
        assert (out / "data" / "tiny" / f"fold{i}" / "best.keras").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-n", "0"]))
