"""A group order in Chromium: the organizer starts it from the summary, three members join from
three phones of their own (two with a name and number for the back), one changes their entry,
one removes one; the organizer's roster follows live, the organizer closes and pays once, and
ops get one print file per personalized piece."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, Page, expect

from common.providers import queue
from tests.e2e.conftest import (
    VIEWPORTS,
    ConsoleWatch,
    Site,
    blocking_violations,
    new_context,
    post_json,
    save_screenshot,
)

ORGANIZER = "coach.rivera@example.com"
CREST = {"id": "crest", "type": "text", "area": "front", "x": 0.5, "y": 0.4, "text": "DAWN FC"}


def phone(browser: Browser, console: ConsoleWatch) -> tuple[BrowserContext, Page]:
    context = new_context(browser, VIEWPORTS["phone"], is_mobile=True, has_touch=True)
    context.on("page", console.watch)
    return context, context.new_page()


def add_entry(page: Page, name: str, size: str, print_name: str = "", number: str = "") -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Size", exact=True).select_option(size)
    if print_name:
        page.get_by_label("Name on the back (optional)").fill(print_name)
    if number:
        page.get_by_label("Number on the back (optional)").fill(number)
    page.get_by_role("button", name="Add me").click()


def test_a_group_order_from_share_link_to_print_files(
    site: Site, page: Page, browser: Browser, console: ConsoleWatch
) -> None:
    # The organizer's design and draft, then signing in on the summary.
    design = post_json(
        page,
        site,
        "/api/designs",
        {"product_id": "classic-tee", "color": "Black", "layers": [CREST]},
    )
    item = {"product_id": "classic-tee", "design_id": design["design_id"], "color": "Black"}
    draft = post_json(page, site, "/api/orders/draft", {"items": [{**item, "sizes": {"M": 1}}]})
    page.goto(site.url(f"/summary?order={draft['id']}"))
    page.get_by_role("link", name="Continue with Google").click()
    page.get_by_label("Email").fill(ORGANIZER)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Continue to secure checkout")).to_be_visible()

    page.get_by_role("link", name="Start a group order of Classic Tee, Black").click()
    expect(page.get_by_role("heading", name="Start a group order", level=1)).to_be_visible()
    page.get_by_label("Title").fill("Dawn FC kit")
    assert blocking_violations(page) == []
    save_screenshot(page, "group-start-desktop")
    page.get_by_role("button", name="Create the group link").click()
    page.wait_for_url(re.compile(r"/group/grp_[\w-]{24}$"))
    expect(page.get_by_role("heading", name="Dawn FC kit", level=1)).to_be_visible()
    share_url = page.get_by_label("Link for the group").input_value()
    assert re.fullmatch(rf"{re.escape(site.origin)}/group/[\w-]{{32}}", share_url), share_url
    expect(page.get_by_text("No one has joined yet.")).to_be_visible()
    roster_url = page.url

    # Three members, each on a phone of their own, none signed in.
    members = [phone(browser, console) for _ in range(3)]
    (_, ana), (_, ben), (_, cleo) = members
    ana.goto(share_url)
    expect(ana.get_by_role("heading", name="Dawn FC kit", level=1)).to_be_visible()
    expect(
        ana.get_by_role("button", name=re.compile(r"^Enlarge: Classic Tee in Black, back"))
    ).to_be_visible()
    assert blocking_violations(ana) == []
    add_entry(ana, "Ana López", "M", "ANA", "7")
    expect(ana.get_by_role("heading", name="Your entry")).to_be_visible()
    expect(ana.locator(".group-entry")).to_contain_text("on the back: ANA #7")
    preview = ana.get_by_role("button", name="Enlarge: Classic Tee in Black, back, with ANA #7")
    expect(preview.locator("img")).to_have_js_property("complete", True)
    save_screenshot(ana, "group-member-phone")

    ben.goto(share_url)
    add_entry(ben, "Ben Okafor", "L", "BEN", "10")
    expect(ben.get_by_role("heading", name="Your entry")).to_be_visible()
    expect(ben.locator(".group-names")).to_contain_text("Ana · M")
    assert "López" not in ben.locator(".group-others").inner_text()
    ben.get_by_role("button", name="Change the entry of Ben Okafor").click()
    ben.get_by_label("Size", exact=True).select_option("XL")
    ben.get_by_role("button", name="Save changes").click()
    expect(ben.locator(".group-entry")).to_contain_text("XL × 1")

    cleo.goto(share_url)
    add_entry(cleo, "Cleo", "S")
    expect(cleo.get_by_role("heading", name="Your entry")).to_be_visible()
    cleo.get_by_label("Pieces").fill("2")
    add_entry(cleo, "Cleo", "M")
    expect(cleo.get_by_role("heading", name="Your entries")).to_be_visible()
    cleo.get_by_role("button", name="Remove the entry of Cleo").last.click()
    expect(cleo.locator(".group-entry")).to_have_count(1)
    expect(cleo.locator(".group-entry")).to_contain_text("S × 1")

    # The organizer's roster follows by itself.
    rows = page.locator(".group-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator(".group-figures")).to_contain_text("S × 1, M × 1, XL × 1")
    expect(page.locator(".tier-hint")).to_have_text(
        "9 more pieces to reach the next price: $15.50 each."
    )
    expect(rows.nth(0)).to_contain_text("ANA #7")
    assert blocking_violations(page) == []
    save_screenshot(page, "group-roster-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    assert blocking_violations(page) == []
    save_screenshot(page, "group-roster-phone")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(share_url)  # the organizer sees the members' page as a member would
    expect(page.get_by_role("heading", name="Add your size")).to_be_visible()
    expect(page.locator(".group-names li")).to_have_count(3)
    assert blocking_violations(page) == []
    save_screenshot(page, "group-member-desktop")
    page.goto(roster_url)

    # A stranger with the roster's address finds nothing.
    stranger_context, stranger = phone(browser, console)
    console.allow("404")
    stranger.goto(roster_url)
    expect(stranger.get_by_role("heading", name="This group order was not found")).to_be_visible()

    # Closing makes one draft with the sizes everyone chose; the organizer pays once.
    page.get_by_role("button", name="Close the group and order").click()
    page.wait_for_url(re.compile(r"/summary\?order=ord_[\w-]+$"))
    order_id = page.url.split("order=")[1]
    expect(page.locator(".summary-item")).to_contain_text("1 S")
    expect(page.locator(".totals-grand dd")).to_have_text("$54.00")  # 3 x $18.00, below 12
    page.get_by_role("link", name="Continue to secure checkout").click()
    page.wait_for_url(re.compile(r"/_dev/checkout/"))
    page.get_by_role("button", name="Pay $54.00").click()
    expect(page.get_by_role("heading", name="Thank you! Your order is paid.")).to_be_visible()

    # Closed: the members' page says so and takes nothing more.
    ana.reload()
    expect(ana.get_by_text("The organizer has closed this group")).to_be_visible()
    expect(ana.get_by_role("button", name="Add me")).to_have_count(0)
    assert blocking_violations(ana) == []
    save_screenshot(ana, "group-closed-phone")

    # Ops: one print file per personalized piece, made by the queue's worker after the payment
    # was answered (the drain after it finds nothing left).
    broker = queue.broker()
    assert isinstance(broker, queue.LocalBroker)
    assert broker.wait_idle(60), "the queue's worker was still busy after 60 s"
    ops = {"Authorization": f"Bearer {site.settings.ops_token}", "Origin": site.origin}
    drained = page.request.post(
        site.url("/api/ops/outbox/drain"),
        headers={**ops, "Content-Type": "application/json"},
        data="{}",
    )
    assert drained.ok, drained.text()
    order = page.request.get(site.url(f"/api/orders/{order_id}")).json()
    assert order["items"][0]["sizes"] == {"S": 1, "M": 1, "XL": 1}
    files = [piece["print_file"] for piece in order["roster"]]
    assert files[2] is None and all(files[:2]), order["roster"]
    for path in files[:2]:
        opened = page.request.get(site.url(path), headers=ops)
        assert opened.ok and opened.headers["content-type"] == "image/png"

    for context, _ in [*members, (stranger_context, stranger)]:
        context.close()
