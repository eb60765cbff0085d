"""Untrusted images in: an upload or a model's answer, decoded, checked and made printable.

Every image that reaches storage was decoded here and encoded again by us as a PNG: it is
accepted only when its bytes are a PNG, JPEG or WebP of sane size, with nothing hidden after
the image data; metadata and anything else in the file is dropped.

Taking an image in is budgeted: its header decides what it will cost before a pixel is
decoded, it is decoded at reduced size where the format allows (and scaled to ARTWORK_SIZE at
once where it does not), and an instance decodes a bounded number of images within a bounded
memory budget at once (`gate`), the others waiting their turn for a bounded time, then 503.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import io
import os
import struct
import threading
from collections.abc import Iterator
from typing import cast

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter

from common.core import errors
from common.studio.limits import MAX_UPLOAD_BYTES

MAX_SIDE = 4096
MIN_SIDE = 16
MAX_PIXELS = MAX_SIDE * MAX_SIDE  # the most pixels one image may decode to (64 MB in RGBA)
ARTWORK_SIZE = 2048  # prints at 150 DPI or more across the widest print area (12.5 in)

# Decoding is what taking an image in costs: a 4096 px PNG is 64 MB of pixels before it is
# scaled down, and its copies on the way more. Each decode reserves, from its header, what it
# will hold (`decode_cost`); an instance runs at most DECODES_IN_FLIGHT at once (one per core
# of generate_image's instances) within DECODE_BUDGET_BYTES, in turn, and a caller waits at
# most DECODE_WAIT_SECONDS for its turn before a 503 with Retry-After.
DECODES_IN_FLIGHT = 2
DECODE_BUDGET_BYTES = 192 * 1024 * 1024
DECODE_WAIT_SECONDS = 20.0
RETRY_AFTER_SECONDS = 2

# Bytes per decoded pixel while an image is read and scaled: its buffer as decoded and the
# full-size copies on the way (a palette expanded to RGBA, alpha premultiplied to resample,
# 16 bits brought to 8). A WebP also holds libwebp's two canvases and the frame Pillow copies.
WORKING_BYTES = {"1": 1, "L": 1, "P": 9, "LA": 8, "RGB": 4, "RGBA": 8, "CMYK": 4, "I;16": 5, "I": 9}
WEBP_WORKING_BYTES = 12
DECODER_BYTES = 4 * 1024 * 1024  # and the decoder's own state (zlib's window, libjpeg's tables)

# glibc serves a large allocation with an mmap of its own, unmapped when freed, until the
# first such free: then it raises that threshold to the freed size, and image buffers (Pillow
# allocates them in 16 MB blocks) come from per-thread arenas, which keep them resident once
# freed, so ten uploads in ten threads hold ten peaks. Pinning the threshold keeps each image
# buffer an mmap, given back the moment it is freed. (`MALLOC_MMAP_THRESHOLD_` set in the
# environment wins; with another C library this does nothing.)
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}  # EXIF orientation: how to turn the pixels upright


def _pin_mmap_threshold() -> None:
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


_pin_mmap_threshold()


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


class ImageIntakeBusy(errors.ServiceUnavailable):
    code = "image_intake_busy"


class DecodeGate:
    """At most `slots` decodes at once, reserving at most `budget` bytes between them, served
    strictly in the order they came (a big decode is never overtaken by a stream of small
    ones); a single decode larger than the whole budget waits until it is alone.

    A thread that already holds a reservation is let through at once (its cost still counts):
    it is finishing what it started, and making it wait on itself could only time out.
    """

    def __init__(self, slots: int, budget: int) -> None:
        self.slots = slots
        self.budget = budget
        self.holders = 0
        self.reserved = 0
        self._turns: collections.deque[object] = collections.deque()
        self._changed = threading.Condition()
        self._held = threading.local()

    @property
    def waiting(self) -> int:
        """How many callers are waiting for their turn."""
        return len(self._turns)

    @contextlib.contextmanager
    def reserve(self, cost: int, *, wait: float) -> Iterator[None]:
        """Hold `cost` bytes of the budget (all of it, at most) and a slot for the block, once
        every earlier caller is in and they fit; or raise ImageIntakeBusy after `wait` s."""
        cost = min(cost, self.budget)
        depth = getattr(self._held, "depth", 0)
        with self._changed:
            if depth == 0:
                turn = object()
                self._turns.append(turn)

                def ready() -> bool:
                    fits = self.reserved + cost <= self.budget
                    return self._turns[0] is turn and self.holders < self.slots and fits

                admitted = self._changed.wait_for(ready, timeout=wait)
                self._turns.remove(turn)
                self._changed.notify_all()  # the next in line may be at the front now
                if not admitted:
                    raise ImageIntakeBusy(
                        "too many images are being read right now; try again in a moment",
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                    )
                self.holders += 1
            self.reserved += cost
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            with self._changed:
                self.reserved -= cost
                if depth == 0:
                    self.holders -= 1
                self._changed.notify_all()


gate = DecodeGate(DECODES_IN_FLIGHT, DECODE_BUDGET_BYTES)  # the instance's


def _webp_header(data: bytes) -> tuple[int, int, bool] | None:
    """A WebP's (width, height, animated) from its first chunk, or None when unreadable.

    Read here because Pillow's WebP reader allocates the whole canvas when it opens a file.
    """
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height, bool(data[20] & 0x02)
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF, False
    if chunk == b"VP8L" and len(data) >= 25:
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, False
    return None


def fitted_size(size: tuple[int, int], side: int = ARTWORK_SIZE) -> tuple[int, int]:
    """`size` scaled down (never up) to at most `side` on its longer side."""
    width, height = size
    if max(width, height) <= side:
        return size
    if width >= height:
        return side, max(1, round(height * side / width))
    return max(1, round(width * side / height)), side


def decode_cost(kind: str, mode: str, decoded: tuple[int, int]) -> int:
    """The bytes a decode holds at its peak: the image at `decoded` size (a JPEG's drafted
    size) with its working copies, then the fitted RGBA image and one copy of it (a trim)."""
    per_pixel = WORKING_BYTES[mode] + (WEBP_WORKING_BYTES if kind == "WEBP" else 0)
    width, height = decoded
    fitted_width, fitted_height = fitted_size(decoded)
    return DECODER_BYTES + width * height * per_pixel + 2 * 4 * fitted_width * fitted_height


@contextlib.contextmanager
def decoded(data: bytes, *, what: str = "the image", stored: bool = False) -> Iterator[Image.Image]:
    """Untrusted image bytes as an RGBA image of at most ARTWORK_SIZE a side, within its
    reservation of the instance's decode budget until the block ends, so what the caller does
    with it there (encode it, trim it) is inside the budget too; the image is closed as the
    block ends (keep what was made of it, not it). Or raise 413/415/422, or 503 when the
    instance cannot take it in within DECODE_WAIT_SECONDS.

    The type is decided by the bytes alone; bytes hidden after the end of the image (a script
    appended to a PNG) reject the file; then the header decides, before any pixel is decoded:
    each side between MIN_SIDE and MAX_SIDE on the image as sent (a decompression bomb goes
    no further), a still image (a JPEG's extra pictures, an MPO's preview or an HDR gain map,
    are not an animation: the first is the photo), a mode we know how to print.

    `stored` is for an image we stored ourselves, an upload once through here: it was judged
    on its size as sent, so the minimum side does not apply again (a 16 x 4096 upload is
    stored at 8 x 2048).
    """
    with _reserved(data, what=what, stored=stored) as image:
        try:
            yield image
        finally:
            image.close()


def decode(data: bytes, *, what: str = "the image", stored: bool = False) -> Image.Image:
    """`decoded`, for a caller that keeps the image: its reservation ends as it is returned."""
    with _reserved(data, what=what, stored=stored) as image:
        return image


@contextlib.contextmanager
def _reserved(data: bytes, *, what: str, stored: bool) -> Iterator[Image.Image]:
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
    unreadable = ImageUnreadable(f"{what} cannot be read")
    smallest = 1 if stored else MIN_SIDE

    def judge(width: int, height: int, animated: bool) -> None:
        if not smallest <= min(width, height) <= max(width, height) <= MAX_SIDE:
            raise dimensions
        if width * height > MAX_PIXELS:
            raise dimensions
        if animated:
            raise errors.Unprocessable(
                f"{what} is animated; send a still image to print", code="image_animated"
            )

    if kind == "WEBP":
        header = _webp_header(data)
        if header is None:
            raise unreadable
        judge(*header)
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])  # reads the header only
    except Image.DecompressionBombError:
        raise dimensions from None
    except (OSError, ValueError, struct.error, SyntaxError):
        raise unreadable from None
    try:
        judge(*image.size, kind != "JPEG" and getattr(image, "n_frames", 1) > 1)
        if image.mode not in WORKING_BYTES:
            raise unreadable
        target = fitted_size(image.size)
        box = None
        if kind == "JPEG" and target != image.size:
            # decoded at 1/2, 1/4 or 1/8 scale, the smallest that still covers `target`
            drafted = image.draft(image.mode, target)
            box = drafted[1] if drafted is not None else None
        cost = decode_cost(kind, image.mode, image.size)
        with gate.reserve(cost, wait=DECODE_WAIT_SECONDS):
            try:
                pixels = _pixels(image, target, box)
            except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
                raise unreadable from None
            finally:
                image.close()
            yield pixels
    finally:
        image.close()


def _then(old: Image.Image, new: Image.Image) -> Image.Image:
    """`new`, having let go of `old`'s pixels (a full-size buffer is not kept a step longer)."""
    if new is not old:
        old.close()
    return new


def _pixels(
    image: Image.Image, target: tuple[int, int], box: tuple[float, float, float, float] | None
) -> Image.Image:
    """The opened image's pixels at `target` size, upright, RGBA, with no metadata.

    PNG and WebP have no reduced-size decoder, so they are decoded whole and scaled down at
    once, before the mode conversion and the EXIF turn, which then work on the small image.
    Scaling averages whole blocks of pixels (`reduce`: 4096 to 2048 px in a fiftieth of a
    second, its edges about 97% as crisp as Lanczos' in a quarter of a second) and Lanczos does what
    a whole factor cannot.
    """
    image.load()
    if box == (0, 0, *image.size):
        box = None
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    pixels = image
    if pixels.mode in ("I;16", "I"):
        pixels = _then(pixels, pixels.point(lambda v: v / 257).convert("L"))  # 16 bits to 8
    elif pixels.mode in ("1", "P"):
        pixels = _then(pixels, pixels.convert("RGBA"))  # a palette cannot be resampled
    if pixels.size != target or box is not None:
        resized = pixels.resize(target, Image.Resampling.LANCZOS, box=box, reducing_gap=1.0)
        pixels = _then(pixels, resized)
    method = TRANSPOSE.get(orientation)
    if method is not None:
        pixels = _then(pixels, pixels.transpose(method))
    if pixels.mode != "RGBA":
        pixels = _then(pixels, pixels.convert("RGBA"))
    if pixels is image:
        pixels = image.copy()
    pixels.info = {}  # EXIF, ICC, text chunks: nothing of the file is kept
    return pixels


def encode_png(image: Image.Image) -> bytes:
    """The image as a fresh PNG with no metadata."""
    clean = image
    if image.mode != "RGBA" or image.info:  # `decode`'s images need no copy: they have none
        clean = Image.new("RGBA", image.size)
        clean.paste(image.convert("RGBA"))
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def trim(image: Image.Image, margin: float = 0.02) -> Image.Image:
    """The image cropped to its visible pixels plus a small margin: the printed size of an
    artwork is the size of what is drawn, not of the canvas it was drawn on."""
    box = image.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()
    if box is None or box == (0, 0, *image.size):
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
