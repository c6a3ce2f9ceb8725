"""The MediaPipe Tasks Vision web bundle the page runs: one pinned version of the npm package
`@mediapipe/tasks-vision`, checked byte for byte, so a site exported today runs the same code as
the one the tests ran (tests/web/package.json pins the same version; a unit test holds them equal).

The site carries its own copy (offline first: a laptop with no internet, a phone on a LAN), and only
the three files the page loads: the classic-script bundle (it defines `Vision`; a `.js` every
server sends with a JavaScript type, where a `.mjs` module may be refused by a strict one) and the
SIMD WebAssembly loader and binary (every browser of the last years has WebAssembly SIMD; the
no-SIMD and module builds would add 25 MB nobody loads).

Where the package comes from, first found: the path the user gives (`--mediapipe-web`: the package's
`.tgz`, or an unpacked `node_modules/@mediapipe/tasks-vision` folder), the cache
(~/.cache/kerasdet/), else `npm pack` run in a temporary folder (npm's own registry settings and
proxy apply). A tarball must carry the pinned integrity, as npm's lock file would check it.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ...core.files import write_bytes

PACKAGE = "@mediapipe/tasks-vision"
VERSION = "1.1.0"  # newest stable on 2026-12-07; runs in Debian's Chromium 156 (tests/unit/test_web_export.py)
INTEGRITY = "sha512-ZJqh0wMKOINorfSffvDAxzyO1//c+FiG3IkzOdNDnLqvBB3DbMfj0bB/tys2SNf9S914sgoIbIpF4HTOi336cg=="
FILES = {  # name in the package -> sha256: what the page loads, nothing else
    "vision_bundle.js": "022cbbfcdb74bae18e4bbc722e429e046d5fdd35f6183f1359c56b652b8b87f7",
    "wasm/vision_wasm_internal.js": "7c652617b5bef832f42878ce8c5f752b0724bca6054e4bc1013a37d4b1949723",
    "wasm/vision_wasm_internal.wasm": "782eda3ec1f414fdb4f1d66a8b59093eb4d5ab437e06117796abf05962d68eef",
}
TARBALL = f"mediapipe-tasks-vision-{VERSION}.tgz"  # the name `npm pack` gives it
PACK_COMMAND = f"npm pack {PACKAGE}@{VERSION}"
_OFFLINE = (f"on a machine with no internet, run `{PACK_COMMAND}` on one that has it and pass the .tgz it "
            "writes with --mediapipe-web")


def cache_path() -> Path:
    """Where a downloaded tarball is kept: one download per machine, not one per export."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "kerasdet" / TARBALL


def bundle_files(given: str | Path | None = None) -> dict[str, bytes]:
    """The page's files (name in the package -> bytes), each checked against FILES; from `given`, the
    cache or npm, in that order (module docstring). A problem is a ValueError saying what to do."""
    if given:
        return _checked(_from_given(Path(given)), str(given))
    cached = cache_path()
    if cached.is_file() and _integrity(cached.read_bytes()) == INTEGRITY:
        return _checked(_from_tarball(cached.read_bytes()), str(cached))
    data = _npm_pack()
    write_bytes(cached, data, replace=True)  # our own cache: a partial or stale file there may be replaced
    return _checked(_from_tarball(data), PACK_COMMAND)


def _from_given(path: Path) -> dict[str, bytes]:
    """The files from a .tgz (its integrity checked) or an unpacked package folder (its version checked)."""
    if path.is_dir():
        version = _version(path / "package.json")
        if version != VERSION:
            raise ValueError(f"--mediapipe-web {path}: that folder holds {PACKAGE} {version or '(no package.json)'}; "
                             f"the page is made for {VERSION}: give its .tgz (`{PACK_COMMAND}`) or its folder")
        return {name: (path / name).read_bytes() for name in FILES if (path / name).is_file()}
    if not path.is_file():
        raise ValueError(f"--mediapipe-web {path}: no such file or folder; give the .tgz `{PACK_COMMAND}` writes, "
                         f"or a node_modules/{PACKAGE} folder")
    data = path.read_bytes()
    if _integrity(data) != INTEGRITY:
        raise ValueError(f"--mediapipe-web {path}: not the {PACKAGE} {VERSION} tarball (its sha512 differs); "
                         f"give the .tgz `{PACK_COMMAND}` writes")
    return _from_tarball(data)


def _from_tarball(data: bytes) -> dict[str, bytes]:
    """FILES out of an npm tarball (its members are under package/)."""
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            if name in FILES and member.isfile():
                found[name] = tar.extractfile(member).read()
    return found


def _checked(found: dict[str, bytes], source: str) -> dict[str, bytes]:
    """`found`, when it holds every file of FILES with its pinned bytes."""
    for name, digest in FILES.items():
        if name not in found:
            raise ValueError(f"{source}: {name} is missing; give the {PACKAGE} {VERSION} package "
                             f"(`{PACK_COMMAND}`) with --mediapipe-web")
        if hashlib.sha256(found[name]).hexdigest() != digest:
            raise ValueError(f"{source}: {name} is not the file of {PACKAGE} {VERSION}; give that package "
                             f"(`{PACK_COMMAND}`) with --mediapipe-web")
    return found


def _npm_pack() -> bytes:
    """The tarball, by npm in a temporary folder; checked against INTEGRITY."""
    npm = shutil.which("npm")
    if npm is None:
        raise ValueError(f"the web page needs {PACKAGE} {VERSION} and npm is not installed to download it: install "
                         f"npm (Node.js), or {_OFFLINE}")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading {PACKAGE} {VERSION} with npm (once; kept in {cache_path().parent})", flush=True)
        done = subprocess.run([npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=tmp, capture_output=True,
                              text=True)
        tarball = Path(tmp) / TARBALL
        if done.returncode or not tarball.is_file():
            why = (done.stderr.strip().splitlines() or ["no tarball written"])[-1]
            raise ValueError(f"npm could not download {PACKAGE} {VERSION} ({why}): {_OFFLINE}")
        data = tarball.read_bytes()
    if _integrity(data) != INTEGRITY:
        raise ValueError(f"npm gave a {PACKAGE} {VERSION} tarball whose sha512 differs from the pinned one: "
                         f"{_OFFLINE}")
    return data


def _integrity(data: bytes) -> str:
    """npm's integrity string (Subresource Integrity, sha512) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _version(package_json: Path) -> str | None:
    try:
        return json.loads(package_json.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
