"""What every email shares: the site's palette and type, the templates and absolute links.

Messages are built by the effects that send them (`order_mail`, `contact_mail`) and always
carry a text and an HTML body, both rendered by `render` from the same data: `<name>.txt` and
`<name>.html` under `templates/` (the HTML ones extend `layout.html` and are autoescaped).

Mail clients drop `<style>` and ignore CSS custom properties, so the HTML is table-based and
styled inline from `PALETTE` and `FONT_STACK`: the site's tokens (`hosting/css/site.css`,
`:root`), copied here once and checked against that file by tests/test_mail_templates.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from common.infra.config import settings

TEMPLATES = Path(__file__).resolve().parent / "templates"

# `--color-<key with - for _>` in site.css.
PALETTE: dict[str, str] = {
    "bg": "#fbfaf8",
    "surface": "#ffffff",
    "surface_muted": "#f3f1ee",
    "text": "#16142b",
    "text_muted": "#5a5870",
    "border": "#e4e1dc",
    "brand": "#4b3fd6",
    "on_brand": "#ffffff",
    "link": "#4338ca",
    "night": "#120f33",
    "on_night": "#ffffff",
    "on_night_muted": "#d6d3ef",
    "coral": "#ff7a59",
    "violet": "#8b7dff",
}
# `--font-sans` in site.css, quoted for a style="..." attribute. It is the platform's UI font
# and ends in web-safe families (Arial, sans-serif), so every mail client has a fallback.
FONT_STACK = (
    "ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Noto Sans', sans-serif"
)

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
# Constants of ours, not user data: emitted as written (the stack's quotes stay quotes).
_environment.globals.update(palette=PALETTE, font=Markup(FONT_STACK))


def render(template: str, /, **context: Any) -> tuple[str, str]:
    """The text and the HTML body of email `template` (`templates/<template>.txt`, `.html`)."""
    text = _environment.get_template(f"{template}.txt").render(context)
    html = _environment.get_template(f"{template}.html").render(context)
    return text, html


def absolute_url(url: str | None) -> str | None:
    """`url` as an absolute URL on the site (mail clients cannot resolve relative ones)."""
    if not url:
        return None
    if url.startswith(("https://", "http://")):
        return url
    return settings().site_url + "/" + url.lstrip("/")
