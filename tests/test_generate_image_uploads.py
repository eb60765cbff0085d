"""Uploads are decoded by content and re-encoded; anything else is refused (413/415/422)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import cast

import pytest
from PIL import Image, PngImagePlugin

from common.core import errors
from common.studio import images
from common.studio.limits import MAX_UPLOAD_BYTES


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def photo(size: tuple[int, int] = (320, 240)) -> Image.Image:
    image = Image.new("RGB", size, (30, 90, 200))
    image.paste((250, 200, 20), (40, 40, 120, 120))
    return image


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A small file that claims a huge 1-bit image: every row is zeros, deflated."""
    raw = zlib.compressobj(6)
    rows = b"\x00" * (1 + (width + 7) // 8) * min(height, 1000)
    data = b"".join(raw.compress(rows) for _ in range(0, height, 1000)) + raw.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_are_accepted_by_content(fmt: str) -> None:
    image = images.decode(encoded(photo(), fmt))
    assert image.mode == "RGBA" and image.size == (320, 240)


def test_re_encoding_drops_metadata_and_hidden_chunks() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    data = encoded(photo(), "PNG", pnginfo=info)
    clean = images.encode_png(images.decode(data))
    assert b"<script>" in data and b"<script>" not in clean
    assert b"tEXt" not in clean and Image.open(io.BytesIO(clean)).size == (320, 240)


def test_jpeg_exif_orientation_is_applied_then_dropped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    exif[0x010E] = "secret description"
    data = encoded(photo((320, 240)), "JPEG", exif=exif.tobytes())
    clean = images.encode_png(images.decode(data))
    assert Image.open(io.BytesIO(clean)).size == (240, 320)
    assert b"secret description" not in clean


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><html><script>alert(document.cookie)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"%PDF-1.7\n",
        b"",
    ],
    ids=["html", "svg", "svg-xml", "gif", "pdf", "empty"],
)
def test_anything_but_png_jpeg_webp_is_415(data: bytes) -> None:
    with pytest.raises(errors.UnsupportedMediaType):
        images.decode(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_data_after_the_image_is_422(fmt: str) -> None:
    data = encoded(photo(), fmt) + b"<script>alert(1)</script>"
    with pytest.raises(errors.Unprocessable) as raised:
        images.decode(data)
    assert raised.value.code == "image_trailing_data"


def test_a_decompression_bomb_is_422_before_any_pixel_is_decoded() -> None:
    data = bomb_png(30_000, 30_000)
    assert len(data) < 200_000
    with pytest.raises(errors.Unprocessable) as raised:
        images.decode(data)
    assert raised.value.code == "image_dimensions"


@pytest.mark.parametrize("size", [(1, 100_000), (100_000, 1), (4097, 10), (8, 8)])
def test_images_outside_16_to_4096_px_are_422(size: tuple[int, int]) -> None:
    data = bomb_png(*size)
    with pytest.raises(errors.Unprocessable) as raised:
        images.decode(data)
    assert raised.value.code == "image_dimensions"


def test_more_than_10_mb_is_413() -> None:
    data = encoded(photo(), "PNG")
    with pytest.raises(errors.PayloadTooLarge):
        images.decode(data + b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(data)))


@pytest.mark.parametrize("cut", [20, 60, 200])
def test_a_truncated_image_is_422(cut: int) -> None:
    with pytest.raises(errors.Unprocessable):
        images.decode(encoded(photo(), "PNG")[:-cut])


def test_remove_background_keeps_enclosed_areas_of_the_backdrop_color() -> None:
    image = Image.new("RGB", (200, 200), "white")
    image.paste((0, 0, 0), (50, 50, 150, 150))
    image.paste((255, 255, 255), (90, 90, 110, 110))  # white inside the artwork stays
    cut = images.remove_background(image)
    assert cut.getpixel((5, 5)) == (255, 255, 255, 0)
    assert cut.getpixel((100, 100)) == (255, 255, 255, 255)
    assert cut.getpixel((60, 60)) == (0, 0, 0, 255)


def test_remove_background_leaves_a_busy_picture_whole() -> None:
    image = Image.linear_gradient("L").convert("RGB")
    assert images.remove_background(image).getchannel("A").getextrema() == (255, 255)


# --- issue 14: judged on the header, decoded on a budget --------------------------------------


def test_extreme_but_valid_aspect_ratios_are_judged_on_the_size_as_sent() -> None:
    image = images.decode(encoded(Image.new("RGB", (16, 4096), (200, 0, 0)), "PNG"))
    assert image.size == (8, images.ARTWORK_SIZE)  # fitted, never refused for being fitted
    stored = images.encode_png(image)
    assert images.decode(stored, stored=True).size == (8, images.ARTWORK_SIZE)
    with pytest.raises(errors.Unprocessable) as raised:
        images.decode(stored)  # as an upload, 8 px is too thin
    assert raised.value.code == "image_dimensions"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_4096_px_image_is_decoded_to_the_artwork_size(fmt: str) -> None:
    image = images.decode(encoded(photo((4096, 3072)), fmt))
    assert image.mode == "RGBA" and image.size == (images.ARTWORK_SIZE, 1536)
    assert image.info == {}


def test_exif_orientation_is_applied_to_a_jpeg_decoded_at_reduced_size() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    picture = photo((4096, 3072))
    picture.paste((255, 0, 0), (0, 0, 400, 400))  # a red top-left corner, as shot
    image = images.decode(encoded(picture, "JPEG", exif=exif.tobytes(), quality=95))
    assert image.size == (1536, images.ARTWORK_SIZE)
    red = image.getpixel((image.width - 50, 50))  # upright, the corner is top right
    assert isinstance(red, tuple) and red[0] > 200 and red[1] < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animated_image_is_422_before_it_is_decoded(fmt: str) -> None:
    frames = [Image.new("RGB", (64, 64), color) for color in ("red", "blue", "green")]
    data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(errors.Unprocessable) as raised:
        images.decode(data)
    assert raised.value.code == "image_animated"


def test_a_jpeg_with_extra_pictures_is_a_photo_not_an_animation() -> None:
    pictures = [photo((640, 480)), photo((160, 120))]  # a multi-picture file, like a preview
    data = encoded(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    assert data.startswith(b"\xff\xd8\xff")
    assert images.decode(data).size == (640, 480)


def test_a_16_bit_grey_png_keeps_its_greys() -> None:
    ramp = Image.linear_gradient("L").resize((64, 64)).convert("I").point(lambda v: v * 257)
    image = images.decode(encoded(ramp.convert("I;16"), "PNG"))
    low, high = cast(tuple[int, int], image.convert("L").getextrema())
    assert low < 10 and high > 245  # not all white, as a clipped conversion would make it


def test_a_4096_px_palette_png_keeps_its_transparency() -> None:
    picture = Image.new("P", (4096, 4096), 0)
    picture.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    picture.paste(1, (1024, 1024, 3072, 3072))
    image = images.decode(encoded(picture, "PNG", transparency=0))
    assert image.size == (images.ARTWORK_SIZE, images.ARTWORK_SIZE)
    assert image.getchannel("A").getpixel((10, 10)) == 0
    assert image.getpixel((1024, 1024)) == (200, 0, 0, 255)


@pytest.mark.parametrize("options", [{}, {"lossless": True}], ids=["lossy", "lossless"])
def test_a_webp_is_judged_by_its_own_header(options: dict[str, object]) -> None:
    assert images.decode(encoded(photo(), "WEBP", **options)).size == (320, 240)
    with pytest.raises(errors.Unprocessable) as raised:
        images.decode(encoded(Image.new("RGB", (5000, 16)), "WEBP", **options))
    assert raised.value.code == "image_dimensions"
