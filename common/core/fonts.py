"""The typefaces the shop prints text in: Aileron, the scalable font inside Pillow, in three
weights (`common.studio.layers` sets them)."""

from __future__ import annotations

from typing import Literal

Font = Literal["Aileron", "Aileron Bold", "Aileron Black"]
