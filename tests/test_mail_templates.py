"""The emails' templates: the site's palette and type (read from hosting/css/site.css, so they
cannot drift), inline-styled HTML, the same text as before, user values escaped, and the
templates shipped in every bundle that sends email and in the package."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.effects import contact_mail, messages, order_mail
from common.effects.order_mail import TIMES
from common.infra import config
from common.shop.order_store import PaidLine, PaidOrder
from devtools import bundle

REPO = Path(__file__).resolve().parents[1]
SITE_CSS = REPO / "hosting" / "css" / "site.css"
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}\b")
# The functions whose code sends email (their outbox tasks run there).
MAILING_FUNCTIONS = ("contact", "ops", "stripe_webhook")


def site_tokens() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\n\}", SITE_CSS.read_text(), re.S)
    assert root, "site.css has no :root block"
    return {name: value.strip() for name, value in re.findall(r"--([\w-]+):\s*([^;]+);", root[1])}


def order(
    name: str = "Classic Tee", color: str = "Black", image: str | None = "/img/t.png"
) -> PaidOrder:
    lines = [
        PaidLine(name, color, None, image, {"S": 4, "M": 10, "L": 5}, 19, 1200, 22800),
        PaidLine("Heavy Hoodie", "Navy", "dsn_1", None, {"M": 20, "2XL": 3}, 23, 3000, 69000),
    ]
    return PaidOrder(
        "ord_1", "paid", "ada@example.com", datetime.now(UTC), 91800, "usd", lines, "AUR-10482"
    )


PAID = {
    "order_id": "ord_1",
    "event": "paid",
    "detail": "Checkout session cs_1 was paid",
    "shipping": {"name": "Ada Lovelace", "address": "1 Main St, Austin, US"},
}


def every_email() -> list[tuple[str, str]]:
    """(text, html) of one email of each kind, and of an ops alert without order lines."""
    rendered = [
        order_mail.confirmation_message(order()),
        order_mail.ops_message(PAID, order()),
        order_mail.ops_message({"order_id": "ord_2", "event": "flagged", "detail": "x"}, None),
        contact_mail.contact_message("msg_1", "Ada", "ada@example.com", "50 hoodies?"),
    ]
    return [(message.text, message.html) for message in rendered]


def test_the_email_palette_and_font_are_the_sites_tokens() -> None:
    tokens = site_tokens()
    for key, value in messages.PALETTE.items():
        token = "color-" + key.replace("_", "-")
        assert token in tokens, f"--{token} is not a site token"
        assert tokens[token].lower() == value, f"--{token} is {tokens[token]}, the email {value}"
    for token in ("bg", "surface", "text", "text-muted", "border", "brand", "on-brand", "night"):
        assert token.replace("-", "_") in messages.PALETTE
    # The site's stack, with single quotes (it sits in style="..."): the platform's UI font,
    # falling back to the web-safe families every mail client has.
    assert tokens["font-sans"].replace('"', "'") == messages.FONT_STACK
    assert messages.FONT_STACK.endswith("Arial, 'Noto Sans', sans-serif")


def test_the_html_is_inline_styled_in_the_palette_only() -> None:
    palette = set(messages.PALETTE.values())
    for template in messages.TEMPLATES.glob("*.html"):
        assert not HEX_COLOR.findall(template.read_text()), f"{template.name}: use `palette`"
    for _, html in every_email():
        assert html.startswith("<!doctype html>")
        assert "<style" not in html and "var(--" not in html and "class=" not in html
        assert set(HEX_COLOR.findall(html)) <= palette
        assert f"font-family:{messages.FONT_STACK}" in html
        assert "{{" not in html and "{%" not in html


def test_the_brand_colours_are_where_the_site_has_them() -> None:
    _, html = every_email()[0]
    palette = messages.PALETTE
    assert f"background:{palette['bg']}" in html
    assert f"background:{palette['surface']}" in html
    button = re.search(r'<a href="[^"]*confirmation\?order=ord_1"[^>]*>View your order</a>', html)
    assert button and f"color:{palette['on_brand']}" in button[0]
    assert f'bgcolor="{palette["brand"]}"' in html
    assert f"background:{palette['night']}" in html  # the footer, as on the site


def test_the_text_bodies_are_unchanged() -> None:
    site = config.settings().site_url
    confirmation, ops, flagged, contact = (text for text, _ in every_email())
    items = (
        f"- Classic Tee (Black), sizes S:4 M:10 L:5: 19 pieces {TIMES} $12.00 = $228.00\n"
        f"- Heavy Hoodie (Navy), sizes M:20 2XL:3: 23 pieces {TIMES} $30.00 = $690.00\n"
        "Total: $918.00\n"
    )
    assert confirmation == (
        "Thank you, your order is paid. We have started preparing it.\n\n"
        f"{items}\nView your order: {site}/confirmation?order=ord_1\nOrder AUR-10482 (ord_1)\n"
    )
    sheet = config.settings().sheet_id
    sheet_line = f"Sheet: https://docs.google.com/spreadsheets/d/{sheet}\n" if sheet else ""
    assert ops == (
        "Order: ord_1\nWhat happened: Checkout session cs_1 was paid\n"
        "Customer: ada@example.com\nTotal: $918.00\nShip to: Ada Lovelace, 1 Main St, Austin, US\n"
        f"{sheet_line}\n{items}"
    )
    assert flagged == f"Order: ord_2\nWhat happened: x\n{sheet_line}"
    assert contact == (
        "Ada <ada@example.com> wrote:\n\n50 hoodies?\n\n"
        "Reply to this email to answer. Message msg_1\n"
    )


def test_the_messages_keep_their_fields() -> None:
    confirmation = order_mail.confirmation_message(order())
    assert confirmation.to == "ada@example.com"
    assert confirmation.subject == "Your Auren order AUR-10482 is confirmed"
    assert f"<title>{confirmation.subject}</title>" in confirmation.html
    assert confirmation.template_id == config.settings().sendgrid_confirmation_template_id
    assert confirmation.template_data["total"] == "$918.00"
    assert [item["name"] for item in confirmation.template_data["items"]] == [
        "Classic Tee",
        "Heavy Hoodie",
    ]
    assert confirmation.template_data["items"][0]["image_url"].startswith("http")
    assert confirmation.html.count('<img src="http') == 1
    ops = order_mail.ops_message(PAID, order())
    assert (ops.to, ops.subject) == (config.settings().ops_email, "New paid order ord_1 ($918.00)")
    contact = contact_mail.contact_message("msg_1", "Ada", "ada@example.com", "hi")
    assert (contact.subject, contact.reply_to) == ("Contact form: Ada", "ada@example.com")


def test_what_a_visitor_types_is_escaped_in_the_html_and_kept_in_the_text() -> None:
    name = '<script>alert("name")</script>'
    message = "</blockquote><script>alert(1)</script>\nSecond line & more"
    sent = contact_mail.contact_message("msg_1", name, "ada@example.com", message)
    assert "<script" not in sent.html and "</blockquote><script" not in sent.html
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in sent.html
    assert "&lt;/blockquote&gt;&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line &amp; more" in (
        sent.html
    )
    assert sent.html.count("<blockquote") == sent.html.count("</blockquote>") == 1
    assert name in sent.text and message in sent.text
    assert sent.subject == f"Contact form: {name}"


def test_order_values_are_escaped_in_the_html() -> None:
    product = "<img src=x onerror=alert(1)>"
    hostile = order(name=product, color='"><script>x</script>', image='/img/a".png?x=<b>')
    payload = {
        **PAID,
        "detail": "<script>detail</script>",
        "shipping": {"name": "<b>Ada</b>", "address": "1 Main St"},
    }
    for sent in (
        order_mail.confirmation_message(hostile),
        order_mail.ops_message(payload, hostile),
    ):
        assert "<script" not in sent.html and "<img src=x" not in sent.html
        assert "<b>" not in sent.html
        assert "&lt;img src=x onerror=alert(1)&gt;" in sent.html
        assert 'a&#34;.png?x=&lt;b&gt;"' in sent.html  # the attribute stays one attribute
        assert product in sent.text


def test_every_template_ships_in_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["common"]
    common = REPO / "common"
    for template in sorted(messages.TEMPLATES.iterdir()):
        relative = template.relative_to(common).as_posix()
        assert any(fnmatch.fnmatch(relative, glob) for glob in globs), f"{relative} not shipped"


RENDER_FROM_BUNDLE = """
import json
from common.effects import messages
text, html = messages.render(
    "contact", subject="s", contact_id="m", name="<b>", email="e@x", message="hi"
)
print(json.dumps({"file": messages.__file__, "text": text, "html": html}))
"""


@pytest.mark.parametrize("name", MAILING_FUNCTIONS)
def test_a_bundle_renders_the_emails_from_its_own_copy(name: str, tmp_path: Path) -> None:
    assert "jinja2" in bundle._installed_closure(
        (pin.name, pin.extras)
        for pin in bundle.pinned_requirements(bundle.FUNCTIONS_DIR / name / "requirements.txt")
    ), f"{name} does not install jinja2"
    target = bundle.build(name, tmp_path)
    assert sorted(p.name for p in (target / "common/effects/templates").iterdir()) == sorted(
        p.name for p in messages.TEMPLATES.iterdir()
    )
    done = subprocess.run(
        [sys.executable, "-c", RENDER_FROM_BUNDLE],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rendered = json.loads(done.stdout)
    assert Path(rendered["file"]).resolve().is_relative_to(target.resolve())
    assert "&lt;b&gt;" in rendered["html"] and "<b> <e@x> wrote:" in rendered["text"]
