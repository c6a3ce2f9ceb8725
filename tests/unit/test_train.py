"""Training pieces that need no training run: resume of a non-run, config errors, box slots."""
import pytest


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
