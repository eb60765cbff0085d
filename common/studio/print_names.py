"""The names of print files: one per printed side of a design version, so the same version
always names the same private object (`print/<design>-v<version>-<side>.png`), and one per
personalized piece of a group's order, by its place in the roster
(`print/<order>-p<position>-back.png`)."""

from __future__ import annotations

import re

NAME = re.compile(
    r"^(?P<design>dsn_[A-Za-z0-9_-]{20,40})-v(?P<version>[1-9][0-9]{0,8})-(?P<side>front|back)$"
)


PIECE = re.compile(r"^(?P<order>ord_[A-Za-z0-9_-]{20,40})-p(?P<position>0|[1-9][0-9]{0,3})-back$")


def piece_key(order_id: str, position: int) -> str:
    """The private object of the back print of a personalized piece of an order."""
    name = f"{order_id}-p{position}-back"
    if not PIECE.match(name):
        raise ValueError(f"no piece print file for {order_id!r} position {position}")
    return f"print/{name}.png"


def parse_piece(file_name: str) -> tuple[str, int] | None:
    """(order id, roster position) of a piece's print file name (`<name>.png`), or None."""
    found = PIECE.match(file_name.removesuffix(".png"))
    if found is None:
        return None
    return found["order"], int(found["position"])


def print_key(design_id: str, version: int, side: str) -> str:
    """The private object of one side's print file of a design's version."""
    name = f"{design_id}-v{version}-{side}"
    if not NAME.match(name):
        raise ValueError(f"no print file for {design_id!r} version {version}, side {side!r}")
    return f"print/{name}.png"  # a private object (`common.providers.storage.PRIVATE_KEY`)


def parse(file_name: str) -> tuple[str, int, str] | None:
    """(design id, version, side) of a print file's name (`<name>.png`), or None."""
    found = NAME.match(file_name.removesuffix(".png"))
    if found is None:
        return None
    return found["design"], int(found["version"]), found["side"]


def file_name(key: str) -> str:
    """The file name of a print file's key (`print/<name>.png` -> `<name>.png`)."""
    return key.removeprefix("print/")
