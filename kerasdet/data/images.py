"""Image files: header-only size and EXIF orientation, a cheap completeness check, decoding to RGB uint8."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
OPENCV_MAX_PIXELS = int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", 1 << 30))  # OpenCV refuses larger images
_EXIF_ORIENTATION = 0x0112
_ORIENTATIONS_THAT_SWAP_AXES = (5, 6, 7, 8)
_TAIL_BYTES = 1024
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_header(path: str | Path) -> tuple[int, int, int]:
    """(width, height, exif_orientation) of the stored pixels, without decoding them.

    Raises OSError (with the reason) for a file that is not a readable image. PIL's decompression-bomb
    limit (179 megapixels) is lifted here: only the header is read, and OpenCV decodes (`read_rgb`).
    """
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(path) as im:
            orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
            width, height = im.width, im.height
    except UnidentifiedImageError:
        raise OSError("not a readable image") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if width * height > OPENCV_MAX_PIXELS:
        raise OSError(f"{width}x{height} is {width * height / 1e6:.0f} megapixels, more than OpenCV decodes "
                      f"({OPENCV_MAX_PIXELS / 1e6:.0f}; raise OPENCV_IO_MAX_IMAGE_PIXELS, or downscale the photo "
                      "and its boxes)")
    return width, height, int(orientation)


def incomplete_reason(path: str | Path) -> str | None:
    """Why a JPEG or PNG file is cut short (a copy or download that stopped), or None.

    Decoders fill the missing part with grey and only print a warning naming no file, so the file's
    end marker is checked instead: a JPEG ends with EOI (FF D9, which cannot occur inside its coded
    data), a PNG with its IEND chunk. The format comes from the file's first bytes, not its name
    (PNGs saved as .jpg are common in downloaded sets), and zero bytes after the end marker (padding
    some tools write) are skipped. Other formats are not checked.
    """
    with open(path, "rb") as f:
        head = f.read(len(_PNG_MAGIC))
        kind = "JPEG" if head.startswith(_JPEG_MAGIC) else "PNG" if head == _PNG_MAGIC else None
        if kind is None:
            return None
        tail = _tail_before_zero_padding(f)
    if kind == "PNG" and b"IEND" not in tail:
        return "the PNG is cut short (no IEND chunk at its end): copy it again"
    if kind == "JPEG" and b"\xff\xd9" not in tail:
        return "the JPEG is cut short (no end-of-image marker): copy it again"
    return None


def damage_reason(path: str | Path) -> str | None:
    """Why a JPEG or PNG file is cut short or damaged inside, or None: `incomplete_reason`, then the coded
    data itself. A JPEG cut short with an end marker appended, or with bytes zeroed in its middle, decodes
    with a grey or smeared part and only libjpeg's "Corrupt JPEG data" on stderr, naming no file; OpenCV
    and Pillow both return the picture. simplejpeg's strict mode makes that warning an error (decoded at
    1/8 scale: every coded byte is still read; 0.5 ms a 320x240 frame, 33 ms a 12-megapixel photo). A
    PNG's chunks carry CRCs, which Pillow's verify() checks without decoding."""
    reason = incomplete_reason(path)
    if reason:
        return reason
    with open(path, "rb") as f:
        head = f.read(len(_PNG_MAGIC))
        data = head + f.read() if head.startswith(_JPEG_MAGIC) else head
    if data.startswith(_JPEG_MAGIC):
        import simplejpeg
        try:
            simplejpeg.decode_jpeg(data, strict=True, min_height=1, min_width=1)
        except ValueError as err:
            return f"the JPEG is damaged ({err}): copy it again or export it anew"
    elif data.startswith(_PNG_MAGIC):
        try:
            with Image.open(path) as im:
                im.verify()
        except (OSError, SyntaxError, ValueError) as err:
            return f"the PNG is damaged ({err}): copy it again or export it anew"
    return None


def _tail_before_zero_padding(f) -> bytes:
    """The last _TAIL_BYTES of an open file, trailing zero bytes left out."""
    end = f.seek(0, os.SEEK_END)
    while end > 0:  # back over the zero padding, a block at a time
        start = max(0, end - _TAIL_BYTES)
        f.seek(start)
        content_end = start + len(f.read(end - start).rstrip(b"\0"))
        if content_end > start:
            f.seek(max(0, content_end - _TAIL_BYTES))
            return f.read(content_end - f.tell())
        end = start
    return b""


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """Size after the EXIF rotation is applied."""
    return (height, width) if orientation in _ORIENTATIONS_THAT_SWAP_AXES else (width, height)


def read_rgb(path: str | Path, apply_exif: bool = True, max_side: int | None = None,
             longest_side: int | None = None) -> np.ndarray:
    """Decode any image (grayscale, RGBA, palette, 16-bit, CMYK, PNG, JPEG, TIFF) to HxWx3 RGB uint8.

    `apply_exif=False` keeps the stored pixel order, for annotations made on the unrotated pixels.
    `max_side`: shrink larger pictures to this longest side while decoding (a JPEG is decoded at 1/2,
    1/4 or 1/8 of its size directly), so a 50-megapixel photo never sits in memory at full size.
    `longest_side`: the picture's longest side when the caller knows it (a record's size), so the
    header is not read again on every decode.
    """
    flags = cv2.IMREAD_COLOR if apply_exif else cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    if max_side is not None:
        factor = (longest_side or max(image_header(path)[:2])) // max_side
        reduced = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
        for step in (8, 4, 2):
            if factor >= step:
                flags = reduced[step] | (flags & cv2.IMREAD_IGNORE_ORIENTATION)
                break
    bgr = cv2.imread(str(path), flags)
    if bgr is None:
        raise OSError(f"{path}: cannot decode image")
    if max_side is not None and max(bgr.shape[:2]) > max_side:
        scale = max_side / max(bgr.shape[:2])
        bgr = cv2.resize(bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)),
                         interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

