"""Group orders through the `orders` function, on a real Postgres: an organizer starts a group,
members join from their own browsers, and closing turns the roster into one draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.infra import config, db
from common.web import sessions
from tests.conftest import function_app
from tests.groups_setup import Organizer, browser, join, new_organizer


@pytest.fixture
def organizer(pool: db.Pool) -> Organizer:
    return new_organizer(pool)


def entry_of(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.get_json()
    mine: list[dict[str, Any]] = response.get_json()["mine"]
    return mine[-1]


def printed_on(preview_url: str, plain_url: str) -> bool:
    """Whether the preview shows ink on the back where the design's plain back has none."""
    import io

    from PIL import Image, ImageChops

    from common.providers import storage

    def image(url: str) -> Image.Image:
        data = storage.storage().get(url.removeprefix("/storage/"))
        assert data is not None, url
        return Image.open(io.BytesIO(data)).convert("RGB")

    return ImageChops.difference(image(preview_url), image(plain_url)).getbbox() is not None


def test_members_join_edit_and_remove_and_closing_makes_one_draft(organizer, pool) -> None:
    group = organizer.start()
    token = group["token"]
    assert len(token) == 32 and token not in group["id"]
    assert group["share_url"] == f"{config.settings().site_url}/group/{token}"
    assert (group["status"], group["accepting"], group["members"]) == ("open", True, [])

    ana, ben, cleo = browser(), browser(), browser()
    first = join(ana, token, "Ana López", "m", personalization={"name": "ANA", "number": "7"})
    assert first.status_code == 201, first.get_json()
    assert sessions.COOKIE_NAME in first.headers["Set-Cookie"]  # the entry's owner, anonymous
    ana_entry = entry_of(first)
    assert (ana_entry["size"], ana_entry["quantity"]) == ("M", 1)
    assert ana_entry["personalization"] == {"name": "ANA", "number": "7"}
    assert ana_entry["preview_back"].startswith("/storage/mockups/")
    assert printed_on(ana_entry["preview_back"], group["mockups"]["back"])
    ben_entry = entry_of(
        join(ben, token, "Ben Okafor", "L", personalization={"name": "BEN", "number": "10"})
    )
    cleo_entry = entry_of(join(cleo, token, "Cleo", "S", quantity=2))
    assert cleo_entry["personalization"] is None and cleo_entry["preview_back"] is None
    spare = entry_of(join(cleo, token, "Cleo", "M"))

    # A member sees the others' first names and sizes only, and their own entries in full.
    seen = ben.get(f"/api/groups/{token}").get_json()
    assert seen["members"] == [
        {"first_name": "Ana", "size": "M"},
        {"first_name": "Cleo", "size": "S"},
        {"first_name": "Cleo", "size": "M"},
    ]
    assert [entry["id"] for entry in seen["mine"]] == [ben_entry["id"]]
    assert "López" not in str(seen) and "ANA" not in str(seen)

    edited = ben.patch(
        f"/api/groups/{token}/members/{ben_entry['id']}",
        json={
            "name": "Ben Okafor",
            "size": "XL",
            "personalization": {"name": "B. OKAFOR", "number": "10"},
        },
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["mine"][0]["size"] == "XL"
    removed = cleo.delete(f"/api/groups/{token}/members/{spare['id']}")
    assert removed.status_code == 200
    assert [entry["id"] for entry in removed.get_json()["mine"]] == [cleo_entry["id"]]

    roster = organizer.client().get(f"/api/groups/{group['id']}").get_json()
    assert [m["name"] for m in roster["members"]] == ["Ana López", "Ben Okafor", "Cleo"]
    assert roster["sizes"] == {"S": 2, "M": 1, "XL": 1}
    assert (roster["pieces"], roster["unit_price_cents"]) == (4, 1800)  # below the first tier
    assert roster["next_tier"] == {
        "min_quantity": 12,
        "unit_price_cents": 1550,
        "pieces_to_go": 8,
        "saving_per_piece_cents": 250,
    }

    closed = organizer.client().post(f"/api/groups/{group['id']}/close")
    assert closed.status_code == 200, closed.get_json()
    order_id = closed.get_json()["order_id"]
    assert closed.get_json()["status"] == "closed" and order_id.startswith("ord_")
    again = organizer.client().post(f"/api/groups/{group['id']}/close")
    assert again.get_json()["order_id"] == order_id  # closing twice makes one draft

    order = organizer.client().get(f"/api/orders/{order_id}").get_json()
    assert order["status"] == "draft"
    (item,) = order["items"]
    assert item["sizes"] == {"S": 2, "M": 1, "XL": 1}
    assert (item["design_id"], item["color"]) == (group["design_id"], "Black")
    assert item["line_total_cents"] == roster["subtotal_cents"] == 4 * 1800
    with pool.connect() as conn:
        pieces = conn.execute(
            "SELECT p.member_name, p.size, p.print_name, p.print_number FROM order_pieces p"
            " JOIN orders o ON o.id = p.order_id WHERE o.public_id = :o ORDER BY p.position",
            {"o": order_id},
        ).all()
    assert [tuple(p) for p in pieces] == [
        ("Ana López", "M", "ANA", "7"),
        ("Ben Okafor", "XL", "B. OKAFOR", "10"),
        ("Cleo", "S", None, None),
    ]
    # Closed: no more entries, changes or removals.
    for response in (
        join(browser(), token, "Dan", "M"),
        ana.delete(f"/api/groups/{token}/members/{ana_entry['id']}"),
    ):
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "group_closed"
    assert ana.get(f"/api/groups/{token}").get_json()["accepting"] is False


def test_the_price_follows_the_tiers_as_members_join(organizer) -> None:
    group = organizer.start(personalization={})
    member = browser()
    for size in ("S", "M", "L", "XL", "2XL"):
        assert join(member, group["token"], "Mo", size, quantity=2).status_code == 201
    roster = organizer.client().get(f"/api/groups/{group['id']}").get_json()
    assert roster["pieces"] == 10
    assert (roster["unit_price_cents"], roster["next_tier"]["pieces_to_go"]) == (1800, 2)
    assert join(member, group["token"], "Mo", "M", quantity=2).status_code == 201
    roster = organizer.client().get(f"/api/groups/{group['id']}").get_json()
    assert (roster["pieces"], roster["unit_price_cents"], roster["tier_min_quantity"]) == (
        12,
        1550,
        12,
    )
    assert roster["next_tier"]["min_quantity"] == 24
    assert roster["next_tier"]["pieces_to_go"] == 12
    assert roster["subtotal_cents"] == 12 * 1550 + 2 * 200  # the 2XL pieces' upcharge


def test_a_stranger_cannot_read_the_roster_change_an_entry_or_close(organizer, pool) -> None:
    group = organizer.start()
    token, group_id = group["token"], group["id"]
    ana = browser()
    ana_entry = entry_of(join(ana, token, "Ana", "M", personalization={"number": "7"}))
    other = new_organizer(pool)
    for stranger in (browser(), other.client(), ana):
        for response in (
            stranger.get(f"/api/groups/{group_id}"),
            stranger.post(f"/api/groups/{group_id}/close"),
        ):
            assert response.status_code == 404, response.get_json()
            assert response.get_json()["error"]["code"] == "group_not_found"
    mallory = browser()
    join(mallory, token, "Mallory", "S")
    for response in (
        mallory.patch(
            f"/api/groups/{token}/members/{ana_entry['id']}", json={"name": "X", "size": "S"}
        ),
        mallory.delete(f"/api/groups/{token}/members/{ana_entry['id']}"),
        browser().delete(f"/api/groups/{token}/members/{ana_entry['id']}"),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "entry_not_found"
    # Another site cannot make a member's browser join, change an entry or close a group.
    evil = {"Origin": "https://evil.example"}
    for response in (
        ana.post(f"/api/groups/{token}/members", json={"name": "Ana", "size": "M"}, headers=evil),
        ana.delete(f"/api/groups/{token}/members/{ana_entry['id']}", headers=evil),
        organizer.client().post(f"/api/groups/{group_id}/close", headers=evil),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "cross_site_request"
    # A group id is not a share link, and a guess is not found either.
    assert ana.get(f"/api/groups/{group_id}").status_code == 404
    assert join(browser(), group_id, "Eve", "M").status_code == 404
    assert browser().get("/api/groups/" + "A" * 32).status_code == 404
    roster = organizer.client().get(f"/api/groups/{group_id}").get_json()
    assert [(m["name"], m["size"]) for m in roster["members"]] == [("Ana", "M"), ("Mallory", "S")]


def test_past_the_deadline_entries_are_refused(organizer, pool) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    group = organizer.start(deadline=tomorrow)
    ana = browser()
    ana_entry = entry_of(join(ana, group["token"], "Ana", "M"))
    with pool.transaction() as conn:
        conn.execute(
            "UPDATE groups SET deadline = now() - interval '1 second' WHERE token = :t",
            {"t": group["token"]},
        )
    for response in (
        join(browser(), group["token"], "Ben", "L"),
        ana.patch(
            f"/api/groups/{group['token']}/members/{ana_entry['id']}",
            json={"name": "Ana", "size": "L"},
        ),
        ana.delete(f"/api/groups/{group['token']}/members/{ana_entry['id']}"),
    ):
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "group_deadline_passed"
    view = ana.get(f"/api/groups/{group['token']}").get_json()
    assert (view["status"], view["accepting"]) == ("open", False)
    # The organizer still closes it: what was collected is ordered.
    closed = organizer.client().post(f"/api/groups/{group['id']}/close").get_json()
    assert closed["sizes"] == {"M": 1} and closed["order_id"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "Ana", "size": "XXS"}, "unknown_size"),
        ({"name": "R2-D2", "size": "M"}, "invalid_name"),
        ({"name": "   ", "size": "M"}, "invalid_name"),
        ({"name": "A" * 61, "size": "M"}, "invalid_name"),
        ({"name": "Ana", "size": "M", "quantity": 0}, "validation_error"),
        ({"name": "Ana", "size": "M", "quantity": 11}, "validation_error"),
        ({"name": "Ana", "size": "M", "quantity": "2"}, "validation_error"),
        (
            {"name": "Ana", "size": "M", "personalization": {"number": "123"}},
            "invalid_print_number",
        ),
        ({"name": "Ana", "size": "M", "personalization": {"number": "-1"}}, "invalid_print_number"),
        ({"name": "Ana", "size": "M", "personalization": {"name": "ANA<b>"}}, "invalid_print_name"),
        ({"name": "Ana", "size": "M", "personalization": {"name": "A" * 15}}, "invalid_print_name"),
        ({"name": "Ana", "size": "M", "personalization": {"name": "😀"}}, "invalid_print_name"),
    ],
)
def test_entries_are_validated(organizer, fields, code) -> None:
    group = organizer.start()
    response = browser().post(f"/api/groups/{group['token']}/members", json=fields)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == code


def test_a_group_without_names_prints_none(organizer) -> None:
    group = organizer.start(personalization={"number": True})
    refused = join(browser(), group["token"], "Ana", "M", personalization={"name": "ANA"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "personalization_not_offered"
    assert (
        join(browser(), group["token"], "Ana", "M", personalization={"number": "9"}).status_code
        == 201
    )


def test_only_a_signed_in_organizer_starts_a_group_of_their_own_design(organizer, pool) -> None:
    design_id = organizer.design()
    body = {"design_id": design_id, "product_id": "classic-tee", "color": "Black", "title": "Kit"}
    assert browser().post("/api/groups", json=body).status_code == 401
    someone = new_organizer(pool).client().post("/api/groups", json=body)
    assert (someone.status_code, someone.get_json()["error"]["code"]) == (422, "unknown_design")
    cross_site = organizer.client().post(
        "/api/groups", json=body, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    for wrong, code in (
        ({"product_id": "hoodie"}, "design_product_mismatch"),
        ({"color": "Plaid"}, "unknown_color"),
        ({"title": "  "}, "invalid_title"),
        ({"deadline": "2020-01-01T00:00:00Z"}, "invalid_deadline"),
        ({"deadline": "2020-01-01T00:00:00"}, "validation_error"),  # no time zone
        ({"personalization": {"font": "Comic Sans"}}, "validation_error"),
    ):
        response = organizer.client().post("/api/groups", json={**body, **wrong})
        assert response.status_code == 422, (wrong, response.get_json())
        assert response.get_json()["error"]["code"] == code


def test_closing_an_empty_group_is_refused(organizer) -> None:
    group = organizer.start()
    response = organizer.client().post(f"/api/groups/{group['id']}/close")
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "group_empty")


def test_one_person_adds_a_few_entries_at_most(organizer) -> None:
    group = organizer.start(personalization={})
    parent = browser()
    for _ in range(10):
        assert join(parent, group["token"], "Kid", "S").status_code == 201
    response = join(parent, group["token"], "Kid", "S")
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "too_many_entries")


def test_entries_are_rate_limited(organizer) -> None:
    member = browser()
    statuses = [join(member, "B" * 32, "Ana", "M").status_code for _ in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429


def test_after_payment_each_personalized_piece_has_a_print_file(organizer, monkeypatch) -> None:
    import io

    from PIL import Image

    from common.providers import mail, sheets
    from tests.test_checkout import Pending, Shopper, checkout
    from tests.test_order_contract import catalog_area, drain_all
    from tests.test_webhook import event, send, session_object

    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)
    group = organizer.start()
    token = group["token"]
    join(browser(), token, "Ana López", "M", personalization={"name": "ANA", "number": "7"})
    join(browser(), token, "Ben", "L", personalization={"number": "10"})
    join(browser(), token, "Cleo", "S", quantity=2)
    order_id = organizer.client().post(f"/api/groups/{group['id']}/close").get_json()["order_id"]

    shopper = Shopper(organizer.public_id, organizer.email, organizer.cookie)
    started = checkout(shopper, order_id)
    assert started.status_code == 200, started.get_json()
    total = organizer.client().get(f"/api/orders/{order_id}").get_json()["total_cents"]
    pending = Pending(shopper, order_id, started.get_json()["session_id"], total, "usd")
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200
    assert drain_all()["failed"] == 0

    with db.connect() as conn:
        files = conn.execute(
            "SELECT p.position, p.object_key, p.width_px, p.height_px FROM order_pieces p"
            " JOIN orders o ON o.id = p.order_id WHERE o.public_id = :o ORDER BY p.position",
            {"o": order_id},
        ).all()
    assert [(f.position, f.object_key) for f in files] == [
        (0, f"print/{order_id}-p0-back.png"),
        (1, f"print/{order_id}-p1-back.png"),
        (2, None),  # Cleo's pieces print only the design
    ]
    roster = organizer.client().get(f"/api/orders/{order_id}").get_json()["roster"]
    assert [
        (p["member_name"], p["size"], p["quantity"], p["print_name"], p["print_number"])
        for p in roster
    ] == [
        ("Ana López", "M", 1, "ANA", "7"),
        ("Ben", "L", 1, None, "10"),
        ("Cleo", "S", 2, None, None),
    ]
    assert [p["print_file"] for p in roster] == [
        f"/api/ops/print-files/{order_id}-p0-back.png",
        f"/api/ops/print-files/{order_id}-p1-back.png",
        None,
    ]
    [area] = catalog_area("classic-tee", "back")
    ops = function_app("ops").test_client()
    token_header = {"Authorization": f"Bearer {config.settings().ops_token}"}
    for position in (0, 1):
        opened = ops.get(
            f"/api/ops/print-files/{order_id}-p{position}-back.png", headers=token_header
        )
        assert opened.status_code == 200 and opened.mimetype == "image/png"
        image = Image.open(io.BytesIO(opened.data))
        assert image.size == (round(area["width_in"] * 300), round(area["height_in"] * 300))
        assert image.getchannel("A").getbbox() is not None  # the name and number are inked
    assert (
        ops.get(f"/api/ops/print-files/{order_id}-p2-back.png", headers=token_header).status_code
        == 404
    )
    assert ops.get(f"/api/ops/print-files/{order_id}-p0-back.png").status_code == 403

    from tests.test_webhook import sheet_rows

    [row] = sheet_rows(order_id)
    assert row[5] == "S:2 M:1 L:1"
    assert row[10] == "Ana López M [ANA #7]; Ben L [#10]; Cleo 2xS"
