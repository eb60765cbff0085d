"""The JSON of group orders: what the organizer and the members send, and what they see.

The organizer's roster (`RosterOut`) has every entry in full, the pieces per size, the tier
price they reach and how many more pieces reach the next one; a member's view (`GroupOut`)
has the group, the first names and sizes of the others, and the member's own entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import AwareDatetime, ConfigDict, Field, RootModel, StrictInt

from common.core.colors import HexColor
from common.core.fonts import Font
from common.core.model import Model
from common.shop.lifecycle import MAX_MEMBERS, MAX_QUANTITY

# The models need none of the group domain: it loads on a function's first group request.
if TYPE_CHECKING:
    from common.shop.group_store import Entry, Group, Member
    from common.shop.groups import GroupSpec, Roster, Target, View


class PersonalizationIn(Model):
    """What members may have printed on the back, and how (the organizer's choice)."""

    model_config = ConfigDict(extra="forbid")
    name: bool = False
    number: bool = False
    font: Font = "Aileron Black"
    color: HexColor | None = Field(default=None, description="none: stands out on the garment")
    size: Literal["small", "medium", "large"] = "medium"


class GroupIn(Model):
    model_config = ConfigDict(extra="forbid")
    design_id: str = Field(min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    deadline: AwareDatetime | None = Field(default=None, description="entries close then")
    personalization: PersonalizationIn = Field(default_factory=PersonalizationIn)

    def spec(self) -> GroupSpec:
        from common.shop.groups import GroupSpec

        style = self.personalization
        return GroupSpec(
            design_id=self.design_id,
            product_id=self.product_id,
            color=self.color,
            title=self.title,
            deadline=self.deadline,
            name=style.name,
            number=style.number,
            font=style.font,
            text_color=style.color,
            text_size=style.size,
        )


class MemberPrintIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=60, description="printed on the back")
    number: str | None = Field(default=None, max_length=8, description="0 to 99")


class MemberIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    size: str = Field(min_length=1, max_length=16)
    quantity: StrictInt = Field(default=1, ge=1, le=MAX_QUANTITY)
    personalization: MemberPrintIn | None = None

    def entry(self, target: Target) -> Entry:
        from common.shop import groups

        printed = self.personalization or MemberPrintIn()
        return groups.entry_of(
            target.group,
            target.product,
            name=self.name,
            size=self.size,
            quantity=self.quantity,
            print_name=printed.name or None,
            print_number=printed.number or None,
        )


class PersonalizationOut(Model):
    name: bool
    number: bool
    font: str
    color: str
    size: str


class MockupsOut(Model):
    front: str | None
    back: str | None


class MemberPrintOut(Model):
    name: str | None
    number: str | None


class EntryOut(Model):
    """An entry in full: the organizer sees every one, a member their own."""

    id: str
    name: str
    size: str
    quantity: int
    personalization: MemberPrintOut | None
    preview_back: str | None = Field(description="the back mockup with this entry's print")
    created_at: datetime


class NextTierOut(Model):
    min_quantity: int
    unit_price_cents: int
    pieces_to_go: int = Field(description="N more pieces reach the next price")
    saving_per_piece_cents: int


class RosterOut(Model):
    id: str
    token: str
    share_url: str = Field(description="the members' page: /group/<token>")
    title: str
    status: Literal["open", "closed"]
    accepting: bool = Field(description="open and before its deadline")
    deadline: datetime | None
    product_id: str
    product_name: str
    color: str
    design_id: str
    personalization: PersonalizationOut
    mockups: MockupsOut
    members: list[EntryOut]
    member_count: int
    max_members: int
    sizes: dict[str, int] = Field(description="pieces per size, in the product's order")
    pieces: int
    currency: str
    unit_price_cents: int = Field(description="a piece's price at the tier the pieces reach")
    tier_min_quantity: int
    subtotal_cents: int = Field(description="what the roster costs as it is, upcharges included")
    next_tier: NextTierOut | None
    order_id: str | None = Field(description="the draft the roster became, once closed")


class OtherMemberOut(Model):
    first_name: str
    size: str


class ProductOut(Model):
    id: str
    name: str
    sizes: list[str]


class GroupOut(Model):
    token: str
    title: str
    status: Literal["open", "closed"]
    accepting: bool = Field(description="whether entries can be added, changed or removed")
    deadline: datetime | None
    product: ProductOut
    color: str
    personalization: PersonalizationOut
    mockups: MockupsOut
    members: list[OtherMemberOut] = Field(description="the others: first names and sizes only")
    mine: list[EntryOut]
    pieces: int
    max_quantity: int


class GroupRead(RootModel[RosterOut | GroupOut]):
    """`GET /api/groups/<ref>`: the organizer's roster by id, a member's view by token."""

    model_config = Model.model_config


def _personalization(group: Group) -> PersonalizationOut:
    style = group.style
    return PersonalizationOut(
        name=style.name, number=style.number, font=style.font, color=style.color, size=style.size
    )


def _entry(member: Member) -> EntryOut:
    printed = None
    if member.print_name or member.print_number:
        printed = MemberPrintOut(name=member.print_name, number=member.print_number)
    return EntryOut(
        id=member.id,
        name=member.name,
        size=member.size,
        quantity=member.quantity,
        personalization=printed,
        preview_back=member.preview_back_url,
        created_at=member.created_at,
    )


def _status(group: Group) -> Literal["open", "closed"]:
    return "closed" if group.status == "closed" else "open"


def roster_out(roster: Roster) -> RosterOut:
    from common.shop import groups

    group, price = roster.group, roster.price
    upcoming = price.next_tier
    return RosterOut(
        id=group.id,
        token=group.token,
        share_url=groups.share_url(group),
        title=group.title,
        status=_status(group),
        accepting=groups.accepting(group),
        deadline=group.deadline,
        product_id=roster.product.id,
        product_name=roster.product.name,
        color=group.color,
        design_id=group.design_id,
        personalization=_personalization(group),
        mockups=MockupsOut(front=group.mockup_front, back=group.mockup_back),
        members=[_entry(member) for member in roster.members],
        member_count=len(roster.members),
        max_members=MAX_MEMBERS,
        sizes=roster.sizes,
        pieces=roster.pieces,
        currency=roster.product.currency,
        unit_price_cents=price.unit_price_cents,
        tier_min_quantity=price.tier.min_quantity,
        subtotal_cents=price.line_total_cents,
        next_tier=None
        if upcoming is None
        else NextTierOut(
            min_quantity=upcoming.min_quantity,
            unit_price_cents=upcoming.unit_price_cents,
            pieces_to_go=upcoming.pieces_to_go,
            saving_per_piece_cents=upcoming.saving_per_piece_cents,
        ),
        order_id=group.order_id,
    )


def group_out(view: View) -> GroupOut:
    group = view.group
    return GroupOut(
        token=group.token,
        title=group.title,
        status=_status(group),
        accepting=view.accepting,
        deadline=group.deadline,
        product=ProductOut(id=view.product.id, name=view.product.name, sizes=view.product.sizes),
        color=group.color,
        personalization=_personalization(group),
        mockups=MockupsOut(front=group.mockup_front, back=group.mockup_back),
        members=[OtherMemberOut(first_name=first, size=size) for first, size in view.others],
        mine=[_entry(member) for member in view.mine],
        pieces=view.pieces,
        max_quantity=MAX_QUANTITY,
    )
