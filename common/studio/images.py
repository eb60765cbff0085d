"""Untrusted images in: an upload or a model's answer, decoded, checked and made printable.

Every image that reaches storage was decoded here and encoded again by us as a PNG: it is
accepted only when its bytes are a PNG, JPEG or WebP of sane size, with nothing hidden after
the image data; metadata and anything else in the file is dropped.
"""

from __future__ import annotations

import io
import struct
from typing import cast

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from common.core import errors

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_SIDE = 4096
MIN_SIDE = 16
ARTWORK_SIZE = 2048  # prints at 150 DPI or more across the widest print area (12.5 in)

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class ImageUnreadable(errors.Unprocessable):
    code = "image_unreadable"


def sniff(data: bytes) -> str | None:
    """The image format the bytes really are (by their magic numbers), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _png_end(data: bytes) -> int | None:
    """Where the PNG's IEND chunk ends, walking the chunks; None when they are broken."""
    offset = 8
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        offset += 12 + length
        if kind == b"IEND":
            return offset if offset <= len(data) else None
    return None


def _image_end(kind: str, data: bytes) -> int | None:
    if kind == "PNG":
        return _png_end(data)
    if kind == "WEBP":
        (riff_size,) = struct.unpack("<I", data[4:8])
        return 8 + riff_size + (riff_size & 1)
    end = data.rfind(b"\xff\xd9")
    return end + 2 if end >= 0 else None


def decode(data: bytes, *, what: str = "the image") -> Image.Image:
    """Decode untrusted image bytes into an RGBA image, or raise 413/415/422.

    The type is decided by the bytes alone; the dimensions are checked from the header before
    any pixel is decoded (a decompression bomb never gets that far); bytes hidden after the
    end of the image (a script appended to a PNG) reject the file.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise errors.PayloadTooLarge(
            f"{what} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
            code="image_too_large",
        )
    kind = sniff(data)
    if kind is None:
        raise errors.UnsupportedMediaType(
            f"{what} must be a PNG, JPEG or WebP image", code="unsupported_image_type"
        )
    end = _image_end(kind, data)
    if end is None or len(data) > end:
        raise errors.Unprocessable(
            f"{what} has data after the end of the image", code="image_trailing_data"
        )
    dimensions = errors.Unprocessable(
        f"{what} must be between {MIN_SIDE} and {MAX_SIDE} pixels on each side",
        code="image_dimensions",
    )
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
        width, height = image.size
    except Image.DecompressionBombError:
        raise dimensions from None
    except (OSError, ValueError, struct.error):
        raise ImageUnreadable(f"{what} cannot be read") from None
    if max(width, height) > MAX_SIDE or min(width, height) < MIN_SIDE:
        raise dimensions
    try:
        image.load()
        upright = ImageOps.exif_transpose(image) or image
        return upright.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ImageUnreadable(f"{what} cannot be read") from None


def encode_png(image: Image.Image) -> bytes:
    """The image as a fresh PNG with no metadata."""
    clean = Image.new("RGBA", image.size)
    clean.paste(image.convert("RGBA"))
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def fit(image: Image.Image, side: int = ARTWORK_SIZE) -> Image.Image:
    """The image scaled down (never up) to at most `side` pixels on its longer side."""
    if max(image.size) <= side:
        return image
    scaled = image.copy()
    scaled.thumbnail((side, side), Image.Resampling.LANCZOS)
    return scaled


def trim(image: Image.Image, margin: float = 0.02) -> Image.Image:
    """The image cropped to its visible pixels plus a small margin: the printed size of an
    artwork is the size of what is drawn, not of the canvas it was drawn on."""
    box = image.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()
    if box is None:
        return image
    left, top, right, bottom = box
    pad = round(max(right - left, bottom - top) * margin)
    return image.crop(
        (
            max(0, left - pad),
            max(0, top - pad),
            min(image.width, right + pad),
            min(image.height, bottom + pad),
        )
    )


def remove_background(image: Image.Image, tolerance: int = 28) -> Image.Image:
    """A model's artwork on a flat backdrop, with the backdrop made transparent.

    The backdrop is the color of the image's border when the border is one color; only the
    region of that color connected to the border is removed, so the same color inside the
    artwork stays.
    """
    rgba = image.convert("RGBA")
    lowest_alpha, _ = rgba.getchannel("A").getextrema()
    if isinstance(lowest_alpha, int) and lowest_alpha < 250:
        return rgba  # it already has transparency
    rgb = rgba.convert("RGB")
    width, height = rgb.size
    step_x, step_y = max(1, width // 32), max(1, height // 32)
    edge = [(x, y) for x in range(0, width, step_x) for y in (0, height - 1)]
    edge += [(x, y) for y in range(0, height, step_y) for x in (0, width - 1)]
    border = [cast(tuple[int, int, int], rgb.getpixel(xy)) for xy in edge]
    backdrop = tuple(sorted(channel)[len(channel) // 2] for channel in zip(*border, strict=True))
    near = [
        p for p in border if max(abs(a - b) for a, b in zip(p, backdrop, strict=True)) <= tolerance
    ]
    if len(near) < len(border) * 0.9:
        return rgba  # no flat backdrop: keep the image whole
    distance = ImageChops.difference(rgb, Image.new("RGB", rgb.size, backdrop)).convert("L")
    candidate = distance.point(lambda v: 255 if v <= tolerance else 0)
    marked = candidate.copy()
    for corner in ((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)):
        if marked.getpixel(corner) == 255:
            ImageDraw.floodfill(marked, corner, 128)
    background = marked.point(lambda v: 255 if v == 128 else 0)
    alpha = ImageChops.invert(background.filter(ImageFilter.GaussianBlur(1.2)))
    rgba.putalpha(ImageChops.multiply(alpha, rgba.getchannel("A")))
    return rgba
