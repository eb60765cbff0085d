"""The local artwork generator: deterministic, procedural artwork drawn with Pillow.

It reads a prompt the way a shopper writes one ("a neon purple tiger under the moon"): the
subject words pick motifs from a library of drawn shapes (an unknown subject becomes an emblem
that spells it), color words and hex codes pick the inks, and style words pick how the motifs
are rendered (bold, neon, vintage, minimal, geometric, watercolor, retro, grunge, pixel). The
background is transparent, ready for a garment. The same request always gives the same image.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import random
from collections.abc import Callable, Sequence

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from common.core import colors
from common.studio import images
from common.studio.prompts import COLOR_WORDS, STYLE_WORDS, ArtworkRequest, words

SIZE = images.ARTWORK_SIZE
_UNITS = 1000.0

STYLES = (
    "bold",
    "neon",
    "vintage",
    "minimal",
    "geometric",
    "watercolor",
    "retro",
    "grunge",
    "pixel",
)
STYLE_PALETTES: dict[str, tuple[str, ...]] = {
    "bold": ("#ff7b00", "#ffd60a", "#151515"),
    "neon": ("#00f0ff", "#ff2bd6", "#b6ff00"),
    "vintage": ("#d9a441", "#a44a3f", "#f3e9d2"),
    "minimal": ("#151515", "#151515", "#151515"),
    "geometric": ("#3a86ff", "#8338ec", "#ff006e"),
    "watercolor": ("#6fb7e9", "#f28db2", "#9b5de5"),
    "retro": ("#f77f00", "#d62828", "#fcbf49"),
    "grunge": ("#e63946", "#f1faee", "#151515"),
    "pixel": ("#ff004d", "#29adff", "#ffec27"),
}

INK_DARK = "#141414"


# --- motifs: silhouettes and their inner details, in a 1000-unit square ------------------

Point = tuple[float, float]


class _Pen:
    """Draws a motif's silhouette (`body`) and inner lines (`detail`) at working resolution."""

    def __init__(self, size: int) -> None:
        self.k = size / _UNITS
        self.body = Image.new("L", (size, size), 0)
        self.detail = Image.new("L", (size, size), 0)
        self._body = ImageDraw.Draw(self.body)
        self._detail = ImageDraw.Draw(self.detail)

    def _pts(self, points: Sequence[Point]) -> list[Point]:
        return [(x * self.k, y * self.k) for x, y in points]

    def poly(self, points: Sequence[Point], *, detail: bool = False, cut: bool = False) -> None:
        draw = self._detail if detail else self._body
        draw.polygon(self._pts(points), fill=0 if cut else 255)

    def oval(
        self, cx: float, cy: float, rx: float, ry: float, *, detail: bool = False, cut: bool = False
    ) -> None:
        draw = self._detail if detail else self._body
        box = [(cx - rx) * self.k, (cy - ry) * self.k, (cx + rx) * self.k, (cy + ry) * self.k]
        draw.ellipse(box, fill=0 if cut else 255)

    def line(self, points: Sequence[Point], width: float, *, detail: bool = True) -> None:
        draw = self._detail if detail else self._body
        draw.line(self._pts(points), fill=255, width=max(1, round(width * self.k)), joint="curve")
        radius = width / 2
        for x, y in (points[0], points[-1]):
            left, top = (x - radius) * self.k, (y - radius) * self.k
            draw.ellipse([left, top, left + width * self.k, top + width * self.k], fill=255)


def _mirror(points: Sequence[Point]) -> list[Point]:
    return [(_UNITS - x, y) for x, y in points]


def _both(pen: _Pen, points: Sequence[Point], **kwargs: bool) -> None:
    pen.poly(points, **kwargs)
    pen.poly(_mirror(points), **kwargs)


def _star_points(
    cx: float, cy: float, outer: float, inner: float, count: int, turn: float = -90
) -> list[Point]:
    points = []
    for i in range(count * 2):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(turn + i * 180 / count)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _arc(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 24
) -> list[Point]:
    return [
        (
            cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
            cy + ry * math.sin(math.radians(start + (end - start) * i / steps)),
        )
        for i in range(steps + 1)
    ]


def _feline_eyes(pen: _Pen, y: float = 500) -> None:
    left_eye = [(328, y), (380, y - 34), (445, y - 12), (410, y + 26), (350, y + 20)]
    _both(pen, left_eye, detail=True)


def _feline(
    pen: _Pen, *, stripes: bool = False, mane: bool = False, whiskers: bool = False
) -> None:
    if mane:
        pen.poly(_star_points(500, 520, 440, 340, 18))
    _both(pen, [(250, 360), (270, 130), (430, 270)])
    pen.oval(500, 520, 300, 280)
    _both(pen, [(215, 520), (170, 640), (260, 610), (230, 700), (330, 700)])
    _both(pen, [(290, 320), (300, 210), (380, 285)], detail=True)
    _feline_eyes(pen)
    pen.poly([(440, 600), (560, 600), (500, 665)], detail=True)
    pen.line([(500, 660), (500, 700), (455, 735)], 14)
    pen.line([(500, 700), (545, 735)], 14)
    if stripes:
        for dy, length in ((0, 150), (70, 120), (140, 90)):
            _both(pen, [(200, 540 + dy), (200 + length, 565 + dy), (200, 585 + dy)], detail=True)
        pen.poly([(470, 250), (500, 400), (530, 250)], detail=True)
        _both(pen, [(390, 265), (430, 390), (460, 270)], detail=True)
    if whiskers:
        for side in (1, -1):
            for dy in (-20, 15):
                pen.line([(500 - side * 90, 650), (500 - side * 300, 640 + dy * 2)], 7)


def _tiger(pen: _Pen) -> None:
    _feline(pen, stripes=True)


def _lion(pen: _Pen) -> None:
    _feline(pen, mane=True)


def _cat(pen: _Pen) -> None:
    _feline(pen, whiskers=True)


def _wolf(pen: _Pen) -> None:
    _both(pen, [(270, 420), (300, 90), (450, 300)])
    pen.poly(
        [
            (230, 400),
            (500, 250),
            (770, 400),
            (760, 560),
            (600, 760),
            (500, 880),
            (400, 760),
            (240, 560),
        ]
    )
    _both(pen, [(230, 480), (140, 640), (280, 600)])
    _both(pen, [(320, 370), (320, 170), (420, 310)], detail=True)
    _both(pen, [(340, 500), (445, 470), (425, 520)], detail=True)
    pen.oval(500, 820, 55, 38, detail=True)
    pen.line([(500, 600), (500, 790)], 10)


def _bear(pen: _Pen) -> None:
    pen.oval(290, 300, 95, 95)
    pen.oval(710, 300, 95, 95)
    pen.oval(500, 540, 310, 290)
    pen.oval(290, 300, 45, 45, detail=True)
    pen.oval(710, 300, 45, 45, detail=True)
    pen.oval(390, 480, 32, 36, detail=True)
    pen.oval(610, 480, 32, 36, detail=True)
    pen.oval(500, 640, 115, 90, detail=True)
    pen.oval(500, 600, 50, 34)


def _eagle(pen: _Pen) -> None:
    wing = [(470, 420), (330, 300), (200, 200), (60, 170), (120, 260), (60, 300), (140, 350)]
    wing += [(80, 410), (170, 440), (120, 500), (230, 510), (210, 570), (330, 560), (470, 560)]
    _both(pen, wing)
    for y, reach in ((300, 190), (370, 150), (440, 120)):
        pen.line([(450, y + 40), (500 - reach * 1.8, y - 30)], 10)
        pen.line([(550, y + 40), (500 + reach * 1.8, y - 30)], 10)
    pen.oval(500, 520, 100, 200)
    pen.oval(500, 300, 85, 90)
    pen.poly([(440, 680), (500, 860), (560, 680)])
    _both(pen, [(400, 860), (500, 700), (460, 900)])
    pen.poly([(560, 280), (650, 320), (580, 360), (550, 330)])
    pen.poly([(470, 250), (555, 275), (560, 300), (480, 290)], detail=True)
    pen.oval(530, 300, 14, 14, detail=True)


def _skull(pen: _Pen) -> None:
    pen.oval(500, 420, 300, 290)
    pen.poly([(300, 560), (700, 560), (660, 760), (340, 760)])
    pen.oval(395, 480, 78, 70, detail=True)
    pen.oval(605, 480, 78, 70, detail=True)
    pen.poly([(500, 560), (460, 640), (540, 640)], detail=True)
    for x in range(380, 640, 60):
        pen.line([(x, 690), (x, 760)], 12)


def _rose(pen: _Pen) -> None:
    pen.line([(500, 600), (470, 780), (500, 970)], 30, detail=False)
    _both(pen, [(485, 800), (330, 700), (280, 770), (400, 830)])
    for i in range(9):
        angle = math.radians(i * 40)
        pen.oval(500 + 200 * math.cos(angle), 390 + 170 * math.sin(angle), 150, 130)
    pen.oval(500, 400, 250, 220)
    spiral = [
        (500 + r * math.cos(t), 400 + r * 0.85 * math.sin(t))
        for r, t in ((8 + i * 5.2, i * 0.19) for i in range(44))
    ]
    pen.line(spiral, 16)
    for angle in (200, 290, 20, 110):
        pen.line(_arc(500, 400, 250, 210, angle, angle + 50, 10), 12)


def _heart(pen: _Pen) -> None:
    pen.oval(350, 380, 190, 190)
    pen.oval(650, 380, 190, 190)
    pen.poly([(172, 450), (500, 880), (828, 450), (500, 380)])
    pen.line(_arc(350, 380, 120, 120, 200, 260), 18)


def _star(pen: _Pen) -> None:
    pen.poly(_star_points(500, 530, 450, 190, 5))
    pen.poly(_star_points(500, 530, 260, 110, 5), detail=True)
    pen.poly(_star_points(500, 530, 200, 85, 5), detail=True, cut=True)


def _moon(pen: _Pen) -> None:
    pen.oval(500, 500, 400, 400)
    pen.oval(650, 400, 340, 340, cut=True)
    for cx, cy, r in ((260, 560, 40), (330, 720, 28), (220, 400, 22)):
        pen.oval(cx, cy, r, r, detail=True)


def _sun(pen: _Pen) -> None:
    pen.poly(_star_points(500, 500, 470, 300, 16))
    pen.oval(500, 500, 280, 280)
    pen.oval(500, 500, 200, 200, detail=True)
    pen.oval(500, 500, 170, 170, detail=True, cut=True)


def _mountain(pen: _Pen) -> None:
    pen.poly([(40, 820), (360, 260), (560, 560), (680, 380), (960, 820)])
    pen.poly([(360, 260), (290, 380), (340, 360), (380, 400), (430, 380)], detail=True)
    pen.poly([(680, 380), (630, 460), (670, 450), (700, 480), (730, 450)], detail=True)
    pen.line([(80, 880), (920, 880)], 26, detail=False)


def _wave(pen: _Pen) -> None:
    pen.poly(
        [
            (60, 820),
            *_arc(420, 560, 330, 300, 180, 300),
            *_arc(560, 420, 160, 150, 300, 470),
            (520, 560),
            (700, 700),
            (940, 820),
        ]
    )
    pen.oval(560, 420, 90, 85, cut=True)
    for i in range(3):
        pen.line(_arc(430, 600, 260 - i * 60, 230 - i * 60, 190, 280), 14)
    for x in range(120, 900, 120):
        pen.line([(x, 880), (x + 60, 860), (x + 120, 880)], 14, detail=False)


def _tree(pen: _Pen) -> None:
    for top, base, half in ((100, 380, 170), (260, 580, 250), (420, 780, 330)):
        pen.poly([(500, top), (500 + half, base), (500 - half, base)])
    pen.poly([(450, 780), (550, 780), (550, 920), (450, 920)])
    for y in (380, 580):
        pen.line([(400, y - 20), (500, y + 30), (600, y - 20)], 12)


def _lightning(pen: _Pen) -> None:
    pen.poly([(560, 40), (250, 540), (470, 540), (380, 960), (760, 400), (540, 400), (680, 40)])
    pen.line([(600, 90), (420, 400)], 16)


def _flame(pen: _Pen) -> None:
    pen.poly([(500, 40), *_arc(500, 640, 300, 320, -10, 190), (280, 420), (380, 520), (400, 300)])
    pen.poly([(700, 300), (800, 560), (780, 640), (690, 500)])
    pen.poly([(500, 380), *_arc(500, 720, 160, 200, 0, 180), (380, 600), (440, 640)], detail=True)


def _rocket(pen: _Pen) -> None:
    pen.poly([(500, 40), (620, 220), (620, 640), (380, 640), (380, 220)])
    _both(pen, [(380, 460), (250, 640), (250, 760), (380, 640)])
    pen.poly([(420, 640), (580, 640), (540, 700), (460, 700)])
    pen.oval(500, 360, 70, 70, detail=True)
    pen.oval(500, 360, 42, 42, detail=True, cut=True)
    pen.poly([(450, 720), (550, 720), (500, 960)])
    pen.poly([(470, 730), (530, 730), (500, 860)], detail=True)


def _planet(pen: _Pen) -> None:
    ring = Image.new("L", pen.body.size, 0)
    ring_pen = ImageDraw.Draw(ring)
    k = pen.k
    ring_pen.ellipse([60 * k, 400 * k, 940 * k, 600 * k], fill=255)
    ring_pen.ellipse([150 * k, 445 * k, 850 * k, 555 * k], fill=0)
    ring = ring.rotate(18, center=(500 * k, 500 * k), resample=Image.Resampling.BICUBIC)
    back_half = Image.new("L", ring.size, 0)
    ImageDraw.Draw(back_half).rectangle([0, 0, ring.width, 500 * k], fill=255)
    pen.oval(500, 500, 270, 270)
    pen.body.paste(0, mask=ImageChops.multiply(_grow(ring, 3), back_half))
    pen.body.paste(255, mask=ring)
    pen.detail.paste(255, mask=ImageChops.subtract(ring, _shrink(ring, 5)))
    for y, width in ((380, 170), (620, 170)):
        pen.line([(500 - width, y + 30), (500 + width, y - 30)], 18)


def _fish(pen: _Pen) -> None:
    pen.oval(450, 500, 330, 210)
    pen.poly([(720, 500), (940, 330), (900, 500), (940, 670)])
    pen.poly([(400, 300), (520, 210), (560, 310)])
    pen.oval(250, 460, 36, 36, detail=True)
    pen.line(_arc(330, 500, 60, 150, -70, 70), 14)
    for x in (460, 560):
        pen.line(_arc(x, 500, 40, 120, -60, 60), 10)


def _snake(pen: _Pen) -> None:
    path = [
        (200 + 600 * t, 500 + 250 * math.sin(t * math.pi * 2.2))
        for t in [i / 40 for i in range(41)]
    ]
    pen.line(path, 110, detail=False)
    pen.oval(190, 470, 110, 85)
    pen.oval(160, 450, 16, 16, detail=True)
    pen.line([(80, 490), (20, 470), (0, 500)], 10)
    pen.line(path[4:], 18)


def _butterfly(pen: _Pen) -> None:
    for side in (1, -1):
        pen.oval(500 - side * 210, 360, 200, 230)
        pen.oval(500 - side * 170, 670, 140, 160)
        pen.oval(500 - side * 230, 340, 70, 80, detail=True)
        pen.oval(500 - side * 170, 690, 50, 55, detail=True)
    pen.oval(500, 520, 40, 300, cut=True)
    pen.oval(500, 520, 26, 280)
    pen.line([(490, 250), (420, 120)], 10, detail=False)
    pen.line([(510, 250), (580, 120)], 10, detail=False)


def _crown(pen: _Pen) -> None:
    pen.poly([(140, 760), (100, 280), (320, 500), (500, 200), (680, 500), (900, 280), (860, 760)])
    pen.poly([(140, 800), (860, 800), (860, 880), (140, 880)])
    for cx, cy in ((100, 260), (500, 180), (900, 260)):
        pen.oval(cx, cy, 55, 55)
    for cx in (300, 500, 700):
        pen.oval(cx, 660, 50, 50, detail=True)


def _diamond(pen: _Pen) -> None:
    pen.poly([(250, 220), (750, 220), (920, 420), (500, 920), (80, 420)])
    pen.line([(80, 420), (920, 420)], 14)
    for x0, x1 in ((250, 380), (500, 500), (750, 620)):
        pen.line([(x0, 220), (x1, 420), (500, 900)], 12)


def _anchor(pen: _Pen) -> None:
    pen.oval(500, 170, 100, 100)
    pen.oval(500, 170, 50, 50, cut=True)
    pen.poly([(460, 260), (540, 260), (540, 830), (460, 830)])
    pen.poly([(300, 330), (700, 330), (700, 400), (300, 400)])
    pen.line(_arc(500, 560, 340, 330, 10, 170), 80, detail=False)
    _both(pen, [(130, 640), (170, 500), (230, 640)])


def _leaf(pen: _Pen) -> None:
    pen.poly(
        [
            (500, 60),
            *_arc(500, 540, 330, 420, -80, 80),
            (500, 880),
            *_arc(500, 540, 330, 420, 100, 260),
        ]
    )
    pen.line([(500, 120), (500, 960)], 18)
    for y in range(260, 800, 110):
        pen.line([(500, y + 60), (330, y)], 12)
        pen.line([(500, y + 60), (670, y)], 12)


def _music(pen: _Pen) -> None:
    pen.oval(320, 760, 140, 105)
    pen.oval(720, 680, 140, 105)
    pen.poly([(430, 760), (460, 760), (460, 230), (430, 230)])
    pen.poly([(830, 680), (860, 680), (860, 150), (830, 150)])
    pen.poly([(430, 230), (860, 150), (860, 270), (430, 350)])


def _cup(pen: _Pen) -> None:
    pen.poly([(200, 420), (740, 420), (680, 860), (260, 860)])
    pen.oval(760, 580, 120, 110)
    pen.oval(760, 580, 60, 55, cut=True)
    pen.poly([(160, 880), (780, 880), (740, 940), (200, 940)])
    for x in (340, 470, 600):
        pen.line([(x, 360), (x - 30, 280), (x + 20, 200), (x - 10, 120)], 24, detail=False)
    pen.line([(260, 520), (690, 520)], 14)


def _ghost(pen: _Pen) -> None:
    pen.oval(500, 420, 300, 320)
    pen.poly(
        [
            (200, 420),
            (800, 420),
            (800, 880),
            (700, 800),
            (600, 880),
            (500, 800),
            (400, 880),
            (300, 800),
            (200, 880),
        ]
    )
    pen.oval(400, 420, 50, 70, detail=True)
    pen.oval(600, 420, 50, 70, detail=True)
    pen.oval(500, 580, 60, 70, detail=True)


def _cloud(pen: _Pen) -> None:
    for cx, cy, r in ((300, 560, 170), (500, 440, 230), (700, 560, 170), (500, 640, 160)):
        pen.oval(cx, cy, r, r)
    pen.line([(220, 700), (780, 700)], 14)


def _eye(pen: _Pen) -> None:
    pen.poly([*_arc(500, 760, 470, 420, 200, 340), *_arc(500, 240, 470, 420, 20, 160)])
    pen.oval(500, 500, 200, 200, detail=True)
    pen.oval(500, 500, 90, 90, detail=True, cut=True)
    pen.oval(560, 440, 40, 40, detail=True)


def _palm(pen: _Pen) -> None:
    pen.line([(560, 960), (520, 760), (500, 560), (520, 360)], 56, detail=False)
    for y in range(440, 940, 70):
        pen.line([(490, y), (550, y - 20)], 8)
    crown = (520, 340)
    for angle, reach in ((-170, 380), (-140, 340), (-105, 260), (-75, 260), (-40, 340), (-10, 380)):
        rad = math.radians(angle)
        tip = (
            crown[0] + reach * math.cos(rad),
            crown[1] + reach * math.sin(rad) * 0.6 + reach * 0.35,
        )
        normal = (-math.sin(rad) * 45, math.cos(rad) * 45)
        mid = ((crown[0] + tip[0]) / 2, (crown[1] + tip[1]) / 2 - 50)
        pen.poly(
            [
                crown,
                (mid[0] + normal[0], mid[1] + normal[1]),
                tip,
                (mid[0] - normal[0] * 0.3, mid[1] - normal[1] * 0.3 + 20),
            ]
        )
        pen.line([crown, mid, tip], 6)
    for cx, cy in ((495, 380), (545, 385), (520, 415)):
        pen.oval(cx, cy, 30, 30)


def _cactus(pen: _Pen) -> None:
    pen.line([(500, 900), (500, 180)], 170, detail=False)
    pen.line([(420, 560), (260, 560), (260, 330)], 110, detail=False)
    pen.line([(580, 480), (740, 480), (740, 280)], 110, detail=False)
    pen.poly([(330, 900), (670, 900), (620, 980), (380, 980)])
    for x in (460, 540):
        pen.line([(x, 200), (x, 860)], 10)


def _mushroom(pen: _Pen) -> None:
    pen.poly(_arc(500, 520, 420, 400, 180, 360))
    pen.poly([(400, 510), (600, 510), (630, 900), (370, 900)])
    for cx, cy, r in ((340, 380, 55), (520, 250, 65), (680, 400, 50), (480, 420, 40)):
        pen.oval(cx, cy, r, r, detail=True)


def _bird(pen: _Pen) -> None:
    pen.oval(470, 540, 260, 190)
    pen.oval(680, 380, 130, 120)
    pen.poly([(790, 360), (900, 400), (790, 430)])
    pen.poly([(230, 520), (60, 420), (120, 600)])
    pen.poly([(360, 500), (620, 470), (520, 660)], detail=True)
    pen.oval(700, 360, 18, 18, detail=True)
    pen.line([(430, 720), (420, 860)], 14, detail=False)
    pen.line([(520, 720), (530, 860)], 14, detail=False)


def _dragon(pen: _Pen) -> None:
    _snake(pen)
    for x in range(300, 800, 100):
        pen.poly([(x - 40, 380), (x, 280), (x + 40, 380)])
    _both(pen, [(300, 420), (180, 160), (420, 360)])


MOTIFS: dict[str, Callable[[_Pen], None]] = {
    "tiger": _tiger,
    "lion": _lion,
    "cat": _cat,
    "wolf": _wolf,
    "bear": _bear,
    "eagle": _eagle,
    "bird": _bird,
    "skull": _skull,
    "rose": _rose,
    "heart": _heart,
    "star": _star,
    "moon": _moon,
    "sun": _sun,
    "mountain": _mountain,
    "wave": _wave,
    "tree": _tree,
    "lightning": _lightning,
    "flame": _flame,
    "rocket": _rocket,
    "planet": _planet,
    "fish": _fish,
    "snake": _snake,
    "butterfly": _butterfly,
    "crown": _crown,
    "diamond": _diamond,
    "anchor": _anchor,
    "leaf": _leaf,
    "music": _music,
    "cup": _cup,
    "ghost": _ghost,
    "cloud": _cloud,
    "eye": _eye,
    "palm": _palm,
    "cactus": _cactus,
    "mushroom": _mushroom,
    "dragon": _dragon,
}
SYNONYMS: dict[str, str] = {
    "tigers": "tiger",
    "panther": "cat",
    "leopard": "tiger",
    "jaguar": "tiger",
    "lions": "lion",
    "kitten": "cat",
    "kitty": "cat",
    "cats": "cat",
    "wolves": "wolf",
    "dog": "wolf",
    "fox": "wolf",
    "husky": "wolf",
    "bears": "bear",
    "panda": "bear",
    "hawk": "eagle",
    "falcon": "eagle",
    "phoenix": "eagle",
    "owl": "bird",
    "birds": "bird",
    "sparrow": "bird",
    "crow": "bird",
    "raven": "bird",
    "skulls": "skull",
    "skeleton": "skull",
    "roses": "rose",
    "flower": "rose",
    "flowers": "rose",
    "floral": "rose",
    "hearts": "heart",
    "love": "heart",
    "stars": "star",
    "starry": "star",
    "crescent": "moon",
    "lunar": "moon",
    "sunny": "sun",
    "sunrise": "sun",
    "sunset": "sun",
    "mountains": "mountain",
    "peak": "mountain",
    "peaks": "mountain",
    "waves": "wave",
    "ocean": "wave",
    "sea": "wave",
    "surf": "wave",
    "trees": "tree",
    "pine": "tree",
    "forest": "tree",
    "bolt": "lightning",
    "thunder": "lightning",
    "storm": "lightning",
    "fire": "flame",
    "flames": "flame",
    "rockets": "rocket",
    "spaceship": "rocket",
    "space": "planet",
    "saturn": "planet",
    "planets": "planet",
    "shark": "fish",
    "koi": "fish",
    "snakes": "snake",
    "serpent": "snake",
    "butterflies": "butterfly",
    "king": "crown",
    "queen": "crown",
    "gem": "diamond",
    "jewel": "diamond",
    "anchors": "anchor",
    "nautical": "anchor",
    "leaves": "leaf",
    "plant": "leaf",
    "note": "music",
    "notes": "music",
    "coffee": "cup",
    "tea": "cup",
    "ghosts": "ghost",
    "spooky": "ghost",
    "clouds": "cloud",
    "eyes": "eye",
    "palms": "palm",
    "tropical": "palm",
    "cacti": "cactus",
    "desert": "cactus",
    "mushrooms": "mushroom",
    "dragons": "dragon",
}
BACKDROPS = ("sun", "moon", "star", "mountain", "wave", "cloud", "planet", "flame", "lightning")
STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "with",
        "of",
        "on",
        "in",
        "under",
        "over",
        "at",
        "to",
        "for",
        "my",
        "our",
        "your",
        "its",
        "his",
        "her",
        "some",
        "big",
        "small",
        "tiny",
        "huge",
        "large",
        "little",
        "giant",
        "logo",
        "design",
        "print",
        "shirt",
        "tee",
        "hoodie",
        "made",
        "style",
        "colored",
        "colour",
        "color",
        "please",
        "make",
        "me",
        "us",
        "i",
        "want",
    }
)


def subjects_in(text: str) -> list[str]:
    """The motifs named in `text`, in order of appearance, without repeats."""
    found: list[str] = []
    for word in words(text):
        motif = word if word in MOTIFS else SYNONYMS.get(word)
        if motif and motif not in found:
            found.append(motif)
    return found


def subject_words(text: str) -> list[str]:
    """The words of `text` that are neither colors, styles nor filler: what it is about."""
    return [
        w
        for w in words(text)
        if w not in STOP_WORDS and w not in COLOR_WORDS and w not in STYLE_WORDS and len(w) > 1
    ]


# --- rendering --------------------------------------------------------------------------


def _shift(hex_value: str, lightness: float = 0.0, saturation: float = 1.0) -> str:
    red, green, blue = (c / 255 for c in colors.rgb(hex_value))
    hue, light, sat = colorsys.rgb_to_hls(red, green, blue)
    light = min(1.0, max(0.0, light + lightness))
    sat = min(1.0, max(0.0, sat * saturation))
    return "#{:02x}{:02x}{:02x}".format(
        *(round(c * 255) for c in colorsys.hls_to_rgb(hue, light, sat))
    )


def _palette(request: ArtworkRequest) -> list[str]:
    """Three inks: the shopper's colors first, completed from the style's palette."""
    chosen = [c for c in request.colors][:3]
    for extra in STYLE_PALETTES[request.style]:
        if len(chosen) >= 3:
            break
        if extra not in chosen:
            chosen.append(
                _shift(chosen[0], 0.18)
                if chosen and len(chosen) == 1 and extra == "#151515"
                else extra
            )
    if request.colors and len(request.colors) == 1:
        base = request.colors[0]
        chosen = [base, _shift(base, 0.22), _shift(base, -0.25)]
    return chosen


def _solid(size: int, hex_value: str, mask: Image.Image) -> Image.Image:
    layer = Image.new("RGBA", (size, size), (*colors.rgb(hex_value), 0))
    layer.putalpha(mask)
    return layer


def _grow(mask: Image.Image, pixels: int) -> Image.Image:
    """`mask` dilated by about `pixels`, with soft edges (a blur and a low threshold: a rank
    filter of that radius costs seconds on a 1024 px canvas)."""
    if pixels < 1:
        return mask
    blurred = mask.filter(ImageFilter.GaussianBlur(pixels / 2))
    return blurred.point(lambda v: min(255, max(0, (v - 3) * 32)))


def _shrink(mask: Image.Image, pixels: int) -> Image.Image:
    if pixels < 1:
        return mask
    return ImageChops.invert(_grow(ImageChops.invert(mask), pixels))


def _noise(size: int, rng: random.Random, scale: int = 1) -> Image.Image:
    small = max(1, size // scale)
    noise = Image.frombytes("L", (small, small), rng.randbytes(small * small))
    return noise.resize((size, size), Image.Resampling.BICUBIC) if scale > 1 else noise


def _outline(mask: Image.Image, width: int) -> Image.Image:
    return ImageChops.subtract(_grow(mask, width), _shrink(mask, max(0, width // 3)))


class _Art:
    """The canvas of one artwork, with the palette and randomness of its request."""

    def __init__(self, request: ArtworkRequest, size: int) -> None:
        self.request = request
        self.size = size
        seed = hashlib.sha256(
            f"{request.prompt}|{request.style}|{','.join(request.colors)}".encode()
        ).digest()
        self.rng = random.Random(seed)
        self.palette = _palette(request)
        self.canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))

    def paste(self, layer: Image.Image) -> None:
        self.canvas.alpha_composite(layer)

    def ink_for(self, fill: str) -> str:
        return INK_DARK if colors.luma(fill) > 0.35 else "#f5f5f5"


def _shape(
    motif: Callable[[_Pen], None], size: int, box: tuple[float, float, float]
) -> tuple[Image.Image, Image.Image]:
    """The motif's body and detail masks, drawn at 2x and scaled into `box` (cx, cy, side)."""
    pen = _Pen(size * 2)
    motif(pen)
    body = pen.body.resize((size, size), Image.Resampling.LANCZOS)
    detail = ImageChops.multiply(pen.detail.resize((size, size), Image.Resampling.LANCZOS), body)
    cx, cy, side = box
    scaled = max(1, round(side))
    frame_body = Image.new("L", (size, size), 0)
    frame_detail = Image.new("L", (size, size), 0)
    at = (round(cx - scaled / 2), round(cy - scaled / 2))
    frame_body.paste(body.resize((scaled, scaled), Image.Resampling.LANCZOS), at)
    frame_detail.paste(detail.resize((scaled, scaled), Image.Resampling.LANCZOS), at)
    return frame_body, frame_detail


def _render_bold(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    width = max(2, art.size // 90)
    shadow = _grow(body, width).transform(
        body.size, Image.Transform.AFFINE, (1, 0, -width * 1.4, 0, 1, -width * 1.4)
    )
    art.paste(_solid(art.size, _shift(fill, -0.3), shadow))
    art.paste(_solid(art.size, INK_DARK, _grow(body, width)))
    art.paste(_solid(art.size, fill, body))
    highlight = ImageChops.subtract(
        body,
        body.transform(body.size, Image.Transform.AFFINE, (1, 0, -width * 2, 0, 1, -width * 2)),
    )
    art.paste(_solid(art.size, _shift(fill, 0.2), highlight.point(lambda v: v // 2)))
    art.paste(_solid(art.size, art.ink_for(fill), detail))


def _render_neon(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    width = max(2, art.size // 85)
    lines = ImageChops.lighter(_outline(body, width), _outline(detail, max(1, width * 2 // 3)))
    glow = lines.filter(ImageFilter.GaussianBlur(art.size / 45)).point(lambda v: min(255, v * 4))
    art.paste(_solid(art.size, fill, glow))
    art.paste(_solid(art.size, fill, body.point(lambda v: v // 7)))
    art.paste(_solid(art.size, _shift(fill, 0.3), lines))
    core = _shrink(lines, max(1, width // 3))
    art.paste(_solid(art.size, "#ffffff", core.point(lambda v: v * 2 // 3)))


def _render_minimal(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    width = max(2, art.size // 160)
    lines = ImageChops.lighter(_outline(body, width), _outline(detail, max(1, width // 2)))
    art.paste(_solid(art.size, fill, lines))


def _render_vintage(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    muted = _shift(fill, -0.05, 0.65)
    art.paste(_solid(art.size, _shift(muted, -0.35), _grow(body, max(2, art.size // 110))))
    art.paste(_solid(art.size, muted, body))
    art.paste(_solid(art.size, _shift(muted, -0.4), detail))


def _render_geometric(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    facets = Image.new("RGBA", body.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(facets)
    step = art.size / 14
    jitter = [
        [
            (
                i * step + art.rng.uniform(-0.3, 0.3) * step,
                j * step + art.rng.uniform(-0.3, 0.3) * step,
            )
            for j in range(16)
        ]
        for i in range(16)
    ]
    inks = art.palette
    for i in range(15):
        for j in range(15):
            a, b, c, d = jitter[i][j], jitter[i + 1][j], jitter[i][j + 1], jitter[i + 1][j + 1]
            for triangle in ((a, b, c), (b, d, c)):
                base = inks[0] if art.rng.random() < 0.6 else inks[art.rng.randrange(len(inks))]
                ink = _shift(base, art.rng.uniform(-0.15, 0.15))
                draw.polygon(list(triangle), fill=(*colors.rgb(ink), 255))
    facets.putalpha(body)
    art.paste(_solid(art.size, INK_DARK, _grow(body, max(1, art.size // 200))))
    art.paste(facets)
    art.paste(_solid(art.size, art.ink_for(fill), detail))


def _render_watercolor(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    wash = Image.new("RGBA", body.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(wash)
    for _ in range(26):
        ink = art.palette[art.rng.randrange(len(art.palette))]
        cx, cy = art.rng.uniform(0.1, 0.9) * art.size, art.rng.uniform(0.1, 0.9) * art.size
        radius = art.rng.uniform(0.1, 0.25) * art.size
        draw.ellipse(
            (cx - radius, cy - radius, cx + radius, cy + radius), fill=(*colors.rgb(ink), 150)
        )
    wash = wash.filter(ImageFilter.GaussianBlur(art.size / 30))
    bleed = _grow(body, art.size // 80).filter(ImageFilter.GaussianBlur(art.size / 120))
    rough = ImageChops.multiply(
        bleed, _noise(art.size, art.rng, 12).point(lambda v: min(255, v + 120))
    )
    base = _solid(art.size, fill, rough.point(lambda v: v * 3 // 5))
    art.paste(base)
    wash.putalpha(ImageChops.multiply(wash.getchannel("A").point(lambda v: min(255, v * 2)), rough))
    art.paste(wash)
    art.paste(_solid(art.size, _shift(fill, -0.35), detail.filter(ImageFilter.GaussianBlur(1.5))))


def _render_retro(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    offset = max(3, art.size // 60)
    shadow = body.transform(body.size, Image.Transform.AFFINE, (1, 0, -offset, 0, 1, -offset))
    art.paste(_solid(art.size, art.palette[1], shadow))
    art.paste(_solid(art.size, fill, body))
    stripes = Image.new("L", body.size, 0)
    draw = ImageDraw.Draw(stripes)
    band = art.size // 28
    for y in range(art.size // 2, art.size, band * 2):
        draw.rectangle((0, y, art.size, y + band // 2), fill=255)
    art.paste(_solid(art.size, art.palette[2], ImageChops.multiply(stripes, body)))
    art.paste(_solid(art.size, INK_DARK, detail))


def _render_grunge(art: _Art, body: Image.Image, detail: Image.Image, fill: str) -> None:
    _render_bold(art, body, detail, fill)
    wear = _noise(art.size, art.rng, 3).point(lambda v: 255 if v > 70 else 0)
    scratches = _noise(art.size, art.rng, 1).point(lambda v: 255 if v > 18 else 0)
    keep = ImageChops.multiply(_shrink(wear, 1), scratches)
    alpha = ImageChops.multiply(art.canvas.getchannel("A"), keep)
    art.canvas.putalpha(alpha)


RENDERERS: dict[str, Callable[[_Art, Image.Image, Image.Image, str], None]] = {
    "bold": _render_bold,
    "neon": _render_neon,
    "vintage": _render_vintage,
    "minimal": _render_minimal,
    "geometric": _render_geometric,
    "watercolor": _render_watercolor,
    "retro": _render_retro,
    "grunge": _render_grunge,
    "pixel": _render_bold,
}


def _backdrop(art: _Art, style: str) -> None:
    """The frame some styles put behind the motif: a badge, a sunset disc, a glow ring."""
    size = art.size
    centre, radius = size / 2, size * 0.47
    draw = ImageDraw.Draw(art.canvas)
    if style == "vintage":
        ring = (*colors.rgb(_shift(art.palette[1], -0.1, 0.7)), 255)
        draw.ellipse(
            (centre - radius, centre - radius, centre + radius, centre + radius), fill=ring
        )
        inner = radius * 0.9
        cream = (
            *colors.rgb(art.palette[2] if colors.luma(art.palette[2]) > 0.6 else "#f3e9d2"),
            255,
        )
        draw.ellipse((centre - inner, centre - inner, centre + inner, centre + inner), fill=cream)
    elif style == "retro":
        disc = Image.new("L", (size, size), 0)
        ImageDraw.Draw(disc).ellipse(
            (centre - radius, centre - radius, centre + radius, centre + radius), fill=255
        )
        bands = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        band_draw = ImageDraw.Draw(bands)
        stripes = [art.palette[2], art.palette[0], art.palette[1]]
        for index in range(6):
            top = size * 0.03 + index * size * 0.157
            ink = stripes[index % 3]
            band_draw.rectangle(
                (0, top, size, top + size * 0.157), fill=(*colors.rgb(_shift(ink, 0.12)), 255)
            )
        bands.putalpha(ImageChops.multiply(disc, Image.new("L", (size, size), 150)))
        art.paste(bands)


def _emblem(art: _Art, text: str, fill: str) -> tuple[Image.Image, Image.Image]:
    """For a subject not in the library: a badge that spells the subject's words."""
    size = art.size
    body = Image.new("L", (size, size), 0)
    detail = Image.new("L", (size, size), 0)
    centre = size / 2
    draw = ImageDraw.Draw(body)
    draw.ellipse((size * 0.08, size * 0.08, size * 0.92, size * 0.92), fill=255)
    detail_draw = ImageDraw.Draw(detail)
    ring = size * 0.06
    detail_draw.ellipse(
        (size * 0.08 + ring, size * 0.08 + ring, size * 0.92 - ring, size * 0.92 - ring),
        outline=255,
        width=max(2, size // 90),
    )
    label = text.upper()[:18] or "AUREN"
    lines = _wrap(label, 9)
    em = int(size * 0.5 / max(len(max(lines, key=len)), 3) * 1.6)
    em = min(em, int(size * 0.22))
    face = ImageFont.load_default(size=max(8, em))
    total = len(lines) * em * 1.1
    for index, line in enumerate(lines):
        y = centre - total / 2 + index * em * 1.1 + em * 0.55
        detail_draw.text(
            (centre, y),
            line,
            font=face,
            anchor="mm",
            fill=255,
            stroke_width=max(1, em // 20),
            stroke_fill=255,
        )
    for angle in range(0, 360, 30):
        x = centre + size * 0.38 * math.cos(math.radians(angle))
        y = centre + size * 0.38 * math.sin(math.radians(angle))
        detail_draw.ellipse(
            (x - size * 0.012, y - size * 0.012, x + size * 0.012, y + size * 0.012), fill=255
        )
    return body, detail


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word[: width + 4])
    return lines[:3] or [text[:width]]


def generate(request: ArtworkRequest, size: int = SIZE) -> Image.Image:
    """The artwork for `request`, as a `size` x `size` RGBA image on a transparent background."""
    style = request.style if request.style in STYLES else "bold"
    request = ArtworkRequest(request.prompt, style, request.colors)
    work = 256 if style == "pixel" else size
    art = _Art(request, work)
    _backdrop(art, style)
    motifs = subjects_in(request.prompt)
    main = next((m for m in motifs if m not in BACKDROPS), motifs[0] if motifs else None)
    behind = next((m for m in motifs if m in BACKDROPS and m != main), None)
    render = RENDERERS[style]
    frame = 0.78 if style in ("vintage", "retro") else 0.94
    if behind is not None:
        body, detail = _shape(MOTIFS[behind], work, (work * 0.5, work * 0.42, work * 0.8 * frame))
        render(art, body, detail, art.palette[1])
    if main is not None:
        side = work * frame * (0.8 if behind else 1.0)
        body, detail = _shape(
            MOTIFS[main], work, (work * 0.5, work * (0.55 if behind else 0.5), side)
        )
    else:
        body, detail = _emblem(art, " ".join(subject_words(request.prompt)), art.palette[0])
        if frame < 0.9:
            body, detail = (
                _scaled(body, frame),
                _scaled(detail, frame),
            )
    render(art, body, detail, art.palette[0])
    image = art.canvas
    if style == "pixel":
        image = image.resize((64, 64), Image.Resampling.BOX).resize(
            (size, size), Image.Resampling.NEAREST
        )
        image.putalpha(image.getchannel("A").point(lambda v: 255 if v > 110 else 0))
    return image


def _scaled(mask: Image.Image, factor: float) -> Image.Image:
    size = mask.width
    scaled = max(1, round(size * factor))
    frame = Image.new("L", mask.size, 0)
    at = (size - scaled) // 2
    frame.paste(mask.resize((scaled, scaled), Image.Resampling.LANCZOS), (at, at))
    return frame
