"""The group store: every read and write of `groups` and `group_members`.

A group is found by its organizer (`public_id`, with the organizer's session) or by its share
token (anyone holding the link); a member's entry is changed only by the session that added
it. The draft a closed group becomes is written by the order store, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.core.caller import Session

if TYPE_CHECKING:
    from common.infra.db import Connection


@dataclass(frozen=True)
class Style:
    """What a member may have printed on the back, and how it is set (the organizer's)."""

    name: bool
    number: bool
    font: str
    color: str
    size: str

    @property
    def offered(self) -> bool:
        return self.name or self.number


@dataclass(frozen=True)
class Group:
    pk: int
    id: str
    token: str
    organizer: str  # the organizer's users.public_id
    design_pk: int
    design_id: str
    design_version: int
    product_id: str
    color: str
    title: str
    deadline: datetime | None
    style: Style
    status: str
    order_id: str | None
    created_at: datetime
    mockup_front: str | None
    mockup_back: str | None
    now: datetime  # the database's clock when it was read: deadlines are judged by it


@dataclass(frozen=True)
class Member:
    pk: int
    id: str
    owner: str  # the session subject that added it
    name: str
    size: str
    quantity: int
    print_name: str | None
    print_number: str | None
    preview_back_url: str | None
    created_at: datetime


@dataclass(frozen=True)
class NewGroup:
    id: str
    token: str
    user_pk: int
    design_pk: int
    product_id: str
    color: str
    title: str
    deadline: datetime | None
    style: Style


@dataclass(frozen=True)
class Entry:
    """A member's entry as validated: who, which size, how many, and what is printed."""

    name: str
    size: str
    quantity: int
    print_name: str | None
    print_number: str | None

    @property
    def personalized(self) -> bool:
        return self.print_name is not None or self.print_number is not None


GROUP_SQL = """
SELECT g.id, g.public_id, g.token, u.public_id AS organizer, g.design_id AS design_pk,
       d.public_id AS design_id, d.version AS design_version, g.product_id, g.color, g.title,
       g.deadline, g.personalize_name, g.personalize_number, g.font, g.text_color, g.text_size,
       g.status, o.public_id AS order_id, g.created_at, d.final_image_url, d.mockup_back_url,
       now() AS now
FROM groups g
JOIN users u ON u.id = g.user_id
JOIN designs d ON d.id = g.design_id
LEFT JOIN orders o ON o.id = g.order_id
WHERE {where}
"""


def _group(row: Any) -> Group:
    return Group(
        pk=int(row.id),
        id=row.public_id,
        token=row.token,
        organizer=row.organizer,
        design_pk=int(row.design_pk),
        design_id=row.design_id,
        design_version=int(row.design_version),
        product_id=row.product_id,
        color=row.color,
        title=row.title,
        deadline=row.deadline,
        style=Style(
            row.personalize_name, row.personalize_number, row.font, row.text_color, row.text_size
        ),
        status=row.status,
        order_id=row.order_id,
        created_at=row.created_at,
        mockup_front=row.final_image_url,
        mockup_back=row.mockup_back_url,
        now=row.now,
    )


def _find(conn: Connection, where: str, params: dict[str, Any], lock: bool) -> Group | None:
    sql = GROUP_SQL.format(where=where) + (" FOR UPDATE OF g" if lock else "")
    row = conn.execute(sql, params).first()
    return _group(row) if row else None


def by_token(conn: Connection, token: str, *, lock: bool = False) -> Group | None:
    """The group the share link `token` names (held `FOR UPDATE` with `lock`)."""
    return _find(conn, "g.token = :token", {"token": token}, lock)


def of_organizer(
    conn: Connection, session: Session, group_id: str, *, lock: bool = False
) -> Group | None:
    """The signed-in caller's group `group_id`; None for anyone else's or a guess."""
    return _find(
        conn,
        "g.public_id = :gid AND u.public_id = :owner",
        {"gid": group_id, "owner": session.subject},
        lock,
    )


def insert(conn: Connection, group: NewGroup) -> None:
    conn.execute(
        "INSERT INTO groups (public_id, token, user_id, design_id, product_id, color, title,"
        " deadline, personalize_name, personalize_number, font, text_color, text_size)"
        " VALUES (:pid, :token, :user, :design, :product, :color, :title, :deadline,"
        " :pname, :pnumber, :font, :tcolor, :tsize)",
        {
            "pid": group.id,
            "token": group.token,
            "user": group.user_pk,
            "design": group.design_pk,
            "product": group.product_id,
            "color": group.color,
            "title": group.title,
            "deadline": group.deadline,
            "pname": group.style.name,
            "pnumber": group.style.number,
            "font": group.style.font,
            "tcolor": group.style.color,
            "tsize": group.style.size,
        },
    )


def design_layers(conn: Connection, group: Group) -> list[dict[str, Any]]:
    """The layers of the group's design as it is now (what the members' previews show)."""
    layers: list[dict[str, Any]] = conn.execute(
        "SELECT layers FROM designs WHERE id = :pk", {"pk": group.design_pk}
    ).scalar_one()
    return layers


MEMBER_COLUMNS = (
    "m.id, m.public_id, m.owner_session, m.name, m.size, m.quantity, m.print_name,"
    " m.print_number, m.preview_back_url, m.created_at"
)


def _member(row: Any) -> Member:
    return Member(
        pk=int(row.id),
        id=row.public_id,
        owner=row.owner_session,
        name=row.name,
        size=row.size,
        quantity=int(row.quantity),
        print_name=row.print_name,
        print_number=row.print_number,
        preview_back_url=row.preview_back_url,
        created_at=row.created_at,
    )


def members(conn: Connection, group_pk: int) -> list[Member]:
    """The group's roster, in the order members joined."""
    rows = conn.execute(
        f"SELECT {MEMBER_COLUMNS} FROM group_members m WHERE m.group_id = :g ORDER BY m.id",
        {"g": group_pk},
    )
    return [_member(row) for row in rows]


def counts(conn: Connection, group_pk: int, owner: str) -> tuple[int, int]:
    """(entries in the group, entries of `owner` in it)."""
    row = conn.execute(
        "SELECT count(*) AS entries, count(*) FILTER (WHERE owner_session = :owner) AS mine"
        " FROM group_members WHERE group_id = :g",
        {"g": group_pk, "owner": owner},
    ).one()
    return int(row.entries), int(row.mine)


def owns(conn: Connection, group_pk: int, member_id: str, owner: str) -> bool:
    """Whether `owner` added the entry `member_id` of the group."""
    found = conn.execute(
        "SELECT 1 FROM group_members"
        " WHERE group_id = :g AND public_id = :pid AND owner_session = :owner",
        {"g": group_pk, "pid": member_id, "owner": owner},
    ).first()
    return found is not None


def add(
    conn: Connection, group_pk: int, member_id: str, owner: str, entry: Entry, preview: str | None
) -> None:
    conn.execute(
        "INSERT INTO group_members (group_id, public_id, owner_session, name, size, quantity,"
        " print_name, print_number, preview_back_url)"
        " VALUES (:g, :pid, :owner, :name, :size, :q, :pname, :pnumber, :preview)",
        {"g": group_pk, "pid": member_id, "owner": owner, "preview": preview, **_entry(entry)},
    )


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "size": entry.size,
        "q": entry.quantity,
        "pname": entry.print_name,
        "pnumber": entry.print_number,
    }


def update(
    conn: Connection, group_pk: int, member_id: str, owner: str, entry: Entry, preview: str | None
) -> bool:
    """Change `owner`'s entry `member_id`; False when there is no such entry of theirs."""
    changed = conn.execute(
        "UPDATE group_members SET name = :name, size = :size, quantity = :q,"
        " print_name = :pname, print_number = :pnumber, preview_back_url = :preview,"
        " updated_at = now()"
        " WHERE group_id = :g AND public_id = :pid AND owner_session = :owner",
        {"g": group_pk, "pid": member_id, "owner": owner, "preview": preview, **_entry(entry)},
    )
    return changed.rowcount == 1


def delete(conn: Connection, group_pk: int, member_id: str, owner: str) -> bool:
    """Remove `owner`'s entry `member_id`; False when there is no such entry of theirs."""
    removed = conn.execute(
        "DELETE FROM group_members"
        " WHERE group_id = :g AND public_id = :pid AND owner_session = :owner",
        {"g": group_pk, "pid": member_id, "owner": owner},
    )
    return removed.rowcount == 1


def close(conn: Connection, group_pk: int, order_pk: int) -> None:
    """The group (locked by the caller) is closed: its roster became the draft `order_pk`."""
    conn.execute(
        "UPDATE groups SET status = 'closed', order_id = :o, closed_at = now()"
        " WHERE id = :g AND status = 'open'",
        {"g": group_pk, "o": order_pk},
    )
