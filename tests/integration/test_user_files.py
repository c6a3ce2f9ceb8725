"""The user's files are read-only: every verb that writes, with its output pointed at the input folder,
at a new folder inside it, and at a folder holding unrelated files of the user's, either writes only
new files of its own or refuses in one sentence (exit code 2) and writes nothing; no file that was
there before changes or goes. And no writer leaves a partial file under a final name."""
import hashlib
import re
from pathlib import Path

import pytest

from kerasdet.cli import main as kerasdet_main
from kerasdet.data.synthetic import make_demo_dataset, make_demo_video

from conftest import load_tool

CONFIG = """data:
  train: {photos}
  val: {photos}
model:
  alpha: 0.35
  input_size: 64
  weights: none
train:
  epochs: 1
  batch_size: 8
  freeze_backbone_epochs: 0
"""


def files_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def make_user(root: Path) -> tuple[Path, Path]:
    """`photos/`: a labelled set with the user's config, notes and a video beside it; `mine/`: unrelated
    files of the user's, some named as kerasdet names its own (config.yaml, data.json, results.png)."""
    photos = make_demo_dataset(root / "photos", n=16, seed=2, size=(128, 96))
    (photos / ".kerasdet.json").unlink()  # as the user's own labelled folder would be: kerasdet never made it
    (photos / "config.yaml").write_text(CONFIG.format(photos=photos))
    (photos / "notes.txt").write_text("my notes\n")
    make_demo_video(root / "clip.mp4", frames=6, size=(128, 96), objects=1)
    (root / "clip.mp4").rename(photos / "clip.mp4")
    mine = root / "mine"
    mine.mkdir()
    for name, text in (("config.yaml", "mine: 1\n"), ("data.json", "{}"), ("results.png", "not a png"),
                       ("best.keras", "mine"), ("anim.gif", "mine")):
        (mine / name).write_text(text)
    return photos, mine


@pytest.fixture
def user(tmp_path):
    return make_user(tmp_path)


def run(argv, capsys) -> tuple[int, str]:
    code = kerasdet_main([str(a) for a in argv])
    return code, capsys.readouterr().err


def assert_one_sentence(err: str, *names: str) -> None:
    """One line (beside any progress bar), the error naming what it is about."""
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and not re.search(r"\d%\|", line)]
    assert "Traceback" not in err and len(lines) == 1 and " error: " in lines[0], err
    assert all(name in lines[0] for name in names), err


# verb -> (arguments with {out} for the output, what the output names: a folder or a file)
def verbs(photos: Path, model: Path, tflite: Path) -> dict[str, tuple[list, str]]:
    """`model` a .keras checkpoint, `tflite` the same exported (quicker to run than to trace)."""
    return {
        "train": (["train", photos / "config.yaml", "--out", "{out}"], "folder"),
        "export": (["export", model, "--format", "fp32", "--out", "{out}"], "file"),
        "detect --csv": (["detect", tflite, photos, "--csv", "{out}"], "file"),
        "detect --save-images": (["detect", tflite, photos, "--save-images", "{out}"], "folder"),
        "detect --voc": (["detect", tflite, photos, "--voc", "{out}", "--overwrite"], "voc"),
        "convert": (["convert", photos, "{out}"], "folder"),
        "convert --to yolo": (["convert", photos, "{out}", "--to", "yolo"], "folder"),
        "convert to csv": (["convert", photos, "{out}", "--to", "csv"], "file"),
        "split": (["split", photos, "--out", "{out}"], "folder"),
        "stats --plot": (["stats", photos, "--plot", "{out}"], "file"),
        "evaluate --plots": (["evaluate", tflite, photos, "--plots", "{out}"], "folder"),
        "preview": (["preview", photos / "config.yaml", "--out", "{out}", "--n", "2"], "file"),
        "cam --save": (["cam", "--model", tflite, "--source", photos / "clip.mp4", "--headless", "--save", "{out}",
                        "--max-frames", "3"], "video"),
        "lr-find": (["lr-find", photos / "config.yaml", "--steps", "8", "--out", "{out}"], "folder"),
        "demo-data": (["demo-data", "{out}", "--n", "2"], "folder"),
    }


# For each kind of output: a target that is the input folder or a file in it, one new inside it, one among
# unrelated files of the user's; and whether the first and last are refused.
TARGETS = {
    "folder": lambda photos, mine, verb: (photos, photos / f"new {verb}", mine),
    "file": lambda photos, mine, verb: (photos / "config.yaml", photos / f"new {verb}.csv" if "csv" in verb
                                        else photos / f"new {verb}.png" if "export" not in verb
                                        else photos / "new.tflite", mine / "results.png"),
    "video": lambda photos, mine, verb: (photos / "clip.mp4", photos / "new.gif", mine / "anim.gif"),
    "voc": lambda photos, mine, verb: (photos, photos / "new xml", mine),  # --voc keeps every XML already there
}


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_no_verb_changes_a_file_of_the_users(untrained, untrained_tflite, tmp_path, capsys):
    for number, (verb, (argv, kind)) in enumerate(verbs(Path("{photos}"), untrained.path,
                                                        untrained_tflite["fp32"]).items()):
        photos, mine = make_user(tmp_path / str(number))  # each verb its own: one's output is not another's input
        argv = [str(a).replace("{photos}", str(photos)) for a in argv]
        before = {folder: files_of(folder) for folder in (photos, mine)}
        into_input, inside, among_mine = TARGETS[kind](photos, mine, verb)
        for target in (into_input, among_mine, inside):
            state = {folder: files_of(folder) for folder in (photos, mine)}
            code, err = run([a.replace("{out}", str(target)) for a in argv], capsys)
            if target is not inside and kind != "voc":
                assert code == 2, f"{verb} -> {target}: {err}"
                assert_one_sentence(err, target.name)
                assert {f: files_of(f) for f in (photos, mine)} == state, f"{verb} -> {target} wrote something"
            else:
                assert code == 0, f"{verb} -> {target}: {err}"
            for folder in (photos, mine):  # what was there before is there, byte for byte
                now = files_of(folder)
                assert {k: now.get(k) for k in before[folder]} == before[folder], f"{verb} -> {target}"
    photos, mine = make_user(tmp_path / "frames")
    before = {folder: files_of(folder) for folder in (photos, mine)}
    frames = load_tool("extract_frames")
    for target in (photos, mine, photos / "frames"):
        code = frames.main([str(photos / "clip.mp4"), str(target), "--every", "2"])
        assert code == (0 if target == photos / "frames" else 2), target
    assert {k: files_of(photos).get(k) for k in before[photos]} == before[photos] and files_of(mine) == before[mine]


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_exist_ok_removes_every_file_of_the_old_run_and_export_replaces_only_its_own(untrained, user, capsys,
                                                                                     tmp_path):
    from kerasdet.train import RunFolder
    from kerasdet.train.fit import _open_run
    photos, mine = user
    folder = RunFolder(tmp_path / "run").create()
    best = folder.save_model(untrained.trainer.model, untrained.card, folder.BEST)
    folder.write_text(folder.STATE, "a resume state")
    assert run(["export", best, "--format", "fp32"], capsys)[0] == 0  # beside best.keras: a file of the run's
    assert run(["export", best, "--format", "fp32"], capsys)[0] == 0  # again: it replaces its own file
    (tmp_path / "theirs.tflite").write_bytes(b"a model of someone else's")
    code, err = run(["export", best, "--format", "fp32", "--out", tmp_path / "theirs.tflite"], capsys)
    assert code == 2 and (tmp_path / "theirs.tflite").read_bytes() == b"a model of someone else's"
    assert_one_sentence(err, "theirs.tflite already exists")
    (folder / "my notes.txt").write_text("mine")
    code, err = run(["train", photos / "config.yaml", "--out", folder.path], capsys)
    assert code == 2 and "--exist-ok" in err
    _open_run(str(photos / "config.yaml"), folder.path, None, [], exist_ok=True)  # what `train --exist-ok` does first
    assert sorted(p.name for p in folder.path.iterdir()) == [".kerasdet.json", "config.yaml", "my notes.txt"]


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_a_full_disk_leaves_no_partial_file_and_says_so(untrained, untrained_tflite, small_disk, user, capsys):
    photos, mine = user
    (small_disk / "filler").write_bytes(b"\0" * (small_disk_free(small_disk) - 64 * 1024))  # 64 KB left
    for argv, out in ((["export", untrained.path, "--format", "fp32", "--out", small_disk / "m.tflite"],
                       small_disk / "m.tflite"),
                      (["convert", photos, small_disk / "coco.json"], small_disk / "coco.json"),
                      (["detect", untrained_tflite["fp32"], photos, "--save-images", small_disk / "boxed"], None)):
        code, err = run(argv, capsys)
        assert code == 2, err
        assert_one_sentence(err, "no space left to write")
        if out is not None:
            assert not out.exists()
        assert not [p for p in small_disk.rglob("*") if ".tmp." in p.name or ".recording" in p.name]


def small_disk_free(folder: Path) -> int:
    import shutil
    return shutil.disk_usage(folder).free


def test_a_writer_stopped_half_way_leaves_nothing_under_the_final_name(tmp_path):
    from kerasdet.core.files import claim_folder, write_file, write_text
    out = claim_folder(tmp_path / "out", "a test")
    write_text(out / "kept.txt", "before")

    def stopped(tmp: Path):
        tmp.write_text("half")
        raise KeyboardInterrupt  # Ctrl-C, or a kill's SIGTERM turned into an exception

    for name in ("new.txt", "kept.txt"):  # a new file, and one kerasdet replaces
        with pytest.raises(KeyboardInterrupt):
            write_file(out / name, stopped)
    assert sorted(p.name for p in out.iterdir()) == [".kerasdet.json", "kept.txt"]
    assert (out / "kept.txt").read_text() == "before"
