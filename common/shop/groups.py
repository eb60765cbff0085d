"""Group orders: an organizer shares one link, each member adds their own size (and the name
and number printed on the back), and closing the group turns the roster into one draft.

The organizer (signed in) reaches a group by its id; members by its share token, which is
unguessable and is not the id. A member's entry belongs to the session that added it. A group
takes entries until its deadline or until it is closed (then 409); a group or an entry that is
not the caller's answers exactly as one that does not exist (404). The roster is priced as the
draft will be (`orders.price`): the same tiers, the same upcharges.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.core import colors, errors
from common.core.caller import Session
from common.core.text import normalize_text
from common.infra import db
from common.infra.config import settings
from common.shop import catalog, group_store, order_store, orders, owners, pricing
from common.shop.group_store import Entry, Group, Member, NewGroup, Style
from common.shop.lifecycle import MAX_MEMBERS, MAX_QUANTITY
from common.shop.order_store import Choice, Piece

if TYPE_CHECKING:
    from common.infra.db import Connection

GROUP_ID = re.compile(r"^grp_[A-Za-z0-9_-]{24}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
MEMBER_ID = re.compile(r"^mem_[A-Za-z0-9_-]{16}$")
GROUP_PAGE = "/group/"  # the storefront's page of a group: /group/<token>
MAX_ENTRIES_PER_SESSION = 10  # one phone may add a few (a parent for their children)
MAX_DEADLINE_DAYS = 180
MAX_TITLE = 80
MAX_NAME = 60
MAX_PRINT_NAME = 14
TEXT_SIZES = ("small", "medium", "large")
# A printed name: Latin letters (accents included: the font has them), spaces, . ' -
PRINT_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ .'-]*$")
PRINT_NUMBER = re.compile(r"^[0-9]{1,2}$")
NAME_PUNCTUATION = frozenset(" .'-")


class GroupNotFound(errors.NotFound):
    code = "group_not_found"

    def __init__(self) -> None:
        super().__init__("there is no such group")


class EntryNotFound(errors.NotFound):
    code = "entry_not_found"

    def __init__(self) -> None:
        super().__init__("there is no such entry of yours in this group")


class GroupClosed(errors.Conflict):
    code = "group_closed"


class DeadlinePassed(errors.Conflict):
    code = "group_deadline_passed"


class GroupFull(errors.Conflict):
    code = "group_full"


class GroupEmpty(errors.Conflict):
    code = "group_empty"


def new_group_id() -> str:
    return "grp_" + secrets.token_urlsafe(18)


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def new_member_id() -> str:
    return "mem_" + secrets.token_urlsafe(12)


def share_url(group: Group) -> str:
    return f"{settings().site_url}{GROUP_PAGE}{group.token}"


# --- validation ------------------------------------------------------------------------------


def _invalid(message: str, code: str, field: str) -> errors.Unprocessable:
    return errors.Unprocessable(message, code=code, field=field)


def clean_title(value: str) -> str:
    title = normalize_text(value, max_chars=MAX_TITLE + 1)
    if not title or len(title) > MAX_TITLE:
        raise _invalid(f"a title has 1 to {MAX_TITLE} characters", "invalid_title", "title")
    return title


def clean_name(value: str) -> str:
    """A member's name: letters (any alphabet), spaces and . ' - only, with a letter in it."""
    name = normalize_text(value, max_chars=MAX_NAME + 1)
    if not name or len(name) > MAX_NAME:
        raise _invalid(f"a name has 1 to {MAX_NAME} characters", "invalid_name", "name")
    if not all(c.isalpha() or c in NAME_PUNCTUATION for c in name) or not any(
        c.isalpha() for c in name
    ):
        raise _invalid("a name holds letters, spaces and . ' - only", "invalid_name", "name")
    return name


def first_name(name: str) -> str:
    return name.split(" ", 1)[0]


def clean_print_name(value: str) -> str:
    printed = normalize_text(value, max_chars=MAX_PRINT_NAME + 1)
    if not printed or len(printed) > MAX_PRINT_NAME or not PRINT_NAME.match(printed):
        raise _invalid(
            f"a printed name has 1 to {MAX_PRINT_NAME} Latin letters, spaces and . ' -",
            "invalid_print_name",
            "personalization.name",
        )
    return printed


def clean_print_number(value: str) -> str:
    number = value.strip()
    if not PRINT_NUMBER.match(number):
        raise _invalid(
            "a printed number has 1 or 2 digits (0 to 99)",
            "invalid_print_number",
            "personalization.number",
        )
    return number


def size_of(product: catalog.Product, value: str) -> str:
    wanted = value.strip().upper()
    if wanted not in product.sizes:
        raise _invalid(
            f"{product.name} comes in {', '.join(product.sizes)}, not {value.strip()[:16]}",
            "unknown_size",
            "size",
        )
    return wanted


def entry_of(
    group: Group,
    product: catalog.Product,
    *,
    name: str,
    size: str,
    quantity: int,
    print_name: str | None,
    print_number: str | None,
) -> Entry:
    """A member's entry checked against the group's product and what it prints."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise _invalid(f"an entry has 1 to {MAX_QUANTITY} pieces", "invalid_quantity", "quantity")
    if print_name is not None and not group.style.name:
        raise _invalid(
            "this group prints no names", "personalization_not_offered", "personalization.name"
        )
    if print_number is not None and not group.style.number:
        raise _invalid(
            "this group prints no numbers",
            "personalization_not_offered",
            "personalization.number",
        )
    return Entry(
        name=clean_name(name),
        size=size_of(product, size),
        quantity=quantity,
        print_name=clean_print_name(print_name) if print_name is not None else None,
        print_number=clean_print_number(print_number) if print_number is not None else None,
    )


def default_text_color(color_hex: str) -> str:
    """Ink that stands out on the garment: near-black on light colours, white on dark."""
    return "#111111" if colors.luma(color_hex) > 0.55 else "#ffffff"


# --- what the organizer and the members see ----------------------------------------------------


@dataclass(frozen=True)
class Roster:
    """The organizer's view: every entry, the totals per size, and the price they reach."""

    group: Group
    product: catalog.Product
    members: list[Member]
    sizes: dict[str, int]
    price: pricing.LinePrice

    @property
    def pieces(self) -> int:
        return sum(self.sizes.values())


@dataclass(frozen=True)
class View:
    """A member's view: the group, the first names and sizes of the others, their own
    entries in full."""

    group: Group
    product: catalog.Product
    others: list[tuple[str, str]]
    mine: list[Member]
    accepting: bool
    pieces: int


def accepting(group: Group) -> bool:
    return group.status == "open" and (group.deadline is None or group.deadline > group.now)


def _product(group: Group) -> catalog.Product:
    product = catalog.catalog().product(group.product_id)
    if product is None:
        raise GroupClosed("this product is no longer sold")
    return product


def size_totals(product: catalog.Product, members: list[Member]) -> dict[str, int]:
    """Pieces per size, in the product's order of sizes."""
    counted: Counter[str] = Counter()
    for member in members:
        counted[member.size] += member.quantity
    return {size: counted[size] for size in product.sizes if counted[size]}


def _roster(conn: Connection, group: Group) -> Roster:
    product = _product(group)
    members = group_store.members(conn, group.pk)
    sizes = size_totals(product, members)
    choice = Choice(product.id, group.design_id, group.color, sizes)
    return Roster(group, product, members, sizes, orders.price([(product, choice)]).lines[0])


def _view(conn: Connection, group: Group, owner: str | None) -> View:
    product = _product(group)
    members = group_store.members(conn, group.pk)
    return View(
        group=group,
        product=product,
        others=[(first_name(m.name), m.size) for m in members if m.owner != owner],
        mine=[m for m in members if m.owner == owner],
        accepting=accepting(group),
        pieces=sum(m.quantity for m in members),
    )


# --- the organizer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSpec:
    design_id: str
    product_id: str
    color: str
    title: str
    deadline: datetime | None
    name: bool
    number: bool
    font: str
    text_color: str | None
    text_size: str


def create(session: Session, spec: GroupSpec) -> Roster:
    """A new group of the signed-in caller's design, open for entries."""
    if session.anonymous:
        raise errors.SignInRequired("sign in to start a group order")
    product = catalog.product_named(spec.product_id, field="product_id")
    color = catalog.color_of(product, spec.color, field="color")
    title = clean_title(spec.title)
    if spec.text_size not in TEXT_SIZES:
        raise _invalid(
            f"a text size is one of {', '.join(TEXT_SIZES)}",
            "invalid_text_size",
            "personalization.size",
        )
    style = Style(
        spec.name,
        spec.number,
        spec.font,
        spec.text_color or default_text_color(color.hex),
        spec.text_size,
    )
    with db.transaction() as conn:
        now = conn.execute("SELECT now()").scalar_one()
        if spec.deadline is not None and not (
            now < spec.deadline <= now + timedelta(days=MAX_DEADLINE_DAYS)
        ):
            raise _invalid(
                f"a deadline is in the future, at most {MAX_DEADLINE_DAYS} days away",
                "invalid_deadline",
                "deadline",
            )
        design = order_store.designs_of(conn, session, [spec.design_id]).get(spec.design_id)
        if design is None:
            raise _invalid("there is no such design", "unknown_design", "design_id")
        if design[1] != product.id:
            raise _invalid(
                "that design was made for another product",
                "design_product_mismatch",
                "design_id",
            )
        user_pk = owners.user_pk(conn, session)
        assert user_pk is not None  # signed in, checked above
        group_id = new_group_id()
        group_store.insert(
            conn,
            NewGroup(
                group_id,
                new_token(),
                user_pk,
                design[0],
                product.id,
                color.name,
                title,
                spec.deadline,
                style,
            ),
        )
        group = group_store.of_organizer(conn, session, group_id)
        assert group is not None
        return _roster(conn, group)


def _organizers(conn: Connection, session: Session | None, group_id: str, lock: bool) -> Group:
    if session is None or session.anonymous or not GROUP_ID.match(group_id):
        raise GroupNotFound()
    group = group_store.of_organizer(conn, session, group_id, lock=lock)
    if group is None:
        raise GroupNotFound()
    return group


def roster(session: Session | None, group_id: str) -> Roster:
    """The organizer's roster of their group; 404 for anyone else."""
    with db.connect() as conn:
        return _roster(conn, _organizers(conn, session, group_id, lock=False))


def close(session: Session | None, group_id: str) -> Roster:
    """Close the organizer's group: its roster becomes one draft (one line, the pieces per
    size) that keeps the roster, with what each entry prints. Closing again answers the same."""
    with db.transaction() as conn:
        group = _organizers(conn, session, group_id, lock=True)
        assert session is not None
        if group.status == "closed":
            return _roster(conn, group)
        found = _roster(conn, group)
        if not found.members:
            raise GroupEmpty("no one has joined yet: there is nothing to order")
        choice = Choice(group.product_id, group.design_id, group.color, found.sizes)
        order_id, order_pk = orders.new_draft(conn, session, [choice])
        style = group.style
        order_store.write_pieces(
            conn,
            order_pk,
            [
                Piece(
                    position=position,
                    member_name=member.name,
                    size=member.size,
                    quantity=member.quantity,
                    print_name=member.print_name,
                    print_number=member.print_number,
                    font=style.font,
                    text_color=style.color,
                    text_size=style.size,
                )
                for position, member in enumerate(found.members)
            ],
        )
        group_store.close(conn, group.pk, order_pk)
        closed = group_store.of_organizer(conn, session, group_id)
        assert closed is not None and closed.order_id == order_id
        return Roster(closed, found.product, found.members, found.sizes, found.price)


# --- the members --------------------------------------------------------------------------------


def _by_token(conn: Connection, token: str, *, lock: bool) -> Group:
    if not TOKEN.match(token):
        raise GroupNotFound()
    group = group_store.by_token(conn, token, lock=lock)
    if group is None:
        raise GroupNotFound()
    return group


def _refuse_unless_accepting(group: Group) -> None:
    if group.status != "open":
        raise GroupClosed("the organizer has closed this group: entries can no longer change")
    if not accepting(group):
        raise DeadlinePassed("this group's deadline has passed: entries can no longer change")


def view(session: Session | None, token: str) -> View:
    """The group a share link names, as a member sees it."""
    with db.connect() as conn:
        return _view(conn, _by_token(conn, token, lock=False), session.subject if session else None)


@dataclass(frozen=True)
class Target:
    """What a new or changed entry is for: the group, its product and the design's layers
    (a personalized entry's back preview is drawn from them, outside any transaction)."""

    group: Group
    product: catalog.Product
    design_layers: list[dict[str, Any]]


def target(session: Session | None, token: str, member_id: str | None = None) -> Target:
    """The group taking an entry (or the change of the caller's entry `member_id`): 404 for a
    wrong link or someone else's entry, 409 once it takes no more."""
    with db.connect() as conn:
        group = _by_token(conn, token, lock=False)
        _refuse_unless_accepting(group)
        if member_id is not None and not _owns(conn, group, session, member_id):
            raise EntryNotFound()
        return Target(group, _product(group), group_store.design_layers(conn, group))


def _owns(conn: Connection, group: Group, session: Session | None, member_id: str) -> bool:
    if session is None or not MEMBER_ID.match(member_id):
        return False
    return group_store.owns(conn, group.pk, member_id, session.subject)


def join(session: Session, token: str, entry: Entry, preview: str | None) -> View:
    """Add the caller's entry (with its back preview, when personalized)."""
    with db.transaction() as conn:
        group = _by_token(conn, token, lock=True)  # joins queue here: the caps hold exactly
        _refuse_unless_accepting(group)
        entries, mine = group_store.counts(conn, group.pk, session.subject)
        if entries >= MAX_MEMBERS:
            raise GroupFull(f"this group is full ({MAX_MEMBERS} entries)")
        if mine >= MAX_ENTRIES_PER_SESSION:
            raise errors.Conflict(
                f"one person adds at most {MAX_ENTRIES_PER_SESSION} entries",
                code="too_many_entries",
            )
        group_store.add(conn, group.pk, new_member_id(), session.subject, entry, preview)
        return _view(conn, group, session.subject)


def edit(
    session: Session | None, token: str, member_id: str, entry: Entry, preview: str | None
) -> View:
    """Change the caller's own entry."""
    with db.transaction() as conn:
        group = _by_token(conn, token, lock=True)
        _refuse_unless_accepting(group)
        if session is None or not MEMBER_ID.match(member_id):
            raise EntryNotFound()
        if not group_store.update(conn, group.pk, member_id, session.subject, entry, preview):
            raise EntryNotFound()
        return _view(conn, group, session.subject)


def remove(session: Session | None, token: str, member_id: str) -> View:
    """Remove the caller's own entry."""
    with db.transaction() as conn:
        group = _by_token(conn, token, lock=True)
        _refuse_unless_accepting(group)
        if session is None or not MEMBER_ID.match(member_id):
            raise EntryNotFound()
        if not group_store.delete(conn, group.pk, member_id, session.subject):
            raise EntryNotFound()
        return _view(conn, group, session.subject)
