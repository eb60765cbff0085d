"""The JSON of designs and image jobs: the request models routes validate and the responses.

They need none of the studio (Pillow, the catalog, the layout): a function whose routes take or
answer a design loads those on its first request, not at start (issue 16).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from common.core.model import Model
from common.studio.briefs import Brief
from common.studio.layers import MAX_LAYERS, Layer


class PrintWarning(Model):
    """Something about a design that will not print as well as it looks on screen."""

    code: Literal["low_resolution"] = Field(
        description="low_resolution: an uploaded image has under 150 pixels per printed inch"
    )
    layer: str = Field(description="the id of the layer concerned")
    effective_dpi: int = Field(description="the image's pixels per inch as printed (rounded down)")


class Mockups(Model):
    front: str = Field(description="URL of the front mockup PNG")
    back: str = Field(description="URL of the back mockup PNG")


class DesignOut(Model):
    design_id: str
    product_id: str
    color: str
    color_hex: str
    layers: list[Layer]
    brief: Brief
    prompt: str | None
    artwork_url: str | None = Field(description="the current artwork, when there is one")
    mockups: Mockups
    mockup_url: str = Field(description="the front mockup (same as mockups.front)")
    version: int
    warnings: list[PrintWarning] = Field(
        default_factory=list, description="what may not print as well as it shows"
    )


class GenerateIn(Model):
    """`POST /api/generate-image`: a prompt (or a brief from the chat) on a product."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(default="", max_length=500)
    product_id: str = Field(min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    brief: Brief | None = None


class DesignIn(Model):
    """`POST /api/designs`: the layers of a design, as edited in the storefront."""

    model_config = ConfigDict(extra="forbid")

    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    layers: list[Layer] = Field(max_length=MAX_LAYERS)


class ShareOut(Model):
    token: str = Field(description="unguessable; the same for every share of one design")
    url: str = Field(description="the read-only page to send for approval (/shared#<token>)")


class SharedDesignOut(Model):
    """What a share link shows: the product and colour, and the mockups; nothing else of the
    design or its owner."""

    product_name: str
    color: str
    mockups: Mockups


Status = Literal["queued", "running", "done", "failed"]


class JobError(Model):
    code: str
    message: str


class JobStarted(Model):
    """The answer of a request that started a job (202)."""

    job_id: str
    status: Status = "queued"


class JobOut(Model):
    """`GET /api/generate-image/<job_id>`: where the job is, and once done, its design."""

    job_id: str
    status: Status
    elapsed_seconds: float = Field(description="since the job was asked for, until it ended")
    design_id: str | None = None
    artwork_url: str | None = None
    mockups: Mockups | None = None
    warnings: list[PrintWarning] | None = None
    design: DesignOut | None = Field(default=None, description="the design as the job left it")
    error: JobError | None = None
