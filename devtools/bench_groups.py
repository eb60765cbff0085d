"""Group orders with a full roster: the organizer's roster read, a member's view and closing,
for groups of `members` entries, each beside its bare baseline measured in the same run.

- roster read (`GET /api/groups/<id>`, 200 entries) beside the same read of an empty group and
  `GET /api/orders/<id>` of a one-line draft (the route the shop already answers most);
- a member's view (`GET /api/groups/<token>`) of the full group;
- closing (`POST /api/groups/<id>/close`: the roster becomes a one-line draft and keeps its
  200 entries) beside `POST /api/orders/draft` of the same sizes, which makes that draft alone.

Every call goes through the `orders` function's app as functions-framework builds it (the HTTP
edge, validation and JSON included), in this process, against the bench database. Part of
`make bench` (`devtools.bench`); alone: `python -m devtools.bench_groups`. The numbers are for
people; nothing asserts on them.
"""

from __future__ import annotations

import os
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

DEFAULT_MEMBERS = 200
DEFAULT_REPEATS = 20  # reads of each kind
DEFAULT_CLOSES = 5  # groups closed (and drafts made for the baseline)
SIZES = ("S", "M", "L", "XL", "2XL")


def _client() -> Any:
    import functions_framework

    from devtools.openapi import FUNCTIONS_DIR

    app = functions_framework.create_app("orders", str(FUNCTIONS_DIR / "orders" / "main.py"))
    return app.test_client()


def _organizer() -> tuple[Any, str, str]:
    """A signed-in organizer (a users row and its session) and a design of theirs."""

    from common.studio import designs
    from common.studio.design_models import DesignIn
    from common.web import sessions
    from devtools.bench import new_user

    session = new_user()
    layer = {"id": "crest", "type": "text", "area": "front", "x": 0.5, "y": 0.4, "text": "BENCH"}
    design = designs.save_layers(
        session,
        DesignIn.model_validate({"product_id": "classic-tee", "color": "Black", "layers": [layer]}),
    )
    return session, sessions.encode(session), design.design_id


def _letters(number: int) -> str:
    """0 -> A, 25 -> Z, 26 -> BA: a name of letters only, distinct per member."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters = chr(65 + digit) + letters
        if number == 0:
            return letters


def _group(session: Any, design_id: str, members: int) -> Any:
    """A group of `members` entries, each from a session of its own, half with a name and
    number (their back previews are not drawn: this measures the roster, not the studio)."""
    from common.core import caller
    from common.shop import groups

    roster = groups.create(
        session,
        groups.GroupSpec(
            design_id,
            "classic-tee",
            "Black",
            "Bench FC",
            None,
            True,
            True,
            "Aileron Black",
            None,
            "medium",
        ),
    )
    for index in range(members):
        target = groups.target(None, roster.group.token)
        entry = groups.entry_of(
            target.group,
            target.product,
            name=f"Member {_letters(index)}",
            size=SIZES[index % len(SIZES)],
            quantity=1 + index % 3,
            print_name="PLAYER" if index % 2 == 0 else None,
            print_number=str(index % 100) if index % 2 == 0 else None,
        )
        groups.join(caller.new_anonymous(), roster.group.token, entry, None)
    return roster.group


def _timed(call: Callable[[], Any], repeats: int) -> dict[str, float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = call()
        seconds.append(time.perf_counter() - started)
        if response.status_code >= 300:
            raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)}")
    ordered = sorted(seconds)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000, 2),
        "runs": repeats,
    }


def measure(
    members: int = DEFAULT_MEMBERS, repeats: int = DEFAULT_REPEATS, closes: int = DEFAULT_CLOSES
) -> dict[str, Any]:
    from common.web import sessions

    client = _client()
    session, cookie, design_id = _organizer()
    client.set_cookie(sessions.COOKIE_NAME, cookie)
    full = _group(session, design_id, members)
    empty = _group(session, design_id, 0)
    draft = client.post(
        "/api/orders/draft",
        json={"items": [{"product_id": "classic-tee", "design_id": design_id, "color": "Black",
                         "sizes": {"M": 1}}]},
    ).get_json()  # fmt: skip

    def get(path: str) -> Callable[[], Any]:
        # Each read from an address of its own: the bench measures reads, not the rate limit.
        return lambda: client.get(
            path,
            environ_base={
                "REMOTE_ADDR": f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
            },
        )

    roster = client.get(f"/api/groups/{full.id}").get_json()
    reads = {
        "roster_read": _timed(get(f"/api/groups/{full.id}"), repeats),
        "roster_read_empty_group": _timed(get(f"/api/groups/{empty.id}"), repeats),
        "member_view": _timed(get(f"/api/groups/{full.token}"), repeats),
        "baseline_order_read": _timed(get(f"/api/orders/{draft['id']}"), repeats),
    }
    full_groups = [full] + [_group(session, design_id, members) for _ in range(closes - 1)]
    pending = iter(full_groups)
    close = _timed(lambda: client.post(f"/api/groups/{next(pending).id}/close"), closes)
    draft_body = {"items": [{"product_id": "classic-tee", "design_id": design_id,
                             "color": "Black", "sizes": roster["sizes"]}]}  # fmt: skip
    baseline_draft = _timed(lambda: client.post("/api/orders/draft", json=draft_body), closes)
    closed = client.get(f"/api/groups/{full.id}").get_json()
    order = client.get(f"/api/orders/{closed['order_id']}").get_json()
    return {
        "members": members,
        "pieces": roster["pieces"],
        **reads,
        "close": close,
        "baseline_draft_same_sizes": baseline_draft,
        "closed_order_sizes": order["items"][0]["sizes"],
        "closed_order_roster": len(order["roster"]),
    }


def print_result(result: dict[str, Any]) -> None:
    def line(label: str, key: str) -> str:
        timing = result[key]
        return (
            f"  {label:<48} median {timing['median_ms']:>8.2f} ms"
            f"   p95 {timing['p95_ms']:>8.2f} ms   ({timing['runs']} runs)"
        )

    print(f"\ngroup orders | {result['members']} entries, {result['pieces']} pieces")
    print(line("roster read (organizer)", "roster_read"))
    print(line("  baseline: roster read of an empty group", "roster_read_empty_group"))
    print(line("  baseline: GET /api/orders/<id> (1 line)", "baseline_order_read"))
    print(line("member view (first names and sizes)", "member_view"))
    print(line("close (roster -> one draft + its roster)", "close"))
    print(line("  baseline: POST /api/orders/draft, same sizes", "baseline_draft_same_sizes"))
    print(
        f"  closed draft: sizes {result['closed_order_sizes']}, "
        f"{result['closed_order_roster']} roster entries kept"
    )


def main() -> dict[str, Any]:
    """Prepare the bench database and measure (members: BENCH_GROUP_MEMBERS, else 200)."""
    from devtools.bench import prepare_database

    prepare_database()
    result = measure(int(os.environ.get("BENCH_GROUP_MEMBERS", DEFAULT_MEMBERS)))
    print_result(result)
    return result


if __name__ == "__main__":
    main()
