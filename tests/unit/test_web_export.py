"""`kerasdet export --format web`: the site it writes, the pinned MediaPipe bundle and where it comes
from, and the page itself in a real headless Chromium (tools/web_browser.py drives it): it loads each
architecture's model and detects on a picked image. The trained model's detections against
TFLiteDetector's, and the camera: tests/integration/test_web_page.py.

Without Chromium, Node.js or tests/web/node_modules the browser tests skip here and fail on CI
(CI=true), which installs them (.ci/run)."""
import base64
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import load_tool, need_browser

from kerasdet.cli import main as cli
from kerasdet.core.card import ModelCard, write_card
from kerasdet.core.files import OutputExistsError, owned_files, write_bytes
from kerasdet.core.postprocess import CONF
from kerasdet.runtime.web import bundle
from kerasdet.runtime.web.site import MADE_BY, export_web

WEB_TESTS = Path(__file__).parents[1] / "web"
web = load_tool("web_browser")


# --- the pinned bundle ----------------------------------------------------------------------------
def test_the_tests_pin_the_bundle_the_site_carries():
    """tests/web's npm ci brings the very package bundle.py pins (CI passes that folder as --mediapipe-web)."""
    pinned = json.loads((WEB_TESTS / "package.json").read_text())["devDependencies"][bundle.PACKAGE]
    locked = json.loads((WEB_TESTS / "package-lock.json").read_text())["packages"][f"node_modules/{bundle.PACKAGE}"]
    assert pinned == locked["version"] == bundle.VERSION
    assert locked["integrity"] == bundle.INTEGRITY


def tarball(files: dict[str, bytes], version: str = bundle.VERSION) -> bytes:
    """An npm package tarball holding `files` under package/."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name, content in {"package.json": json.dumps({"version": version}).encode(), **files}.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return data.getvalue()


@pytest.fixture
def fake_package(monkeypatch, tmp_path):
    """bundle.py pinned to a small fake package (its tarball's bytes returned); the cache in tmp_path."""
    files = {name: f"// {name}\n".encode() for name in bundle.FILES}
    monkeypatch.setattr(bundle, "FILES", {name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
    data = tarball(files)
    monkeypatch.setattr(bundle, "INTEGRITY", "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return data


def fake_npm(folder: Path, tarball_bytes: bytes | None) -> str:
    """A PATH whose `npm` writes `tarball_bytes` as `npm pack` would, or fails as offline npm does."""
    folder.mkdir(exist_ok=True)
    (folder / "package.tgz").write_bytes(tarball_bytes or b"")
    body = (f'cp "{folder}/package.tgz" "{bundle.TARBALL}"' if tarball_bytes else
            'echo "npm error code EAI_AGAIN" >&2; echo "npm error request failed, reason: offline" >&2; exit 1')
    npm = folder / "npm"
    npm.write_text(f"#!/bin/sh\n{body}\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_bundle_is_downloaded_by_npm_once_then_read_from_the_cache(fake_package, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", fake_npm(tmp_path / "bin", fake_package))
    first = bundle.bundle_files()
    assert sorted(first) == sorted(bundle.FILES) and bundle.cache_path().read_bytes() == fake_package
    monkeypatch.setenv("PATH", fake_npm(tmp_path / "offline", None))
    assert bundle.bundle_files() == first  # npm is not asked again


def test_no_npm_or_no_network_is_one_sentence_saying_what_to_do(fake_package, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="npm is not installed.*install npm.*--mediapipe-web"):
        bundle.bundle_files()
    monkeypatch.setenv("PATH", fake_npm(tmp_path / "offline", None))
    with pytest.raises(ValueError, match=r"npm could not download .*offline\).*npm pack .*--mediapipe-web") as err:
        bundle.bundle_files()
    assert "\n" not in str(err.value)


def test_a_given_package_must_be_the_pinned_one(fake_package, tmp_path):
    good = tmp_path / "good.tgz"
    good.write_bytes(fake_package)
    assert sorted(bundle.bundle_files(good)) == sorted(bundle.FILES)
    other = tmp_path / "other.tgz"
    other.write_bytes(tarball({name: b"another build" for name in bundle.FILES}, "0.10.0"))
    with pytest.raises(ValueError, match="sha512 differs"):
        bundle.bundle_files(other)
    folder = tmp_path / "node_modules" / "tasks-vision"
    folder.mkdir(parents=True)
    (folder / "package.json").write_text('{"version": "0.10.0"}')
    with pytest.raises(ValueError, match=f"holds {bundle.PACKAGE} 0.10.0; the page is made for {bundle.VERSION}"):
        bundle.bundle_files(folder)
    (folder / "package.json").write_text(json.dumps({"version": bundle.VERSION}))
    with pytest.raises(ValueError, match="vision_bundle.js is missing"):
        bundle.bundle_files(folder)
    with pytest.raises(ValueError, match="no such file or folder"):
        bundle.bundle_files(tmp_path / "nothing.tgz")


# --- the site -------------------------------------------------------------------------------------
def card_carrying_tflite(path: Path) -> Path:
    """A stand-in for an exported model: bytes with a card appended (the site copies it, never runs it)."""
    path.write_bytes(b"\x1c\x00\x00\x00TFL3 not a real flatbuffer")
    write_card(path, ModelCard("yolov8", "mobilenet_v2", 0.35, 64, ["heart", "star"]))
    return path


def test_the_site_holds_what_the_page_loads_and_kerasdet_threshold(fake_package, tmp_path):
    model = card_carrying_tflite(tmp_path / "best_int8.tflite")
    given = tmp_path / "package.tgz"
    given.write_bytes(fake_package)
    site = export_web(model, mediapipe_web=given)
    assert site == tmp_path / "best_int8_web"
    names = {"index.html", "app.js", "style.css", "config.json", "model.tflite", "vision_bundle.js",
             "vision_wasm_internal.js", "vision_wasm_internal.wasm"}
    assert set(owned_files(site)) == names and {p.name for p in site.iterdir()} == names | {".kerasdet.json"}
    assert (site / "model.tflite").read_bytes() == model.read_bytes()
    config = json.loads((site / "config.json").read_text())
    assert config["score"] == CONF and config["classes"] == ["heart", "star"] and config["model"] == "model.tflite"
    html = (site / "index.html").read_text()
    assert '<script src="vision_bundle.js">' in html and "http" not in html.replace("http-equiv", "")  # no CDN
    assert export_web(model, site, mediapipe_web=given) == site  # the same command again: its own files


def test_a_checkpoint_is_exported_to_int8_into_the_site(fake_package, tmp_path, monkeypatch, capsys):
    """`kerasdet export best.keras --format web`: convert.export writes the int8 file into the site (its own
    tests convert; here a stand-in writes what it would), with the options export takes."""
    import kerasdet.tflite.convert as convert
    calls = []

    def export(model, fmt, calib, out, input_shape=None, keep_float=None):
        calls.append((Path(model).name, fmt, calib, Path(out), input_shape, keep_float))
        return write_bytes(out, card_carrying_tflite(tmp_path / "converted.tflite").read_bytes())

    monkeypatch.setattr(convert, "export", export)
    checkpoint = tmp_path / "run" / "best.keras"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"a checkpoint")
    given = tmp_path / "package.tgz"
    given.write_bytes(fake_package)
    assert cli(["export", str(checkpoint), "--format", "web", "--mediapipe-web", str(given), "--calib", "photos",
                "--input-shape", "64x48", "--keep-float", "Conv1"]) == 0
    site = tmp_path / "run" / "best_web"
    assert calls == [("best.keras", "int8", "photos", site / "model.tflite", (48, 64), "Conv1")]
    assert "model.tflite" in owned_files(site) and f"wrote {site}/" in capsys.readouterr().out


def test_the_site_refuses_a_folder_of_the_users_and_a_foreign_model(fake_package, tmp_path, capsys):
    model = card_carrying_tflite(tmp_path / "m.tflite")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    given = tmp_path / "package.tgz"
    given.write_bytes(fake_package)
    with pytest.raises(OutputExistsError, match="already holds files kerasdet did not write"):
        export_web(model, mine, mediapipe_web=given)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    foreign = tmp_path / "other.tflite"
    foreign.write_bytes(b"TFL3")
    assert cli(["export", str(foreign), "--format", "web", "--mediapipe-web", str(given)]) == 2
    assert "not a .tflite kerasdet exported" in capsys.readouterr().err
    assert cli(["export", str(model), "--format", "web", "--mediapipe-web", str(tmp_path / "none.tgz"),
                "--out", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file or folder" in err
    assert MADE_BY in (tmp_path / "site" / ".kerasdet.json").read_text()  # claimed, then nothing written


# --- the page in headless Chromium ----------------------------------------------------------------
@pytest.fixture(scope="module")
def page_run(untrained_tflite, demo_data, tmp_path_factory):
    """Each architecture's untrained int8 model in the page: a demo picture fetched, the same one picked
    with the file input, a screenshot; then the picture again in the page opened as a user opens it (no
    query), its config.json's score set to the median score of the first answer."""
    need_browser()
    tmp = tmp_path_factory.mktemp("web")
    site = web.web_site(untrained_tflite["int8"], tmp / "site")
    picture = min(demo_data.glob("*.jpg"))
    (tmp / "picture.jpg").write_bytes(picture.read_bytes())
    with web.serve(tmp) as url:
        answer = web.drive({"url": f"{url}site/{web.ALL}", "images": ["/picture.jpg"], "upload": [str(picture)],
                            "screenshot": str(tmp / "page.png")}, timeout_s=90)
        config = json.loads((site / "config.json").read_text())
        config["score"] = float(np.median([d["score"] for d in answer["images"][0]["detections"]]))
        (site / "config.json").write_text(json.dumps(config))
        answer["defaults"] = web.drive({"url": f"{url}site/", "images": ["/picture.jpg"]}, timeout_s=90)
        answer["defaults"]["score"] = config["score"]
    return answer


def test_the_page_loads_the_model_and_reports_ready(page_run):
    assert page_run["ready"] and page_run["error"] is None, page_run["console"]
    assert not [line for line in page_run["console"] if line.startswith("pageerror")]
    assert page_run["images"][0]["detections"], "the untrained model's spread scores give boxes at score 0"
    shot = cv2.imread(page_run["screenshot"])
    assert shot is not None and shot.std() > 10  # the page drew something


def test_a_picked_image_is_detected_as_the_same_image_fetched(page_run):
    """The user's path (<input type=file>) and the scripts' (kerasdet.detectUrl) give the same answer."""
    assert page_run["uploads"][0]["detections"] == page_run["images"][0]["detections"]


def test_the_page_keeps_the_score_its_config_json_says(page_run):
    """Opened without a query, the page keeps the detections scoring config.json's `score` or more (kerasdet's
    CONF as exported: test_the_site_holds_what_the_page_loads_and_kerasdet_threshold), all of them."""
    every = page_run["images"][0]["detections"]
    kept = page_run["defaults"]["images"][0]["detections"]
    assert 0 < len(kept) < len(every)
    assert kept == [d for d in every if d["score"] >= page_run["defaults"]["score"]]
