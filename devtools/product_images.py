"""Write the storefront's product pictures from the garment templates.

`python -m devtools.product_images` renders every product and side with
`common.studio.garments.render_template` and writes `hosting/img/products/<id>-<side>.webp`.
The files are committed; run this again after changing a template.

Templates are grey with alpha, so the pictures use a fixed grey+alpha palette instead of
RGBA: solid pixels keep their grey to within one level, anti-aliased edge pixels get a
coarser grey and alpha. That makes them several times smaller with no visible change.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops

from common.studio.garments import PRINT_AREAS, SIDES, render_template

IMAGE_SIZE = 768
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "hosting" / "img" / "products"

# Palette layout: 0 is fully transparent; then the solid greys; then edge colours.
_SOLID_STEP = 2
_SOLID_FIRST = 1
_EDGE_FIRST = _SOLID_FIRST + 256 // _SOLID_STEP
_EDGE_GREYS = 15
_EDGE_ALPHAS = 8


def _palette() -> tuple[list[int], bytes]:
    """RGB triples and per-entry alpha (a PNG tRNS chunk) for the layout above."""
    greys, alphas = [0], [0]
    for level in range(256 // _SOLID_STEP):
        greys.append(level * _SOLID_STEP + _SOLID_STEP // 2)
        alphas.append(255)
    for alpha_bin in range(_EDGE_ALPHAS):
        for grey_bin in range(_EDGE_GREYS):
            greys.append(grey_bin * 256 // _EDGE_GREYS + 128 // _EDGE_GREYS)
            alphas.append((2 * alpha_bin + 1) * 255 // (2 * _EDGE_ALPHAS))
    return [channel for grey in greys for channel in (grey, grey, grey)], bytes(alphas)


def to_palette(image: Image.Image) -> tuple[Image.Image, bytes]:
    """A grey RGBA image as a palette image and its transparency table."""
    grey, alpha = image.convert("LA").split()
    solid = grey.point(lambda v: _SOLID_FIRST + v // _SOLID_STEP)
    edge = ImageChops.add(
        alpha.point(lambda a: _EDGE_FIRST + a * _EDGE_ALPHAS // 256 * _EDGE_GREYS),
        grey.point(lambda v: v * _EDGE_GREYS // 256),
    )
    index = Image.new("L", image.size, 0)
    index.paste(edge, mask=alpha.point(lambda a: 255 if 0 < a < 255 else 0))
    index.paste(solid, mask=alpha.point(lambda a: 255 if a == 255 else 0))
    paletted = Image.frombytes("P", image.size, index.tobytes())
    rgb, transparency = _palette()
    paletted.putpalette(rgb)
    return paletted, transparency


def write_product_images(directory: Path = OUTPUT_DIR, size: int = IMAGE_SIZE) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for product_id in PRINT_AREAS:
        for side in SIDES:
            paletted, transparency = to_palette(render_template(product_id, side, size))
            path = directory / f"{product_id}-{side}.webp"
            # Lossless WebP of the paletted picture: the same pixels, a fifth fewer bytes than
            # the optimised PNG (the landing page shows six of them).
            paletted.info["transparency"] = transparency
            paletted.save(path, "WEBP", lossless=True, quality=100, method=6)
            written.append(path)
    return written


def main() -> None:
    for path in write_product_images():
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
