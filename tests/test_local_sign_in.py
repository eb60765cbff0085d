"""The local sign-in stand-in end to end, over real HTTP through the local server."""

import http.client
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from common.infra import config
from common.web import sessions


class Browser:
    """Just enough of a browser: keeps the session cookie and sends our own Origin."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie: str | None = None

    def send(self, method: str, path: str, body: str | None = None, content_type: str = ""):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Origin": config.settings().site_url, "Accept": "text/html"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookie:
            headers["Cookie"] = f"{sessions.COOKIE_NAME}={self.cookie}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            found = re.match(rf"{sessions.COOKIE_NAME}=([^;]*)", value)
            if found:
                self.cookie = found.group(1) or None
        return response, text


def test_a_shopper_signs_in_locally_and_keeps_the_anonymous_draft(local_site: int) -> None:
    browser = Browser(local_site)
    item = '{"items": [{"product_id": "classic-tee", "color": "Navy", "sizes": {"M": 20}}]}'
    response, text = browser.send("POST", "/api/orders/draft", item, "application/json")
    assert response.status == 200
    order_id = json.loads(text)["id"]
    anonymous = browser.cookie

    summary = f"/summary?order={order_id}"
    response, _ = browser.send(
        "GET", "/api/auth/login?" + urlencode({"provider": "apple", "return_to": summary})
    )
    assert response.status == 302
    sign_in = response.headers["Location"]
    assert urlsplit(sign_in).path == "/_dev/sign-in"
    state = parse_qs(urlsplit(sign_in).query)["state"][0]

    response, page = browser.send("GET", sign_in)
    assert response.status == 200
    assert f'name="state" value="{state}"' in page
    assert "Sign in with Apple" in page

    form = urlencode({"email": "Team.Lead@Example.com", "state": state})
    response, _ = browser.send("POST", "/_dev/sign-in", form, "application/x-www-form-urlencoded")
    assert response.status == 302
    callback = response.headers["Location"]
    assert callback.startswith("/api/auth/callback?code=")

    response, _ = browser.send("GET", callback)
    assert response.status == 302
    assert response.headers["Location"] == summary
    assert browser.cookie not in (None, anonymous)

    response, text = browser.send("GET", "/api/auth/me")
    assert response.status == 200
    assert '"email":"team.lead@example.com"' in text and '"provider":"apple"' in text
    response, _ = browser.send("GET", f"/api/orders/{order_id}")
    assert response.status == 200

    replay, _ = browser.send("GET", callback)
    assert replay.status == 400


def test_the_local_sign_in_page_refuses_a_missing_email(local_site: int) -> None:
    browser = Browser(local_site)
    form = urlencode({"email": "", "state": "x"})
    response, page = browser.send(
        "POST", "/_dev/sign-in", form, "application/x-www-form-urlencoded"
    )
    assert response.status == 400
    assert "Enter an email address" in page
