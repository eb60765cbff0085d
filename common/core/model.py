"""The base of every pydantic model of the shop: each built on first use, not at import.

A function imports the request and response models of all its routes, and the domain models
they use, at start, and its first request needs one or two of them; pydantic's `defer_build`
builds a model's validator and serializer the first time it validates, serializes or
describes its schema (pydantic builds under a lock: one thread builds, the others wait).
Subclasses add their own settings (`model_config = ConfigDict(extra="forbid")` is merged with
this one); a `RootModel` takes `model_config = Model.model_config`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
