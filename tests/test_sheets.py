"""The ops sheet: the real gspread SDK against a local stub of the Google Sheets API (what it
sends, and failures during fulfilment), and the local CSV sheet."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import google.auth
import google.oauth2.credentials
import pytest
from google.auth.transport.requests import AuthorizedSession
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from common.effects import sheet
from common.infra import config, db
from common.providers import mail, sheets
from common.shop import order_store
from tests.test_checkout import HOODIE_ITEM, TEE_ITEM, pending_order
from tests.test_outbox import drain, make_due
from tests.test_webhook import event, outbox_tasks, send, session_object

SHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
TOKEN = "ya29.test-access-token"


class StubbedSheetsSession(AuthorizedSession):
    """An authorized session whose Google Sheets requests go to the local stub."""

    def __init__(self, credentials: Any, base_url: str) -> None:
        super().__init__(credentials)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        rebased = str(url).replace("https://sheets.googleapis.com", self.base_url)
        return super().request(method, rebased, *args, **kwargs)


@dataclass
class SheetsStub:
    """A one-worksheet spreadsheet behind the Sheets API v4, recording every request."""

    rows: list[list[Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    append_failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            path = request.path.removeprefix(f"/v4/spreadsheets/{SHEET_ID}")
            if request.method == "GET" and path == "":
                return self.json(
                    {
                        "spreadsheetId": SHEET_ID,
                        "properties": {"title": "Auren ops"},
                        "sheets": [
                            {
                                "properties": {
                                    "sheetId": 0,
                                    "title": "Orders",
                                    "index": 0,
                                    "sheetType": "GRID",
                                    "gridProperties": {"rowCount": 1000, "columnCount": 26},
                                }
                            }
                        ],
                    }
                )
            if request.method == "GET" and path == "/values/'Orders'!A1:A":
                column = [row[0] for row in self.rows]
                body = {"range": "Orders!A1:A1000", "majorDimension": "COLUMNS"}
                return self.json({**body, "values": [column]} if column else body)
            if request.method == "POST" and path == "/values/'Orders'!A1:append":
                if self.append_failures:
                    status = self.append_failures.pop(0)
                    return self.json({"error": {"code": status, "message": "try later"}}, status)
                self.rows.extend(json.loads(request.get_data())["values"])
                return self.json({"spreadsheetId": SHEET_ID, "updates": {"updatedRows": 1}})
            return self.json({"error": {"code": 404, "message": f"no {path}"}}, 404)

    @staticmethod
    def json(body: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def appends(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]


@pytest.fixture
def stub(httpserver: HTTPServer) -> SheetsStub:
    sheet = SheetsStub()
    httpserver.expect_request(re.compile(rf"^/v4/spreadsheets/{SHEET_ID}.*")).respond_with_handler(
        sheet
    )
    return sheet


@pytest.fixture
def google_sheet(httpserver: HTTPServer, stub: SheetsStub) -> sheets.GoogleSheet:
    credentials = google.oauth2.credentials.Credentials(token=TOKEN)
    return sheets.GoogleSheet(
        SHEET_ID, credentials, StubbedSheetsSession(credentials, httpserver.url_for("/"))
    )


@pytest.fixture(autouse=True)
def local_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


ROW: list[str | int] = [
    "ord_test",
    "2030-01-02T03:04:05Z",
    "a@example.com",
    "Classic Tee (Black)",
    19,
]


def test_gspread_appends_raw_rows_under_a_header_to_an_empty_sheet(
    google_sheet: sheets.GoogleSheet, stub: SheetsStub
) -> None:
    rows: list[list[str | int]] = [[*ROW, "S:4 M:10 L:5", "=1+1", "paid"]]
    assert google_sheet.append_once("ord_test", rows) is True
    [append] = stub.appends()
    assert append.headers["Authorization"] == f"Bearer {TOKEN}"
    assert append.args["valueInputOption"] == "RAW"
    assert append.args["insertDataOption"] == "INSERT_ROWS"
    assert json.loads(append.get_data()) == {"values": [list(sheets.HEADER), *rows]}
    assert stub.rows[1][5] == "S:4 M:10 L:5" and stub.rows[1][6] == "=1+1"


def test_gspread_does_not_append_an_order_the_sheet_already_has(
    google_sheet: sheets.GoogleSheet, stub: SheetsStub
) -> None:
    stub.rows = [list(sheets.HEADER), [*ROW, "M:1", "1.00 USD", "paid"]]
    assert google_sheet.append_once("ord_test", [[*ROW, "M:1", "1.00 USD", "paid"]]) is False
    assert stub.appends() == []
    assert google_sheet.append_once("ord_other", [["ord_other", *ROW[1:], "M:1", "x", "paid"]])
    [append] = stub.appends()
    assert json.loads(append.get_data())["values"][0][0] == "ord_other"  # no second header


def test_the_service_account_comes_from_google_auth_default(monkeypatch, httpserver) -> None:
    asked: list[Any] = []
    credentials = google.oauth2.credentials.Credentials(token=TOKEN)

    def default(scopes: Any = None, **kwargs: Any) -> tuple[Any, str]:
        asked.append(scopes)
        return credentials, "auren-project"

    monkeypatch.setattr(google.auth, "default", default)
    sheets.GoogleSheet(SHEET_ID)
    assert asked == [["https://www.googleapis.com/auth/spreadsheets"]]


def test_a_paid_order_lands_in_google_sheets_once(
    pool: db.Pool, monkeypatch, google_sheet: sheets.GoogleSheet, stub: SheetsStub
) -> None:
    monkeypatch.setattr(sheets.sheet, "built", google_sheet)
    pending = pending_order(pool, [TEE_ITEM, HOODIE_ITEM])
    completed = event("checkout.session.completed", session_object(pending))
    for _ in range(3):
        assert send(completed).status_code == 200
    assert len(stub.appends()) == 1
    header, tee, hoodie = stub.rows
    assert header == list(sheets.HEADER)
    assert tee[0] == hoodie[0] == pending.order_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", tee[1])
    assert tee[2] == pending.shopper.email
    assert tee[3:6] == ["Classic Tee (Black)", 19, "S:4 M:10 L:5"]
    assert hoodie[3:6] == ["Heavy Hoodie (Navy)", 24, "M:20 2XL:3 3XL:1"]
    totals = [int(row[6].removesuffix(" USD").replace(".", "")) for row in (tee, hoodie)]
    assert sum(totals) == pending.amount_cents
    assert tee[7] == hoodie[7] == "paid"


@pytest.mark.parametrize("failures", [[500], [429], [500, 429]])
def test_sheets_api_errors_during_fulfilment_are_retried_until_appended_once(
    pool: db.Pool,
    monkeypatch,
    google_sheet: sheets.GoogleSheet,
    stub: SheetsStub,
    failures: list[int],
    worker_tries_once: None,
) -> None:
    monkeypatch.setattr(sheets.sheet, "built", google_sheet)
    stub.append_failures = list(failures)
    pending = pending_order(pool)
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200
    key = f"sheet_row:{pending.order_id}"
    task = outbox_tasks(pool, pending.order_id)[key]
    assert task.done_at is None and str(failures[0]) in task.last_error
    assert TOKEN not in task.last_error
    for _ in failures:
        make_due(pool, pending.order_id)
        drain()
    task = outbox_tasks(pool, pending.order_id)[key]
    assert task.done_at is not None and task.attempts == len(failures) + 1
    assert [row[0] for row in stub.rows] == ["OrderID", pending.order_id]
    assert len(stub.appends()) == len(failures) + 1


def test_the_local_csv_sheet_appends_each_order_once_under_one_header(tmp_path) -> None:
    sheet = sheets.CsvSheet(tmp_path / "orders-sheet.csv")

    def append(n: int) -> None:
        for _ in range(3):
            sheet.append_once(
                f"ord_{n}", [[f"ord_{n}", "d", "e", "p", n, "M:1", "1.00 USD", "paid"]]
            )

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "orders-sheet.csv").read_text().splitlines()
    assert lines[0] == ",".join(sheets.HEADER)
    assert sorted(row[0] for row in sheet.rows()) == [f"ord_{n}" for n in range(8)]


DESIGN = "dsn_" + "a" * 24


def test_sheet_rows_are_one_per_order_line() -> None:
    from datetime import UTC, datetime

    order = order_store.PaidOrder(
        id="ord_x",
        status="paid",
        email="a@example.com",
        paid_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        total_cents=123_456,
        currency="usd",
        lines=[
            order_store.PaidLine("Tote", "Natural", None, None, {"OS": 30}, 30, 4000, 120_000),
            order_store.PaidLine(
                "Cap", "Black", DESIGN, None, {"OS": 3}, 3, 1152, 3456, 2, ("front",)
            ),
        ],
    )
    rows = sheet.sheet_rows(order)
    assert [row[:8] for row in rows] == [
        ["ord_x", "2030-01-02T03:04:05Z", "a@example.com", "Tote (Natural)", 30, "OS:30",
         "1200.00 USD", "paid"],
        ["ord_x", "2030-01-02T03:04:05Z", "a@example.com", "Cap (Black)", 3, "OS:3",
         "34.56 USD", "paid"],
    ]  # fmt: skip
    assert rows[0][8:] == ["", "", ""]  # no design, nothing to print, not of a group
    front, back, _ = rows[1][8:]
    site = config.settings().site_url
    assert str(front).startswith(f"{site}/api/ops/print-files/{DESIGN}-v2-front.png?expires=")
    assert back == ""


def test_production_refuses_the_csv_sheet(monkeypatch) -> None:
    production = config.load(
        {
            "AUREN_ENV": "production",
            "SITE_URL": "https://auren.example",
            "SESSION_SECRET": "s" * 32,
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
            "DATABASE_URL": "postgresql://x@127.0.0.1/x",
        }
    )
    monkeypatch.setattr(sheets, "settings", lambda: production)
    with pytest.raises(config.ConfigError, match="SHEET_ID"):
        sheets.build_sheet()


def test_the_roster_of_a_group_order_fits_in_one_cell() -> None:
    def piece(position: int) -> order_store.Piece:
        return order_store.Piece(
            position, f"Member {position}", "XL", 1, "NAME", "99", "Aileron", "#ffffff", "medium"
        )

    assert sheet.roster_label([piece(0)]) == "Member 0 XL [NAME #99]"
    roster = [piece(position) for position in range(5000)]
    label = sheet.roster_label(roster)
    assert len(label) <= sheet.MAX_ROSTER_CHARS
    assert label.endswith(" more (see the order)") and label.startswith("Member 0 XL [NAME #99]; ")
