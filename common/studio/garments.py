"""Product template images: flat-lay garment illustrations drawn with Pillow.

A template is an RGBA image on a transparent background. The garment is painted in
light neutral greys and all of its shading (edge relief, folds, seams, stitching,
ribbing) lives in the luminance, so multiplying the RGB channels by a colour gives a
convincingly dyed garment. The mockup compositor tints a template and pastes artwork
into the product's ``PRINT_AREAS`` box; the storefront shows the untinted templates.

Shapes are described in a 1000 x 1000 design space, painted at a supersampled
resolution and downsampled with LANCZOS for clean anti-aliased edges.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from PIL import Image, ImageChops, ImageDraw, ImageFilter

TEMPLATE_SIZE = 1024
SIDES = ("front", "back")

Point = tuple[float, float]
Points = list[Point]

_UNITS = 1000.0
_SUPERSAMPLE = 3
_FABRIC = 246
_OUTLINE = 140
_STITCH_DEPTH = 0.45
_RIB_DEPTH = 0.18


@dataclass(frozen=True)
class Box:
    """A rectangle in template pixels (at ``TEMPLATE_SIZE``)."""

    x: int
    y: int
    width: int
    height: int


def _box(x0: float, y0: float, x1: float, y1: float) -> Box:
    """A Box from design-space corners."""
    k = TEMPLATE_SIZE / _UNITS
    return Box(round(x0 * k), round(y0 * k), round((x1 - x0) * k), round((y1 - y0) * k))


PRINT_AREAS: dict[str, dict[str, Box]] = {
    "classic-tee": {"front": _box(340, 285, 660, 705), "back": _box(340, 230, 660, 670)},
    "premium-tee": {"front": _box(355, 290, 645, 690), "back": _box(350, 240, 650, 670)},
    "hoodie": {"front": _box(350, 385, 650, 590), "back": _box(335, 300, 665, 700)},
    "crewneck": {"front": _box(345, 340, 655, 705), "back": _box(340, 230, 660, 670)},
    "tote": {"front": _box(290, 460, 710, 890), "back": _box(290, 460, 710, 890)},
    "cap": {"front": _box(372, 410, 628, 620), "back": _box(425, 395, 575, 495)},
}


# --- geometry (design-space polylines) --------------------------------------------------


class _Curve(NamedTuple):
    """A cubic Bezier segment of a path: two control points and the end point."""

    c1: Point
    c2: Point
    end: Point


def _path(start: Point, *segments: Point | _Curve, steps: int = 28) -> Points:
    """A polyline from a start point through line (Point) and curve segments."""
    points = [start]
    for segment in segments:
        if not isinstance(segment, _Curve):
            points.append(segment)
            continue
        (x0, y0), ((x1, y1), (x2, y2), (x3, y3)) = points[-1], segment
        for i in range(1, steps + 1):
            t = i / steps
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3
            points.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return points


def _identity(points: Sequence[Point]) -> Points:
    return list(points)


def _flip(points: Sequence[Point]) -> Points:
    """Mirrored across the vertical centre line."""
    return [(_UNITS - x, y) for x, y in points]


_BOTH_SIDES: tuple[Callable[[Sequence[Point]], Points], ...] = (_identity, _flip)


def _symmetric(left_half: Points) -> Points:
    """A closed outline from its left half, traced from top centre to bottom centre."""
    return left_half + _flip(left_half[::-1])


def _shift(points: Sequence[Point], dx: float = 0.0, dy: float = 0.0) -> Points:
    return [(x + dx, y + dy) for x, y in points]


def _offset(points: Sequence[Point], distance: float) -> Points:
    """The polyline moved sideways; positive is to the left of travel as seen on screen."""
    moved = []
    for i, (x, y) in enumerate(points):
        (ax, ay), (bx, by) = points[max(i - 1, 0)], points[min(i + 1, len(points) - 1)]
        length = math.hypot(bx - ax, by - ay) or 1.0
        moved.append((x + (by - ay) / length * distance, y - (bx - ax) / length * distance))
    return moved


def _length(points: Sequence[Point]) -> float:
    return sum(math.dist(a, b) for a, b in itertools.pairwise(points))


def _resample(points: Sequence[Point], count: int) -> Points:
    """count points evenly spaced along the polyline, ends included."""
    cumulative = [0.0]
    for a, b in itertools.pairwise(points):
        cumulative.append(cumulative[-1] + math.dist(a, b))
    result = []
    segment = 0
    for i in range(count):
        target = cumulative[-1] * i / (count - 1)
        while segment < len(points) - 2 and cumulative[segment + 1] < target:
            segment += 1
        t = (target - cumulative[segment]) / ((cumulative[segment + 1] - cumulative[segment]) or 1)
        (x0, y0), (x1, y1) = points[segment], points[segment + 1]
        result.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    return result


def _dashes(points: Sequence[Point], dash: float = 6.0, gap: float = 3.5) -> list[Points]:
    """The polyline cut into the dashes of a running stitch."""
    count = max(2, int(_length(points) / 1.5))
    step = _length(points) / (count - 1)
    runs: list[Points] = [[]]
    for i, point in enumerate(_resample(points, count)):
        if (i * step) % (dash + gap) < dash:
            runs[-1].append(point)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) > 1]


def _ellipse(cx: float, cy: float, rx: float, ry: float, steps: int = 48) -> Points:
    angles = (2 * math.pi * i / steps for i in range(steps))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


# --- painting ---------------------------------------------------------------------------


class _Canvas:
    """Supersampled luminance and alpha planes that garment pieces are painted onto."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pixels = size * _SUPERSAMPLE
        self.scale = self.pixels / _UNITS
        # Outside the garment the luminance is the outline grey, so edges never get a halo.
        self.tone = Image.new("L", (self.pixels, self.pixels), _OUTLINE)
        self.alpha = Image.new("L", (self.pixels, self.pixels), 0)

    def part(
        self,
        outline: Sequence[Point],
        *,
        tone: int = _FABRIC,
        relief: float = 0.42,
        relief_radius: float = 22.0,
        edge: int = _OUTLINE,
        edge_width: float = 2.4,
    ) -> _Part:
        """A piece of fabric or trim; its details are drawn, then it is painted."""
        return _Part(self, outline, tone, relief, relief_radius, edge, edge_width)

    def image(self) -> Image.Image:
        """The finished template: lit from the top left, downsampled, as RGBA."""
        gradient = Image.linear_gradient("L")
        diagonal = ImageChops.add(gradient, gradient.transpose(Image.Transpose.ROTATE_90), scale=2)
        light = diagonal.point(lambda v: 255 - v * 30 // 255).resize(
            (self.pixels, self.pixels), Image.Resampling.BILINEAR
        )
        final = (self.size, self.size)
        tone = ImageChops.multiply(self.tone, light).resize(final, Image.Resampling.LANCZOS)
        alpha = self.alpha.resize(final, Image.Resampling.LANCZOS)
        return Image.merge("RGBA", (tone, tone, tone, alpha))


class _Part:
    """One garment piece. Details go on the piece's own layers, clipped to its outline,
    so shading never bleeds onto a neighbour; ``paint`` (or leaving a ``with`` block)
    composites it onto the canvas, over whatever was painted before."""

    def __init__(
        self,
        canvas: _Canvas,
        outline: Sequence[Point],
        tone: int,
        relief: float,
        relief_radius: float,
        edge: int,
        edge_width: float,
    ) -> None:
        self.canvas = canvas
        self.outline = outline
        self.edge = edge
        self.edge_width = edge_width
        # Work on the piece's bounding box only: blurs over the whole canvas are slow.
        pad = 4 + 3 * relief_radius * canvas.scale
        xs = [x * canvas.scale for x, _ in outline]
        ys = [y * canvas.scale for _, y in outline]
        self.left, self.top = max(0, int(min(xs) - pad)), max(0, int(min(ys) - pad))
        right = min(canvas.pixels, int(max(xs) + pad) + 1)
        bottom = min(canvas.pixels, int(max(ys) + pad) + 1)
        self.box = (self.left, self.top, right, bottom)
        size = (right - self.left, bottom - self.top)
        self.mask = Image.new("L", size, 0)
        ImageDraw.Draw(self.mask).polygon(self._local(outline), fill=255)
        self.base = Image.new("L", size, tone)
        if relief:
            # Darken towards the outline so the piece looks soft and rounded.
            soft = self.mask.filter(ImageFilter.GaussianBlur(relief_radius * canvas.scale))
            curve = soft.point(lambda v: 255 - int(relief * (255 - v) ** 1.25 / 255**0.25))
            self.base = ImageChops.multiply(self.base, curve)
        self.shadows: dict[float, Image.Image] = {}
        self.lights: dict[float, Image.Image] = {}

    def __enter__(self) -> _Part:
        return self

    def __exit__(self, *_: object) -> None:
        self.paint()

    def paint(self) -> None:
        tone = self.base
        for radius, layer in self.shadows.items():
            tone = ImageChops.multiply(tone, self._blurred(layer, radius))
        for radius, layer in self.lights.items():
            tone = ImageChops.add(tone, self._blurred(layer, radius))
        self.canvas.tone.paste(tone, self.box, self.mask)
        self.canvas.alpha.paste(255, self.box, self.mask)
        if self.edge_width:
            scale = self.canvas.scale
            ring = [(x * scale, y * scale) for x, y in [*self.outline, self.outline[0]]]
            ImageDraw.Draw(self.canvas.tone).line(
                ring, fill=self.edge, width=self._width(self.edge_width), joint="curve"
            )

    def _blurred(self, layer: Image.Image, radius: float) -> Image.Image:
        if not radius:
            return layer
        return layer.filter(ImageFilter.GaussianBlur(radius * self.canvas.scale))

    def _local(self, points: Sequence[Point]) -> Points:
        s = self.canvas.scale
        return [(x * s - self.left, y * s - self.top) for x, y in points]

    def _width(self, width: float) -> int:
        return max(1, round(width * self.canvas.scale))

    def _draw(
        self, layers: dict[float, Image.Image], blur: float, blank: int
    ) -> ImageDraw.ImageDraw:
        if blur not in layers:
            layers[blur] = Image.new("L", self.mask.size, blank)
        return ImageDraw.Draw(layers[blur])

    def shade(self, points: Sequence[Point], width: float, depth: float, blur: float = 0.0) -> None:
        """Darken along a line by depth (0-1): crisp for seams, blurred for shadows."""
        draw = self._draw(self.shadows, blur, 255)
        fill = round(255 * (1 - depth))
        draw.line(self._local(points), fill=fill, width=self._width(width), joint="curve")

    def shade_area(self, polygon: Sequence[Point], depth: float, blur: float = 0.0) -> None:
        self._draw(self.shadows, blur, 255).polygon(
            self._local(polygon), fill=round(255 * (1 - depth))
        )

    def light(self, points: Sequence[Point], width: float, amount: int, blur: float) -> None:
        """Brighten along a line by amount (grey levels), blurred."""
        self._draw(self.lights, blur, 0).line(
            self._local(points), fill=amount, width=self._width(width), joint="curve"
        )

    def fold(self, points: Sequence[Point], depth: float = 0.1, width: float = 14.0) -> None:
        """A soft fabric fold: a blurred crease with a faint highlight beside it."""
        self.shade(points, width * 0.5, depth, blur=width * 0.45)
        self.light(_offset(points, width * 0.7), width * 0.5, 6, blur=width * 0.6)

    def seam(self, points: Sequence[Point], depth: float = 0.1) -> None:
        """A sewn seam: a fine line in a little soft shadow where the fabric dips into it."""
        self.shade(points, 1.6, depth)
        self.shade(points, 5.0, depth * 0.5, blur=3.0)

    def stitch(self, points: Sequence[Point]) -> None:
        """A row of visible top-stitching."""
        for run in _dashes(points):
            self.shade(run, 1.4, _STITCH_DEPTH)

    def ribs(self, edge_a: Sequence[Point], edge_b: Sequence[Point], spacing: float = 6.0) -> None:
        """Knit rib lines running across a band between two edges."""
        count = max(2, round(max(_length(edge_a), _length(edge_b)) / spacing))
        for a, b in zip(_resample(edge_a, count), _resample(edge_b, count), strict=True):
            self.shade([a, b], 1.3, _RIB_DEPTH)


# --- shared garment pieces --------------------------------------------------------------


def _rib_band(
    canvas: _Canvas, edge_a: Sequence[Point], edge_b: Sequence[Point], *, spacing: float = 6.0
) -> None:
    """A ribbed trim (cuff, hem band, collar) between two edges traced the same way."""
    with canvas.part([*edge_a, *edge_b[::-1]], relief=0.22, relief_radius=8) as band:
        band.ribs(edge_a, edge_b, spacing)


def _crew_neck(
    canvas: _Canvas,
    *,
    back: bool,
    neck: Point,
    front_drop: float,
    back_drop: float,
    rib: float,
) -> None:
    """A ribbed crew collar. From the front the inside of the back neck shows through."""
    neck_x, neck_y = neck
    half = _UNITS / 2 - neck_x

    def neckline(drop: float, widen: float, lower: float) -> Points:
        x0, y0 = neck_x - widen, neck_y + lower
        centre, y1 = _UNITS / 2, y0 + drop
        shoulder_pull, chin = half * 0.12, half * 0.55
        return _path(
            (x0, y0),
            _Curve((x0 + shoulder_pull, y0 + drop * 0.75), (centre - chin, y1), (centre, y1)),
            _Curve(
                (centre + chin, y1),
                (_UNITS - x0 - shoulder_pull, y0 + drop * 0.75),
                (_UNITS - x0, y0),
            ),
        )

    back_top = neckline(back_drop, 0, 0)
    back_bottom = neckline(back_drop, -rib * 0.35, rib * 0.8)
    if back:
        _rib_band(canvas, back_top, back_bottom)
        return
    front_top = neckline(front_drop, 0, 0)
    front_bottom = neckline(front_drop + rib * 0.15, rib * 0.95, rib)
    inside_outline = front_top[::-1] + back_bottom
    with canvas.part(
        inside_outline, tone=214, relief=0.35, relief_radius=12, edge_width=0
    ) as inside:
        inside.shade_area(_shift(back_bottom, dy=-4) + front_top[::-1], 0.10, blur=10)
    with canvas.part(back_top + back_bottom[::-1], tone=228, relief=0.2, relief_radius=6) as band:
        band.ribs(back_top, back_bottom)
    _rib_band(canvas, front_top, front_bottom)


# --- t-shirts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _TeeCut:
    """The left half of a t-shirt pattern, in design units."""

    neck: Point
    shoulder: Point
    sleeve_top: _Curve
    sleeve_hem: Point
    underarm: Point
    waist: Point
    hem: Point
    rib: float
    side_seams: bool


_CLASSIC_CUT = _TeeCut(
    neck=(402, 150),
    shoulder=(254, 186),
    sleeve_top=_Curve((200, 206), (120, 290), (70, 346)),
    sleeve_hem=(164, 452),
    underarm=(262, 374),
    waist=(264, 600),
    hem=(266, 846),
    rib=18,
    side_seams=False,
)
_PREMIUM_CUT = _TeeCut(
    neck=(408, 152),
    shoulder=(266, 186),
    sleeve_top=_Curve((214, 206), (146, 286), (108, 350)),
    sleeve_hem=(194, 430),
    underarm=(274, 366),
    waist=(284, 600),
    hem=(278, 846),
    rib=26,
    side_seams=True,
)


def _tee(canvas: _Canvas, cut: _TeeCut, back: bool) -> None:
    centre = _UNITS / 2
    (sx, sy), (ux, uy), (wx, wy), (bx, by) = cut.shoulder, cut.underarm, cut.waist, cut.hem
    armhole = _path(cut.shoulder, _Curve((sx + 10, sy + 70), (ux + 4, uy - 80), cut.underarm))
    sleeve = [*_path(cut.shoulder, cut.sleeve_top), cut.sleeve_hem, cut.underarm, *armhole[::-1]]
    (ex, ey), (hx, hy) = sleeve_hem = [cut.sleeve_top.end, cut.sleeve_hem]
    mx, my = (ex + hx) / 2, (ey + hy) / 2
    crease = _path(
        (sx - 20, sy + 40), _Curve((sx - 60, sy + 110), (mx + 40, my - 60), (mx + 12, my - 22))
    )
    underside = [(ux - 8, uy + 6), (hx + 12, hy - 18)]
    for mirror in _BOTH_SIDES:
        with canvas.part(mirror(sleeve)) as piece:
            for distance in (14, 20):
                piece.stitch(mirror(_offset(sleeve_hem, distance)))
            piece.fold(mirror(crease), depth=0.09)
            piece.shade(mirror(underside), 10, 0.08, blur=9)

    bottom = by + 6
    side = _path(
        cut.underarm,
        _Curve((ux, uy + 80), (wx, wy - 90), cut.waist),
        _Curve((wx, wy + 90), (bx, by - 90), cut.hem),
    )
    nx, ny = cut.neck
    top = _path((centre, ny + 10), _Curve((centre - 40, ny + 10), (nx + 30, ny + 4), cut.neck))
    hem = _path(cut.hem, _Curve((400, bottom), (600, bottom), (_UNITS - bx, by)))
    outline = _symmetric([*top, cut.shoulder, *armhole[1:], *side[1:], (centre, bottom)])
    with canvas.part(outline) as body:
        for distance in (20, 27):
            body.stitch(_offset(hem, distance))
        for mirror in _BOTH_SIDES:
            body.seam(mirror(armhole), depth=0.08)
            if cut.side_seams:
                body.seam(mirror(_offset(side[8:], 4)))
            drape = _Curve((ux + 60, uy + 70), (ux + 100, uy + 120), (ux + 150, uy + 150))
            body.fold(mirror(_path((ux + 14, uy + 20), drape)), depth=0.05, width=18)
            hem_fold = _Curve((bx + 70, by - 100), (bx + 120, by - 90), (bx + 190, by - 96))
            body.fold(mirror(_path((bx + 12, by - 120), hem_fold)), depth=0.07, width=20)
        waist_fold = _Curve((centre - 30, by - 76), (centre + 60, by - 70), (centre + 130, by - 50))
        body.fold(_path((centre - 90, by - 60), waist_fold), depth=0.07, width=20)
        if back and cut.side_seams:
            # Shoulder-to-shoulder neck tape, a premium-tee detail.
            sag = _Curve((nx + 30, ny + 58), (_UNITS - nx - 30, ny + 58), (_UNITS - nx, ny + 24))
            tape = _path((nx, ny + 24), sag)
            body.seam(tape, depth=0.06)
            body.stitch(_shift(tape, dy=4))
    _crew_neck(canvas, back=back, neck=cut.neck, front_drop=78, back_drop=14, rib=cut.rib)


# --- sweatshirts ------------------------------------------------------------------------

_SWEAT_NECK = (402.0, 150.0)
_SWEAT_SHOULDER = (266.0, 186.0)
_SWEAT_UNDERARM = (278.0, 372.0)
_SWEAT_HEM_Y = 862.0
_POCKET_OPENING = _path((378, 606), _Curve((356, 660), (332, 720), (318, 776)))
_HOOD = _symmetric(
    _path(
        (500, 22),
        _Curve((414, 22), (346, 62), (340, 136)),
        _Curve((336, 190), (334, 214), (324, 228)),
        _Curve((380, 246), (440, 252), (500, 254)),
    )
)


def _sweat_body(canvas: _Canvas, *, neck_top: float) -> _Part:
    """Paints both sleeves with their ribbed cuffs; returns the body piece, still unpainted,
    so the caller can add its own details first."""
    sx, _ = _SWEAT_SHOULDER
    ux, _ = _SWEAT_UNDERARM
    armhole = _path(_SWEAT_SHOULDER, _Curve((sx + 6, 250), (ux + 4, 320), _SWEAT_UNDERARM))
    sleeve_outer = _path(
        _SWEAT_SHOULDER,
        _Curve((214, 200), (140, 260), (118, 400)),
        _Curve((104, 520), (98, 700), (100, 806)),
    )
    sleeve_inner = _path(_SWEAT_UNDERARM, _Curve((246, 520), (206, 700), (198, 808)))
    for mirror in _BOTH_SIDES:
        with canvas.part(mirror(sleeve_outer + sleeve_inner[::-1] + armhole[::-1])) as sleeve:
            # Fabric bunching above the cuff, and a long crease down the sleeve.
            for y, depth in ((690, 0.09), (740, 0.12), (778, 0.14)):
                bunch = _Curve((136, y - 12), (170, y - 8), (202, y + 8))
                sleeve.fold(mirror(_path((104, y), bunch)), depth=depth, width=12)
            crease = _Curve((176, 380), (166, 520), (150, 640))
            sleeve.fold(mirror(_path((180, 250), crease)), depth=0.07, width=22)
        _rib_band(canvas, mirror([(100, 804), (199, 806)]), mirror([(108, 884), (190, 884)]))
    centre = _UNITS / 2
    nx, ny = _SWEAT_NECK
    top = _path((centre, neck_top), _Curve((centre - 40, neck_top), (nx + 30, ny + 4), _SWEAT_NECK))
    side = _path(_SWEAT_UNDERARM, _Curve((280, 600), (282, 760), (284, _SWEAT_HEM_Y + 4)))
    body = canvas.part(_symmetric(top + armhole + side[1:] + [(centre, _SWEAT_HEM_Y + 4)]))
    for mirror in _BOTH_SIDES:
        body.seam(mirror(armhole), depth=0.08)
        drape = _Curve((330, 440), (360, 480), (392, 520))
        body.fold(mirror(_path((290, 400), drape)), depth=0.09, width=18)
        hem_fold = _Curve((316, 790), (334, 820), (340, 856))
        body.fold(mirror(_path((292, 760), hem_fold)), depth=0.09, width=12)
    body.shade([(290, _SWEAT_HEM_Y), (_UNITS - 290, _SWEAT_HEM_Y)], 10, 0.12, blur=8)
    return body


def _sweat_hem(canvas: _Canvas) -> None:
    top = [(290, _SWEAT_HEM_Y), (_UNITS - 290, _SWEAT_HEM_Y)]
    _rib_band(canvas, top, [(298, 934), (702, 934)], spacing=7)


def _crewneck(canvas: _Canvas, back: bool) -> None:
    with _sweat_body(canvas, neck_top=_SWEAT_NECK[1] + 12) as body:
        if not back:
            # The stitched V insert under the collar.
            vee = [(464, 250), (500, 318), (536, 250)]
            body.seam(vee, depth=0.12)
            body.stitch(_shift(vee, dy=10))
    _sweat_hem(canvas)
    _crew_neck(canvas, back=back, neck=_SWEAT_NECK, front_drop=86, back_drop=16, rib=30)


def _hoodie(canvas: _Canvas, back: bool) -> None:
    if back:
        _hoodie_back(canvas)
        return
    canvas.part(_HOOD, relief=0.35).paint()
    with _sweat_body(canvas, neck_top=_SWEAT_NECK[1] + 20) as body:
        for mirror in _BOTH_SIDES:
            body.shade(mirror(_offset(_POCKET_OPENING, -6)), 12, 0.25, blur=7)
    pocket_bottom = [(318, _SWEAT_HEM_Y + 4), (500, _SWEAT_HEM_Y + 4)]
    pocket_outline = _symmetric([(500, 606), *_POCKET_OPENING, *pocket_bottom])
    with canvas.part(pocket_outline, relief=0.22, relief_radius=12) as pocket:
        pocket.stitch([(380, 614), (620, 614)])
        for mirror in _BOTH_SIDES:
            pocket.stitch(mirror(_offset(_POCKET_OPENING, 9)))
            pocket.shade(mirror(_offset(_POCKET_OPENING, 6)), 10, 0.12, blur=6)
            sag = _Curve((400, 700), (410, 780), (412, 850))
            pocket.fold(mirror(_path((372, 640), sag)), depth=0.07, width=16)
    _sweat_hem(canvas)

    rim_left = _path(
        (500, 38),
        _Curve((424, 38), (374, 72), (372, 150)),
        _Curve((372, 216), (430, 274), (500, 304)),
    )
    with canvas.part(_symmetric(rim_left), relief=0.2, relief_radius=10) as rim:
        for mirror in _BOTH_SIDES:
            rim.stitch(mirror(_offset(rim_left, 13)))
    opening_left = _path(
        (500, 60),
        _Curve((440, 60), (400, 86), (398, 150)),
        _Curve((398, 200), (440, 244), (500, 274)),
    )
    with canvas.part(_symmetric(opening_left), tone=200, relief=0.4, relief_radius=26) as lining:
        lining.shade_area(_ellipse(500, 110, 110, 70), 0.18, blur=40)
        lining.seam([(500, 60), (500, 274)], depth=0.08)
    for mirror in _BOTH_SIDES:
        cord = mirror(_path((458, 270), _Curve((450, 292), (447, 316), (451, 342))))
        eyelet = mirror(_ellipse(458, 268, 11, 11))
        canvas.part(eyelet, tone=170, relief=0.3, relief_radius=4, edge_width=2).paint()
        string = _offset(cord, -7) + _offset(cord, 7)[::-1]
        with canvas.part(string, tone=240, relief=0.3, relief_radius=4, edge_width=1.8) as piece:
            piece.shade(cord, 2, 0.06)
        x, y = cord[-1]
        aglet = [(x - 6, y - 2), (x + 6, y - 2), (x + 5, y + 26), (x - 5, y + 26)]
        canvas.part(aglet, tone=205, relief=0.3, relief_radius=3, edge_width=1.8).paint()


def _hoodie_back(canvas: _Canvas) -> None:
    with _sweat_body(canvas, neck_top=_SWEAT_NECK[1] + 20) as body:
        hood_shadow = _Curve((380, 250), (620, 250), (676, 232))
        body.shade(_path((324, 232), hood_shadow), 18, 0.16, blur=12)
    _sweat_hem(canvas)
    with canvas.part(_HOOD, relief=0.3, relief_radius=24) as hood:
        hood.seam([(500, 22), (500, 254)], depth=0.12)
        for mirror in _BOTH_SIDES:
            crease = _Curve((414, 120), (420, 170), (418, 226))
            hood.fold(mirror(_path((400, 70), crease)), depth=0.11, width=20)


# --- tote -------------------------------------------------------------------------------


def _tote(canvas: _Canvas, back: bool) -> None:
    # The back is the same bag turned over: mirrored, with the other handle in front.
    mirror = _flip if back else _identity
    handle = _path(
        (348, 400),
        _Curve((338, 150), (400, 64), (500, 62)),
        _Curve((600, 64), (662, 150), (652, 400)),
    )
    for line, tone in ((_shift(handle, 14, -8), 226), (handle, _FABRIC)):
        strap = mirror(line)
        band = _offset(strap, -20) + _offset(strap, 20)[::-1]
        with canvas.part(band, tone=tone, relief=0.3, relief_radius=8) as piece:
            piece.stitch(_offset(strap, 13))
            piece.stitch(_offset(strap, -13))
    outline = _path(
        (222, 338),
        (778, 338),
        (786, 940),
        _Curve((786, 952), (780, 958), (768, 958)),
        (232, 958),
        _Curve((220, 958), (214, 952), (214, 940)),
    )
    with canvas.part(outline, relief=0.25, relief_radius=20) as bag:
        # The folded-over top hem, with the handles box-stitched through it.
        bag.shade([(222, 400), (778, 400)], 12, 0.12, blur=9)
        bag.seam([(222, 398), (778, 398)])
        bag.stitch([(224, 386), (776, 386)])
        bag.stitch([(224, 352), (776, 352)])
        for x in (348, 652):
            left, right = x - 20, x + 20
            bag.stitch(mirror([(left, 352), (right, 352), (right, 386), (left, 386), (left, 352)]))
            bag.stitch(mirror([(left, 352), (right, 386)]))
            bag.stitch(mirror([(right, 352), (left, 386)]))
        # The weight hanging from the handles pulls soft diagonal creases into the canvas.
        bag.fold(mirror(_path((330, 412), _Curve((300, 480), (270, 540), (250, 640)))), 0.08, 22)
        bag.fold(mirror(_path((670, 412), _Curve((700, 490), (730, 560), (752, 700)))), 0.07, 20)
        bag.fold(mirror(_path((420, 412), _Curve((440, 470), (470, 510), (500, 540)))), 0.05, 18)
        sag = _Curve((380, 918), (460, 916), (560, 928))
        bag.fold(mirror(_path((300, 930), sag)), depth=0.09, width=14)
        bag.seam([(218, 936), (782, 936)], depth=0.05)


# --- cap --------------------------------------------------------------------------------

_CROWN_BASE = _path(
    (200, 624),
    _Curve((300, 650), (400, 662), (500, 664)),
    _Curve((600, 662), (700, 650), (800, 624)),
)
_CROWN = _symmetric(
    _path(
        (500, 246),
        _Curve((336, 248), (206, 302), (196, 470)),
        _Curve((192, 540), (195, 590), (200, 624)),
        _Curve((300, 650), (400, 662), (500, 664)),
    )
)
_PANEL_SEAM = _path((500, 250), _Curve((390, 258), (318, 380), (312, 657)))


def _cap(canvas: _Canvas, back: bool) -> None:
    if not back:
        brim_edge = _path(
            (198, 604),
            _Curve((200, 700), (330, 772), (500, 774)),
            _Curve((670, 772), (800, 700), (802, 604)),
        )
        brim_top = _path((802, 604), _Curve((700, 636), (300, 636), (198, 604)))
        with canvas.part(brim_edge + brim_top[1:], relief=0.3, relief_radius=10) as brim:
            for row in range(1, 6):
                brim.stitch(_offset(brim_edge, 9 * row + 3))
            brim.shade(_CROWN_BASE, 34, 0.22, blur=16)
    with canvas.part(_CROWN, relief=0.45, relief_radius=40) as crown:
        for mirror in _BOTH_SIDES:
            seam = mirror(_PANEL_SEAM)
            crown.seam(seam)
            crown.stitch(_offset(seam, 7))
            crown.stitch(_offset(seam, -7))
        crown.light([(500, 300), (500, 600)], 150, 10, blur=70)
        if back:
            crown.seam([(500, 250), (500, 520)])
            crown.stitch([(507, 256), (507, 512)])
            crown.stitch([(493, 256), (493, 512)])
        else:
            crown.shade(_shift(_CROWN_BASE, dy=-4), 10, 0.10, blur=6)
    for x in (266, _UNITS - 266):
        eyelet = _ellipse(x, 352, 9, 10)
        canvas.part(eyelet, tone=170, relief=0.3, relief_radius=3, edge=150, edge_width=3).paint()
    canvas.part(_ellipse(500, 246, 26, 11), relief=0.4, relief_radius=6, edge_width=2).paint()
    if back:
        _cap_closure(canvas)


def _cap_closure(canvas: _Canvas) -> None:
    """The back opening with its bound edge, and the strap with a slide buckle."""
    arch_left = _path((500, 520), _Curve((454, 520), (418, 552), (416, 604)), (416, 664))
    opening = _symmetric([*arch_left, (500, 666)])
    with canvas.part(opening, tone=160, relief=0.35, relief_radius=18) as inside:
        inside.shade_area(_ellipse(500, 640, 80, 36), 0.15, blur=20)
    binding = arch_left[::-1] + _flip(arch_left)[1:]
    edge = _offset(binding, -9) + _offset(binding, 9)[::-1]
    with canvas.part(edge, tone=238, relief=0.2, relief_radius=4) as tape:
        tape.stitch(binding)
    strap_outline = [(396, 588), (608, 588), (608, 624), (396, 624)]
    with canvas.part(strap_outline, relief=0.3, relief_radius=6) as strap:
        strap.stitch([(400, 595), (604, 595)])
        strap.stitch([(400, 617), (604, 617)])
    slide = [(452, 580), (480, 580), (480, 632), (452, 632)]
    with canvas.part(slide, tone=178, relief=0.4, relief_radius=5, edge=110) as buckle:
        buckle.light([(458, 586), (458, 626)], 4, 40, blur=2)


# --- public API -------------------------------------------------------------------------

_DRAWERS: dict[str, Callable[[_Canvas, bool], None]] = {
    "classic-tee": lambda canvas, back: _tee(canvas, _CLASSIC_CUT, back),
    "premium-tee": lambda canvas, back: _tee(canvas, _PREMIUM_CUT, back),
    "hoodie": _hoodie,
    "crewneck": _crewneck,
    "tote": _tote,
    "cap": _cap,
}


@functools.lru_cache(maxsize=64)
def _render(product_id: str, side: str, size: int) -> Image.Image:
    canvas = _Canvas(size)
    _DRAWERS[product_id](canvas, side == "back")
    return canvas.image()


def render_template(product_id: str, side: str, size: int = TEMPLATE_SIZE) -> Image.Image:
    """The product's template for one side, as a new RGBA image of size x size pixels."""
    if product_id not in _DRAWERS:
        raise KeyError(f"unknown product {product_id!r}; expected one of {sorted(_DRAWERS)}")
    if side not in SIDES:
        raise ValueError(f"unknown side {side!r}; expected one of {SIDES}")
    if size < 16:
        raise ValueError(f"template size must be at least 16 px, got {size}")
    return _render(product_id, side, size).copy()
