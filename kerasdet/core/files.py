"""How kerasdet writes: only new files of its own, each through a temporary name renamed into place.

The user's photos, XML and configs are read-only. Every writer goes through `write_file`:
- an existing file is refused with one sentence, unless it is one kerasdet wrote itself: a file
  listed in the manifest of a folder kerasdet made (`claim_folder`), or one the caller has its own
  proof for (`replace=True`: a `--overwrite` the user gave, a model file carrying kerasdet's card);
- the bytes go to a temporary name beside the target and are renamed into place, so a kill or a
  full disk never leaves a partial file under a final name; a full disk is a sentence naming the
  path and the space needed.

A folder kerasdet made for a verb's outputs (a run, plots, a split, converted labels) holds
`MANIFEST`: which command made it and every file it wrote there. So a rerun may replace those
files, `--exist-ok` can remove exactly them, and a folder of the user's is never taken for one.
"""
from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Callable

MANIFEST = ".kerasdet.json"
_MARGIN = 1 << 20  # bytes kept free beyond a file's own size


class DiskFullError(OSError):
    """No room for a file: one sentence naming the path and the space needed."""


class OutputExistsError(FileExistsError):
    """A file or folder kerasdet would write is already there and is not its own."""


def temporary_name(path: Path) -> Path:
    """Beside `path`, with its suffix (savers choose the format by it): best.keras -> best.tmp.keras."""
    return path.with_name(f"{path.stem}.tmp{path.suffix}")


def disk_full(path: Path, needed: int | None = None, then: str = "run the command again") -> DiskFullError:
    folder = path.parent if path.parent.exists() else Path(".")
    free = shutil.disk_usage(folder).free
    need = f"about {_size(needed)}" if needed else "more space"
    err = DiskFullError(f"no space left to write {path}: it needs {need}, {_size(free)} are free on that "
                        f"disk. Free some space and {then} (files written before are intact; nothing was "
                        f"left under that name)")
    err.errno = errno.ENOSPC
    return err


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


# --- folders kerasdet made --------------------------------------------------------------------------
# The manifest is JSON lines: a header {"made_by": ...}, then one JSON string per file written, appended
# as each is written (a folder of 10,000 frames costs 10,000 appends, not 10,000 rewrites); a name may
# repeat, and a line cut short by a kill is skipped.
def _manifest(folder: Path) -> dict | None:
    try:
        lines = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not isinstance(header, dict) or "made_by" not in header:
        return None
    files = []
    for line in lines[1:]:
        try:
            name = json.loads(line)
        except ValueError:
            continue
        if isinstance(name, str) and name not in files:
            files.append(name)
    return {**header, "files": files}


def is_owned(folder: str | Path) -> bool:
    """True for a folder kerasdet made (it holds a readable manifest)."""
    return _manifest(Path(folder)) is not None


def owned_files(folder: str | Path) -> list[str]:
    """The names kerasdet wrote in `folder` (sub-folders end with '/'); empty for a folder it did not make."""
    return list((_manifest(Path(folder)) or {}).get("files", []))


def _write_manifest(folder: Path, made_by: str, files: list[str]) -> None:
    path, tmp = folder / MANIFEST, temporary_name(folder / MANIFEST)
    tmp.write_text("".join(json.dumps(line) + "\n" for line in [{"made_by": made_by}, *files]), encoding="utf-8")
    tmp.replace(path)


def record(path: str | Path) -> None:
    """List `path` in its folder's manifest, when kerasdet made that folder (a name ending '/' is a folder)."""
    path = Path(path)
    manifest = path.parent / MANIFEST
    if manifest.is_file():
        with open(manifest, "a", encoding="utf-8") as f:
            f.write(json.dumps(path.name + ("/" if path.is_dir() else "")) + "\n")


def claim_folder(folder: str | Path, made_by: str, adopt: tuple[str, ...] = ()) -> Path:
    """A folder for a command's outputs: a new or empty one, or one the same command made before. A folder
    holding anything else is the user's and is refused, in one sentence; so is one another command made
    (`kerasdet demo-data`'s pictures are a data set, not a place for a run). `adopt`: names that prove a
    folder is kerasdet's though it has no manifest (runs from before manifests); they are listed in a new one."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(f"{folder} is a file, not a folder: give a new folder for the output of {made_by}")
    made = _manifest(folder)
    if made is not None and made["made_by"] == made_by:
        return folder
    if made is not None:
        raise OutputExistsError(f"{folder} holds the output of {made['made_by']}: give a new or empty folder for the "
                                f"output of {made_by}")
    present = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    legacy = [name for name in adopt if name in present]
    if present and not legacy:
        shown = ", ".join(present[:4]) + (", ..." if len(present) > 4 else "")
        raise OutputExistsError(f"{folder} already holds files kerasdet did not write ({shown}): give a new or "
                                f"empty folder for the output of {made_by}; kerasdet never writes into a "
                                "folder of yours")
    folder.mkdir(parents=True, exist_ok=True)
    _write_manifest(folder, made_by, [name + ("/" if (folder / name).is_dir() else "") for name in legacy])
    record(folder)  # made inside a folder kerasdet made (a run in a demo, a fold in a study): one of its files
    return folder


def remove_owned(folder: str | Path) -> list[str]:
    """Remove every file kerasdet wrote in `folder` (its manifest's list), nothing else. Returns the names."""
    folder = Path(folder)
    data = _manifest(folder)
    if data is None:
        return []
    for name in data["files"]:
        target = folder / name.rstrip("/")
        if name.endswith("/"):
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
        temporary_name(target).unlink(missing_ok=True)
    _write_manifest(folder, data["made_by"], [])
    return data["files"]


# --- files ----------------------------------------------------------------------------------------
def check_new(path: str | Path, replace: bool = False) -> Path:
    """`path`, when kerasdet may write it: not there yet, or its own (see the module docstring); else a
    sentence. For commands that check all their outputs before the slow work."""
    path = Path(path)
    if path.is_dir():
        raise OutputExistsError(f"{path} is a folder: give a file name for this output")
    if path.exists() and not replace and path.name not in owned_files(path.parent):
        raise OutputExistsError(f"{path} already exists: give a new name, or move that file away first (kerasdet "
                                "replaces only its own files in folders it made, never a file of yours)")
    return path


def write_file(path: str | Path, save: Callable[[Path], object], replace: bool = False,
               needed: int | None = None, then: str = "run the command again") -> Path:
    """Write `path` by calling `save(temporary path)`, then rename into place. Refused when `path` exists
    and is not kerasdet's own (check_new). `needed` (bytes): checked against the free space first, for
    writers (HDF5, zip) that crash or print pages on a full disk; `then` ends the full-disk sentence."""
    path = check_new(path, replace)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if needed is not None and shutil.disk_usage(path.parent).free < needed * 1.1 + _MARGIN:
        raise disk_full(path, needed, then)
    tmp = temporary_name(path)
    try:
        save(tmp)
        if not tmp.exists():  # a saver that reports failure by returning False (cv2.imwrite)
            raise OSError(f"could not write {path}")
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.errno == errno.ENOSPC:
            raise disk_full(path, needed, then) from None
        raise
    except BaseException:  # Ctrl-C, a saver's own error: no partial file under either name
        tmp.unlink(missing_ok=True)
        raise
    record(path)
    return path


def write_text(path: str | Path, text: str, replace: bool = False) -> Path:
    return write_file(path, lambda p: p.write_text(text, encoding="utf-8"), replace, needed=len(text.encode()))


def write_bytes(path: str | Path, data: bytes, replace: bool = False) -> Path:
    return write_file(path, lambda p: p.write_bytes(data), replace, needed=len(data))


def is_inside(path: str | Path, folder: str | Path) -> bool:
    """True when `path` is `folder` or lies under it (symbolic links resolved)."""
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents
