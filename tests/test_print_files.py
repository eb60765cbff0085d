"""Print files: 300 DPI of each print area's physical size, transparent, placed exactly as the
mockup shows; private storage; and the low-resolution warning of uploads in design responses."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from common.providers import storage
from common.shop import catalog
from common.studio import images, mockups, print_files, print_names
from common.studio.briefs import Brief, ImageBrief
from common.studio.garments import Box
from common.studio.layers import ImageLayer, Side, TextLayer
from common.studio.layout import UPLOADED
from tests.test_generate_image_api import client, generate, made, upload
from tests.test_generate_image_uploads import encoded, photo

ART = "artwork/" + "p" * 24 + ".png"
UPLOAD = "uploads/" + "q" * 24 + ".png"
SIDES: list[tuple[str, Side]] = [
    (product_id, side)
    for product_id in ("classic-tee", "premium-tee", "hoodie", "crewneck", "tote", "cap")
    for side in ("front", "back")
]


@pytest.fixture(scope="module")
def products(database_url: str) -> dict[str, catalog.Product]:
    catalog.forget()
    return {product.id: product for product in catalog.catalog().products}


def area_of(product: catalog.Product, side: str) -> catalog.PrintArea:
    return next(area for area in product.print_areas if area.name == side)


def artwork() -> Image.Image:
    """A 3:2 red artwork with a transparent notch, so placement and shape both show."""
    art = Image.new("RGBA", (300, 200), (220, 30, 40, 255))
    art.paste((0, 0, 0, 0), (0, 0, 90, 60))
    return art


def design_layers(side: Side) -> list[ImageLayer | TextLayer]:
    return [
        ImageLayer(id="art", area=side, x=0.45, y=0.4, scale=0.6, rotation=12, asset=ART),
        TextLayer(
            id="text-1",
            area=side,
            x=0.5,
            y=0.85,
            text="NIGHT SHIFT",
            size=0.12,
            font="Aileron Black",
            color="#1f2a44",
        ),
    ]


def mask_iou(a: Image.Image, b: Image.Image) -> float:
    both = ImageChops.multiply(a, b).histogram()[255]
    either = ImageChops.lighter(a, b).histogram()[255]
    return both / either if either else 1.0


@pytest.mark.parametrize(("product_id", "side"), SIDES)
def test_a_print_file_is_the_area_s_inches_at_300_dpi_and_transparent(
    products: dict[str, catalog.Product], product_id: str, side: Side
) -> None:
    product = products[product_id]
    area = area_of(product, side)
    blank = print_files.render_print(product, side, [], {})
    assert blank.mode == "RGBA"
    assert blank.size == (round(area.width_in * 300), round(area.height_in * 300))
    assert blank.getbbox() is None  # no garment, nothing printed
    small = ImageLayer(id="dot", area=side, x=0.5, y=0.5, scale=0.2, asset=ART)
    printed = print_files.render_print(product, side, [small], {ART: artwork()})
    assert printed.size == blank.size
    box = printed.getchannel("A").getbbox()
    assert box is not None
    left, top, right, bottom = box
    assert left > 0 and top > 0 and right < printed.width and bottom < printed.height
    # Outside the artwork nothing is printed: the corners and a band round it are clear.
    for corner in ((0, 0), (printed.width - 1, printed.height - 1)):
        assert printed.getpixel(corner) == (0, 0, 0, 0)
    outside = printed.getchannel("A").copy()
    outside.paste(0, box)
    assert outside.getbbox() is None


@pytest.mark.parametrize(("product_id", "side"), SIDES)
def test_the_print_downscaled_matches_the_mockup_s_placement(
    products: dict[str, catalog.Product], product_id: str, side: Side
) -> None:
    product = products[product_id]
    area = area_of(product, side)
    layers = design_layers(side)
    assets = {ART: artwork()}
    mockup = mockups.render_side(product.id, "#ffffff", side, area, layers, assets)
    blank = mockups.dyed_template(product.id, side, "#ffffff")
    box = (area.x, area.y, area.x + area.width, area.y + area.height)
    changed = ImageChops.difference(mockup, blank).crop(box).convert("RGB").split()
    on_mockup = ImageChops.lighter(ImageChops.lighter(changed[0], changed[1]), changed[2])
    on_mockup = on_mockup.point(lambda v: 255 if v > 90 else 0)
    printed = print_files.render_print(product, side, layers, assets)
    alpha = printed.getchannel("A").resize((area.width, area.height), Image.Resampling.BOX)
    on_print = alpha.point(lambda v: 255 if v > 127 else 0)
    print_box, mockup_box = on_print.getbbox(), on_mockup.getbbox()
    assert print_box is not None and mockup_box is not None
    assert max(abs(a - b) for a, b in zip(print_box, mockup_box, strict=True)) <= 2
    assert mask_iou(on_print, on_mockup) >= 0.9


def test_text_is_set_at_print_resolution_not_upscaled(products: dict[str, catalog.Product]) -> None:
    product = products["classic-tee"]
    area = area_of(product, "front")
    text = TextLayer(id="t", area="front", x=0.5, y=0.5, text="Sharp", size=0.2, color="#000000")
    printed = print_files.render_print(product, "front", [text], {}).getchannel("A")
    small = mockups.paint_layers((area.width, area.height), "front", _at_origin(area), [text], {})
    upscaled = small.getchannel("A").resize(printed.size, Image.Resampling.BICUBIC)

    def soft_edge(alpha: Image.Image) -> float:
        counts = alpha.histogram()
        return sum(counts[8:248]) / max(1, sum(counts[248:]))

    # A glyph drawn at 300 DPI has a one-pixel anti-aliased edge; one enlarged 11 times a
    # blurred one, many times wider.
    assert soft_edge(printed) * 4 < soft_edge(upscaled)


def _at_origin(area: catalog.PrintArea) -> Box:
    return Box(0, 0, area.width, area.height)


def test_print_files_are_deterministic_srgb_pngs_at_300_dpi(
    products: dict[str, catalog.Product],
) -> None:
    product = products["hoodie"]
    first = print_files.print_png(product, "back", design_layers("back"), {ART: artwork()})
    again = print_files.print_png(product, "back", design_layers("back"), {ART: artwork()})
    assert first == again
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.size == (3660, 4440)
    assert [round(v) for v in image.info["dpi"]] == [300, 300]
    assert first.index(b"sRGB") < first.index(b"IDAT")
    assert b"tEXt" not in first and b"tIME" not in first


def test_printed_sides_are_those_with_layers() -> None:
    front = ImageLayer(id="a", area="front", x=0.5, y=0.5, asset=ART)
    back = TextLayer(id="b", area="back", x=0.5, y=0.5, text="Back")
    assert print_files.printed_sides([]) == []
    assert print_files.printed_sides([back]) == ["back"]
    assert print_files.printed_sides([back, front]) == ["front", "back"]


def test_print_files_are_stored_privately_and_read_back(
    products: dict[str, catalog.Product],
) -> None:
    files = storage.storage()
    art_key = storage.new_key("artwork")
    files.put(art_key, print_files.encode_print(artwork()))
    layers = [ImageLayer(id="art", area="back", x=0.5, y=0.5, scale=0.5, asset=art_key)]
    assets = print_files.load_assets(layers)
    assert set(assets) == {art_key}
    key = print_names.print_key("dsn_" + "d" * 24, 3, "back")
    png = print_files.print_png(products["tote"], "back", layers, assets)
    files.put(key, png)
    assert files.get(key) == png
    with pytest.raises(ValueError):
        files.url(key)
    assert isinstance(files, storage.LocalStorage)
    assert not (files.root / key).exists()
    assert (files.private_root / key).is_file()
    missing = [layers[0].model_copy(update={"asset": storage.new_key("artwork")})]
    with pytest.raises(LookupError):
        print_files.load_assets(missing)


# --- print quality ----------------------------------------------------------------------------


def test_effective_dpi_is_source_pixels_per_printed_inch(
    products: dict[str, catalog.Product],
) -> None:
    area = area_of(products["classic-tee"], "front")  # 12.2 x 16 in
    full = ImageLayer(id="a", area="front", x=0.5, y=0.5, scale=1.0, asset=UPLOAD)
    assert print_files.effective_dpi(full, area, (1220, 1220)) == pytest.approx(100)
    half = full.model_copy(update={"scale": 0.5, "rotation": 30})
    assert print_files.effective_dpi(half, area, (1220, 1220)) == pytest.approx(200)
    tall = full.model_copy(update={"scale": 1.0})  # fits the height: 16 in tall, 8 in wide
    assert print_files.effective_dpi(tall, area, (800, 1600)) == pytest.approx(100)


def test_only_uploads_are_checked(products: dict[str, catalog.Product]) -> None:
    product = products["classic-tee"]
    generated = ImageLayer(id="art", area="front", x=0.5, y=0.5, asset=ART)
    uploaded = ImageLayer(id="photo", area="front", x=0.5, y=0.5, asset=UPLOAD)
    size = {ART: (1024, 1024), UPLOAD: (1024, 1024)}.get
    assert print_files.warnings(product, [generated], Brief(), size) == []
    [warning] = print_files.warnings(product, [generated, uploaded], Brief(), size)
    assert warning.model_dump() == {"code": "low_resolution", "layer": "photo", "effective_dpi": 83}
    # The artwork of a bare upload is the upload itself, printed as it is.
    as_is = Brief(image=ImageBrief(prompt=UPLOADED, upload=UPLOAD))
    assert [w.layer for w in print_files.warnings(product, [generated], as_is, size)] == ["art"]
    from_it = Brief(image=ImageBrief(prompt="a watercolor of my dog", upload=UPLOAD))
    assert print_files.warnings(product, [generated], from_it, size) == []


@pytest.fixture
def shopper(database_url: str):
    return client()


def test_an_uploaded_image_printed_large_warns_in_the_design(shopper) -> None:
    design = made(shopper, upload(shopper, encoded(photo((600, 600)), "PNG")))
    [art] = design["layers"]
    [warning] = design["warnings"]
    assert warning["code"] == "low_resolution" and warning["layer"] == art["id"]
    # 600 px across 0.8 x 12.2 in
    assert warning["effective_dpi"] == int(600 / (art["scale"] * 12.2))


@pytest.mark.parametrize(
    ("scale", "warned"),
    [(0.3280, 149), (0.32787, 149), (0.32786, None), (0.3278, None), (0.2, None), (0.8, 61)],
)
def test_the_warning_appears_under_150_dpi_and_not_at_or_over_it(
    shopper, scale: float, warned: int | None
) -> None:
    """A 600 px square upload on the classic tee's 12.2 in wide front: 150 DPI is 4 in wide,
    a scale of 0.327869 (600 x 300 / 3660 / 150)."""
    design = made(shopper, upload(shopper, encoded(photo((600, 600)), "PNG")))
    layer = {
        "id": "photo",
        "type": "image",
        "area": "front",
        "x": 0.5,
        "y": 0.5,
        "scale": scale,
        "asset": design["brief"]["image"]["upload"],
    }
    response = shopper.post(
        "/api/designs",
        json={
            "design_id": design["design_id"],
            "product_id": "classic-tee",
            "color": "White",
            "layers": [layer],
        },
    )
    assert response.status_code == 200, response.get_json()
    warnings = response.get_json()["warnings"]
    if warned is None:
        assert warnings == []
    else:
        assert warnings == [{"code": "low_resolution", "layer": "photo", "effective_dpi": warned}]


def test_generated_artwork_carries_no_warning(shopper) -> None:
    started = generate(shopper, prompt="a bold tiger", product_id="classic-tee", color="White")
    assert made(shopper, started)["warnings"] == []


def test_generated_artwork_prints_sharp_across_every_print_area(
    products: dict[str, catalog.Product],
) -> None:
    from common.providers.local import artwork
    from common.studio.prompts import ArtworkRequest

    art = artwork.generate(ArtworkRequest("a minimal mountain", "minimal"))
    assert art.size == (images.ARTWORK_SIZE, images.ARTWORK_SIZE)
    full = ImageLayer(id="art", area="front", x=0.5, y=0.5, scale=1.0, asset=ART)
    for product in products.values():
        for area in product.print_areas:
            layer = full.model_copy(update={"area": area.name})
            dpi = print_files.effective_dpi(layer, area, art.size)
            assert dpi >= print_files.MIN_DPI, (product.id, area.name, dpi)


def test_a_print_files_name_is_a_private_object_of_storage() -> None:
    key = print_names.print_key("dsn_" + "e" * 24, 7, "front")
    assert storage.is_private(key)
    assert print_names.parse(print_names.file_name(key)) == ("dsn_" + "e" * 24, 7, "front")
