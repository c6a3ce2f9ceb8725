"""Runs kerasdet's exported web page (`kerasdet export --format web`) in Debian's headless Chromium:
the runtime a browser user gets, driven by tests/web/driver.mjs (puppeteer-core, pinned with the
MediaPipe package in tests/web/package.json: `cd tests/web && npm ci`).

`run_images` is the web half of tools/eval_mediapipe.py (`--runtime web`) and tools/bench_web.py,
in tools/mediapipe_worker.py's format: per image [[xmin, ymin, xmax, ymax, score, class index,
class name], ...] in the image's pixels, and the ms each `detect` took in the page (the image already
decoded). tests/unit/test_web_export.py and tests/integration/test_web_page.py use the rest: `serve`
a folder on 127.0.0.1, `drive` the page, `write_y4m` for Chromium's fake camera.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEB_TESTS = ROOT / "tests" / "web"
DRIVER = WEB_TESTS / "driver.mjs"
MEDIAPIPE_PACKAGE = WEB_TESTS / "node_modules" / "@mediapipe" / "tasks-vision"  # npm ci's copy, the pinned one
ALL = "?score=0&maxResults=-1"  # the page's query for every detection the model gives


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing() -> str | None:
    """What the browser runs need and this machine lacks, in a sentence; None when all is there."""
    lacking = [what for what, there in (("Chromium (apt-get install chromium)", chromium()),
                                        ("Node.js (apt-get install nodejs npm)", shutil.which("node")),
                                        ("tests/web/node_modules (cd tests/web && npm ci)",
                                         (WEB_TESTS / "node_modules" / "puppeteer-core").is_dir()))
               if not there]
    return f"the web page's browser runs need {', '.join(lacking)}" if lacking else None


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # a line per request would bury the test's output
        pass


@contextmanager
def serve(folder: str | Path):
    """`folder` over HTTP on 127.0.0.1 (a free port), in a thread: yields the base URL. A page on
    127.0.0.1 is a secure context, so the camera works as on localhost."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def drive(job: dict, timeout_s: float = 120) -> dict:
    """Run tests/web/driver.mjs on `job` (its header says what a job and its answer hold)."""
    why = missing()
    if why:
        raise RuntimeError(why)
    job = {"chromium": chromium(), "timeoutMs": int(timeout_s * 1000 * 0.8), **job}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "job.json"
        path.write_text(json.dumps(job))
        done = subprocess.run(["node", str(DRIVER), str(path)], capture_output=True, text=True, timeout=timeout_s)
    if done.returncode:
        raise RuntimeError(f"the browser driver failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def write_y4m(path: str | Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """RGB frames as a YUV4MPEG2 file, what Chromium's fake camera plays (--use-file-for-fake-video-capture),
    in a loop. 4:2:0 wants even sides: a frame is cropped to them."""
    height, width = (n - n % 2 for n in frames[0].shape[:2])
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n" + cv2.cvtColor(np.ascontiguousarray(frame[:height, :width]), cv2.COLOR_RGB2YUV_I420)
                    .tobytes())
    return Path(path)


def video_frames(path: str | Path) -> list[np.ndarray]:
    """Every frame of a video file, RGB."""
    capture, frames = cv2.VideoCapture(str(path)), []
    ok, frame = capture.read()
    while ok:
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        ok, frame = capture.read()
    capture.release()
    return frames


def web_site(model: str | Path, folder: Path) -> Path:
    """The exported site of `model` in `folder`, with the MediaPipe package npm ci brought, when it did."""
    from kerasdet.runtime.web.site import export_web
    return export_web(model, folder, mediapipe_web=MEDIAPIPE_PACKAGE if MEDIAPIPE_PACKAGE.is_dir() else None)


def run_images(model: str | Path, images: list[np.ndarray], repeat: int = 1, query: str = ALL,
               timeout_s: float | None = None) -> dict:
    """`images` (RGB uint8) through the page's image path, `repeat` passes in one page: {"detections": per
    image, rows as in mediapipe_worker.py, "ms": the last pass's ms per image, "passes": every pass's}."""
    with tempfile.TemporaryDirectory() as tmp:
        site = web_site(model, Path(tmp) / "site")
        names = json.loads((site / "config.json").read_text())["classes"]
        (Path(tmp) / "images").mkdir()
        for k, image in enumerate(images):  # PNG: the page decodes the very pixels given here
            cv2.imwrite(str(Path(tmp) / "images" / f"{k}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        with serve(tmp) as url:
            answer = drive({"url": f"{url}site/{query}", "images": [f"/images/{k}.png" for k in range(len(images))],
                            "repeat": repeat}, timeout_s or 60 + 0.5 * len(images) * repeat)
    if not answer["ready"] or answer["error"]:
        raise RuntimeError(f"the page could not run {model}: {answer['error']}\n" + "\n".join(answer["console"][-20:]))
    detections = [[[*d["box"], d["score"], names.index(d["className"]), d["className"]] for d in image["detections"]]
                  for image in answer["images"]]
    return {"detections": detections, "ms": [image["ms"] for image in answer["images"]], "passes": answer["passes"]}
