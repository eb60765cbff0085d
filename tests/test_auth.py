"""Signing in: the real `workos` SDK against a local stub of the WorkOS API, the session
cookie, and the attacks a shop's sign-in must withstand."""

import json
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import flask.testing
import jwt
import pytest
from pytest_httpserver import HTTPServer

from common.core import caller
from common.infra import config, state
from common.providers import identity
from common.web import sessions
from tests.conftest import function_app, new_user, user_cookie

SITE = "http://127.0.0.1:8080"
TEE = {"product_id": "classic-tee", "color": "Black", "sizes": {"M": 10}}
WORKOS_USER = {
    "object": "user",
    "id": "user_01HXYZ",
    "email": "Dana.Shopper@Example.com",
    "first_name": "Dana",
    "last_name": "Shopper",
    "email_verified": True,
    "profile_picture_url": None,
    "external_id": None,
    "last_sign_in_at": "2026-11-25T08:00:00.000Z",
    "created_at": "2026-11-01T08:00:00.000Z",
    "updated_at": "2026-11-25T08:00:00.000Z",
}


@pytest.fixture
def workos(httpserver: HTTPServer, database_url: str, monkeypatch) -> Iterator[HTTPServer]:
    """Point the real WorkOS SDK at a local stub of its API."""
    monkeypatch.setenv("WORKOS_API_KEY", "sk_test_stub")
    monkeypatch.setenv("WORKOS_CLIENT_ID", "client_stub")
    monkeypatch.setenv("WORKOS_BASE_URL", httpserver.url_for("/"))
    config.settings.cache_clear()
    identity.provider.reset()
    yield httpserver
    config.settings.cache_clear()
    identity.provider.reset()


def new_browser(function: str = "auth") -> flask.testing.FlaskClient:
    """A browser of its own address, so rate limits count it apart from other tests'."""
    client = function_app(function).test_client()
    client.environ_base["REMOTE_ADDR"] = f"192.0.2.{secrets.randbelow(250) + 1}"
    client.environ_base["HTTP_X_FORWARDED_FOR"] = secrets.token_hex(8)
    return client


def cookie_of(client: flask.testing.FlaskClient) -> str:
    cookie = client.get_cookie(sessions.COOKIE_NAME)
    assert cookie is not None
    return cookie.value


@pytest.fixture
def browser(database_url: str) -> flask.testing.FlaskClient:
    return new_browser()


def start_login(client, provider="google", return_to="/summary?order=ord_x"):
    response = client.get(
        "/api/auth/login", query_string={"provider": provider, "return_to": return_to}
    )
    assert response.status_code == 302
    return response


def state_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["state"][0]


def test_login_builds_the_workos_authorization_url(workos, browser) -> None:
    response = start_login(browser, provider="apple")
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}/" == workos.url_for("/")
    assert location.path == "/user_management/authorize"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["provider"] == "AppleOAuth"
    assert params["client_id"] == "client_stub"
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == f"{SITE}/api/auth/callback"
    assert len(params["state"]) >= 40
    assert start_login(browser).headers["Location"] != response.headers["Location"]
    assert "GoogleOAuth" in start_login(browser).headers["Location"]


def test_callback_exchanges_the_code_and_issues_a_new_session(workos, browser) -> None:
    workos.expect_oneshot_request("/user_management/authenticate", method="POST").respond_with_json(
        {"user": WORKOS_USER, "access_token": "at", "refresh_token": "rt"}
    )
    login = start_login(browser)
    anonymous = cookie_of(browser)
    response = browser.get(
        "/api/auth/callback",
        query_string={"code": "code_123", "state": state_of(login.headers["Location"])},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/summary?order=ord_x"
    exchange = json.loads(workos.log[0][0].get_data())
    assert exchange == {
        "grant_type": "authorization_code",
        "code": "code_123",
        "client_id": "client_stub",
        "client_secret": "sk_test_stub",
    }
    signed_in = cookie_of(browser)
    assert signed_in != anonymous
    me = browser.get("/api/auth/me").get_json()["user"]
    assert me["email"] == "dana.shopper@example.com"
    assert me["name"] == "Dana Shopper"
    assert me["provider"] == "google"
    assert me["id"].startswith("usr_")


def test_the_session_cookie_attributes(workos, browser) -> None:
    workos.expect_oneshot_request("/user_management/authenticate").respond_with_json(
        {"user": WORKOS_USER, "access_token": "at", "refresh_token": "rt"}
    )
    login = start_login(browser)
    response = browser.get(
        "/api/auth/callback",
        query_string={"code": "c", "state": state_of(login.headers["Location"])},
    )
    cookie = response.headers["Set-Cookie"]
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0].startswith("__session=")
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"} <= set(attributes)
    max_age = next(int(a.split("=")[1]) for a in attributes if a.startswith("Max-Age="))
    assert 24 * 3600 <= max_age <= caller.USER_LIFETIME


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "invalid_grant", "error_description": "The code has expired."}),
        (500, {"message": "Internal error"}),
        (200, {"user": {"id": "user_x"}, "access_token": "at"}),
    ],
)
def test_workos_failures_give_a_clear_error_not_a_500(workos, browser, status, body) -> None:
    workos.expect_request("/user_management/authenticate").respond_with_json(body, status=status)
    login = start_login(browser)
    query = {"code": "c", "state": state_of(login.headers["Location"])}
    page = browser.get("/api/auth/callback", query_string=query, headers={"Accept": "text/html"})
    assert page.status_code == 502
    assert "We could not sign you in" in page.get_data(as_text=True)
    login = start_login(browser)
    query = {"code": "c", "state": state_of(login.headers["Location"])}
    api = browser.get(
        "/api/auth/callback", query_string=query, headers={"Accept": "application/json"}
    )
    assert api.status_code == 502
    assert api.get_json()["error"]["code"] == "sign_in_failed"
    assert browser.get("/api/auth/me").status_code == 401


def test_replayed_and_foreign_states_are_refused(workos, browser) -> None:
    workos.expect_request("/user_management/authenticate").respond_with_json(
        {"user": WORKOS_USER, "access_token": "at", "refresh_token": "rt"}
    )
    state = state_of(start_login(browser).headers["Location"])
    attacker = new_browser()
    start_login(attacker)
    stolen = attacker.get("/api/auth/callback", query_string={"code": "c", "state": state})
    assert stolen.status_code == 400
    assert stolen.get_json()["error"]["code"] == "invalid_sign_in_state"
    assert (
        browser.get("/api/auth/callback", query_string={"code": "c", "state": state}).status_code
        == 400
    )
    fresh = state_of(start_login(browser).headers["Location"])
    assert (
        browser.get("/api/auth/callback", query_string={"code": "c", "state": fresh}).status_code
        == 302
    )
    replay = browser.get("/api/auth/callback", query_string={"code": "c", "state": fresh})
    assert replay.status_code == 400
    made_up = browser.get("/api/auth/callback", query_string={"code": "c", "state": "x" * 43})
    assert made_up.status_code == 400
    assert len(workos.log) == 1


def test_missing_code_or_cancelled_sign_in_is_a_clear_error(workos, browser) -> None:
    state = state_of(start_login(browser).headers["Location"])
    missing = browser.get("/api/auth/callback", query_string={"state": state})
    assert missing.status_code == 400
    cancelled = browser.get(
        "/api/auth/callback",
        query_string={"error": "access_denied", "state": state},
        headers={"Accept": "text/html"},
    )
    assert cancelled.status_code == 400
    assert "cancelled" in cancelled.get_data(as_text=True)


def test_a_callback_without_the_cookie_bounces_once_through_a_same_site_page(
    workos, browser
) -> None:
    state = state_of(start_login(browser).headers["Location"])
    cookieless = new_browser()
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    api = cookieless.get("/api/auth/callback", query_string={"code": "c", "state": state})
    assert api.status_code == 400
    assert api.get_json()["error"]["code"] == "invalid_sign_in_state"
    state = state_of(start_login(browser).headers["Location"])
    bounce = cookieless.get(
        "/api/auth/callback", query_string={"code": "c", "state": state}, headers=html
    )
    assert bounce.status_code == 200
    assert 'http-equiv="refresh"' in bounce.get_data(as_text=True)
    assert "bounced=1" in bounce.get_data(as_text=True)
    assert bounce.headers["Referrer-Policy"] == "no-referrer"
    again = cookieless.get(
        "/api/auth/callback",
        query_string={"code": "c", "state": state, "bounced": "1"},
        headers=html,
    )
    assert again.status_code == 400
    assert "another browser" in again.get_data(as_text=True)


OPEN_REDIRECTS = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "evil.example",
    "",
    "/" + "a" * 600,
]


@pytest.mark.parametrize("attempt", OPEN_REDIRECTS)
def test_open_redirect_attempts_land_on_the_home_page(attempt: str) -> None:
    assert identity.safe_return_to(attempt) == "/"


@pytest.mark.parametrize(
    "path", ["/summary?order=ord_abc", "/orders", "/", "/catalog/classic-tee", "/a?next=http://x"]
)
def test_same_site_paths_are_kept(path: str) -> None:
    assert identity.safe_return_to(path) == path


def test_an_open_redirect_never_reaches_the_location_header(workos, browser) -> None:
    workos.expect_request("/user_management/authenticate").respond_with_json(
        {"user": WORKOS_USER, "access_token": "at", "refresh_token": "rt"}
    )
    login = start_login(browser, return_to="//evil.example/phish")
    done = browser.get(
        "/api/auth/callback",
        query_string={"code": "c", "state": state_of(login.headers["Location"])},
    )
    assert done.headers["Location"] == "/"


def forged_tokens() -> dict[str, str]:
    now = int(time.time())
    good = {
        "iss": "auren",
        "aud": "auren-shop",
        "sub": "usr_forgedtokenuser",
        "iat": now,
        "exp": now + 60,
    }
    secret = config.settings().session_secret
    return {
        "wrong key": jwt.encode(good, "not-the-secret-but-long-enough-1234", algorithm="HS256"),
        "alg none": jwt.encode(good, "", algorithm="none"),
        "expired": jwt.encode({**good, "iat": now - 7200, "exp": now - 3600}, secret),
        "wrong audience": jwt.encode({**good, "aud": "someone-else"}, secret),
        "wrong issuer": jwt.encode({**good, "iss": "evil"}, secret),
        "no expiry": jwt.encode({k: v for k, v in good.items() if k != "exp"}, secret),
        # With a session id, so nothing else about them is refused first.
        "expiry not a number": jwt.encode({**good, "jti": "s1", "exp": "soon"}, secret),
        "expiry NaN": jwt.encode({**good, "jti": "s2", "exp": float("nan")}, secret),
        "expiry infinite": jwt.encode({**good, "jti": "s3", "exp": float("inf")}, secret),
        "issued in the future": jwt.encode({**good, "iat": now + 3600, "exp": now + 7200}, secret),
        "tampered": jwt.encode(good, secret)[:-3] + "AAA",
        "garbage": "not.a.jwt",
    }


def test_forged_expired_and_alg_none_tokens_are_no_session(database_url, pool) -> None:
    with pool.transaction() as conn:
        conn.execute(
            "INSERT INTO users (public_id, email, provider)"
            " VALUES ('usr_forgedtokenuser', 'x@example.com', 'google') ON CONFLICT DO NOTHING"
        )
    valid = sessions.encode(caller.for_user("usr_forgedtokenuser", "x@example.com", None, "google"))
    client = new_browser()
    client.set_cookie(sessions.COOKIE_NAME, valid)
    assert client.get("/api/auth/me").status_code == 200
    for name, token in forged_tokens().items():
        assert sessions.decode(token) is None, name
        client.set_cookie(sessions.COOKIE_NAME, token)
        assert client.get("/api/auth/me").status_code == 401, name


def test_a_token_verified_once_still_expires_and_needs_its_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = caller.new_anonymous()
    token = sessions.encode(session)
    assert sessions.decode(token) == session  # verified, and remembered as verified
    assert sessions.decode(token) == session
    later = session.expires_at + sessions.LEEWAY_SECONDS
    monkeypatch.setattr(time, "time", lambda: later)
    assert sessions.decode(token) is None  # past its expiry, though verified before
    monkeypatch.undo()
    monkeypatch.setenv("SESSION_SECRET", "another-secret-of-the-shop-long-enough-0123456789")
    config.settings.cache_clear()
    try:
        assert sessions.decode(token) is None  # not signed with the secret in use
        assert sessions.decode(sessions.encode(session)) == session
    finally:
        monkeypatch.undo()
        config.settings.cache_clear()


def test_logout_clears_the_cookie_and_refuses_cross_site_posts(database_url) -> None:
    client = new_browser()
    client.set_cookie(sessions.COOKIE_NAME, sessions.encode(caller.new_anonymous()))
    forged = client.post("/api/auth/logout", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert client.get_cookie(sessions.COOKIE_NAME) is not None
    response = client.post("/api/auth/logout", headers={"Origin": SITE})
    assert response.status_code == 204
    assert client.get_cookie(sessions.COOKIE_NAME) is None


def test_an_anonymous_draft_is_claimed_on_sign_in_and_invisible_to_others(
    workos, database_url
) -> None:
    workos.expect_request("/user_management/authenticate").respond_with_json(
        {
            "user": {**WORKOS_USER, "id": "user_claim", "email": "claim@example.com"},
            "access_token": "at",
            "refresh_token": "rt",
        }
    )
    shop = new_browser("orders")
    item = {"product_id": "hoodie", "color": "Black", "sizes": {"M": 12}}
    order_id = shop.post("/api/orders/draft", json={"items": [item]}).get_json()["id"]
    auth = new_browser()
    auth.set_cookie(sessions.COOKIE_NAME, cookie_of(shop))
    login = start_login(auth, return_to=f"/summary?order={order_id}")
    done = auth.get(
        "/api/auth/callback",
        query_string={"code": "c", "state": state_of(login.headers["Location"])},
    )
    assert done.headers["Location"] == f"/summary?order={order_id}"
    anonymous_cookie = cookie_of(shop)
    shop.set_cookie(sessions.COOKIE_NAME, cookie_of(auth))
    assert shop.get(f"/api/orders/{order_id}").status_code == 200
    assert [o["id"] for o in shop.get("/api/orders").get_json()["orders"]] == [order_id]
    old_anonymous = new_browser("orders")
    old_anonymous.set_cookie(sessions.COOKIE_NAME, anonymous_cookie)
    assert old_anonymous.get(f"/api/orders/{order_id}").status_code == 404
    stranger = new_browser("orders")
    stranger.post("/api/orders/draft", json={"items": [item]})
    assert stranger.get(f"/api/orders/{order_id}").status_code == 404


def test_login_attempts_are_rate_limited_per_client(workos, browser) -> None:
    headers = {"X-Forwarded-For": "198.51.100.77"}
    statuses = [
        browser.get("/api/auth/login?provider=google", headers=headers).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]
    limited = browser.get("/api/auth/login?provider=google", headers=headers)
    assert int(limited.headers["Retry-After"]) >= 1


def test_unknown_provider_is_refused(browser) -> None:
    response = browser.get("/api/auth/login?provider=myspace")
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "provider"


# Sessions that can end: logout revokes the presented session server-side, and a signed-in
# shopper can sign out everywhere.


def signed_in_cookie(pool) -> tuple[str, str]:
    """A new user and the cookie of one of their sessions: (public id, cookie)."""
    public_id, email = new_user(pool)
    return public_id, user_cookie(public_id, email)


def browser_with(cookie: str, function: str = "auth") -> flask.testing.FlaskClient:
    client = new_browser(function)
    client.set_cookie(sessions.COOKIE_NAME, cookie)
    return client


def test_a_copy_of_the_cookie_is_refused_after_logout(pool) -> None:
    _, cookie = signed_in_cookie(pool)
    device = browser_with(cookie)
    copy = browser_with(cookie)
    assert copy.get("/api/auth/me").status_code == 200
    assert device.post("/api/auth/logout", headers={"Origin": SITE}).status_code == 204
    replayed = copy.get("/api/auth/me")
    assert replayed.status_code == 401
    assert replayed.get_json()["error"]["code"] == "sign_in_required"
    assert sessions.decode(cookie) is not None  # still well signed: refused server-side


def test_logout_revokes_only_the_session_presented(pool) -> None:
    public_id, email = new_user(pool)
    laptop, phone = user_cookie(public_id, email), user_cookie(public_id, email)
    assert (
        browser_with(laptop).post("/api/auth/logout", headers={"Origin": SITE}).status_code == 204
    )
    assert browser_with(laptop).get("/api/auth/me").status_code == 401
    assert browser_with(phone).get("/api/auth/me").status_code == 200


def test_a_replayed_cookie_is_no_session_in_other_functions(database_url) -> None:
    shop = new_browser("orders")
    order_id = shop.post("/api/orders/draft", json={"items": [TEE]}).get_json()["id"]
    anonymous = cookie_of(shop)
    assert shop.get(f"/api/orders/{order_id}").status_code == 200
    assert (
        browser_with(anonymous).post("/api/auth/logout", headers={"Origin": SITE}).status_code
        == 204
    )
    replay = browser_with(anonymous, "orders")
    assert replay.get(f"/api/orders/{order_id}").status_code == 404
    fresh = replay.post("/api/orders/draft", json={"items": [TEE]})
    assert fresh.status_code == 200 and fresh.get_json()["id"] != order_id
    assert cookie_of(replay) != anonymous  # a new anonymous session, not the revoked one


def test_sign_out_everywhere_ends_every_session_of_that_user_only(pool) -> None:
    public_id, email = new_user(pool)
    laptop, phone = user_cookie(public_id, email), user_cookie(public_id, email)
    _, someone_else = signed_in_cookie(pool)
    device = browser_with(laptop)
    done = device.post("/api/auth/logout-everywhere", headers={"Origin": SITE})
    assert done.status_code == 204
    assert device.get_cookie(sessions.COOKIE_NAME) is None
    assert browser_with(laptop).get("/api/auth/me").status_code == 401
    assert browser_with(phone).get("/api/auth/me").status_code == 401
    assert browser_with(someone_else).get("/api/auth/me").status_code == 200
    again = browser_with(user_cookie(public_id, email))  # signing in again works at once
    assert again.get("/api/auth/me").status_code == 200


def test_sign_out_everywhere_needs_a_signed_in_same_site_caller(pool) -> None:
    anonymous = browser_with(sessions.encode(caller.new_anonymous()))
    refused = anonymous.post("/api/auth/logout-everywhere", headers={"Origin": SITE})
    assert refused.status_code == 401
    assert new_browser().post("/api/auth/logout-everywhere").status_code == 401
    _, cookie = signed_in_cookie(pool)
    forged = browser_with(cookie).post(
        "/api/auth/logout-everywhere", headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert browser_with(cookie).get("/api/auth/me").status_code == 200


def test_a_sign_out_on_another_instance_takes_effect_within_the_live_window(
    pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "LIVE_FOR_SECONDS", 0.5)
    public_id, email = new_user(pool)
    laptop, phone = user_cookie(public_id, email), user_cookie(public_id, email)
    copy, other = browser_with(laptop, "orders"), browser_with(phone, "orders")
    assert copy.get("/api/orders").status_code == 200
    assert other.get("/api/orders").status_code == 200
    # Another instance signs the laptop out, and then the user everywhere: it writes the
    # records, and this instance, which checked both sessions a moment ago, is not told.
    laptop_session, phone_session = sessions.decode(laptop), sessions.decode(phone)
    assert laptop_session is not None and phone_session is not None
    state.backend().put(sessions.REVOCATIONS, f"session:{laptop_session.session_id}", {})
    state.backend().put(sessions.REVOCATIONS, f"user:{public_id}", {"not_before": time.time()})
    assert copy.get("/api/orders").status_code == 200  # still trusted: read once per window
    time.sleep(0.6)
    for browser in (copy, other):
        refused = browser.get("/api/orders")
        assert refused.status_code == 401, refused.get_json()


def test_revocation_records_expire_with_the_session(pool) -> None:
    public_id, email = new_user(pool)
    session = caller.for_user(public_id, email, None, "google")
    cookie = sessions.encode(session)
    browser_with(cookie).post("/api/auth/logout", headers={"Origin": SITE})
    browser_with(user_cookie(public_id, email)).post(
        "/api/auth/logout-everywhere", headers={"Origin": SITE}
    )
    with pool.connect() as conn:
        rows = conn.execute(
            "SELECT id, EXTRACT(EPOCH FROM expires_at) AS expires FROM state_documents"
            " WHERE collection = :c AND (id LIKE :session OR id LIKE :user)",
            {
                "c": sessions.REVOCATIONS,
                "session": f"%{session.session_id}",
                "user": f"%{public_id}",
            },
        ).all()
    assert len(rows) == 2
    latest = time.time() + caller.USER_LIFETIME + 2 * sessions.LEEWAY_SECONDS
    for row in rows:
        assert row.expires is not None
        assert session.expires_at <= float(row.expires) <= latest


def test_every_session_has_an_id_and_sessions_without_one_are_refused(pool) -> None:
    first, second = caller.new_anonymous(), caller.new_anonymous()
    assert first.session_id and first.session_id != second.session_id
    decoded = sessions.decode(sessions.encode(first))
    assert decoded is not None and decoded.session_id == first.session_id
    public_id, _ = new_user(pool)
    now = int(time.time())
    claims = {"iss": "auren", "aud": "auren-shop", "iat": now, "exp": now + 600}
    secret = config.settings().session_secret
    legacy_user = jwt.encode({**claims, "sub": public_id}, secret, algorithm="HS256")
    assert sessions.decode(legacy_user) is None
    legacy_anonymous = jwt.encode({**claims, "sub": "anon_" + "a" * 32}, secret, algorithm="HS256")
    kept = sessions.decode(legacy_anonymous)
    assert kept is not None and kept.session_id == "anon_" + "a" * 32
