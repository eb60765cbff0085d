"""Bulk order drafts through the `orders` function, against real Postgres."""

import secrets
import threading

import flask.testing
import pytest

from common.api.orders import MAX_ASSISTANT_MESSAGE, AssistantIn
from common.infra import db
from common.providers import sizes_openai
from common.shop import catalog, lifecycle
from common.web import sessions
from tests.conftest import function_app, new_user, user_cookie

TEE_ITEM = {"product_id": "classic-tee", "color": "Black", "sizes": {"M": 10, "L": 5}}


@pytest.fixture
def shopper(database_url: str) -> flask.testing.FlaskClient:
    """A fresh browser: its first draft gives it an anonymous session cookie."""
    return function_app("orders").test_client()


@pytest.fixture
def other_shopper(database_url: str) -> flask.testing.FlaskClient:
    return function_app("orders").test_client()


def signed_in(client: flask.testing.FlaskClient, pool: db.Pool) -> str:
    """Sign `client` in as a new user (the auth function does this in production)."""
    public_id, email = new_user(pool)
    client.set_cookie(sessions.COOKIE_NAME, user_cookie(public_id, email))
    return public_id


def draft(client, items, order_id=None):
    body = {"items": items} if order_id is None else {"order_id": order_id, "items": items}
    return client.post("/api/orders/draft", json=body)


def test_a_draft_is_created_priced_and_owned_by_a_new_anonymous_session(shopper) -> None:
    response = draft(shopper, [TEE_ITEM])
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    order = response.get_json()
    assert order["id"].startswith("ord_") and len(order["id"]) >= 24
    assert order["status"] == "draft"
    item = order["items"][0]
    assert item["sizes"] == {"M": 10, "L": 5}
    assert item["quantity"] == 15
    assert item["unit_price_cents"] == 1550
    assert item["line_total_cents"] == 15 * 1550
    assert item["savings_cents"] == 15 * 250
    assert item["next_tier"] == {
        "min_quantity": 24,
        "unit_price_cents": 1400,
        "pieces_to_go": 9,
        "saving_per_piece_cents": 150,
    }
    assert order["subtotal_cents"] == order["total_cents"] == 15 * 1550
    assert shopper.get(f"/api/orders/{order['id']}").get_json() == order


def test_two_designs_by_five_sizes_with_tiers_and_upcharges(shopper, pool) -> None:
    sizes = {"S": 4, "M": 10, "L": 8, "XL": 4, "2XL": 2}
    order = draft(
        shopper,
        [
            {"product_id": "classic-tee", "color": "White", "sizes": sizes},
            {"product_id": "hoodie", "color": "Navy", "sizes": {**sizes, "3XL": 1}},
        ],
    ).get_json()
    tee, hoodie = order["items"]
    assert tee["quantity"] == 28 and tee["unit_price_cents"] == 1400
    assert tee["line_total_cents"] == 26 * 1400 + 2 * 1600
    assert hoodie["quantity"] == 29 and hoodie["unit_price_cents"] == 3950
    assert hoodie["line_total_cents"] == 26 * 3950 + 2 * 4250 + 1 * 4550
    assert order["total_cents"] == tee["line_total_cents"] + hoodie["line_total_cents"]
    with pool.connect() as conn:
        stored = conn.execute(
            "SELECT count(*) FROM order_sizes s JOIN order_items i ON i.id = s.order_item_id"
            " JOIN orders o ON o.id = i.order_id WHERE o.public_id = :p",
            {"p": order["id"]},
        ).scalar()
    assert stored == 11


def test_replacing_the_items_of_a_draft(shopper) -> None:
    order = draft(shopper, [TEE_ITEM]).get_json()
    updated = draft(
        shopper,
        [{"product_id": "tote", "color": "natural", "sizes": {"os": 30}}],
        order_id=order["id"],
    )
    assert updated.status_code == 200
    body = updated.get_json()
    assert body["id"] == order["id"]
    assert body["version"] == order["version"] + 1
    assert [(i["product_id"], i["color"], i["sizes"]) for i in body["items"]] == [
        ("tote", "Natural", {"OS": 30})
    ]


def test_other_sessions_and_guesses_get_404_on_every_route(shopper, other_shopper) -> None:
    order_id = draft(shopper, [TEE_ITEM]).get_json()["id"]
    draft(other_shopper, [TEE_ITEM])
    assert other_shopper.get(f"/api/orders/{order_id}").status_code == 404
    assert draft(other_shopper, [TEE_ITEM], order_id=order_id).status_code == 404
    ask = other_shopper.post(
        "/api/orders/assistant", json={"order_id": order_id, "item": 0, "message": "10 M"}
    )
    assert ask.status_code == 404
    fresh = function_app("orders").test_client()
    assert fresh.get(f"/api/orders/{order_id}").status_code == 404
    guess = order_id[:-2] + ("AA" if not order_id.endswith("AA") else "BB")
    assert shopper.get(f"/api/orders/{guess}").status_code == 404
    assert shopper.get("/api/orders/1").status_code == 404
    assert shopper.get(f"/api/orders/{order_id}").get_json()["items"][0]["sizes"] == {
        "M": 10,
        "L": 5,
    }


def test_a_forged_session_cookie_is_no_session(shopper) -> None:
    order_id = draft(shopper, [TEE_ITEM]).get_json()["id"]
    forged = function_app("orders").test_client()
    forged.set_cookie(sessions.COOKIE_NAME, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
    assert forged.get(f"/api/orders/{order_id}").status_code == 404


def test_order_history_needs_a_signed_in_shopper_and_is_newest_first(shopper, pool) -> None:
    assert shopper.get("/api/orders").status_code == 401
    signed_in(shopper, pool)
    first = draft(shopper, [TEE_ITEM]).get_json()["id"]
    second = draft(shopper, [TEE_ITEM, TEE_ITEM]).get_json()["id"]
    listing = shopper.get("/api/orders")
    assert listing.status_code == 200
    assert listing.headers["Cache-Control"] == "private, no-store"
    orders = listing.get_json()["orders"]
    assert [o["id"] for o in orders] == [second, first]
    assert orders[0]["item_count"] == 2 and orders[0]["quantity"] == 30


VALIDATION_ERRORS = [
    ([{**TEE_ITEM, "product_id": "ballgown"}], "unknown_product", "items.0.product_id"),
    ([{**TEE_ITEM, "color": "Chartreuse"}], "unknown_color", "items.0.color"),
    ([{**TEE_ITEM, "sizes": {"M": 1, "5XL": 2}}], "unknown_size", "items.0.sizes.5XL"),
    (
        [{"product_id": "hoodie", "color": "Black", "sizes": {"XS": 3}}],
        "unknown_size",
        "items.0.sizes.XS",
    ),
    ([{**TEE_ITEM, "sizes": {"M": 0}}], "validation_error", "items.0.sizes.M"),
    ([{**TEE_ITEM, "sizes": {"M": -3}}], "validation_error", "items.0.sizes.M"),
    ([{**TEE_ITEM, "sizes": {"M": 10_001}}], "validation_error", "items.0.sizes.M"),
    ([{**TEE_ITEM, "sizes": {"M": 2.5}}], "validation_error", "items.0.sizes.M"),
    ([{**TEE_ITEM, "sizes": {"M": "10"}}], "validation_error", "items.0.sizes.M"),
    ([{**TEE_ITEM, "sizes": {"M": True}}], "validation_error", "items.0.sizes.M"),
    ([{**TEE_ITEM, "sizes": {}}], "validation_error", "items.0.sizes"),
    ([{**TEE_ITEM, "sizes": {"m": 1, "M": 2}}], "duplicate_size", "items.0.sizes"),
    ([{**TEE_ITEM, "price_cents": 1}], "validation_error", "items.0.price_cents"),
    ([TEE_ITEM] * 21, "validation_error", "items"),
    (
        [{**TEE_ITEM, "sizes": {s: 10_000 for s in ("S", "M", "L")}}],
        "order_too_large",
        "items",
    ),
    ([{**TEE_ITEM, "design_id": "dsn_nope"}], "unknown_design", "items.0.design_id"),
]


@pytest.mark.parametrize(("items", "code", "field"), VALIDATION_ERRORS)
def test_bad_items_are_refused_naming_the_field_and_change_nothing(
    shopper, items, code, field
) -> None:
    order = draft(shopper, [TEE_ITEM]).get_json()
    response = draft(shopper, items, order_id=order["id"])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert shopper.get(f"/api/orders/{order['id']}").get_json() == order


def test_only_drafts_are_editable(shopper, pool) -> None:
    order = draft(shopper, [TEE_ITEM]).get_json()
    with pool.transaction() as conn:
        conn.execute(
            "UPDATE orders SET status = 'pending_payment' WHERE public_id = :p",
            {"p": order["id"]},
        )
    response = draft(shopper, [TEE_ITEM, TEE_ITEM], order_id=order["id"])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_not_editable"
    assert len(shopper.get(f"/api/orders/{order['id']}").get_json()["items"]) == 1


def test_concurrent_updates_of_one_draft_end_consistent(shopper, pool) -> None:
    order_id = draft(shopper, [TEE_ITEM]).get_json()["id"]
    cookie = shopper.get_cookie(sessions.COOKIE_NAME).value
    results: list[int] = []

    def update(n: int) -> None:
        client = function_app("orders").test_client()
        client.set_cookie(sessions.COOKIE_NAME, cookie)
        items = [{**TEE_ITEM, "sizes": {"M": n}}] * (1 + n % 3)
        results.append(draft(client, items, order_id=order_id).status_code)

    threads = [threading.Thread(target=update, args=(n,)) for n in range(1, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 12
    final = shopper.get(f"/api/orders/{order_id}").get_json()
    assert final["version"] == 1 + 1 + 12
    sizes = {i["sizes"]["M"] for i in final["items"]}
    assert len(sizes) == 1
    n = sizes.pop()
    assert len(final["items"]) == 1 + n % 3
    with pool.connect() as conn:
        rows = conn.execute(
            "SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id"
            " WHERE o.public_id = :p",
            {"p": order_id},
        ).scalar()
    assert rows == len(final["items"])


LEGAL_MOVES = {
    ("draft", "pending_payment"),
    ("draft", "cancelled"),
    ("pending_payment", "paid"),
    ("pending_payment", "draft"),
    ("paid", "in_production"),
    ("paid", "refunded"),
    ("in_production", "shipped"),
    ("in_production", "refunded"),
    ("shipped", "delivered"),
    ("shipped", "refunded"),
    ("delivered", "refunded"),
}
STATUSES = [
    "draft",
    "pending_payment",
    "paid",
    "in_production",
    "shipped",
    "delivered",
    "refunded",
    "cancelled",
]


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_every_status_move_follows_the_table(current: str, target: str) -> None:
    if (current, target) in LEGAL_MOVES:
        lifecycle.check_transition(current, target)
    else:
        with pytest.raises(lifecycle.IllegalTransition) as raised:
            lifecycle.check_transition(current, target)
        assert raised.value.status == 409


def test_the_assistant_resizes_an_item_from_plain_words(shopper) -> None:
    order = draft(
        shopper,
        [
            {"product_id": "classic-tee", "color": "Black", "sizes": {"S": 2, "M": 2}},
            {"product_id": "hoodie", "color": "Navy", "sizes": {"L": 4}},
        ],
    ).get_json()
    answer = shopper.post(
        "/api/orders/assistant",
        json={"order_id": order["id"], "item": 0, "message": "make it only 10 M, 5 L and 3 XL"},
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["understood"] is True
    assert "10 M, 5 L and 3 XL" in body["reply"]
    tee, hoodie = body["order"]["items"]
    assert tee["sizes"] == {"M": 10, "L": 5, "XL": 3}
    assert tee["unit_price_cents"] == 1550
    assert hoodie["sizes"] == {"L": 4}
    assert body["order"]["version"] == order["version"] + 1
    assert shopper.get(f"/api/orders/{order['id']}").get_json() == body["order"]


def test_the_assistant_asks_back_and_changes_nothing(shopper) -> None:
    order = draft(shopper, [{"product_id": "hoodie", "color": "Navy", "sizes": {"L": 4}}])
    order = order.get_json()
    for message in ("2 XS please", "a few more", "make it bigger"):
        answer = shopper.post(
            "/api/orders/assistant", json={"order_id": order["id"], "item": 0, "message": message}
        ).get_json()
        assert answer["understood"] is False
        assert answer["reply"].endswith("?")
        assert answer["order"] == order


def test_the_assistant_refuses_an_unknown_item(shopper) -> None:
    order_id = draft(shopper, [TEE_ITEM]).get_json()["id"]
    answer = shopper.post(
        "/api/orders/assistant", json={"order_id": order_id, "item": 3, "message": "10 M"}
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "item"


def test_an_item_with_a_design_shows_the_design_mockups(shopper, pool) -> None:
    draft(shopper, [TEE_ITEM])
    cookie = shopper.get_cookie(sessions.COOKIE_NAME)
    assert cookie is not None
    owner = sessions.decode(cookie.value)
    assert owner is not None
    design_id = "dsn_" + secrets.token_urlsafe(18)
    with pool.transaction() as conn:
        conn.execute(
            "WITH design AS (INSERT INTO designs (public_id, owner_session, product_id,"
            " color, final_image_url, mockup_back_url) VALUES (:d, :o, 'classic-tee',"
            " 'Black', '/storage/front.png', '/storage/back.png') RETURNING *)"
            " INSERT INTO design_versions (design_id, version, product_id, color, layers,"
            " brief, mockup_front_url, mockup_back_url) SELECT id, version, product_id,"
            " color, layers, brief, final_image_url, mockup_back_url FROM design",
            {"d": design_id, "o": owner.subject},
        )
    order = draft(shopper, [{**TEE_ITEM, "design_id": design_id}, TEE_ITEM]).get_json()
    designed, plain = order["items"]
    assert designed["design_id"] == design_id
    assert designed["mockups"] == {"front": "/storage/front.png", "back": "/storage/back.png"}
    assert plain["mockups"] is None
    # One design and a plain item are separate tiers: 15 pieces each.
    assert designed["unit_price_cents"] == plain["unit_price_cents"] == 1550


def test_the_size_assistant_is_rate_limited_per_client(shopper) -> None:
    order_id = draft(shopper, [TEE_ITEM]).get_json()["id"]
    shopper.environ_base["HTTP_X_FORWARDED_FOR"] = secrets.token_hex(8)
    ask = {"order_id": order_id, "item": 0, "message": "a few more"}
    statuses = [shopper.post("/api/orders/assistant", json=ask).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


def test_an_order_is_in_one_currency(shopper, pool) -> None:
    with pool.transaction() as conn:
        conn.execute("UPDATE products SET currency = 'eur' WHERE id = 'cap'")
    catalog.forget()
    try:
        cap = {"product_id": "cap", "color": "Black", "sizes": {"OS": 12}}
        response = draft(shopper, [TEE_ITEM, cap])
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "mixed_currencies"
    finally:
        with pool.transaction() as conn:
            conn.execute("UPDATE products SET currency = 'usd' WHERE id = 'cap'")
        catalog.forget()


def test_the_assistant_reads_every_character_it_accepts(shopper) -> None:
    """One limit for the message, at the edge: a message at the limit is read to its end;
    one character more is a 422 naming the field, never a silently ignored tail."""
    order = draft(shopper, [TEE_ITEM]).get_json()
    limit = AssistantIn.model_fields["message"].metadata
    assert any(getattr(m, "max_length", None) == MAX_ASSISTANT_MESSAGE for m in limit)
    tail = "make it 7 XL"
    at_limit = ("please " * 100)[: MAX_ASSISTANT_MESSAGE - len(tail)] + tail
    ask = {"order_id": order["id"], "item": 0}
    read = shopper.post("/api/orders/assistant", json={**ask, "message": at_limit})
    assert read.status_code == 200
    assert read.get_json()["understood"] is True
    assert read.get_json()["order"]["items"][0]["sizes"] == {"M": 10, "L": 5, "XL": 7}
    for too_long in ("x" + at_limit, "\u2026" * 200 + tail):  # "…" reads as three characters
        refused = shopper.post("/api/orders/assistant", json={**ask, "message": too_long})
        assert refused.status_code == 422, too_long
        error = refused.get_json()["error"]
        assert error["field"] == "message"
        assert str(MAX_ASSISTANT_MESSAGE) in error["message"]
    assert shopper.get(f"/api/orders/{order['id']}").get_json()["version"] == order["version"] + 1


def test_the_size_assistant_takes_what_the_edge_lets_through() -> None:
    assert sizes_openai.MAX_MESSAGE_CHARS == MAX_ASSISTANT_MESSAGE
