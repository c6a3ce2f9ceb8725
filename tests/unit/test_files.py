"""core/files.py: the rules every writer of kerasdet follows."""
import pytest

from kerasdet.core.files import (MANIFEST, OutputExistsError, check_new, claim_folder, owned_files, record,
                                 remove_owned, write_text)


def test_a_folder_is_taken_when_new_empty_or_made_by_the_same_command(tmp_path):
    assert claim_folder(tmp_path / "new" / "deep", "kerasdet split").is_dir()
    (tmp_path / "empty").mkdir()
    claim_folder(tmp_path / "empty", "kerasdet split")
    claim_folder(tmp_path / "empty", "kerasdet split")  # again: its own
    with pytest.raises(OutputExistsError, match=r"empty holds the output of kerasdet split: give a new or empty "
                                                r"folder for the output of kerasdet train"):
        claim_folder(tmp_path / "empty", "kerasdet train")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match=r"photos already holds files kerasdet did not write \(a\.jpg\)"):
        claim_folder(tmp_path / "photos", "kerasdet split")
    assert not (tmp_path / "photos" / MANIFEST).exists()


def test_only_files_kerasdet_wrote_in_its_folder_are_replaced_and_removed(tmp_path):
    out = claim_folder(tmp_path / "out", "a command")
    write_text(out / "a.txt", "1")
    write_text(out / "a.txt", "2")  # its own: replaced
    (out / "sub").mkdir()
    record(out / "sub")
    (out / "mine.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="mine.txt already exists: give a new name"):
        write_text(out / "mine.txt", "x")
    with pytest.raises(OutputExistsError, match="is a folder"):
        check_new(out / "sub")
    assert owned_files(out) == ["a.txt", "sub/"]
    assert sorted(remove_owned(out)) == ["a.txt", "sub/"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "mine.txt"] and owned_files(out) == []


def test_a_file_outside_a_folder_kerasdet_made_is_never_replaced(tmp_path):
    write_text(tmp_path / "new.csv", "1")
    with pytest.raises(OutputExistsError):
        write_text(tmp_path / "new.csv", "2")
    write_text(tmp_path / "new.csv", "3", replace=True)  # the caller's own proof (a --overwrite, a kerasdet card)
    assert (tmp_path / "new.csv").read_text() == "3"


def test_a_manifest_line_cut_short_by_a_kill_is_skipped(tmp_path):
    out = claim_folder(tmp_path / "out", "a command")
    write_text(out / "a.txt", "1")
    with open(out / MANIFEST, "a") as f:
        f.write('"b.t')  # the kill came mid-append
    assert owned_files(out) == ["a.txt"]
